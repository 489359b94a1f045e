//! argon2id password hashing, run on a few dedicated threads so it never stalls the async
//! workers. One thread per core at most: hashing is CPU-bound, so more would not go faster, and
//! each hash takes `argon2_memory_kib` of memory, which a thread reuses from one hash to the next
//! instead of every concurrent login holding its own (unbounded, that reached 2.6 GB of RSS under
//! 20 concurrent logins).

use std::sync::Arc;

use tokio::sync::OnceCell;

use argon2::password_hash::{self, phc};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use phc::{Output, ParamsString, Salt};

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
        let params = self.params.clone();
        let password = password.to_owned();
        self.threads
            .run(move || hash_on_this_thread(&password, params))
            .await?
    }

    /// Whether the password matches the PHC string. A malformed hash never matches.
    pub async fn verify(&self, password: &str, phc: &str) -> anyhow::Result<bool> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.threads
            .run(move || verify_on_this_thread(&password, &phc))
            .await
    }
}

thread_local! {
    // The argon2 working memory of this hashing thread, kept from one hash to the next: freeing
    // and reallocating 19 MiB per login fragmented the allocator's arenas to ~60 MB each.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// argon2 into `out`, in this thread's reused memory.
fn argon2_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        let needed = argon2.params().block_count();
        if memory.len() != needed {
            // Sized to the largest cost seen: a hash made with other parameters may come by.
            memory.resize(needed, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
    })
}

fn hash_on_this_thread(password: &str, params: Params) -> anyhow::Result<String> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = password_hash::generate_salt();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, password.as_bytes(), &salt, &mut out)
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    let invalid = |e: phc::Error| anyhow::anyhow!("encoding a password hash failed: {e}");
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(Salt::new(&salt).map_err(invalid)?),
        hash: Some(Output::new(&out).map_err(invalid)?),
    };
    Ok(hash.to_string())
}

fn verify_on_this_thread(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon2, password.as_bytes(), salt.as_ref(), &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == *expected)
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
    fn hashes_agree_with_the_argon2_crates_own_hashing_both_ways() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(64, 1, 1, None).unwrap();
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let theirs = standard
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        assert!(verify_on_this_thread("correct horse", &theirs));
        assert!(!verify_on_this_thread("wrong horse", &theirs));
        let ours = hash_on_this_thread("correct horse", params).unwrap();
        assert!(
            standard
                .verify_password(b"correct horse", ours.as_str())
                .is_ok()
        );
        assert!(
            standard
                .verify_password(b"wrong horse", ours.as_str())
                .is_err()
        );
        // A hash of another cost verifies too (the memory is resized to it).
        let cheaper = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32, 2, 1, None).unwrap(),
        );
        let older = cheaper.hash_password(b"correct horse").unwrap().to_string();
        assert!(verify_on_this_thread("correct horse", &older));
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
