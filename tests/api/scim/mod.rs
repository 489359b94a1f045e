//! SCIM 2.0 provisioning against the real server: a directory (this module's [`Directory`])
//! speaking `application/scim+json` to `/o/acme/scim/v2/` with a token Ada made, Acme's
//! `acme.test` proved as an email domain through the loopback DNS server. The conformance
//! tester (scim2-tester) runs against a real server in `.ci/run`.

mod dialects;
mod groups;
mod protocol;
mod users;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, two_tenants, visitor};
use crate::keys_and_domains::FakeDns;
use crate::sso::{sso_app, verified_domain};

/// A directory: its token and the SCIM root it speaks to.
pub(crate) struct Directory {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

/// An answer: status, headers and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Directory {
    /// Speaks to `/o/{slug}/scim/v2` of `app` with `token`.
    pub(crate) fn new(app: &TestApp, slug: &str, token: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: format!("{}/o/{slug}/scim/v2", app.address),
            token: token.to_string(),
        }
    }

    /// `method path` with `body` as `application/scim+json` and `headers`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("a SCIM request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, &[]).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body), &[]).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body), &[]).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None, &[]).await
    }

    /// Creates a User `user_name` with `email` (primary, work): its SCIM id.
    pub(crate) async fn user(&self, user_name: &str, email: &str) -> Value {
        let created = self
            .post(
                "/Users",
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "name": {"givenName": "Given", "familyName": user_name},
                    "emails": [{"value": email, "type": "work", "primary": true}],
                    "active": true
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body
    }
}

/// orgs' extension of a User.
const ORGS: &str = "urn:ietf:params:scim:schemas:extension:orgs:2.0:User";

impl Directory {
    /// orgs' extension of `user` as read back asking for it (its attributes are returned on
    /// request only).
    async fn extension(&self, user: &Value) -> Value {
        let id = user["id"].as_str().expect("a User's id");
        let read = self
            .get(&format!(
                "/Users/{id}?attributes={ORGS}:state,{ORGS}:userId"
            ))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(
            read.body.get("userName").is_none(),
            "only what was asked: {}",
            read.body
        );
        read.body[ORGS].clone()
    }

    /// The state orgs' extension reports for `user`.
    pub(crate) async fn state(&self, user: &Value) -> String {
        self.extension(user).await["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The account `user` is linked to.
    pub(crate) async fn account(&self, user: &Value) -> i64 {
        let extension = self.extension(user).await;
        extension["userId"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no account: {extension}"))
    }
}

/// Makes a SCIM token as `who` on `slug`: its secret.
pub(crate) async fn token(who: &Visitor, slug: &str) -> String {
    let (status, made) = who
        .api(
            Method::POST,
            &format!("/o/{slug}/api/v1/scim-tokens/"),
            Some(json!({ "name": "Entra ID" })),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["token"].as_str().expect("the secret").to_string();
    assert!(secret.starts_with("orgs_scim_"), "{secret}");
    secret
}

/// Acme and Globex, `acme.test` verified for Acme, and a directory with Ada's token.
pub(crate) async fn acme_directory() -> (TestApp, Visitor, Directory, FakeDns) {
    let (app, dns) = sso_app().await;
    directory_on(app, dns).await
}

/// [`acme_directory`] on an app whose settings `change` changes.
pub(crate) async fn acme_directory_with(
    change: impl FnOnce(&mut orgs::config::Settings),
) -> (TestApp, Visitor, Directory, FakeDns) {
    let dns = crate::keys_and_domains::fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| {
        s.tenant.dns_server = address;
        change(s);
    })
    .await;
    directory_on(app, dns).await
}

async fn directory_on(app: TestApp, dns: FakeDns) -> (TestApp, Visitor, Directory, FakeDns) {
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    verified_domain(&ada, &dns, "acme.test").await;
    let secret = token(&ada, "acme").await;
    let directory = Directory::new(&app, "acme", &secret);
    (app, ada, directory, dns)
}

/// The role keys of the person `user_id` in Acme, as Ada sees them.
pub(crate) async fn roles_of(ada: &Visitor, user_id: i64) -> Vec<String> {
    let (status, person) = ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{user_id}/"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{person}");
    person["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect()
}
