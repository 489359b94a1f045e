//! `tenant.links = "subdomain"`: the app sends people to `{slug}.{base_domain}` and carries
//! their sign-in there with a one-time handoff link, since the browser keeps one session per
//! host.

use crate::helpers::{
    World, assert_redirect_to, browser, get_on, location, path_of, port, subdomain_app, visitor,
};

#[tokio::test]
async fn going_to_an_organization_signs_the_member_in_on_its_own_host_once() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, list) = kurt.get("/organizations/").await;
    assert!(list.contains("href=\"/go/nirvana/\""), "{list}");

    let go = kurt
        .get_on(&format!("localhost:{}", port(&app)), "/go/nirvana/")
        .await;
    assert_eq!(go.status(), 303);
    let handoff = location(&go);
    let host = format!("nirvana.localhost:{}", port(&app));
    assert!(
        handoff.starts_with(&format!("http://{host}/handoff/")),
        "{handoff}"
    );

    // A browser that has never been to the organization's host.
    let fresh = browser();
    let arrived = get_on(&app, &fresh, &host, &path_of(&handoff)).await;
    assert_redirect_to(&arrived, 303, "/");
    assert_eq!(
        arrived.headers().get("referrer-policy").unwrap(),
        "no-referrer"
    );
    let people = get_on(&app, &fresh, &host, "/people/").await;
    assert_eq!(people.status(), 200);
    let page = people.text().await.unwrap();
    assert!(page.contains("Kurt Cobain") && page.contains("Welcome to Nirvana."));

    let again = get_on(&app, &browser(), &host, &path_of(&handoff)).await;
    assert_eq!(again.status(), 410, "a handoff link works once");
}

#[tokio::test]
async fn an_unknown_handoff_link_is_404_and_signs_nobody_in() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let host = format!("nirvana.localhost:{}", port(&app));
    let client = browser();
    let refused = get_on(
        &app,
        &client,
        &host,
        "/handoff/not-a-token/?next=%2Fpeople%2F",
    )
    .await;
    assert_eq!(refused.status(), 404);
    let people = get_on(&app, &client, &host, "/people/").await;
    assert_eq!(
        people.status(),
        302,
        "still anonymous: sent to the login page"
    );
}

#[tokio::test]
async fn going_to_an_organization_you_are_not_in_is_404() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let refused = kurt
        .get_on(&format!("localhost:{}", port(&app)), "/go/foo-fighters/")
        .await;
    assert_eq!(refused.status(), 404);
    let unknown = kurt
        .get_on(&format!("localhost:{}", port(&app)), "/go/no-such-org/")
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_new_organization_is_opened_on_its_own_host() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let created = kurt
        .client
        .post(format!("{}/organizations/add/", app.address))
        .header("host", format!("localhost:{}", port(&app)))
        .form(&[
            ("name", "Sound City"),
            ("slug", ""),
            ("csrf_token", kurt.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    assert!(
        location(&created).starts_with(&format!(
            "http://sound-city.localhost:{}/handoff/",
            port(&app)
        )),
        "{}",
        location(&created)
    );
}

/// Kurt's browser: signed in on the plain host (`origin`) and handed to Nirvana's host
/// (`tenant`, another cookie jar, as a browser keeps one session per host).
async fn handed_over(
    app: &crate::helpers::TestApp,
) -> (crate::helpers::Visitor, reqwest::Client, String) {
    let kurt = visitor(app, Some("kurt@nirvana.com")).await;
    let go = kurt
        .get_on(&format!("localhost:{}", port(app)), "/go/nirvana/")
        .await;
    let handoff = location(&go);
    let host = format!("nirvana.localhost:{}", port(app));
    let tenant = browser();
    let arrived = get_on(app, &tenant, &host, &path_of(&handoff)).await;
    assert_eq!(arrived.status(), 303);
    assert_eq!(get_on(app, &tenant, &host, "/people/").await.status(), 200);
    (kurt, tenant, host)
}

#[tokio::test]
async fn signing_out_on_an_organizations_host_ends_the_sign_in_it_was_handed_from_and_says_so() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let (kurt, tenant, host) = handed_over(&app).await;
    // Another browser of Kurt's, signed in on its own, is not this browser: it stays.
    let other = visitor(&app, Some("kurt@nirvana.com")).await;
    let page = get_on(&app, &tenant, &host, "/people/")
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_from(&page);
    let out = tenant
        .post(format!("{}/logout/", app.address))
        .header("host", &host)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_redirect_to(&out, 303, "/login/?signed_out=everywhere");
    let (_, notice) = other.get("/login/?signed_out=everywhere").await;
    assert!(
        notice.contains("You are signed out, here and on every organization"),
        "{notice}"
    );
    assert_eq!(get_on(&app, &tenant, &host, "/people/").await.status(), 302);
    let (status, _) = kurt.get("/account/").await;
    assert_eq!(status, 302, "the plain host's sign-in ended with it");
    let (status, _) = other.get("/account/").await;
    assert_eq!(status, 200, "another browser's sign-in is its own");
}

#[tokio::test]
async fn signing_out_on_the_plain_host_ends_the_organizations_hosts_it_handed_to() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let (kurt, tenant, host) = handed_over(&app).await;
    let out = kurt.post_form("/logout/", &[]).await;
    assert_redirect_to(&out, 303, "/login/?signed_out=everywhere");
    assert_eq!(get_on(&app, &tenant, &host, "/people/").await.status(), 302);
}

#[tokio::test]
async fn the_sign_in_an_activation_hands_over_is_of_the_same_family() {
    let app = subdomain_app().await;
    let signup = app
        .post_form(
            "/signup/",
            &[
                ("name", "Grace Hopper"),
                ("email", "grace@navy.mil"),
                ("password", "cobol forever 1959"),
                ("organization_name", "Navy"),
            ],
        )
        .await;
    assert_eq!(signup.status(), 200);
    let mail = app.wait_for_mail("grace@navy.mil", 1).await;
    let link = crate::helpers::link_in(&mail[0].text, "/activate/");
    // Activation signs in on the plain host and hands over to the organization's, in one go.
    let activated = app.get(&path_of(&link)).await;
    assert_eq!(activated.status(), 303);
    let handoff = location(&activated);
    assert!(handoff.contains("/handoff/"), "{handoff}");
    let host = format!("navy.localhost:{}", port(&app));
    let tenant = browser();
    get_on(&app, &tenant, &host, &path_of(&handoff)).await;
    let page = get_on(&app, &tenant, &host, "/people/")
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_from(&page);
    let out = tenant
        .post(format!("{}/logout/", app.address))
        .header("host", &host)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_redirect_to(&out, 303, "/login/?signed_out=everywhere");
    assert_eq!(
        app.get("/account/").await.status(),
        302,
        "the plain host's sign-in ended too"
    );
}
