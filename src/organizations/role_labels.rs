//! How pages name roles: each role key as a label with its display name and its kind (owner,
//! admin, member or custom, which the badges tell apart). The names of custom roles are read for
//! a whole page in one query, and only when the page shows one.

use std::collections::HashMap;

use entity::organization_role as role;
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::permissions::BuiltinRole;
use crate::tenancy::TenantTxn;
use crate::tenancy::org_rows::RolesHeld;

/// Which kind of role a label names: the badge's class (`role-owner` ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    /// The built-in `owner`.
    Owner,
    /// The built-in `admin`.
    Admin,
    /// The built-in `member`.
    Member,
    /// A role the organization made.
    Custom,
}

/// One role as a page names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleLabel {
    /// The role's key (`billing`).
    pub key: String,
    /// Its display name (`Billing`; `Owner` for `owner`).
    pub name: String,
    /// What kind of role it is.
    pub kind: RoleKind,
}

impl RoleLabel {
    /// The label of `key`; a custom role is named `custom_name`, or by its key when the name is
    /// not known (a role deleted since).
    pub fn of(key: &str, custom_name: Option<&str>) -> Self {
        let (name, kind) = match BuiltinRole::from_key(key) {
            Some(builtin) => (
                builtin.name().to_string(),
                match builtin {
                    BuiltinRole::Owner => RoleKind::Owner,
                    BuiltinRole::Admin => RoleKind::Admin,
                    BuiltinRole::Member => RoleKind::Member,
                },
            ),
            None => (custom_name.unwrap_or(key).to_string(), RoleKind::Custom),
        };
        Self {
            key: key.to_string(),
            name,
            kind,
        }
    }
}

/// The labels of the role keys a person holds, in their order.
pub fn labels_of(keys: &[String], names: &RoleNames) -> Vec<RoleLabel> {
    keys.iter().map(|key| names.label(key)).collect()
}

/// The labels of the roles a person holds in one of their organizations (`held`, none when
/// unknown): `Owner` alone for the owner, who holds everything.
pub fn labels_held(held: Option<&RolesHeld>) -> Vec<RoleLabel> {
    let Some(held) = held else {
        return Vec::new();
    };
    if held.is_owner {
        return vec![RoleLabel::of(BuiltinRole::Owner.key(), None)];
    }
    held.roles
        .iter()
        .map(|(key, name)| RoleLabel::of(key, name.as_deref()))
        .collect()
}

/// One line naming a person's role in an organization (the switcher): `Owner` for the owner,
/// else the names of their roles (`Admin`, `Member, Billing`).
pub fn summary(labels: &[RoleLabel]) -> String {
    if let Some(owner) = labels.iter().find(|l| l.kind == RoleKind::Owner) {
        return owner.name.clone();
    }
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    names.join(", ")
}

/// The display names of the custom roles a page shows, by key.
#[derive(Clone, Debug, Default)]
pub struct RoleNames(HashMap<String, String>);

impl RoleNames {
    /// The names of the custom roles among `keys`, read in one query in `tx` (none when every
    /// key is a built-in role's).
    pub async fn of<'a>(
        tx: &TenantTxn,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, DbErr> {
        let mut custom: Vec<&str> = keys
            .into_iter()
            .filter(|key| BuiltinRole::from_key(key).is_none())
            .collect();
        if custom.is_empty() {
            return Ok(Self::default());
        }
        custom.sort_unstable();
        custom.dedup();
        let rows: Vec<(String, String)> = tx
            .select::<role::Entity>()
            .select_only()
            .column(role::Column::Key)
            .column(role::Column::Name)
            .filter(role::Column::Key.is_in(custom))
            .into_tuple()
            .all(tx.conn())
            .await?;
        Ok(Self(rows.into_iter().collect()))
    }

    /// The label of `key`.
    pub fn label(&self, key: &str) -> RoleLabel {
        RoleLabel::of(key, self.0.get(key).map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_roles_are_named_by_their_kind_and_custom_ones_by_their_name_or_key() {
        let names = RoleNames(HashMap::from([("billing".into(), "Billing".into())]));
        let labels = labels_of(
            &[
                "owner".into(),
                "admin".into(),
                "billing".into(),
                "gone".into(),
            ],
            &names,
        );
        let shown: Vec<(&str, RoleKind)> =
            labels.iter().map(|l| (l.name.as_str(), l.kind)).collect();
        assert_eq!(
            shown,
            [
                ("Owner", RoleKind::Owner),
                ("Admin", RoleKind::Admin),
                ("Billing", RoleKind::Custom),
                ("gone", RoleKind::Custom)
            ]
        );
        assert_eq!(summary(&labels), "Owner");
        assert_eq!(summary(&labels[1..3]), "Admin, Billing");
        assert_eq!(summary(&[]), "");
    }
}
