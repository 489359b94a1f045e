//! Races: the losers of a sign-up or slug race answer like the winner's peers; role checks
//! hold across a transfer.

use super::*;

#[tokio::test]
async fn parallel_sign_ups_of_one_address_never_answer_500() {
    let app = TestApp::spawn().await;
    // Ten rounds of twenty browsers on the sign-up page, then all their forms at once (one
    // round in twenty answered 500 before: the loser of the race hit the unique email).
    for round in 0..10 {
        let email = format!("race{round}@example.com");
        let mut browsers = Vec::new();
        for _ in 0..20 {
            let client = browser();
            let page = client
                .get(format!("{}/signup/", app.address))
                .send()
                .await
                .unwrap();
            let csrf = csrf_from(&page.text().await.unwrap());
            browsers.push((client, csrf));
        }
        let attempts = browsers.iter().enumerate().map(|(i, (client, csrf))| {
            let name = format!("Racer {i}");
            let request = client
                .post(format!("{}/signup/", app.address))
                .form(&[
                    ("name", name.as_str()),
                    ("email", email.as_str()),
                    ("password", "a long enough password"),
                    ("csrf_token", csrf.as_str()),
                ])
                .send();
            async move { request.await.unwrap().status().as_u16() }
        });
        let statuses = join_all(attempts).await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
        let accounts = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .count(app.conn())
            .await
            .unwrap();
        assert_eq!(accounts, 1, "round {round}");
    }
}

#[tokio::test]
async fn parallel_creations_of_one_organization_name_never_answer_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for round in 0..10 {
        let name = format!("Race Org {round}");
        let attempts = (0..10).map(|_| {
            send(
                &kurt,
                reqwest::Method::POST,
                "/api/v1/organizations/",
                Some(serde_json::json!({ "name": name })),
            )
        });
        let answers = join_all(attempts).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
        assert!(
            statuses.iter().all(|s| *s == 201),
            "round {round}: {statuses:?}"
        );
        let created = organization::Entity::find()
            .filter(organization::Column::Name.eq(name.as_str()))
            .count(app.conn())
            .await
            .unwrap();
        assert_eq!(created, 10, "round {round}: each got a slug of its own");
    }
}

#[tokio::test]
async fn an_owner_check_made_before_a_transfer_committed_does_not_outlive_it() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let ana = app.user("ana@nirvana.com", "Ana").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, ana.id, true)
        .await
        .unwrap();
    let mut both_won = 0;
    for _ in 0..8 {
        // Kurt owns Nirvana again at the start of each trial.
        crate::rules::change_owner_to(app.conn(), app.events(), world.nirvana.id, world.kurt.id)
            .await
            .unwrap();
        let to = |user_id: i64| {
            send(
                &kurt,
                reqwest::Method::POST,
                "/o/nirvana/api/v1/transfer/",
                Some(serde_json::json!({ "user_id": user_id })),
            )
        };
        let (a, b) = tokio::join!(to(world.krist.id), to(ana.id));
        assert!(
            [a.0, b.0].iter().all(|s| [204, 403].contains(s)),
            "{a:?} {b:?}"
        );
        assert!(a.0 == 204 || b.0 == 204, "one transfer goes through");
        if a.0 == 204 && b.0 == 204 {
            both_won += 1;
        }
    }
    assert_eq!(
        both_won, 0,
        "once the first transfer commits, Kurt is no longer the owner and cannot transfer again"
    );
}

#[tokio::test]
async fn a_transfer_racing_demotions_leaves_the_new_owner_an_admin() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let ana = app.user("ana@nirvana.com", "Ana").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, ana.id, true)
        .await
        .unwrap();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let ana_browser = visitor(&app, Some("ana@nirvana.com")).await;
    for trial in 0..10 {
        crate::rules::change_owner_to(app.conn(), app.events(), world.nirvana.id, world.kurt.id)
            .await
            .unwrap();
        crate::rules::set_admin(
            app.conn(),
            app.events(),
            world.nirvana.id,
            world.krist.id,
            true,
        )
        .await
        .unwrap();
        let transfer = send(
            &kurt,
            reqwest::Method::POST,
            "/o/nirvana/api/v1/transfer/",
            Some(serde_json::json!({ "user_id": world.krist.id })),
        );
        let path = format!("/o/nirvana/api/v1/people/{}/", world.krist.id);
        let demotions = (0..3).map(|_| {
            send(
                &ana_browser,
                reqwest::Method::PATCH,
                &path,
                Some(serde_json::json!({"is_admin": false})),
            )
        });
        let (transferred, demoted) = tokio::join!(transfer, join_all(demotions));
        assert_eq!(transferred.0, 204, "trial {trial}");
        for answer in &demoted {
            assert!([200, 422].contains(&answer.0), "trial {trial}: {answer:?}");
        }
        let owner = crate::rules::owner_membership(app.conn(), world.nirvana.id).await;
        assert_eq!(owner.user_id, world.krist.id);
        assert!(
            crate::rules::is_admin(app.conn(), world.nirvana.id, owner.user_id)
                .await
                .unwrap(),
            "trial {trial}: the owner lost its admin role"
        );
    }
}

// --- Input --------------------------------------------------------------------------------------
