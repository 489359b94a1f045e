//! The permission catalog: every permission has a stable string name (`members.invite`), orgs'
//! own are constants of [`Permission`], and an embedding app adds its own to the [`Catalog`] it
//! gives the application (`AppState::with_permissions`). The built-in roles `owner`, `admin` and
//! `member` are defined here over the catalog, so an embedder's permissions reach them too.
//!
//! A set of permissions is a bit set over the catalog's order ([`PermissionSet`]): checking one
//! on every request costs a mask, not a string search.
//!
//! [`Permission`]: crate::permissions::Permission
//! [`Catalog`]: crate::permissions::Catalog
//! [`PermissionSet`]: crate::permissions::PermissionSet

use serde::{Serialize, Serializer};

/// A permission, by its stable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission(&'static str);

impl Permission {
    /// A permission named `name` (`[a-z0-9_]` words joined by dots, such as `notes.write`).
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// Its stable name.
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// Rename the organization, change its address.
    pub const ORGANIZATION_UPDATE: Self = Self("organization.update");
    /// Delete the organization (the owner's only).
    pub const ORGANIZATION_DELETE: Self = Self("organization.delete");
    /// Hand the organization to another member (the owner's only).
    pub const OWNERSHIP_TRANSFER: Self = Self("ownership.transfer");
    /// See the people, the dashboard.
    pub const MEMBERS_READ: Self = Self("members.read");
    /// Invite people.
    pub const MEMBERS_INVITE: Self = Self("members.invite");
    /// Change a member's roles, see one member's page.
    pub const MEMBERS_UPDATE: Self = Self("members.update");
    /// Remove a member.
    pub const MEMBERS_REMOVE: Self = Self("members.remove");
    /// List, resend, revoke and remind invitations.
    pub const INVITATIONS_MANAGE: Self = Self("invitations.manage");
    /// Create, edit and delete custom roles.
    pub const ROLES_MANAGE: Self = Self("roles.manage");
    /// Create and revoke organization API keys.
    pub const API_KEYS_MANAGE: Self = Self("api_keys.manage");
    /// Add, verify and remove custom domains.
    pub const DOMAINS_MANAGE: Self = Self("domains.manage");
    /// See projects.
    pub const PROJECTS_READ: Self = Self("projects.read");
    /// Create and edit projects.
    pub const PROJECTS_WRITE: Self = Self("projects.write");
    /// Delete projects.
    pub const PROJECTS_DELETE: Self = Self("projects.delete");
    /// Read the audit log.
    pub const AUDIT_READ: Self = Self("audit.read");
    /// Manage sign-in security (the two-factor requirement).
    pub const SECURITY_MANAGE: Self = Self("security.manage");
    /// Manage the organization's email domains and single sign-on.
    pub const SSO_MANAGE: Self = Self("sso.manage");
    /// Register and change webhook endpoints, read their delivery log.
    pub const WEBHOOKS_MANAGE: Self = Self("webhooks.manage");
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

// In the OpenAPI document a permission is its name; the catalog (orgs' and the embedder's) is
// only known at run time, so no enum is given.
impl utoipa::PartialSchema for Permission {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A permission's name, `group.action`."))
            .pattern(Some("^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$"))
            .examples(["members.invite"])
            .into()
    }
}

impl utoipa::ToSchema for Permission {}

/// Who holds a permission of the catalog besides the owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holders {
    /// The owner only (no other role, no key can hold it).
    Owner,
    /// The built-in `admin` role (and custom roles that are given it).
    Admin,
    /// The built-in `member` role too.
    Member,
}

/// One permission of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The permission.
    pub permission: Permission,
    /// What it allows, in a few words: its name on the role and key forms ("Manage roles").
    pub description: &'static str,
    /// Which built-in roles hold it.
    pub holders: Holders,
    /// The heading it is shown under, when it was added in a group ([`Catalog::in_group`]).
    pub group: Option<&'static str>,
}

impl Entry {
    /// The heading it is shown under: its group, or its name's first word (`Notes`).
    pub fn group_name(&self) -> std::borrow::Cow<'static, str> {
        if let Some(group) = self.group {
            return group.into();
        }
        let word = self.permission.name().split('.').next().unwrap_or_default();
        crate::text::capitalized(word).replace('_', " ").into()
    }
}

/// The most permissions a catalog holds (a [`PermissionSet`] is 128 bits).
pub const MAX_PERMISSIONS: usize = 128;

/// Every permission the application knows, orgs' and the embedder's, in a fixed order.
#[derive(Clone, Debug)]
pub struct Catalog {
    entries: Vec<Entry>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::orgs()
    }
}

impl Catalog {
    /// orgs' own permissions, in their groups.
    pub fn orgs() -> Self {
        Self::orgs_with_projects(true)
    }

    /// orgs' own permissions; Projects' only when `projects` (the setting `projects.enabled`).
    pub fn orgs_with_projects(projects: bool) -> Self {
        use Holders::{Admin, Member, Owner};
        use Permission as P;
        Self {
            entries: Vec::new(),
        }
        .in_group("Organization", |c| {
            c.with(P::ORGANIZATION_UPDATE, "Edit the organization", Admin)
                .with(P::ORGANIZATION_DELETE, "Delete the organization", Owner)
                .with(P::OWNERSHIP_TRANSFER, "Transfer ownership", Owner)
        })
        .in_group("People", |c| {
            c.with(P::MEMBERS_READ, "See the people", Member)
                .with(P::MEMBERS_INVITE, "Invite people", Admin)
                .with(P::MEMBERS_UPDATE, "Change members' roles", Admin)
                .with(P::MEMBERS_REMOVE, "Remove members", Admin)
                .with(P::INVITATIONS_MANAGE, "Manage invitations", Admin)
        })
        .in_group("Access", |c| {
            c.with(P::ROLES_MANAGE, "Manage roles", Admin)
                .with(P::API_KEYS_MANAGE, "Manage API keys", Admin)
                .with(P::DOMAINS_MANAGE, "Manage custom domains", Admin)
        })
        .in_group("Projects", |c| match projects {
            false => c,
            true => c
                .with(P::PROJECTS_READ, "See projects", Member)
                .with(P::PROJECTS_WRITE, "Create and edit projects", Member)
                .with(P::PROJECTS_DELETE, "Delete projects", Admin),
        })
        // Last, where it has always been: the catalog's order is the order of every list of
        // permissions the API answers.
        .in_group("Organization", |c| {
            c.with(P::AUDIT_READ, "Read the audit log", Admin)
        })
        .in_group("Access", |c| {
            c.with(P::SECURITY_MANAGE, "Manage sign-in security", Admin)
                .with(P::SSO_MANAGE, "Manage single sign-on", Admin)
                .with(P::WEBHOOKS_MANAGE, "Manage webhooks", Admin)
        })
    }

    /// The catalog with the permissions `add` puts in shown under `group` on the role and key
    /// forms: `catalog.in_group("Notes", |c| c.with(NOTES_READ, "See notes", Holders::Member))`.
    /// A permission added outside a group is shown under its name's first word (`Notes`).
    pub fn in_group(self, group: &'static str, add: impl FnOnce(Self) -> Self) -> Self {
        let from = self.entries.len();
        let mut catalog = add(self);
        for entry in catalog.entries.iter_mut().skip(from) {
            entry.group = Some(group);
        }
        catalog
    }

    /// The name people read for `permission` ("Manage roles"): its description in the catalog,
    /// or its key when the catalog does not have it.
    pub fn name_of(&self, permission: Permission) -> &'static str {
        self.entries
            .iter()
            .find(|e| e.permission == permission)
            .map_or(permission.name(), |e| e.description)
    }

    /// The catalog with `permission` added, held by `holders` among the built-in roles (the
    /// owner holds every permission).
    ///
    /// # Panics
    /// On a malformed or repeated name, or beyond [`MAX_PERMISSIONS`]: a mistake in the
    /// embedding app's code, found at start.
    pub fn with(
        mut self,
        permission: Permission,
        description: &'static str,
        holders: Holders,
    ) -> Self {
        assert!(
            is_well_formed(permission.name()),
            "permission name {:?} must be words of [a-z0-9_] joined by dots",
            permission.name()
        );
        assert!(
            self.find(permission.name()).is_none(),
            "permission {:?} is in the catalog twice",
            permission.name()
        );
        assert!(
            self.entries.len() < MAX_PERMISSIONS,
            "a catalog holds at most {MAX_PERMISSIONS} permissions"
        );
        self.entries.push(Entry {
            permission,
            description,
            holders,
            group: None,
        });
        self
    }

    /// Every permission, in catalog order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The permission named `name`, if the catalog has it.
    pub fn find(&self, name: &str) -> Option<Permission> {
        self.entries
            .iter()
            .find(|e| e.permission.name() == name)
            .map(|e| e.permission)
    }

    fn bit(&self, permission: Permission) -> u128 {
        self.entries
            .iter()
            .position(|e| e.permission == permission)
            .map_or(0, |i| 1 << i)
    }

    /// The set holding just `permission` (empty when it is not in the catalog).
    pub fn one(&self, permission: Permission) -> PermissionSet {
        PermissionSet(self.bit(permission))
    }

    /// The set of the named permissions the catalog knows (others are ignored: a permission an
    /// embedder removed from its code is no longer held).
    pub fn set_of<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> PermissionSet {
        let mut bits = 0;
        for name in names {
            if let Some(i) = self
                .entries
                .iter()
                .position(|e| e.permission.name() == name)
            {
                bits |= 1 << i;
            }
        }
        PermissionSet(bits)
    }

    /// The permissions of `set`, in catalog order.
    pub fn list(&self, set: PermissionSet) -> Vec<Permission> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, _)| set.0 & (1 << i) != 0)
            .map(|(_, e)| e.permission)
            .collect()
    }

    fn holders_at_least(&self, least: Holders) -> PermissionSet {
        let rank = |h: Holders| match h {
            Holders::Owner => 0,
            Holders::Admin => 1,
            Holders::Member => 2,
        };
        let mut bits = 0;
        for (i, entry) in self.entries.iter().enumerate() {
            if rank(entry.holders) >= rank(least) {
                bits |= 1 << i;
            }
        }
        PermissionSet(bits)
    }

    /// Every permission (the owner's, a superuser's).
    pub fn everything(&self) -> PermissionSet {
        self.holders_at_least(Holders::Owner)
    }

    /// What any role or key may hold: everything but the owner's own permissions.
    pub fn assignable(&self) -> PermissionSet {
        self.holders_at_least(Holders::Admin)
    }

    /// The permissions of a built-in role.
    pub fn builtin(&self, role: BuiltinRole) -> PermissionSet {
        match role {
            BuiltinRole::Owner => self.everything(),
            BuiltinRole::Admin => self.holders_at_least(Holders::Admin),
            BuiltinRole::Member => self.holders_at_least(Holders::Member),
        }
    }
}

/// Whether `name` is words of `[a-z0-9_]` joined by dots, 3 to 64 characters.
fn is_well_formed(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.contains('.')
        && name.split('.').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// A set of permissions of one [`Catalog`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u128);

impl PermissionSet {
    /// No permission.
    pub const EMPTY: Self = Self(0);

    /// Whether every permission of `other` is in this set.
    pub fn contains_all(self, other: Self) -> bool {
        other.0 & !self.0 == 0
    }

    /// Both sets together.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// What both sets hold.
    #[must_use]
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// What this set holds beyond `other`.
    #[must_use]
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether it holds nothing.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The built-in roles, present in every organization, never edited or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinRole {
    /// Every permission; follows ownership, never assigned by hand.
    Owner,
    /// Every permission but the owner's own.
    Admin,
    /// What a member may do: see the people, see and write projects.
    Member,
}

impl BuiltinRole {
    /// All three, in order.
    pub const ALL: [Self; 3] = [Self::Owner, Self::Admin, Self::Member];

    /// The role's key.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// The built-in role with this key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.key() == key)
    }

    /// Its display name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Member => "Member",
        }
    }

    /// What it is for.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Owner => {
                "Everything, including deleting the organization and handing it on. Follows ownership."
            }
            Self::Admin => "Everything but deleting the organization and handing it on.",
            Self::Member => "Sees the people; sees and writes projects.",
        }
    }
}

#[cfg(test)]
mod tests;
