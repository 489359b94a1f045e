//! SCIM Users: what a directory sends ([`Input`], read leniently: unknown attributes ignored,
//! Entra's string booleans taken) and what it reads back ([`Stored::to_json`]: only what is
//! stored, and the membership's state in orgs' extension). Creating, replacing and patching go
//! through [`save`]; linking a User to an account and a membership is `provision`'s.

use entity::scim_user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::auth::ScimTxn;
use super::filter::{Filter, get_ci};
use super::provision::{self, Link};
use super::{ORGS_USER_SCHEMA, ScimError, USER_SCHEMA};
use crate::audit::{self, Target};
use crate::state::AppState;

/// The longest text of any attribute.
const MAX_TEXT: usize = 1024;
/// The most addresses a User keeps.
const MAX_EMAILS: usize = 100;

/// A User as a directory sent it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    /// `userName`: required, unique in the organization whatever its case.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `emails`, as sent (only the values with a `value`).
    pub emails: Vec<Value>,
    /// The primary address (or the first), normalized.
    pub email: Option<String>,
    /// `name.givenName`.
    pub given_name: Option<String>,
    /// `name.familyName`.
    pub family_name: Option<String>,
    /// `name.formatted`.
    pub formatted_name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `active` as sent (none: not sent, which counts as active).
    pub active: Option<bool>,
    /// The directory wrote orgs' extension (anything in it besides its readOnly attributes).
    pub extended: bool,
}

fn text(value: Option<&Value>, field: &str) -> Result<Option<String>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_TEXT => Err(ScimError::bad(
            "invalidValue",
            format!("{field}: at most {MAX_TEXT} characters"),
        )),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            format!("{field}: must be a string"),
        )),
    }
}

impl Input {
    /// Reads a User from `body`; 400 `invalidValue` naming what is wrong.
    pub fn read(body: &Value) -> Result<Self, ScimError> {
        let user_name = text(get_ci(body, "userName"), "userName")?
            .ok_or_else(|| ScimError::bad("invalidValue", "userName: required"))?;
        let name = get_ci(body, "name").filter(|v| v.is_object());
        let sub = |key: &str| name.and_then(|n| get_ci(n, key));
        let active =
            match get_ci(body, "active") {
                None | Some(Value::Null) => None,
                Some(v) => Some(super::patch::boolean(v).ok_or_else(|| {
                    ScimError::bad("invalidValue", "active: must be true or false")
                })?),
            };
        let emails: Vec<Value> = match get_ci(body, "emails") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() > MAX_EMAILS => {
                return Err(ScimError::new(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    Some("tooMany"),
                    format!("emails: at most {MAX_EMAILS}"),
                ));
            }
            Some(Value::Array(items)) => items
                .iter()
                .filter(|item| get_ci(item, "value").is_some_and(Value::is_string))
                .cloned()
                .collect(),
            Some(_) => return Err(ScimError::bad("invalidValue", "emails: must be a list")),
        };
        let primary = emails
            .iter()
            .find(|e| get_ci(e, "primary").and_then(super::patch::boolean) == Some(true))
            .or_else(|| emails.first());
        let email = match primary
            .and_then(|e| get_ci(e, "value"))
            .and_then(Value::as_str)
        {
            Some(address) => Some(crate::auth::users::normalize_email(address).map_err(|_| {
                ScimError::bad(
                    "invalidValue",
                    format!("emails: {address:?} is not an email address"),
                )
            })?),
            None => None,
        };
        let extended = get_ci(body, ORGS_USER_SCHEMA)
            .and_then(Value::as_object)
            .is_some_and(|fields| {
                fields
                    .keys()
                    .any(|k| !k.eq_ignore_ascii_case("state") && !k.eq_ignore_ascii_case("userId"))
            });
        Ok(Self {
            extended,
            user_name,
            external_id: text(get_ci(body, "externalId"), "externalId")?,
            emails,
            email,
            given_name: text(sub("givenName"), "name.givenName")?,
            family_name: text(sub("familyName"), "name.familyName")?,
            formatted_name: text(sub("formatted"), "name.formatted")?,
            display_name: text(get_ci(body, "displayName"), "displayName")?,
            active,
        })
    }

    /// Whether the membership should be active: unless the directory said `false`.
    pub fn is_active(&self) -> bool {
        self.active != Some(false)
    }

    /// The account's name as this User gives it: `displayName`, else the given and family
    /// names, else `name.formatted`.
    pub fn person_name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        self.display_name
            .clone()
            .or_else(|| (!parts.is_empty()).then(|| parts.join(" ")))
            .or_else(|| self.formatted_name.clone())
    }
}

/// A stored User with where its membership stands.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The row.
    pub row: scim_user::Model,
    /// Its link.
    pub link: Link,
}

impl Stored {
    /// The User as SCIM answers it.
    pub fn to_json(&self, base: &str) -> Value {
        let row = &self.row;
        let mut user = json!({
            "schemas": [USER_SCHEMA, ORGS_USER_SCHEMA],
            "id": row.scim_id,
            "userName": row.user_name,
            "emails": serde_json::from_str::<Value>(&row.emails).unwrap_or_else(|_| json!([])),
            ORGS_USER_SCHEMA: self.link.to_json(row.extended),
            "meta": {
                "resourceType": "User",
                "created": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "lastModified": row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "version": super::version::etag(row.version),
                "location": format!("{base}/Users/{}", row.scim_id),
            },
        });
        let mut name = serde_json::Map::new();
        for (key, value) in [
            ("givenName", &row.given_name),
            ("familyName", &row.family_name),
            ("formatted", &row.formatted_name),
        ] {
            if let Some(value) = value {
                name.insert(key.into(), value.clone().into());
            }
        }
        if !name.is_empty() {
            user["name"] = Value::Object(name);
        }
        if let Some(external) = &row.external_id {
            user["externalId"] = external.clone().into();
        }
        if let Some(active) = row.active {
            user["active"] = active.into();
        }
        if let Some(display) = &row.display_name {
            user["displayName"] = display.clone().into();
        }
        user
    }
}

/// The User whose SCIM id is `id`.
pub async fn find(scx: &ScimTxn, id: &str) -> Result<scim_user::Model, ScimError> {
    scx.tx
        .select::<scim_user::Entity>()
        .filter(scim_user::Column::ScimId.eq(id))
        .one(scx.tx.conn())
        .await?
        .ok_or_else(|| ScimError::not_found("User"))
}

/// `row` as SCIM answers it, with its link.
async fn answered(scx: &ScimTxn, row: scim_user::Model) -> Result<Value, ScimError> {
    let link = provision::link_of(&scx.tx, &row).await?;
    Ok(Stored { row, link }.to_json(&scx.base))
}

/// One User as SCIM answers it.
pub async fn get(scx: &ScimTxn, id: &str) -> Result<Value, ScimError> {
    let row = find(scx, id).await?;
    answered(scx, row).await
}

/// A page of the Users `filter` matches, from `start` (1-based), and how many match.
pub async fn list(
    scx: &ScimTxn,
    filter: Option<&Filter>,
    start: u64,
    count: u64,
) -> Result<(Vec<Value>, u64), ScimError> {
    let tx = &scx.tx;
    let mut query = tx
        .select::<scim_user::Entity>()
        .order_by_asc(scim_user::Column::Id);
    if let Some((attr, value)) = filter.and_then(Filter::equality) {
        query = match attr.as_str() {
            "username" => query.filter(scim_user::Column::UserNameKey.eq(value.to_lowercase())),
            "externalid" => query.filter(scim_user::Column::ExternalId.eq(value)),
            "id" => query.filter(scim_user::Column::ScimId.eq(value)),
            // The primary address, or any other as the directory wrote it.
            "emails.value" | "emails" => query.filter(
                Condition::any()
                    .add(scim_user::Column::Email.eq(value.trim().to_lowercase()))
                    .add(scim_user::Column::Emails.contains(value.trim())),
            ),
            _ => query,
        };
    }
    let (rows, total) = match filter {
        None => {
            let total = query.clone().count(tx.conn()).await?;
            let rows = query.offset(start - 1).limit(count).all(tx.conn()).await?;
            (rows, total)
        }
        Some(filter) => {
            // The rest of the filter over what the equality found (or every User).
            let rows = query.all(tx.conn()).await?;
            let links = provision::links(tx, &rows).await?;
            let matching: Vec<scim_user::Model> = rows
                .into_iter()
                .zip(links)
                .filter(|(row, link)| {
                    filter.matches(
                        &Stored {
                            row: row.clone(),
                            link: link.clone(),
                        }
                        .to_json(""),
                    )
                })
                .map(|(row, _)| row)
                .collect();
            let total = matching.len() as u64;
            let page = matching
                .into_iter()
                .skip(usize::try_from(start - 1).unwrap_or(usize::MAX))
                .take(usize::try_from(count).unwrap_or(usize::MAX))
                .collect();
            (page, total)
        }
    };
    let links = provision::links(tx, &rows).await?;
    let resources = rows
        .into_iter()
        .zip(links)
        .map(|(row, link)| Stored { row, link }.to_json(&scx.base))
        .collect();
    Ok((resources, total))
}

/// Whether another User of the organization has `user_name` (whatever its case).
async fn user_name_taken(
    scx: &ScimTxn,
    user_name: &str,
    except: Option<i64>,
) -> Result<bool, DbErr> {
    let mut query = scx
        .tx
        .select::<scim_user::Entity>()
        .filter(scim_user::Column::UserNameKey.eq(user_name.to_lowercase()));
    if let Some(id) = except {
        query = query.filter(Condition::all().add(scim_user::Column::Id.ne(id)));
    }
    Ok(query.count(scx.tx.conn()).await? > 0)
}

/// Creates a User from `input` and links it (`provision::link`): 201's body.
pub async fn create(state: &AppState, scx: &ScimTxn, input: Input) -> Result<Value, ScimError> {
    scx.tx.lock_organization().await?;
    if user_name_taken(scx, &input.user_name, None).await? {
        return Err(ScimError::uniqueness(format!(
            "userName {:?} is taken in this organization",
            input.user_name
        )));
    }
    let mut row: scim_user::ActiveModel = scx.tx.new_active_model();
    row.scim_id = Set(super::new_id());
    row.version = Set(1);
    row.user_id = Set(None);
    row.invitation_id = Set(None);
    fill(&mut row, &input);
    let row = row.insert(scx.tx.conn()).await?;
    audit::record(
        &scx.tx,
        "scim.user_created",
        Some(Target::new("scim_user", row.id, &row.user_name)),
        Some(json!({ "scim_id": row.scim_id })),
    )
    .await?;
    let row = provision::link(state, scx, row, &input).await?;
    answered(scx, row).await
}

fn fill(row: &mut scim_user::ActiveModel, input: &Input) {
    row.user_name = Set(input.user_name.clone());
    row.user_name_key = Set(input.user_name.to_lowercase());
    row.external_id = Set(input.external_id.clone());
    row.email = Set(input.email.clone());
    row.emails = Set(Value::Array(input.emails.clone()).to_string());
    row.given_name = Set(input.given_name.clone());
    row.family_name = Set(input.family_name.clone());
    row.formatted_name = Set(input.formatted_name.clone());
    row.display_name = Set(input.display_name.clone());
    row.active = Set(input.active);
    row.extended = Set(input.extended);
}

/// Replaces the User `id` with `input` (a PUT, or a PATCH's result), when `if_match` (if any)
/// names its version: `active` suspends or restores the membership; a new address never moves
/// an account (only a User not linked yet is linked by it).
pub async fn save(
    state: &AppState,
    scx: &ScimTxn,
    id: &str,
    input: Input,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    scx.tx.lock_organization().await?;
    let row = find(scx, id).await?;
    super::version::check(if_match, row.version)?;
    if user_name_taken(scx, &input.user_name, Some(row.id)).await? {
        return Err(ScimError::uniqueness(format!(
            "userName {:?} is taken in this organization",
            input.user_name
        )));
    }
    let before = row.clone();
    let mut active = row.into_active_model();
    fill(&mut active, &input);
    active.version = Set(before.version + 1);
    let row = active.update(scx.tx.conn()).await?;
    let row = provision::relink(state, scx, &before, row, &input).await?;
    answered(scx, row).await
}

/// Applies the PATCH `body` to the User `id`.
pub async fn patch(
    state: &AppState,
    scx: &ScimTxn,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    // Read under the lock the save takes: two PATCHes of one User never apply to one read.
    scx.tx.lock_organization().await?;
    let mut current = get(scx, id).await?;
    super::patch::apply(&mut current, body)?;
    let input = Input::read(&current)?;
    save(state, scx, id, input, if_match).await
}

/// Deletes the User `id`: its membership is removed (never the account; never the owner's, 409)
/// and its pending invitation revoked.
pub async fn delete(scx: &ScimTxn, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
    scx.tx.lock_organization().await?;
    let row = find(scx, id).await?;
    super::version::check(if_match, row.version)?;
    provision::unlink(scx, &row).await?;
    scx.tx
        .delete_many::<scim_user::Entity>()
        .filter(scim_user::Column::Id.eq(row.id))
        .exec(scx.tx.conn())
        .await?;
    audit::record(
        &scx.tx,
        "scim.user_deleted",
        Some(Target::new("scim_user", row.id, &row.user_name)),
        Some(json!({ "scim_id": row.scim_id })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entras_create_body_reads_with_its_string_boolean_and_work_email() {
        // Microsoft's documented create request (its "active" sometimes a string).
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}
        });
        let input = Input::read(&body).unwrap();
        assert!(input.is_active());
        assert_eq!(input.active, Some(true));
        assert_eq!(
            input.email.as_deref(),
            Some("test_user_fd0ea19b@testuser.com")
        );
        assert_eq!(input.person_name().as_deref(), Some("givenName familyName"));
    }

    #[test]
    fn a_user_without_user_name_or_with_a_bad_address_is_refused() {
        assert!(Input::read(&json!({"emails": []})).is_err());
        let bad = Input::read(&json!({"userName": "a", "emails": [{"value": "nope"}]}));
        assert_eq!(bad.unwrap_err().scim_type(), Some("invalidValue"));
        let bad = Input::read(&json!({"userName": "a", "active": "maybe"}));
        assert!(bad.is_err());
    }
}
