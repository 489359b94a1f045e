//! Recovery codes: ten single-use codes of 80 random bits each (`abcd-efgh-ijkm-nopq`, base32),
//! shown once when made, stored as SHA-256 hashes (their entropy makes a slow hash pointless),
//! and used up by a conditional update, so two requests racing with one code cannot both
//! succeed.

use entity::{UserId, recovery_code};
use rand::RngCore as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait as _, PaginatorTrait,
    QueryFilter, sea_query::Expr,
};

use crate::tenancy::global;
use crate::tokens;

/// How many codes a set has.
pub const COUNT: usize = 10;

const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new code: 80 random bits as 16 characters of a 32-letter alphabet (no `l`, `o`, `0`, `1`
/// to misread), in groups of four.
pub fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let index = ((bits >> (75 - 5 * i)) & 31) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

/// A typed code as stored: lower case, without dashes or spaces.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `code` has a recovery code's shape (so a TOTP code is never tried as one).
pub fn looks_like_one(code: &str) -> bool {
    normalize(code).len() == 16
}

/// Replaces the user's codes with a new set; the codes, to show once.
pub async fn renew<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Vec<String>, DbErr> {
    remove_all(db, user_id).await?;
    let codes: Vec<String> = (0..COUNT).map(|_| new_code()).collect();
    let now = entity::chrono_now();
    let rows = codes.iter().map(|code| recovery_code::ActiveModel {
        user_id: Set(user_id.get()),
        code_hash: Set(tokens::hash(&normalize(code))),
        used_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    recovery_code::Entity::insert_many(rows).exec(db).await?;
    Ok(codes)
}

/// Removes all the user's codes (no second factor is left for them to stand in for).
pub async fn remove_all<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<(), DbErr> {
    global::delete_many::<recovery_code::Entity>()
        .filter(recovery_code::Column::UserId.eq(user_id.get()))
        .exec(db)
        .await?;
    Ok(())
}

/// Uses up `code` if it is one of the user's unused codes: `false` when it is not, or when
/// another request used it first.
pub async fn use_up<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    code: &str,
) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let result = global::update_many::<recovery_code::Entity>()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .col_expr(recovery_code::Column::UpdatedAt, Expr::value(now))
        .filter(recovery_code::Column::UserId.eq(user_id.get()))
        .filter(recovery_code::Column::CodeHash.eq(tokens::hash(&normalize(code))))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How many unused codes the user has.
pub async fn left<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    global::select::<recovery_code::Entity>()
        .filter(recovery_code::Column::UserId.eq(user_id.get()))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_sixteen_letters_in_groups_of_four_and_codes_differ() {
        let code = new_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        assert!(looks_like_one(&code));
        assert_ne!(new_code(), code);
        assert!(!looks_like_one("123456"));
    }

    #[test]
    fn a_typed_code_is_normalized_before_hashing() {
        assert_eq!(normalize(" ABCD-efgh ijkm-NPQR "), "abcdefghijkmnpqr");
    }
}
