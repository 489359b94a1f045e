//! Webhooks in the browser: Ada adds an endpoint on her organization's settings (the secret is
//! shown once), sends it a test event and opens the delivery in the log. Both pages go through
//! the tour's checks (both widths, both schemes, axe-core).

use fantoccini::Locator;

use crate::harness::{
    browser, chromedriver, fill_and_submit, free_port, link_in_mail, shot, wait_for_host,
    wait_for_text, wait_until_answering,
};
use crate::{PASSWORD, tour};

#[tokio::test]
async fn an_admin_adds_a_webhook_endpoint_sends_a_test_event_and_reads_its_log_in_a_real_browser() {
    let binary = crate::harness::binary();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = crate::harness::serve_with(&binary, work.path(), port, &[]);
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    wait_until_answering(&format!("http://127.0.0.1:{port}/healthz")).await;
    wait_until_answering(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let main = format!("http://localhost:{port}");
    let org_host = "hook-works.localhost";
    let org = format!("http://{org_host}:{port}");

    let ada = browser(driver_port, &work.path().join("ada")).await;
    ada.goto(&format!("{main}/signup/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("name", "Ada Hooks"),
            ("email", "ada@hooks.test"),
            ("password", PASSWORD),
            ("organization_name", "Hook Works"),
        ],
    )
    .await;
    wait_for_text(&ada, "Check your email").await;
    let activation = link_in_mail(&work.path().join("mail"), "ada@hooks.test", "/activate/").await;
    ada.goto(&activation).await.unwrap();
    wait_for_host(&ada, org_host).await;

    ada.goto(&format!("{org}/settings/webhooks/"))
        .await
        .unwrap();
    wait_for_text(&ada, "No endpoints yet").await;
    fill_and_submit(
        &ada,
        "form[action$='/settings/webhooks/']",
        &[
            ("url", "https://hooks.example.com/orgs"),
            ("description", "CRM sync"),
        ],
    )
    .await;
    wait_for_text(&ada, "it will not be shown again").await;
    shot(&ada, 711, "webhook-new-secret").await;
    let secret = ada
        .find(Locator::Css("#new-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let endpoint = ada.current_url().await.unwrap().to_string();

    ada.find(Locator::Css("form[action$='/test/'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&ada, "Test event queued.").await;
    ada.find(Locator::Css("table a[href*='delivery=']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&ada, "Request body").await;
    wait_for_text(&ada, "webhook.test").await;
    let opened = ada.current_url().await.unwrap();
    let opened = format!("{}?{}", opened.path(), opened.query().unwrap_or_default());

    let pages = [
        (org.clone(), "/settings/webhooks/", "settings-webhooks"),
        (org.clone(), opened.as_str(), "settings-webhook"),
    ];
    let checked: Vec<tour::Page<'_>> = [&ada, &ada].into_iter().zip(pages.iter()).collect();
    tour::check(&[&ada], &checked, driver_port).await;
    let out = crate::harness::out_dir();
    std::fs::copy(out.join("axe.txt"), out.join("webhooks-axe.txt")).unwrap();
    assert!(endpoint.contains("/settings/webhooks/"));
    ada.close().await.unwrap();
}
