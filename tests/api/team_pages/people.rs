//! People with faces: initials (the `avatar` component) in a colour that follows the person on
//! every page, a badge per role, "(you)" on the requester's own row and page; the switcher and
//! "my organizations" name the person's role in each organization.

use super::{billing_role, give_roles, piece, row_with};
use crate::helpers::{TestApp, World, visitor};

#[tokio::test]
async fn the_people_page_shows_initials_a_badge_per_role_and_you_on_the_requesters_row_only() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    give_roles(&kurt, "nirvana", w.dave.id, &["member", "billing"]).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let (status, page) = krist.get("/o/nirvana/people/").await;
    assert_eq!(status, 200);
    let kurts = row_with(&page, ">Kurt Cobain</a>");
    assert!(kurts.contains("aria-hidden=\"true\">KC</span>"), "{kurts}");
    assert!(
        kurts.contains("<span class=\"badge role-owner\">Owner</span>"),
        "{kurts}"
    );
    assert!(!kurts.contains("(you)"), "{kurts}");
    let krists = row_with(&page, ">Krist Novoselic</a>");
    assert!(krists.contains(">KN</span>"), "{krists}");
    assert!(
        krists.contains("<span class=\"badge role-admin\">Admin</span>"),
        "{krists}"
    );
    assert!(
        krists.contains("(you)"),
        "the requester's own row: {krists}"
    );
    let daves = row_with(&page, ">Dave Grohl</a>");
    assert!(
        daves.contains("<span class=\"badge role-member\">Member</span>")
            && daves.contains("<span class=\"badge role-custom\">Billing</span>"),
        "each role a badge, a custom one by its name: {daves}"
    );
    assert_eq!(page.matches("(you)").count(), 1, "{page}");

    // Dave sees "(you)" on his own row, and Krist's row without it.
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (_, seen_by_dave) = dave.get("/o/nirvana/people/").await;
    assert!(row_with(&seen_by_dave, ">Dave Grohl</a>").contains("(you)"));
    assert!(!row_with(&seen_by_dave, ">Krist Novoselic</a>").contains("(you)"));
    assert_eq!(seen_by_dave.matches("(you)").count(), 1);
}

#[tokio::test]
async fn a_person_keeps_one_avatar_colour_on_every_page_and_their_own_page_says_you() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    give_roles(&kurt, "nirvana", w.dave.id, &["member", "billing"]).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let avatar_in = |page: &str, name: &str| {
        colour_of(piece(
            row_with(page, &format!(">{name}</a>")),
            "<span class=\"avatar",
            "</span>",
        ))
    };
    let (_, nirvana) = dave.get("/o/nirvana/people/").await;
    let (_, foo) = dave.get("/o/foo-fighters/people/").await;
    let in_nirvana = avatar_in(&nirvana, "Dave Grohl");
    assert_eq!(
        in_nirvana,
        avatar_in(&foo, "Dave Grohl"),
        "across organizations"
    );
    let (status, own) = dave.get(&format!("/o/nirvana/people/{}/", w.dave.id)).await;
    assert_eq!(status, 200);
    let heading = piece(&own, "<h1", "</h1>");
    assert_eq!(
        colour_of(piece(heading, "<span class=\"avatar", "</span>")),
        in_nirvana,
        "the same face: {heading}"
    );
    assert!(heading.contains(">DG</span>"), "{heading}");
    assert!(heading.contains("(you)"), "{heading}");
    assert!(
        own.contains("<span class=\"badge role-member\">Member</span>")
            && own.contains("<span class=\"badge role-custom\">Billing</span>"),
        "{own}"
    );
    // Kurt made the role: the overview's activity shows him with the face People shows.
    let (_, people) = kurt.get("/o/nirvana/people/").await;
    let (_, overview) = kurt.get("/o/nirvana/").await;
    let activity = &overview[overview.find("class=\"activity\"").expect("activity")..];
    assert_eq!(
        colour_of(piece(activity, "<span class=\"avatar", "</span>")),
        avatar_in(&people, "Kurt Cobain"),
        "on the overview too: {activity}"
    );
    let (_, kurts) = dave.get(&format!("/o/nirvana/people/{}/", w.kurt.id)).await;
    assert!(!kurts.contains("(you)"), "{kurts}");
    assert!(
        piece(&kurts, "<h1", "</h1>").contains(">KC</span>"),
        "{kurts}"
    );
    assert!(
        kurts.contains("<span class=\"badge role-owner\">Owner</span>"),
        "{kurts}"
    );
}

/// The colour class of an avatar's markup (`c-teal` of `<span class="avatar c-teal" ...>`).
fn colour_of(avatar: &str) -> String {
    let (_, after) = avatar.split_once("class=\"").expect("a class");
    let (classes, _) = after.split_once('"').expect("the class's end");
    let colour = classes
        .split(' ')
        .find(|c| c.starts_with("c-"))
        .unwrap_or_else(|| panic!("a colour class in {avatar}"));
    colour.to_string()
}

#[tokio::test]
async fn the_switcher_and_my_organizations_name_my_role_in_each() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    give_roles(&kurt, "nirvana", w.dave.id, &["billing"]).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (_, page) = dave.get("/o/nirvana/").await;
    let switcher = piece(&page, "<details class=\"switcher\">", "</details>");
    assert!(
        switcher.contains("<a href=\"/go/foo-fighters/\"><span class=\"avatar ")
            && switcher.contains(" Foo Fighters</a> <span class=\"role\">Owner</span>"),
        "{switcher}"
    );
    assert!(
        switcher.contains("aria-current=\"true\"><span class=\"avatar ")
            && switcher.contains(" Nirvana</a> <span class=\"role\">Billing</span>"),
        "a custom role by its name: {switcher}"
    );
    let (status, mine) = dave.get("/organizations/").await;
    assert_eq!(status, 200);
    assert!(
        row_with(&mine, ">Foo Fighters</a>")
            .contains("<span class=\"badge role-owner\">Owner</span>"),
        "{mine}"
    );
    assert!(
        row_with(&mine, ">Nirvana</a>")
            .contains("<span class=\"badge role-custom\">Billing</span>"),
        "{mine}"
    );
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let (_, mine) = krist.get("/organizations/").await;
    assert!(
        row_with(&mine, ">Nirvana</a>").contains("<span class=\"badge role-admin\">Admin</span>"),
        "{mine}"
    );
    // A change of role shows in the switcher at once.
    give_roles(&kurt, "nirvana", w.dave.id, &["member"]).await;
    let (_, page) = dave.get("/o/foo-fighters/").await;
    let switcher = piece(&page, "<details class=\"switcher\">", "</details>");
    assert!(
        switcher.contains(" Nirvana</a> <span class=\"role\">Member</span>"),
        "{switcher}"
    );
}
