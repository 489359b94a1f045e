//! The settings area's sections: one table names each section, its page and what a requester
//! needs to see it; every settings page shows the sections the requester may open beside its
//! own (a list above it on a phone), so each section is a page of its own at every width.
//!
//! Later sections (webhooks) are a row each
//! here, before the danger zone, with their routes in the tenant route table and a template
//! that extends `settings/layout.html`.

use serde::Serialize;

use super::super::tenant_page;
use crate::permissions::Permission;
use crate::route_table::{ANY_SETTING, Needs};
use crate::web::{Page, Tenant};

/// One section of the settings area.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    /// Its name in [`page`] calls and the templates.
    pub key: &'static str,
    /// What the navigation says.
    pub label: &'static str,
    /// Its page under the tenant root.
    pub path: &'static str,
    /// What a requester needs to see it listed (its routes check their own needs).
    pub needs: Needs,
}

/// The sections, in the order the navigation lists them.
pub const SECTIONS: &[Section] = &[
    Section {
        key: "general",
        label: "General",
        path: "/settings/",
        needs: Needs::AnyOf(ANY_SETTING),
    },
    Section {
        key: "members",
        label: "Members and invitations",
        path: "/people/",
        needs: Needs::Permission(Permission::MEMBERS_READ),
    },
    Section {
        key: "roles",
        label: "Roles",
        path: "/roles/",
        needs: Needs::Permission(Permission::ROLES_MANAGE),
    },
    Section {
        key: "api-keys",
        label: "API keys",
        path: "/settings/api-keys/",
        needs: Needs::Permission(Permission::API_KEYS_MANAGE),
    },
    Section {
        key: "domains",
        label: "Domains",
        path: "/settings/domains/",
        needs: Needs::Permission(Permission::DOMAINS_MANAGE),
    },
    Section {
        key: "security",
        label: "Security",
        path: "/settings/security/",
        needs: Needs::Permission(Permission::SECURITY_MANAGE),
    },
    Section {
        key: "sso",
        label: "Email domains and SSO",
        path: "/settings/sso/",
        needs: Needs::Permission(Permission::SSO_MANAGE),
    },
    Section {
        key: "scim",
        label: "SCIM provisioning",
        path: "/settings/scim/",
        needs: Needs::Permission(Permission::SSO_MANAGE),
    },
    Section {
        key: "webhooks",
        label: "Webhooks",
        path: "/settings/webhooks/",
        needs: Needs::Permission(Permission::WEBHOOKS_MANAGE),
    },
    Section {
        key: "danger",
        label: "Danger zone",
        path: "/settings/danger/",
        needs: Needs::AnyOf(&[
            Permission::OWNERSHIP_TRANSFER,
            Permission::ORGANIZATION_DELETE,
        ]),
    },
];

/// A section as the navigation shows it.
#[derive(Serialize)]
struct Shown {
    key: &'static str,
    label: &'static str,
    path: &'static str,
    current: bool,
}

/// Whether the requester meets `needs` (what the route wrapper checks, for a link).
fn meets(tenant: &Tenant, needs: Needs) -> bool {
    match needs {
        Needs::Member => true,
        Needs::MemberNotOwner => !tenant.access().is_owner,
        Needs::Permission(permission) => tenant.can(permission),
        Needs::AnyOf(permissions) => permissions.iter().any(|p| tenant.can(*p)),
    }
}

/// The page `template` (which extends `settings/layout.html`) of the section `current`, with
/// the sections the requester may open.
pub fn page(template: &'static str, tenant: &Tenant, current: &str) -> Page {
    let shown: Vec<Shown> = SECTIONS
        .iter()
        .filter(|section| meets(tenant, section.needs))
        .map(|section| Shown {
            key: section.key,
            label: section.label,
            path: section.path,
            current: section.key == current,
        })
        .collect();
    tenant_page(template, tenant)
        .with("settings_sections", shown)
        .with("settings_section", current)
}

/// A page of the section `current` asking to confirm a destructive action
/// (`settings/confirm.html`); Cancel leads back to the section.
pub fn confirm(
    tenant: &Tenant,
    current: &str,
    title: String,
    message: String,
    action: &str,
    button: &str,
) -> Page {
    let back = SECTIONS
        .iter()
        .find(|section| section.key == current)
        .map_or("/settings/", |section| section.path);
    page("settings/confirm.html", tenant, current)
        .with("title", title)
        .with("message", message)
        .with("action", tenant.url(action))
        .with("button", button)
        .with("back", tenant.url(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_route_needs_what_the_settings_link_is_shown_for() {
        let route = crate::routes::TENANT_ROUTES
            .iter()
            .find(|r| r.path == "/settings/" && r.method == actix_web::http::Method::GET);
        let route = route.unwrap_or_else(|| panic!("GET /settings/ is a tenant route"));
        assert_eq!(route.needs, Needs::AnyOf(ANY_SETTING));
        assert_eq!(SECTIONS[0].needs, Needs::AnyOf(ANY_SETTING));
    }
}
