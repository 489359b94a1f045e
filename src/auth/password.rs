//! argon2id password hashing, run on a few dedicated threads so it never stalls the async
//! workers. One thread per core at most: hashing is CPU-bound, so more would not go faster, and
//! each hash takes `argon2_memory_kib` of memory, which a thread reuses from one hash to the next
//! instead of every concurrent login holding its own (unbounded, that reached 2.6 GB of RSS under
//! 20 concurrent logins).

use std::sync::Arc;

use tokio::sync::OnceCell;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::config::AuthSettings;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads running hashing jobs in order.
#[derive(Debug)]
struct HashThreads {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashThreads {
    fn start(count: usize) -> anyhow::Result<Self> {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..count {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs: std::sync::Mutex::new(sender),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("a hashing thread stopped"))
    }
}

/// Hashes and checks passwords with the configured argon2id cost.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Params,
    min_length: usize,
    threads: Arc<HashThreads>,
    // A hash of nothing in particular, checked when there is no account, so an unknown email
    // takes as long to refuse as a wrong password.
    dummy: Arc<OnceCell<String>>,
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the minimum.
    #[error("must be at least {0} characters long")]
    TooShort(usize),
    /// Longer than 1024 bytes (argon2 would accept it; nobody types it).
    #[error("must be at most 1024 characters long")]
    TooLong,
    /// The password is the account's email address.
    #[error("must not be your email address")]
    SameAsEmail,
}

impl PasswordHasher {
    /// A hasher from the `[auth]` settings.
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("auth.argon2_*: {e}"))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            params,
            min_length: settings.min_password_length,
            threads: Arc::new(HashThreads::start(cores.min(4))?),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Checks the password rules for an account with this email.
    pub fn check_rules(&self, password: &str, email: &str) -> Result<(), PasswordError> {
        if password.chars().count() < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        if password.len() > 1024 {
            return Err(PasswordError::TooLong);
        }
        if password.trim().eq_ignore_ascii_case(email.trim()) {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(())
    }

    /// The PHC string of a fresh salted hash.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        self.threads
            .run(move || {
                argon2
                    .hash_password(password.as_bytes())
                    .map(|hash| hash.to_string())
                    .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
            })
            .await?
    }

    /// Whether the password matches the PHC string. A malformed hash never matches.
    pub async fn verify(&self, password: &str, phc: &str) -> anyhow::Result<bool> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let phc = phc.to_owned();
        let ok = self
            .threads
            .run(move || {
                argon2
                    .verify_password(password.as_bytes(), phc.as_str())
                    .is_ok()
            })
            .await?;
        Ok(ok)
    }
}

impl PasswordHasher {
    /// Checks the password against `phc`, or against a dummy hash when there is none, so both
    /// cases take the same time. Always `false` without a hash.
    pub async fn verify_or_dummy(&self, password: &str, phc: Option<&str>) -> anyhow::Result<bool> {
        match phc {
            Some(phc) => self.verify(password, phc).await,
            None => {
                let dummy = self
                    .dummy
                    .get_or_try_init(|| self.hash("no account has this password"))
                    .await?;
                self.verify(password, dummy).await?;
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Environment, Settings};

    fn hasher() -> PasswordHasher {
        let settings = Settings::for_environment(Environment::Test).unwrap();
        PasswordHasher::new(&settings.auth).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = hasher();
        let phc = hasher.hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse battery", &phc).await.unwrap());
        assert!(!hasher.verify("wrong horse battery", &phc).await.unwrap());
        assert!(!hasher.verify("anything", "not a hash").await.unwrap());
    }

    #[test]
    fn short_passwords_and_the_email_are_refused() {
        let hasher = hasher();
        assert_eq!(
            hasher.check_rules("short", "a@example.com"),
            Err(PasswordError::TooShort(10))
        );
        assert_eq!(
            hasher.check_rules("Alice@Example.com", "alice@example.com"),
            Err(PasswordError::SameAsEmail)
        );
        assert_eq!(
            hasher.check_rules("a long passphrase", "a@example.com"),
            Ok(())
        );
    }
}
