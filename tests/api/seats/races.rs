//! Seats under races, on SQLite and PostgreSQL alike: every path that takes one waits for the
//! organization's row, so twenty acceptances for the last seat let exactly one in, and an
//! invitation racing a direct add for it lets exactly one through.

use entity::{organization_invitation, organization_user};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

use super::{assert_full, billing_app, invite, set_limit, set_limit_as_billing};
use crate::helpers::{World, link_in, location, path_of, visitor};

#[tokio::test]
async fn twenty_accepts_racing_for_the_last_seat_let_exactly_one_in() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let mut guests = Vec::new();
    for i in 0..20 {
        let email = format!("roadie{i}@yahoo.com");
        app.user(&email, &format!("Roadie {i}")).await;
        let (status, body) = invite(&kurt, &email).await;
        assert_eq!(status, 201, "{body}");
        let mail = app.wait_for_mail(&email, 1).await;
        let link = path_of(&link_in(&mail[0].text, "/invitations/"));
        guests.push((visitor(&app, Some(&email)).await, link));
    }
    // Twenty invitations hold their seats; then billing lowers the limit to one free seat.
    set_limit(&app, w.nirvana.id, Some(4)).await;
    let tasks: Vec<_> = guests
        .clone()
        .into_iter()
        .map(|(guest, link)| {
            tokio::spawn(async move {
                let response = guest.post_form(&link, &[("action", "accept")]).await;
                (response.status().as_u16(), location(&response))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let joined = answers.iter().filter(|(_, to)| to == "/o/nirvana/").count();
    assert_eq!(joined, 1, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|(status, _)| *status == 409).count(),
        19,
        "the others hear there is no seat: {answers:?}"
    );
    let members = organization_user::Entity::find()
        .filter(organization_user::Column::OrganizationId.eq(w.nirvana.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(members, 4);
    let pending = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(pending, 19, "the refused invitations stay pending");
    // A seat bought later lets one of them in with the same link.
    set_limit_as_billing(&app, w.nirvana.id, Some(5)).await;
    let refused = answers
        .iter()
        .position(|(status, _)| *status == 409)
        .unwrap();
    let (guest, link) = &guests[refused];
    let again = guest.post_form(link, &[("action", "accept")]).await;
    assert_eq!(location(&again), "/o/nirvana/");
}

#[tokio::test]
async fn invitations_racing_each_other_and_a_direct_add_for_the_last_seat_let_one_through() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for round in 0..3 {
        set_limit(&app, w.nirvana.id, Some(4 + round)).await;
        let adding = app.user(&format!("added{round}@smear.com"), "Added").await;
        let mut invites = Vec::new();
        for i in 0..5 {
            let kurt = kurt.clone();
            invites.push(tokio::spawn(async move {
                invite(&kurt, &format!("invited{round}-{i}@smear.com")).await
            }));
        }
        let (db, events, nirvana) = (app.conn().clone(), app.events().clone(), w.nirvana.id);
        let added = tokio::spawn(async move {
            crate::rules::add_user(&db, &events, nirvana, adding.id, false).await
        });
        let mut through = 0;
        for task in invites {
            let (status, body) = task.await.unwrap();
            match status {
                201 => through += 1,
                _ => assert_full(status, &body, 4 + round, 4 + round),
            }
        }
        match added.await.unwrap() {
            Ok(_) => through += 1,
            Err(orgs::organizations::OrgError::SeatLimit(full)) => {
                assert_eq!((full.used, full.limit), (4 + round, 4 + round));
            }
            Err(other) => panic!("{other}"),
        }
        assert_eq!(through, 1, "round {round}");
    }
}

/// The seat a revoked invitation frees goes to one invitation only, whether the same address is
/// invited again from the page (which resends what is pending) or another address through the
/// API, however the three interleave.
#[tokio::test]
async fn a_revocation_racing_a_reinvitation_and_another_invitation_never_overfills() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for round in 0..4 {
        set_limit(&app, w.nirvana.id, Some(4 + round)).await;
        let pat = format!("pat{round}@smear.com");
        let (status, invitation) = invite(&kurt, &pat).await;
        assert_eq!(status, 201, "{invitation}");
        let revoke = format!("/o/nirvana/api/v1/invitations/{}/revoke/", invitation["id"]);
        let (k1, k2, k3) = (kurt.clone(), kurt.clone(), kurt.clone());
        let chad = format!("chad{round}@channing.com");
        let revoked =
            tokio::spawn(async move { k1.api(reqwest::Method::POST, &revoke, None).await });
        let again = tokio::spawn(async move {
            k2.post_form("/o/nirvana/people/add/", &[("email", pat.as_str())])
                .await
                .status()
        });
        let other = tokio::spawn(async move { invite(&k3, &chad).await });
        let _ = (
            revoked.await.unwrap(),
            again.await.unwrap(),
            other.await.unwrap(),
        );
        let (_, organization) = kurt
            .api(
                reqwest::Method::GET,
                "/o/nirvana/api/v1/organization/",
                None,
            )
            .await;
        let used = organization["seats_used"].as_u64().unwrap();
        assert!(used <= 4 + round, "round {round}: {organization}");
    }
}
