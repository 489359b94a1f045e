//! Organization API keys and custom domains: the last two ways a request finds its tenant.
//! Domain verification asks a real DNS server over UDP, here one the test runs on loopback.

use entity::OrganizationId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orgs::tenancy::dns::encode_txt_answer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::helpers::{TestApp, Visitor, two_tenants, visitor};

/// A DNS server on loopback answering TXT questions from a table the test fills.
pub(crate) struct FakeDns {
    pub(crate) address: std::net::SocketAddr,
    pub(crate) records: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

/// The name a DNS query asks about.
pub(crate) fn question_name(query: &[u8]) -> String {
    let mut labels = Vec::new();
    let mut at = 12;
    while let Some(&len) = query.get(at) {
        if len == 0 {
            break;
        }
        let label = &query[at + 1..at + 1 + usize::from(len)];
        labels.push(String::from_utf8_lossy(label).into_owned());
        at += 1 + usize::from(len);
    }
    labels.join(".")
}

pub(crate) async fn fake_dns() -> FakeDns {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let table = Arc::clone(&records);
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buffer).await {
            let query = &buffer[..n];
            let values = table
                .lock()
                .unwrap()
                .get(&question_name(query))
                .cloned()
                .unwrap_or_default();
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let _ = socket.send_to(&encode_txt_answer(query, &refs), peer).await;
        }
    });
    FakeDns { address, records }
}

async fn sign_in(app: &TestApp, email: &str) -> Visitor {
    visitor(app, Some(email)).await
}

async fn new_key(app: &TestApp, admin: &Visitor, slug: &str) -> String {
    let created = admin
        .client
        .post(format!("{}/o/{slug}/api/v1/api-keys/", app.address))
        .header("x-csrf-token", &admin.csrf)
        .json(&serde_json::json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let json: serde_json::Value = created.json().await.unwrap();
    assert!(json.get("token_hash").is_none());
    json["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_api_key_finds_its_organization_and_acts_as_an_admin() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;
    let key = new_key(&app, &ada, "acme").await;
    assert!(key.starts_with("orgs_key_"));

    let api = reqwest::Client::new();
    let list: serde_json::Value = api
        .get(format!("{}/api/v1/projects/", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["name"], "Acme anvil");
    assert_eq!(list["items"][0]["organization_id"], acme);

    let created = api
        .post(format!("{}/api/v1/projects/", app.address))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "By key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        201,
        "no CSRF token needed with a bearer key"
    );
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let deleted = api
        .delete(format!("{}/api/v1/projects/{id}/", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204, "a key has admin rights");

    let minting = api
        .post(format!("{}/api/v1/api-keys/", app.address))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "more"}))
        .send()
        .await
        .unwrap();
    assert_eq!(minting.status(), 403, "a key cannot mint keys");
}

#[tokio::test]
async fn a_key_is_404_at_another_organizations_address_and_401_once_revoked() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;
    let key = new_key(&app, &ada, "acme").await;
    let api = reqwest::Client::new();
    let elsewhere = api
        .get(format!("{}/o/globex/api/v1/projects/", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    assert!(!elsewhere.text().await.unwrap().contains("Globex laser"));
    let by_host = api
        .get(format!("{}/api/v1/projects/", app.address))
        .header("host", "globex.localhost")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_host.status(), 404);
    let home = api
        .get(format!("{}/o/acme/api/v1/projects/", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);

    let keys: serde_json::Value = ada
        .client
        .get(format!("{}/o/acme/api/v1/api-keys/", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = keys["items"][0]["id"].as_i64().unwrap();
    let revoked = ada
        .client
        .delete(format!("{}/o/acme/api/v1/api-keys/{id}/", app.address))
        .header("x-csrf-token", &ada.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = api
        .get(format!("{}/api/v1/projects/", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let unknown = api
        .get(format!("{}/api/v1/projects/", app.address))
        .bearer_auth("orgs_key_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
}

#[tokio::test]
async fn only_admins_manage_keys_and_a_new_key_is_shown_once() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let max = sign_in(&app, "max@acme.test").await;
    let refused = max
        .client
        .post(format!("{}/o/acme/api/v1/api-keys/", app.address))
        .header("x-csrf-token", &max.csrf)
        .json(&serde_json::json!({"name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let gus = sign_in(&app, "gus@globex.test").await;
    let other = gus
        .client
        .get(format!("{}/o/acme/settings/api-keys/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    let ada = sign_in(&app, "ada@acme.test").await;
    let created = ada
        .client
        .post(format!("{}/o/acme/settings/api-keys/", app.address))
        .form(&[("name", "deploy"), ("csrf_token", ada.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let page = ada
        .client
        .get(format!("{}/o/acme/settings/api-keys/", app.address))
        .send()
        .await
        .unwrap();
    let body = page.text().await.unwrap();
    let marker = "id=\"new-key\">";
    let start = body.find(marker).expect("the key is shown") + marker.len();
    let secret = body[start..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("orgs_key_"));
    let again = ada
        .client
        .get(format!("{}/o/acme/settings/api-keys/", app.address))
        .send()
        .await
        .unwrap();
    assert!(!again.text().await.unwrap().contains(&secret));
}

#[tokio::test]
async fn a_custom_domain_answers_for_its_organization_once_its_txt_record_is_published() {
    let dns = fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| s.tenant.dns_server = address).await;
    two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;

    let added = ada
        .client
        .post(format!("{}/o/acme/api/v1/domains/", app.address))
        .header("x-csrf-token", &ada.csrf)
        .json(&serde_json::json!({"domain": "Projects.Acme-Corp.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let domain: serde_json::Value = added.json().await.unwrap();
    assert_eq!(domain["domain"], "projects.acme-corp.example");
    assert_eq!(
        domain["txt_name"],
        "_orgs-challenge.projects.acme-corp.example"
    );
    let id = domain["id"].as_i64().unwrap();
    let value = domain["txt_value"].as_str().unwrap().to_string();

    let at_domain = |path| ada.get_on("projects.acme-corp.example", path);
    assert_eq!(
        at_domain("/projects/").await.status(),
        404,
        "not before verification"
    );

    let early = ada
        .client
        .post(format!(
            "{}/o/acme/api/v1/domains/{id}/verify/",
            app.address
        ))
        .header("x-csrf-token", &ada.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 409);
    assert!(early.text().await.unwrap().contains("does not contain"));

    dns.records.lock().unwrap().insert(
        "_orgs-challenge.projects.acme-corp.example".into(),
        vec!["unrelated".into(), value],
    );
    let verified = ada
        .client
        .post(format!(
            "{}/o/acme/api/v1/domains/{id}/verify/",
            app.address
        ))
        .header("x-csrf-token", &ada.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    assert!(verified.json::<serde_json::Value>().await.unwrap()["verified_at"].is_string());

    let page = at_domain("/projects/").await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Acme anvil") && !body.contains("Globex laser"));

    let gus = sign_in(&app, "gus@globex.test").await;
    let stranger = gus.get_on("projects.acme-corp.example", "/projects/").await;
    assert_eq!(stranger.status(), 404);
    let claim = gus
        .client
        .post(format!("{}/o/globex/api/v1/domains/", app.address))
        .header("x-csrf-token", &gus.csrf)
        .json(&serde_json::json!({"domain": "projects.acme-corp.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status(), 422, "a domain belongs to one organization");
    let ours = gus
        .client
        .post(format!("{}/o/globex/api/v1/domains/", app.address))
        .header("x-csrf-token", &gus.csrf)
        .json(&serde_json::json!({"domain": "acme.localhost"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), 422);
    let json: serde_json::Value = ours.json().await.unwrap();
    assert!(
        json["error"]["fields"]["domain"][0]
            .as_str()
            .unwrap()
            .contains("localhost")
    );
}

async fn claim(app: &TestApp, who: &Visitor, slug: &str, domain: &str) -> (u16, serde_json::Value) {
    let response = who
        .client
        .post(format!("{}/o/{slug}/api/v1/domains/", app.address))
        .header("x-csrf-token", &who.csrf)
        .json(&serde_json::json!({ "domain": domain }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn verify(app: &TestApp, who: &Visitor, slug: &str, id: i64) -> (u16, String) {
    let response = who
        .client
        .post(format!(
            "{}/o/{slug}/api/v1/domains/{id}/verify/",
            app.address
        ))
        .header("x-csrf-token", &who.csrf)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn domain_names(app: &TestApp, who: &Visitor, slug: &str) -> Vec<String> {
    let response = who
        .client
        .get(format!("{}/o/{slug}/api/v1/domains/", app.address))
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = response.json().await.unwrap();
    let items = json.get("items").unwrap_or(&json);
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_pending_claim_blocks_nobody_and_the_first_to_verify_wins() {
    let dns = fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| s.tenant.dns_server = address).await;
    two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;
    let gus = sign_in(&app, "gus@globex.test").await;

    // Gus claims Acme's domain first, without any way to verify it ...
    let (status, squat) = claim(&app, &gus, "globex", "shop.acme-corp.example").await;
    assert_eq!(status, 201);
    // ... which does not stop Acme, and the refusal tells nobody who holds what.
    let (status, ours) = claim(&app, &ada, "acme", "shop.acme-corp.example").await;
    assert_eq!(status, 201, "{ours}");
    let (status, again) = claim(&app, &ada, "acme", "shop.acme-corp.example").await;
    assert_eq!(status, 422, "one claim per organization: {again}");

    dns.records.lock().unwrap().insert(
        "_orgs-challenge.shop.acme-corp.example".into(),
        vec![ours["txt_value"].as_str().unwrap().to_string()],
    );
    let (status, body) = verify(&app, &gus, "globex", squat["id"].as_i64().unwrap()).await;
    assert_eq!(status, 409, "the squatter cannot verify: {body}");
    let (status, body) = verify(&app, &ada, "acme", ours["id"].as_i64().unwrap()).await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(
        domain_names(&app, &gus, "globex").await,
        Vec::<String>::new(),
        "the other claim lapsed"
    );
    let (status, body) = verify(&app, &gus, "globex", squat["id"].as_i64().unwrap()).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = claim(&app, &gus, "globex", "shop.acme-corp.example").await;
    assert_eq!(status, 422, "verified by another organization: {body}");
    let page = ada.get_on("shop.acme-corp.example", "/projects/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Acme anvil"));
}

#[tokio::test]
async fn a_claim_that_loses_the_race_to_verify_lapses_with_a_clear_answer() {
    let dns = fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| s.tenant.dns_server = address).await;
    let (_, globex) = two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;
    let gus = sign_in(&app, "gus@globex.test").await;
    let (_, ours) = claim(&app, &ada, "acme", "race.example").await;
    dns.records.lock().unwrap().insert(
        "_orgs-challenge.race.example".into(),
        vec![ours["txt_value"].as_str().unwrap().to_string()],
    );
    assert_eq!(
        verify(&app, &ada, "acme", ours["id"].as_i64().unwrap())
            .await
            .0,
        200
    );
    // A claim Globex made in the instant between the verification and the lapse of the others,
    // with the same TXT value published: the database's index decides.
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(globex))
        .await
        .unwrap();
    let late =
        orgs::organizations::domains::add(&tx, &app.state.db, "race.example", "localhost").await;
    assert!(
        late.is_err(),
        "added after the verification: refused up front"
    );
    let mut row: entity::organization_domain::ActiveModel = tx.new_active_model();
    row.domain = Set("race.example".into());
    row.verification_token = Set(ours["txt_value"]
        .as_str()
        .unwrap()
        .trim_start_matches("orgs-verify=")
        .into());
    row.verified_at = Set(None);
    let row = row.insert(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();
    let (status, body) = verify(&app, &gus, "globex", row.id).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("another organization"), "{body}");
    assert!(
        domain_names(&app, &gus, "globex").await.is_empty(),
        "the late claim lapsed"
    );
}

#[tokio::test]
async fn the_key_and_domain_lists_page_by_cursor_in_the_list_envelope() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = sign_in(&app, "ada@acme.test").await;
    for n in 0..3 {
        let (status, _) = ada
            .api(
                reqwest::Method::POST,
                "/o/acme/api/v1/api-keys/",
                Some(serde_json::json!({"name": format!("key {n}")})),
            )
            .await;
        assert_eq!(status, 201);
        let (status, _) = ada
            .api(
                reqwest::Method::POST,
                "/o/acme/api/v1/domains/",
                Some(serde_json::json!({"domain": format!("d{n}.acme.example")})),
            )
            .await;
        assert_eq!(status, 201);
    }
    for (list, label, first) in [
        ("/o/acme/api/v1/api-keys/", "name", "key 2"),
        ("/o/acme/api/v1/domains/", "domain", "d2.acme.example"),
    ] {
        let (status, page) = ada
            .api(reqwest::Method::GET, &format!("{list}?per_page=2"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["per_page"], 2, "{page}");
        assert_eq!(page["total"], 3);
        assert_eq!(page["items"][0][label], first, "newest first");
        let next = page["next"].as_str().unwrap();
        let (_, rest) = ada
            .api(
                reqwest::Method::GET,
                &format!("{list}?per_page=2&after={next}"),
                None,
            )
            .await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert!(rest["next"].is_null());
        let (status, _) = ada
            .api(reqwest::Method::GET, &format!("{list}?per_page=101"), None)
            .await;
        assert_eq!(status, 422);
    }
}
