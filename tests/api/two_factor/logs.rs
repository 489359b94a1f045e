//! The secret of an authenticator app and the recovery codes never reach the server's log, even
//! with every log line on: a real `orgs serve` at `RUST_LOG=trace`, its log searched.

use reqwest::Method;
use serde_json::json;

use super::{raw_forms, reauthenticate, totp_code};
use crate::helpers::{TestDb, as_app_role, csrf_from};

/// A server process, stopped when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `orgs serve` on `db` with every log line on (`RUST_LOG=trace`) written to `log`: the
/// process and its address.
async fn serve_logging(db: &TestDb, log: &std::path::Path) -> (Server, String) {
    use std::io::{BufRead, BufReader};
    let url = match db.is_postgres() {
        true => as_app_role(&db.url),
        false => db.url.clone(),
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_orgs"))
        .arg("serve")
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", url)
        .env("ORGS_DATABASE__MIGRATE_ON_START", "false")
        .env("ORGS_SERVER__PORT", "0")
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start orgs serve");
    let stdout = child.stdout.take().unwrap();
    let child = Server(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), line)
        .await
        .expect("serve printed its address in time")
        .unwrap()
        .unwrap();
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, address)
}

#[tokio::test]
async fn the_secret_and_the_recovery_codes_never_reach_the_servers_log_even_at_trace() {
    let db = TestDb::migrated().await;
    crate::cli::migrate(&db);
    let out = crate::cli::orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "kim@acme.test",
            "--password",
            "long enough pw",
        ],
    );
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let (server, address) = serve_logging(&db, &log).await;

    let client = crate::helpers::browser();
    let page = client
        .get(format!("{address}/login/"))
        .send()
        .await
        .unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let signed_in = client
        .post(format!("{address}/login/"))
        .form(&[
            ("email", "kim@acme.test"),
            ("password", "long enough pw"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let page = client.get(format!("{address}/")).send().await.unwrap();
    let kim = crate::helpers::Visitor {
        client,
        csrf: csrf_from(&page.text().await.unwrap()),
        address: address.clone(),
    };
    let (status, enrolment) = kim
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let (status, body) = kim
        .api(
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({ "code": totp_code(&secret, None) })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, renewed) = kim
        .api(
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    let (status, _) = reauthenticate(&kim, json!({"code": renewed["recovery_codes"][0]})).await;
    assert_eq!(status, 200);
    let (_, page) = kim.get("/account/security/").await;
    assert!(page.contains("Remove the authenticator app"));
    drop(server);

    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("/api/v1/account/two-factor/totp/confirm/") || log.contains("request"),
        "the log has the requests: {log}"
    );
    let (hex, b64) = raw_forms(&secret);
    for form in [
        secret.clone(),
        secret.to_ascii_lowercase(),
        hex,
        b64.trim_end_matches('=').to_string(),
    ] {
        assert!(!log.contains(&form), "{form} is in the server's log");
    }
    for list in [&body["recovery_codes"], &renewed["recovery_codes"]] {
        for code in list.as_array().unwrap() {
            let code = code.as_str().unwrap();
            assert!(
                !log.contains(code) && !log.contains(&code.replace('-', "")),
                "a recovery code ({code}) is in the server's log"
            );
        }
    }
}
