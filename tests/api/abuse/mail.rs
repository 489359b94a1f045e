//! Mail to typed addresses: limited per recipient and per client across flows, carrying
//! nothing the requester typed.

use super::*;

#[tokio::test]
async fn reset_mail_is_limited_per_address_whether_or_not_it_has_an_account() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.mail_per_address_per_hour = 2;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for address in ["kurt@nirvana.com", "ghost@nirvana.com"] {
        for i in 0..2 {
            let asked = reset_as(&app, &format!("203.0.113.{i}"), address).await;
            assert_eq!(asked.status(), 200, "{address} {i}");
        }
        let refused = reset_as(&app, "198.51.100.7", address).await;
        assert_eq!(refused.status(), 429, "{address}");
        let wait = retry_after(&refused).expect("Retry-After");
        assert!((1..=3_600).contains(&wait), "{wait}");
        // The limit that refused it, by name, and when it frees.
        assert_eq!(
            refused.headers()["ratelimit-policy"],
            "\"mail-to\";q=2;w=3600"
        );
        assert_eq!(
            refused.headers()["ratelimit"].to_str().unwrap(),
            format!("\"mail-to\";r=0;t={wait}")
        );
    }
    app.wait_for_mail("kurt@nirvana.com", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mailbox().to("kurt@nirvana.com").len(), 2);
    assert!(app.mailbox().to("ghost@nirvana.com").is_empty());
}

#[tokio::test]
async fn sign_up_and_reset_count_against_the_same_address() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.mail_per_address_per_hour = 3;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    assert_eq!(
        sign_up_as(&app, "203.0.113.1", "kurt@nirvana.com", "Kurt")
            .await
            .status(),
        200
    );
    assert_eq!(
        sign_up_as(&app, "203.0.113.2", "kurt@nirvana.com", "Kurt")
            .await
            .status(),
        200
    );
    assert_eq!(
        reset_as(&app, "203.0.113.3", "kurt@nirvana.com")
            .await
            .status(),
        200
    );
    let refused = sign_up_as(&app, "203.0.113.4", "kurt@nirvana.com", "Kurt").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(app.wait_for_mail("kurt@nirvana.com", 3).await.len(), 3);
}

#[tokio::test]
async fn mail_is_limited_per_client_address() {
    let app = TestApp::spawn_with(|s| s.auth.mail_per_client_per_hour = 3).await;
    for i in 0..3 {
        let asked = reset_as(&app, "127.0.0.1", &format!("someone{i}@example.com")).await;
        assert_eq!(asked.status(), 200);
    }
    let refused = reset_as(&app, "127.0.0.1", "someone-else@example.com").await;
    assert_eq!(refused.status(), 429);
    let refused = sign_up_as(&app, "127.0.0.1", "another@example.com", "Another").await;
    assert_eq!(
        refused.status(),
        429,
        "sign-up counts against the same client"
    );
    assert_eq!(
        user::Entity::find().count(app.conn()).await.unwrap(),
        0,
        "a refused sign-up creates nothing"
    );
}

#[tokio::test]
async fn invitations_count_against_their_address_across_organizations() {
    let app = TestApp::spawn_with(|s| s.auth.mail_per_address_per_hour = 2).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let invite = |who: &Visitor, slug: &str| {
        let path = format!("/o/{slug}/api/v1/people/");
        let who = who.clone();
        async move {
            send(
                &who,
                reqwest::Method::POST,
                &path,
                Some(serde_json::json!({"email": "target@example.com"})),
            )
            .await
        }
    };
    let (status, _, first) = invite(&kurt, "nirvana").await;
    assert_eq!(status, 201);
    assert_eq!(invite(&dave, "foo-fighters").await.0, 201);
    // Inviting the pending address again is refused before any mail (issue 17); resending is
    // the third mail.
    assert_eq!(invite(&kurt, "nirvana").await.0, 409);
    let resend = format!("/o/nirvana/api/v1/invitations/{}/resend/", first["id"]);
    let (status, retry, _) = send(&kurt, reqwest::Method::POST, &resend, None).await;
    assert_eq!(status, 429, "a third mail to the address this hour");
    assert!(retry.is_some());
    assert_eq!(app.wait_for_mail("target@example.com", 2).await.len(), 2);
}

#[tokio::test]
async fn an_activation_mail_carries_nothing_the_requester_typed() {
    let app = TestApp::spawn().await;
    let response = post_as(
        &app,
        "127.0.0.1",
        "/signup/",
        &[
            ("name", "Cheap pills at evil.example"),
            ("email", "victim@example.com"),
            ("password", "a long enough password"),
            ("organization_name", "Visit evil.example now"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let mail = app.wait_for_mail("victim@example.com", 1).await;
    let text = format!("{} {:?} {:?}", mail[0].subject, mail[0].text, mail[0].html);
    assert!(!text.contains("evil.example"), "{text}");
}

#[tokio::test]
async fn signing_up_again_before_confirming_mails_a_fresh_activation_link() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        let response = sign_up_as(&app, "127.0.0.1", "new@example.com", "New").await;
        assert_eq!(response.status(), 200);
    }
    let mail = app.wait_for_mail("new@example.com", 2).await;
    assert!(
        mail.iter()
            .all(|m| m.subject == "Confirm your email address")
    );
    let link = crate::helpers::link_in(&mail[1].text, "/activate/");
    let activated = app.get(&path_of(&link)).await;
    assert_eq!(activated.status(), 303, "the newer link works");
}
