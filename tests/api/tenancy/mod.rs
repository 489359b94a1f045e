//! Tenant isolation over real HTTP: every tenant route of `orgs::routes::TENANT_ROUTES` (pages
//! and API; a route added without a matrix entry fails the test) x every role x both ways of
//! addressing a tenant (subdomain and `/o/{slug}/`), asserting the status, that nothing of the
//! other organization appears in any body, and after every write that the other organization's
//! rows in every tenant table (found from the catalog) are unchanged.

use entity::OrganizationId;
use entity::UserId;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::Method;
use entity::project;
use orgs::organizations::{self as orgs_service};
use orgs::routes::{Needs, TENANT_ROUTES, TenantRoute};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::documented::tenant_answer;
use crate::helpers::{
    TestApp, Visitor, assert_redirect_to, create_user, get_on, item_names, location, visitor,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner,
    Admin,
    Member,
    /// A member holding only the custom role `editor` ([`EDITOR`]).
    Editor,
    OtherTenantMember,
    Outsider,
    Anonymous,
    Superuser,
}

const ROLES: [Role; 8] = [
    Role::Owner,
    Role::Admin,
    Role::Member,
    Role::Editor,
    Role::OtherTenantMember,
    Role::Outsider,
    Role::Anonymous,
    Role::Superuser,
];

/// The permissions of the custom role the `Editor` holds: some of a member's, some of an
/// admin's, none of the people management.
const EDITOR: &[&str] = &[
    "projects.read",
    "projects.write",
    "projects.delete",
    "audit.read",
];

/// Whether `role` holds what the route needs (the owner and superusers hold everything).
fn holds(role: Role, needs: Needs) -> bool {
    use orgs::permissions::{BuiltinRole, Catalog};
    let catalog = Catalog::orgs();
    let set = match role {
        Role::Owner | Role::Superuser => catalog.everything(),
        Role::Admin => catalog.builtin(BuiltinRole::Admin),
        Role::Member => catalog.builtin(BuiltinRole::Member),
        Role::Editor => catalog.set_of(EDITOR.iter().copied()),
        Role::OtherTenantMember | Role::Outsider | Role::Anonymous => return false,
    };
    match needs {
        Needs::Member | Needs::MemberNotOwner => true,
        Needs::Permission(p) => set.contains_all(catalog.one(p)),
        Needs::AnyOf(ps) => ps.iter().any(|p| set.contains_all(catalog.one(*p))),
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Subdomain,
    Path,
}

/// A row made afresh for each try of a route that uses it up (`{id}` in its path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fresh {
    Project,
    Invitation,
    ApiKey,
    Domain,
    EmailDomain,
    /// A SCIM token made by the owner.
    ScimToken,
    /// A custom role nobody holds; `{key}` is `doomed-{id}`.
    Role,
    /// A webhook endpoint (`{delivery_id}` is the same number: no delivery of it has it).
    WebhookEndpoint,
}

/// How the matrix calls one route: the body (`{n}` becomes a number unique to the try,
/// `{uid}` the member's user id), the status of a success, what `{id}` is, whether a success
/// destroys the fixture (it is built again), and answers that differ from the rule.
#[derive(Clone, Copy)]
struct Case {
    form: Option<&'static str>,
    json: Option<&'static str>,
    ok: u16,
    id: Option<Fresh>,
    /// `{user_id}` is the invited person who has not joined (for reminders), not the member.
    invited: bool,
    destroys: bool,
    special: fn(Role, &Method) -> Option<u16>,
}

const fn ok(status: u16) -> Case {
    Case {
        form: None,
        json: None,
        ok: status,
        id: None,
        invited: false,
        destroys: false,
        special: |_, _| None,
    }
}

/// The matrix entry of a tenant route; `None` for a route nobody added here yet.
fn case(route: &TenantRoute) -> Option<Case> {
    let method = &route.method;
    let page = |status| Case {
        form: (method != Method::GET).then_some(""),
        ..ok(status)
    };
    let fresh = |kind| Case {
        id: Some(kind),
        ..page(if method == Method::GET { 200 } else { 303 })
    };
    let api_fresh = |kind, status| Case {
        id: Some(kind),
        ..ok(status)
    };
    let leave = |role: Role, method: &Method| match role {
        Role::Owner => Some(409),
        // A superuser passes the check but has no membership to leave.
        Role::Superuser if method != Method::GET => Some(404),
        _ => None,
    };
    Some(match (method.as_str(), route.path) {
        ("GET", "/leave/") => Case {
            special: leave,
            ..ok(200)
        },
        // No connection yet: the holders of `sso.manage` are told so.
        ("GET" | "DELETE", "/api/v1/sso-connection/") => ok(404),
        ("GET", _) if !route.path.contains('{') => ok(200),
        ("POST", "/projects/new/") => Case {
            form: Some("name=Matrix+project&description=made+by+the+matrix"),
            ..ok(303)
        },
        ("GET", "/projects/{id}/" | "/projects/{id}/edit/" | "/projects/{id}/delete/") => {
            fresh(Fresh::Project)
        }
        ("POST", "/projects/{id}/edit/") => Case {
            form: Some("name=Renamed+by+the+matrix&description="),
            ..fresh(Fresh::Project)
        },
        ("POST", "/projects/{id}/delete/") => fresh(Fresh::Project),
        ("POST", "/api/v1/projects/") => Case {
            json: Some(r#"{"name": "API project {n}"}"#),
            ..ok(201)
        },
        ("GET", "/api/v1/projects/{id}/") => api_fresh(Fresh::Project, 200),
        ("PATCH", "/api/v1/projects/{id}/") => Case {
            json: Some(r#"{"description": "patched"}"#),
            ..api_fresh(Fresh::Project, 200)
        },
        ("DELETE", "/api/v1/projects/{id}/") => api_fresh(Fresh::Project, 204),
        ("POST", "/edit/") => Case {
            form: Some("name=Acme+Corp+renamed&slug="),
            ..ok(303)
        },
        ("POST", "/delete/") => Case {
            form: Some("confirm={slug}"),
            destroys: true,
            ..page(303)
        },
        ("POST", "/transfer/") => Case {
            form: Some("user_id={uid}&confirm={slug}"),
            destroys: true,
            ..ok(303)
        },
        ("POST", "/leave/") => Case {
            destroys: true,
            special: leave,
            ..page(303)
        },
        ("POST", "/people/add/") => Case {
            form: Some("email=invitee{n}%40example.org"),
            ..ok(303)
        },
        ("GET", "/people/{user_id}/" | "/people/{user_id}/edit/" | "/people/{user_id}/delete/") => {
            ok(200)
        }
        ("POST", "/people/{user_id}/edit/") => page(303),
        ("POST", "/people/{user_id}/delete/") => Case {
            destroys: true,
            ..page(303)
        },
        ("GET", "/people/{user_id}/remind/") => Case {
            invited: true,
            ..ok(200)
        },
        ("POST", "/people/{user_id}/remind/") => Case {
            invited: true,
            ..page(303)
        },
        ("PATCH", "/api/v1/organization/") => Case {
            json: Some(r#"{"name": "Acme Corp patched"}"#),
            ..ok(200)
        },
        ("DELETE", "/api/v1/organization/") => Case {
            destroys: true,
            ..ok(204)
        },
        ("POST", "/api/v1/transfer/") => Case {
            json: Some(r#"{"user_id": {uid}}"#),
            destroys: true,
            ..ok(204)
        },
        ("POST", "/api/v1/leave/") => Case {
            destroys: true,
            special: leave,
            ..ok(204)
        },
        ("POST", "/api/v1/people/") => Case {
            json: Some(r#"{"email": "api-invitee{n}@example.org"}"#),
            ..ok(201)
        },
        ("GET", "/api/v1/people/{user_id}/") => ok(200),
        ("PATCH", "/api/v1/people/{user_id}/") => Case {
            json: Some(r#"{"is_admin": false}"#),
            ..ok(200)
        },
        ("DELETE", "/api/v1/people/{user_id}/") => Case {
            destroys: true,
            ..ok(204)
        },
        ("POST", "/api/v1/people/{user_id}/remind/") => Case {
            invited: true,
            ..ok(202)
        },
        ("POST", "/invitations/{id}/revoke/" | "/invitations/{id}/resend/") => {
            fresh(Fresh::Invitation)
        }
        ("GET", "/api/v1/invitations/{id}/") => api_fresh(Fresh::Invitation, 200),
        ("POST", "/api/v1/invitations/{id}/revoke/" | "/api/v1/invitations/{id}/resend/") => {
            api_fresh(Fresh::Invitation, 200)
        }
        ("POST", "/settings/api-keys/") => Case {
            form: Some("name=Matrix+key"),
            ..ok(303)
        },
        ("GET" | "POST", "/settings/api-keys/{id}/revoke/") => fresh(Fresh::ApiKey),
        ("POST", "/settings/domains/") => Case {
            form: Some("domain=matrix{n}.example.org"),
            ..ok(303)
        },
        // Unticked and already off: nothing changes, and the page says so.
        ("POST", "/settings/security/") => Case {
            form: Some("save=1"),
            ..ok(303)
        },
        ("POST", "/settings/domains/{id}/verify/" | "/settings/domains/{id}/delete/") => {
            fresh(Fresh::Domain)
        }
        ("POST", "/api/v1/api-keys/") => Case {
            json: Some(r#"{"name": "Matrix key"}"#),
            ..ok(201)
        },
        ("DELETE", "/api/v1/api-keys/{id}/") => api_fresh(Fresh::ApiKey, 204),
        ("POST", "/api/v1/domains/") => Case {
            json: Some(r#"{"domain": "api{n}.example.org"}"#),
            ..ok(201)
        },
        // No TXT record is published, so verification answers a conflict.
        ("POST", "/api/v1/domains/{id}/verify/") => api_fresh(Fresh::Domain, 409),
        ("DELETE", "/api/v1/domains/{id}/") => api_fresh(Fresh::Domain, 204),
        ("POST", "/roles/new/") => Case {
            form: Some("key=matrix-{n}&name=Matrix+role&permissions=projects.read"),
            ..ok(303)
        },
        ("GET", "/roles/{key}/edit/" | "/roles/{key}/delete/") => fresh(Fresh::Role),
        ("POST", "/roles/{key}/edit/") => Case {
            form: Some("name=Renamed+role&permissions=projects.read&permissions=members.read"),
            ..fresh(Fresh::Role)
        },
        ("POST", "/roles/{key}/delete/") => fresh(Fresh::Role),
        ("POST", "/api/v1/roles/") => Case {
            json: Some(
                r#"{"key": "api-{n}", "name": "API role", "permissions": ["projects.read"]}"#,
            ),
            ..ok(201)
        },
        ("GET", "/api/v1/roles/{key}/") => api_fresh(Fresh::Role, 200),
        ("PATCH", "/api/v1/roles/{key}/") => Case {
            json: Some(r#"{"permissions": ["members.read"]}"#),
            ..api_fresh(Fresh::Role, 200)
        },
        ("DELETE", "/api/v1/roles/{key}/") => api_fresh(Fresh::Role, 204),
        ("POST", "/settings/sso/domains/") => Case {
            form: Some("domain=matrix{n}.example.org"),
            ..ok(303)
        },
        // Not verified: the page says so and nothing changes.
        ("POST", "/settings/sso/domains/{id}/join/") => Case {
            form: Some("join=suggest&role=member"),
            ..fresh(Fresh::EmailDomain)
        },
        ("POST", "/settings/sso/domains/{id}/verify/" | "/settings/sso/domains/{id}/delete/") => {
            fresh(Fresh::EmailDomain)
        }
        // No verified domain to answer for: the form is shown again with its errors.
        ("POST", "/settings/sso/connection/") => Case {
            form: Some("issuer=https%3A%2F%2Fidp.example&client_id=x&client_secret=y"),
            ..ok(200)
        },
        ("POST", "/settings/sso/connection/delete/") => page(303),
        ("POST", "/api/v1/email-domains/") => Case {
            json: Some(r#"{"domain": "api{n}.example.org"}"#),
            ..ok(201)
        },
        ("GET", "/api/v1/email-domains/{id}/") => api_fresh(Fresh::EmailDomain, 200),
        ("PATCH", "/api/v1/email-domains/{id}/") => Case {
            json: Some(r#"{"join": "off"}"#),
            ..api_fresh(Fresh::EmailDomain, 200)
        },
        ("DELETE", "/api/v1/email-domains/{id}/") => api_fresh(Fresh::EmailDomain, 204),
        ("POST", "/api/v1/email-domains/{id}/verify/") => api_fresh(Fresh::EmailDomain, 409),
        ("PUT", "/api/v1/sso-connection/") => Case {
            json: Some(
                r#"{"issuer": "https://idp.example", "client_id": "x", "client_secret": "y", "domains": ["nowhere.example"]}"#,
            ),
            ..ok(422)
        },
        ("POST", "/settings/scim/tokens/") => Case {
            form: Some("name=matrix{n}"),
            ..ok(303)
        },
        ("POST", "/settings/scim/tokens/{id}/revoke/") => fresh(Fresh::ScimToken),
        ("POST", "/settings/scim/groups/{id}/roles/") => Case {
            form: Some("roles=member"),
            ..ok(404)
        },
        ("POST", "/api/v1/scim-tokens/") => Case {
            json: Some(r#"{"name": "matrix {n}"}"#),
            ..ok(201)
        },
        ("DELETE", "/api/v1/scim-tokens/{id}/") => api_fresh(Fresh::ScimToken, 204),
        // No such group (the directory made none): the holders of `sso.manage` are told so.
        ("PUT", "/api/v1/scim-groups/{id}/roles/") => Case {
            json: Some(r#"{"roles": ["member"]}"#),
            ..ok(404)
        },
        ("POST", "/settings/webhooks/") => Case {
            form: Some("url=https%3A%2F%2Fhooks{n}.example.org%2F"),
            ..ok(303)
        },
        ("GET", "/settings/webhooks/{id}/") => fresh(Fresh::WebhookEndpoint),
        ("POST", "/settings/webhooks/{id}/") => Case {
            form: Some("url=https%3A%2F%2Fchanged{n}.example.org%2F&description=&enabled=on"),
            ..fresh(Fresh::WebhookEndpoint)
        },
        (
            "POST",
            "/settings/webhooks/{id}/rotate/"
            | "/settings/webhooks/{id}/test/"
            | "/settings/webhooks/{id}/delete/"
            | "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver/",
        ) => fresh(Fresh::WebhookEndpoint),
        ("POST", "/settings/webhooks/{id}/redeliver/") => Case {
            form: Some("since=2026-01-01"),
            ..fresh(Fresh::WebhookEndpoint)
        },
        ("POST", "/api/v1/webhook-endpoints/") => Case {
            json: Some(r#"{"url": "https://api{n}.example.org/hooks"}"#),
            ..ok(201)
        },
        (
            "GET",
            "/api/v1/webhook-endpoints/{id}/" | "/api/v1/webhook-endpoints/{id}/deliveries/",
        ) => api_fresh(Fresh::WebhookEndpoint, 200),
        ("PATCH", "/api/v1/webhook-endpoints/{id}/") => Case {
            json: Some(r#"{"description": "patched"}"#),
            ..api_fresh(Fresh::WebhookEndpoint, 200)
        },
        ("DELETE", "/api/v1/webhook-endpoints/{id}/") => api_fresh(Fresh::WebhookEndpoint, 204),
        ("POST", "/api/v1/webhook-endpoints/{id}/rotate-secret/") => {
            api_fresh(Fresh::WebhookEndpoint, 200)
        }
        ("POST", "/api/v1/webhook-endpoints/{id}/test/") => api_fresh(Fresh::WebhookEndpoint, 202),
        // No delivery of the fresh endpoint has that id.
        (
            "GET" | "POST",
            "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/"
            | "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver/",
        ) => api_fresh(Fresh::WebhookEndpoint, 404),
        ("POST", "/api/v1/webhook-endpoints/{id}/redeliver/") => Case {
            json: Some(r#"{"since": "2026-01-01T00:00:00Z"}"#),
            ..api_fresh(Fresh::WebhookEndpoint, 202)
        },
        _ => return None,
    })
}

struct World {
    acme_id: i64,
    acme_slug: String,
    member_uid: i64,
    invited_uid: i64,
    globex_id: i64,
    acme_project: i64,
    globex_project: i64,
    visitors: Vec<(Role, Visitor)>,
}

const ACME_SECRET: &str = "Acme Rocket Skates";
const GLOBEX_NAME: &str = "Globex";
const GLOBEX_SECRET: &str = "Globex Doomsday Device";

static UNIQUE: AtomicU32 = AtomicU32::new(0);

fn unique() -> u32 {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

async fn project(app: &TestApp, organization_id: i64, name: &str) -> i64 {
    project::ActiveModel {
        organization_id: Set(organization_id),
        name: Set(name.to_string()),
        description: Set(format!("{name} description")),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap()
    .id
}

async fn fresh(app: &TestApp, w: &World, kind: Fresh) -> i64 {
    let n = unique();
    match kind {
        Fresh::Project => project(app, w.acme_id, "Doomed project").await,
        Fresh::Invitation => {
            entity::organization_invitation::ActiveModel {
                organization_id: Set(w.acme_id),
                email: Set(format!("fresh{n}@example.org")),
                invited_by_id: Set(None),
                token_hash: Set(format!("matrix-token-{n}-{}", w.acme_id)),
                expires_at: Set(entity::chrono_now() + chrono::Duration::days(1)),
                accepted_at: Set(None),
                accepted_by_id: Set(None),
                revoked_at: Set(None),
                ..Default::default()
            }
            .insert(app.conn())
            .await
            .unwrap()
            .id
        }
        Fresh::ApiKey | Fresh::Domain => {
            let tx =
                orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.acme_id))
                    .await
                    .unwrap();
            let id = if kind == Fresh::ApiKey {
                let grant =
                    orgs::tenancy::Grant::everything(orgs::permissions::Catalog::orgs().into());
                orgs::organizations::api_keys::create(&tx, &grant, "Doomed key", None, None)
                    .await
                    .unwrap()
                    .key
                    .id
            } else {
                let domain = format!("doomed{n}.example.org");
                orgs::organizations::domains::add(&tx, &app.state.db, &domain, "localhost")
                    .await
                    .unwrap()
                    .id
            };
            tx.commit().await.unwrap();
            id
        }
        Fresh::EmailDomain => {
            let tx =
                orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.acme_id))
                    .await
                    .unwrap();
            let domain = format!("doomed{n}.example.org");
            let id =
                orgs::organizations::email_domains::add(&tx, app.state.db.connection(), &domain)
                    .await
                    .unwrap()
                    .id;
            tx.commit().await.unwrap();
            id
        }
        Fresh::ScimToken => {
            let tx =
                orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.acme_id))
                    .await
                    .unwrap();
            let (view, _) = orgs::scim::tokens::create(&tx, &format!("doomed {n}"), w.member_uid)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            view.id
        }
        Fresh::WebhookEndpoint => {
            let tx =
                orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.acme_id))
                    .await
                    .unwrap();
            // An organization has at most 50 endpoints: the matrix keeps only the fresh one.
            tx.delete_many::<entity::webhook_endpoint::Entity>()
                .exec(tx.conn())
                .await
                .unwrap();
            let new = orgs::webhooks::endpoints::NewEndpoint {
                url: format!("https://doomed{n}.example.org/hooks"),
                ..Default::default()
            };
            let grant = orgs::tenancy::Grant::everything(orgs::permissions::Catalog::orgs().into());
            let (view, _) =
                orgs::webhooks::endpoints::create(&tx, &app.state.hooks(), &grant, new, None)
                    .await
                    .unwrap();
            tx.commit().await.unwrap();
            view.id
        }
        Fresh::Role => {
            let tx =
                orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.acme_id))
                    .await
                    .unwrap();
            let grant = orgs::tenancy::Grant::everything(orgs::permissions::Catalog::orgs().into());
            let new = orgs::organizations::roles::NewRole {
                key: format!("doomed-{n}"),
                name: "Doomed role".into(),
                description: String::new(),
                permissions: vec!["projects.read".into()],
            };
            orgs::organizations::roles::create(&tx, &grant, &new)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            i64::from(n)
        }
    }
}

/// The two organizations and a signed-in browser per role; `generation` keeps each rebuild's
/// names apart.
async fn world(app: &TestApp, generation: u32) -> World {
    let db = app.conn();
    let hasher = &app.state.hasher;
    // Generation 0 has the plain names the other tests of this file use.
    let tag = match generation {
        0 => String::new(),
        n => n.to_string(),
    };
    let named = |name: &str| match generation {
        0 => name.to_string(),
        n => format!("{name} {n}"),
    };
    let email = |who: &str, domain: &str| format!("{who}{tag}@{domain}");
    let owner = create_user(db, hasher, &email("owner", "acme.test"), "Ada Owner", false).await;
    let admin = create_user(
        db,
        hasher,
        &email("admin", "acme.test"),
        "Alan Admin",
        false,
    )
    .await;
    let member = create_user(
        db,
        hasher,
        &email("member", "acme.test"),
        "Mary Member",
        false,
    )
    .await;
    let invited = create_user(
        db,
        hasher,
        &email("invited", "acme.test"),
        "Ivy Invited",
        false,
    )
    .await;
    let globex_member = create_user(
        db,
        hasher,
        &email("hank", "globex.test"),
        "Hank Scorpio",
        false,
    )
    .await;
    create_user(
        db,
        hasher,
        &email("outsider", "nowhere.test"),
        "Olive Outsider",
        false,
    )
    .await;
    let editor = create_user(
        db,
        hasher,
        &email("editor", "acme.test"),
        "Eddie Editor",
        false,
    )
    .await;
    create_user(db, hasher, &email("root", "orgs.test"), "Root", true).await;
    let acme = orgs_service::create_organization(db, app.events(), owner.id, &named("Acme Corp"))
        .await
        .unwrap()
        .organization;
    crate::rules::add_user(db, app.events(), acme.id, admin.id, true)
        .await
        .unwrap();
    crate::rules::add_user(db, app.events(), acme.id, member.id, false)
        .await
        .unwrap();
    crate::rules::add_user(db, app.events(), acme.id, editor.id, false)
        .await
        .unwrap();
    {
        use orgs::organizations::roles;
        let tx = orgs::tenancy::door::tenant(db, app.events(), acme.id())
            .await
            .unwrap();
        let grant = orgs::tenancy::Grant::everything(orgs::permissions::Catalog::orgs().into());
        let new = roles::NewRole {
            key: "editor".into(),
            name: "Editor".into(),
            description: "Looks after projects".into(),
            permissions: EDITOR.iter().map(|p| (*p).to_string()).collect(),
        };
        roles::create(&tx, &grant, &new).await.unwrap();
        roles::set_member_roles(&tx, &grant, UserId(editor.id), &["editor".into()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let globex =
        orgs_service::create_organization(db, app.events(), globex_member.id, &named("Globex Inc"))
            .await
            .unwrap()
            .organization;
    let tx = orgs::tenancy::door::tenant(db, app.events(), acme.id())
        .await
        .unwrap();
    orgs::invitations::send::invite(
        &tx,
        &app.state.mailer,
        &app.state.settings.auth,
        &acme,
        None,
        &invited.email,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let acme_project = project(app, acme.id, ACME_SECRET).await;
    let globex_project = project(app, globex.id, GLOBEX_SECRET).await;
    let mut visitors = Vec::new();
    for role in ROLES {
        let who = match role {
            Role::Owner => Some(email("owner", "acme.test")),
            Role::Admin => Some(email("admin", "acme.test")),
            Role::Member => Some(email("member", "acme.test")),
            Role::Editor => Some(email("editor", "acme.test")),
            Role::OtherTenantMember => Some(email("hank", "globex.test")),
            Role::Outsider => Some(email("outsider", "nowhere.test")),
            Role::Anonymous => None,
            Role::Superuser => Some(email("root", "orgs.test")),
        };
        visitors.push((role, visitor(app, who.as_deref()).await));
    }
    World {
        acme_id: acme.id,
        acme_slug: acme.slug,
        member_uid: member.id,
        invited_uid: invited.id,
        globex_id: globex.id,
        acme_project,
        globex_project,
        visitors,
    }
}

fn expected(role: Role, route: &TenantRoute, case: &Case, api: bool) -> u16 {
    if let Some(status) = (case.special)(role, &route.method) {
        return status;
    }
    match role {
        Role::Owner | Role::Superuser => case.ok,
        Role::Admin | Role::Member | Role::Editor if holds(role, route.needs) => case.ok,
        Role::Admin | Role::Member | Role::Editor => 403,
        Role::OtherTenantMember | Role::Outsider => 404,
        Role::Anonymous if api => 401,
        Role::Anonymous => 302,
    }
}

/// Every table with `organization_id`, from the database's own catalog.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    let sql = if app.is_postgres() {
        "SELECT table_name::text FROM information_schema.columns \
         WHERE column_name = 'organization_id' AND table_schema = current_schema() \
         ORDER BY table_name"
    } else {
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'organization_id' ORDER BY m.name"
    };
    query_strings(app, sql).await
}

async fn query_strings(app: &TestApp, sql: &str) -> Vec<String> {
    app.column(sql).await
}

/// Every row of the organization, in every tenant table and its own, as text.
async fn digest(app: &TestApp, tables: &[String], organization_id: i64) -> Vec<String> {
    let mut all = Vec::new();
    let mut sources: Vec<(String, String)> = tables
        .iter()
        .map(|t| (t.clone(), format!("organization_id = {organization_id}")))
        .collect();
    sources.push(("organizations".into(), format!("id = {organization_id}")));
    for (table, filter) in sources {
        let sql = if app.is_postgres() {
            format!(
                "SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') \
                 FROM {table} t WHERE {filter}"
            )
        } else {
            let columns = query_strings(
                app,
                &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            )
            .await;
            let row = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            format!(
                "SELECT coalesce(group_concat(r, '|'), '') FROM \
                 (SELECT {row} AS r FROM {table} WHERE {filter} ORDER BY r)"
            )
        };
        let text = query_strings(app, &sql).await;
        all.push(format!("{table}: {}", text.join("")));
    }
    all
}

async fn send(
    app: &TestApp,
    visitor: &Visitor,
    mode: Mode,
    w: &World,
    route: &TenantRoute,
    case: &Case,
    id: i64,
) -> reqwest::Response {
    let uid = if case.invited {
        w.invited_uid
    } else {
        w.member_uid
    };
    let n = unique().to_string();
    let fill = |text: &str| {
        text.replace("{slug}", &w.acme_slug)
            .replace("{id}", &id.to_string())
            .replace("{key}", &format!("doomed-{id}"))
            .replace("{user_id}", &uid.to_string())
            .replace("{delivery_id}", &id.to_string())
            .replace("{uid}", &uid.to_string())
            .replace("{n}", &n)
    };
    let path = fill(route.path);
    let slug = &w.acme_slug;
    let (url, host) = match mode {
        Mode::Subdomain => (
            format!("{}{path}", app.address),
            Some(format!("{slug}.localhost")),
        ),
        Mode::Path => (format!("{}/o/{slug}{path}", app.address), None),
    };
    let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
    let mut request = visitor.client.request(method, url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    if route.method != Method::GET {
        request = request.header("x-csrf-token", &visitor.csrf);
    }
    if let Some(form) = case.form {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(fill(form));
    }
    if let Some(json) = case.json {
        request = request
            .header("content-type", "application/json")
            .body(fill(json));
    }
    request.send().await.unwrap()
}

async fn run_matrix(mode: Mode) {
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 100_000).await;
    let tables = tenant_tables(&app).await;
    assert!(tables.iter().any(|t| t == "projects"), "{tables:?}");
    let mut generation = 0;
    let mut w = world(&app, generation).await;
    let mut globex = digest(&app, &tables, w.globex_id).await;
    let mut failures = Vec::new();
    let mut answers = std::collections::BTreeSet::new();
    for route in TENANT_ROUTES {
        let Some(case) = case(route) else {
            failures.push(format!("{route:?}: no entry in the matrix"));
            continue;
        };
        let api = route.path.starts_with("/api/");
        for role in ROLES {
            let id = match case.id {
                Some(kind) => fresh(&app, &w, kind).await,
                None => w.acme_project,
            };
            let visitor = &w.visitors.iter().find(|(r, _)| *r == role).unwrap().1;
            let response = send(&app, visitor, mode, &w, route, &case, id).await;
            let status = response.status().as_u16();
            let redirect = location(&response);
            let body = response.text().await.unwrap();
            let want = expected(role, route, &case, api);
            if api {
                answers.insert(tenant_answer(&route.method, route.path, status));
            }
            let label = format!("{mode:?} {role:?} {} {}", route.method, route.path);
            if status != want {
                failures.push(format!("{label}: {status}, expected {want}"));
            }
            if want == 302 && !redirect.starts_with("/login/?next=") {
                failures.push(format!("{label}: redirect to {redirect}"));
            }
            if body.contains(GLOBEX_NAME) || body.contains(GLOBEX_SECRET) {
                failures.push(format!("{label}: leaks the other tenant"));
            }
            if matches!(role, Role::OtherTenantMember | Role::Outsider)
                && body.contains(ACME_SECRET)
            {
                failures.push(format!("{label}: shows a tenant it does not belong to"));
            }
            if route.method != Method::GET {
                let after = digest(&app, &tables, w.globex_id).await;
                if after != globex {
                    failures.push(format!("{label}: changed the other organization's rows"));
                }
            }
            if case.destroys && status == case.ok {
                generation += 1;
                w = world(&app, generation).await;
                globex = digest(&app, &tables, w.globex_id).await;
            }
        }
    }
    // Every answer is one the document lists for its operation.
    failures.extend(crate::documented::undocumented(&app, &answers).await);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_tenant_route_answers_each_role_correctly_on_subdomains() {
    run_matrix(Mode::Subdomain).await;
}

#[tokio::test]
async fn every_tenant_route_answers_each_role_correctly_on_the_path_form() {
    run_matrix(Mode::Path).await;
}

#[tokio::test]
async fn the_route_table_has_every_method_and_path_once() {
    let mut seen = std::collections::HashSet::new();
    for route in TENANT_ROUTES {
        assert!(
            seen.insert((route.method.clone(), route.path)),
            "{route:?} twice"
        );
    }
    assert!(TENANT_ROUTES.len() >= 59, "{}", TENANT_ROUTES.len());
}

mod addresses;
mod bodies;

#[test]
fn the_docs_carry_the_access_table_of_the_route_table() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/serving.md")).unwrap();
    let open = "<!-- access table: `orgs routes` -->\n";
    let start = docs
        .find(open)
        .expect("the access table in docs/serving.md")
        + open.len();
    let end = docs
        .find("<!-- end of the access table -->")
        .expect("the end of the access table in docs/serving.md");
    assert_eq!(
        &docs[start..end],
        orgs::routes::access_table(),
        "the access table in docs/serving.md is stale: paste `cargo run -- routes` into it"
    );
}
