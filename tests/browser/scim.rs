//! SCIM in the browser: Ada makes a SCIM token on her organization's settings, her directory
//! (here, requests with that token) pushes a group with her in it, and she gives the group a
//! role on the same page. The section goes through the tour's checks (both widths, both
//! schemes, axe-core).

use fantoccini::Locator;

use crate::harness::{
    browser, chromedriver, fill_and_submit, free_port, link_in_mail, shot, wait_for_host,
    wait_for_text, wait_until_answering,
};
use crate::{PASSWORD, tour};

#[tokio::test]
async fn an_admin_makes_a_scim_token_and_gives_a_pushed_group_a_role_in_a_real_browser() {
    let binary = crate::harness::binary();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = crate::harness::serve_with(&binary, work.path(), port, &[]);
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    wait_until_answering(&format!("http://127.0.0.1:{port}/healthz")).await;
    wait_until_answering(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let main = format!("http://localhost:{port}");
    let org_host = "scim-works.localhost";
    let org = format!("http://{org_host}:{port}");

    let ada = browser(driver_port, &work.path().join("ada")).await;
    ada.goto(&format!("{main}/signup/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("name", "Ada Scim"),
            ("email", "ada@scim.test"),
            ("password", PASSWORD),
            ("organization_name", "Scim Works"),
        ],
    )
    .await;
    wait_for_text(&ada, "Check your email").await;
    let activation = link_in_mail(&work.path().join("mail"), "ada@scim.test", "/activate/").await;
    ada.goto(&activation).await.unwrap();
    wait_for_host(&ada, org_host).await;

    ada.goto(&format!("{org}/settings/scim/")).await.unwrap();
    wait_for_text(&ada, "SCIM base URL").await;
    fill_and_submit(
        &ada,
        "form[action$='/settings/scim/tokens/']",
        &[("name", "Entra ID")],
    )
    .await;
    wait_for_text(&ada, "it will not be shown again").await;
    shot(&ada, 701, "scim-new-token").await;
    let token = ada
        .find(Locator::Css("#new-token"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(token.starts_with("orgs_scim_"), "{token}");

    // The directory: Ada as a User, then a group with her in it.
    let scim = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/o/scim-works/scim/v2");
    let user: serde_json::Value = scim
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"userName": "ada", "emails": [{"value": "ada@scim.test", "primary": true}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group = scim
        .post(format!("{base}/Groups"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"displayName": "Engineering", "members": [{"value": user["id"]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), 201);

    ada.goto(&format!("{org}/settings/scim/")).await.unwrap();
    wait_for_text(&ada, "Engineering").await;
    let admin = ada
        .find(Locator::Css(
            "form[action*='/settings/scim/groups/'] input[value=admin]",
        ))
        .await
        .unwrap();
    admin.click().await.unwrap();
    ada.find(Locator::Css(
        "form[action*='/settings/scim/groups/'] button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(&ada, "The roles of “Engineering” are saved.").await;
    let ticked = ada
        .find(Locator::Css(
            "form[action*='/settings/scim/groups/'] input[value=admin]",
        ))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("true"));

    let pages = [(org.clone(), "/settings/scim/", "settings-scim")];
    let checked: Vec<tour::Page<'_>> = [&ada].into_iter().zip(pages.iter()).collect();
    tour::check(&[&ada], &checked, driver_port).await;
    let out = crate::harness::out_dir();
    std::fs::copy(out.join("axe.txt"), out.join("scim-axe.txt")).unwrap();
    ada.close().await.unwrap();
}
