//! Unit tests of the permission catalog and its sets.

use super::*;

#[test]
fn the_admin_holds_everything_but_the_owner_only_permissions() {
    let catalog = Catalog::orgs();
    let admin = catalog.builtin(BuiltinRole::Admin);
    assert!(catalog.everything().contains_all(admin));
    let missing = catalog.list(catalog.everything().without(admin));
    assert_eq!(
        missing,
        [
            Permission::ORGANIZATION_DELETE,
            Permission::OWNERSHIP_TRANSFER
        ]
    );
}

#[test]
fn the_member_holds_what_a_member_could_do_before_roles() {
    let catalog = Catalog::orgs();
    assert_eq!(
        catalog.list(catalog.builtin(BuiltinRole::Member)),
        [
            Permission::MEMBERS_READ,
            Permission::PROJECTS_READ,
            Permission::PROJECTS_WRITE
        ]
    );
}

#[test]
fn an_embedders_permission_reaches_the_builtin_roles_it_names() {
    let notes = Permission::new("notes.write");
    let catalog = Catalog::orgs().with(notes, "Write notes", Holders::Member);
    assert!(
        catalog
            .builtin(BuiltinRole::Member)
            .contains_all(catalog.one(notes))
    );
    assert!(
        catalog
            .builtin(BuiltinRole::Admin)
            .contains_all(catalog.one(notes))
    );
}

#[test]
fn unknown_names_hold_nothing() {
    let catalog = Catalog::orgs();
    assert!(catalog.set_of(["nope.nothing"]).is_empty());
    assert_eq!(catalog.find("members.read"), Some(Permission::MEMBERS_READ));
}

#[test]
#[should_panic(expected = "twice")]
fn a_permission_cannot_be_added_twice() {
    let _ = Catalog::orgs().with(Permission::MEMBERS_READ, "again", Holders::Member);
}

#[test]
fn names_are_dotted_lowercase_words() {
    assert!(is_well_formed("notes.write"));
    assert!(is_well_formed("api_keys.manage"));
    assert!(!is_well_formed("notes"));
    assert!(!is_well_formed("Notes.write"));
    assert!(!is_well_formed("notes..write"));
    assert!(!is_well_formed("notes.wr ite"));
}
