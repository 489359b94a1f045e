//! Seats: how many an organization uses and may use, and the one check every path that makes a
//! member or promises one takes. Seats used = members not suspended + pending, unexpired invitations (one per
//! address; an address is never both: joining ends its pending invitation). A null limit is no
//! limit and 0 is zero seats. The check runs with the organization's row locked, in the
//! caller's transaction, over the counts the database keeps (`tenancy::counts`): one row read
//! and one indexed count of the invitations that ran out since the last sweep, whatever the
//! organization's size.

use sea_orm::DbErr;

use crate::tenancy::{TenantTxn, counts};

/// An organization's seats as a transaction sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Seats {
    /// Members and pending invitations.
    pub used: u64,
    /// How many it may use; none is no limit.
    pub limit: Option<u64>,
}

impl Seats {
    /// How many are free; none when there is no limit.
    pub fn left(&self) -> Option<u64> {
        self.limit.map(|limit| limit.saturating_sub(self.used))
    }

    /// "3 of 4 seats used", "3 seats used (no limit)": what the people page and the
    /// overview say.
    pub fn used_line(&self) -> String {
        match self.limit {
            Some(limit) => format!("{} of {limit} seats used", self.used),
            None => format!("{} seats used (no limit)", self.used),
        }
    }

    /// "1 of 4 seats free": what the invite form says before anything is typed; none without
    /// a limit.
    pub fn free_line(&self) -> Option<String> {
        let (left, limit) = (self.left()?, self.limit?);
        Some(format!("{left} of {limit} seats free"))
    }
}

/// Every seat is taken: what a refused path tells its caller (409 `seat_limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "every seat is taken ({used} used of {limit}); remove someone or withdraw an invitation, or ask for more seats"
)]
pub struct SeatLimit {
    /// Seats used: members and pending invitations.
    pub used: u64,
    /// The limit.
    pub limit: u64,
}

/// What a path takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// A seat nobody holds yet: a new invitation, one resent after it expired, or a member made
    /// without an invitation. Needs members + pending + 1 within the limit.
    New,
    /// The seat a pending invitation held, as it is accepted (its claim already ended it).
    /// Needs members + 1 within the limit: refused only when the limit was lowered meanwhile,
    /// and then exactly as many succeed as there are free seats.
    Held,
}

/// A limit as the database keeps it (`BIGINT`); a negative one, which no path writes, is 0.
pub(crate) fn limit_of(stored: Option<i64>) -> Option<u64> {
    stored.map(|n| u64::try_from(n).unwrap_or(0))
}

/// The organization's seats, without a lock: for showing.
pub async fn of(tx: &TenantTxn) -> Result<Seats, DbErr> {
    let limit = tx
        .organization()
        .await?
        .and_then(|o| limit_of(o.seat_limit));
    let counts = counts::of(tx).await?;
    Ok(Seats {
        used: counts.members.saturating_sub(counts.suspended) + counts.pending_invitations,
        limit,
    })
}

/// Takes a seat of the kind `take` in `tx`: locks the organization's row (every path that
/// takes one waits here for the others, so none can pass the same last seat), then checks the
/// counts as they are now. `Ok(Err(..))` when the limit refuses; nothing is written either way.
pub async fn take(tx: &TenantTxn, take: Take) -> Result<Result<Seats, SeatLimit>, DbErr> {
    let Some(organization) = tx.lock_organization().await? else {
        // Deleted meanwhile: the caller's own write finds that out.
        return Ok(Ok(Seats::default()));
    };
    let counts = counts::of(tx).await?;
    let seats = Seats {
        used: counts.members.saturating_sub(counts.suspended) + counts.pending_invitations,
        limit: limit_of(organization.seat_limit),
    };
    let Some(limit) = seats.limit else {
        return Ok(Ok(seats));
    };
    let needed = match take {
        Take::New => seats.used + 1,
        Take::Held => counts.members.saturating_sub(counts.suspended) + 1,
    };
    if needed > limit {
        return Ok(Err(SeatLimit {
            used: seats.used,
            limit,
        }));
    }
    Ok(Ok(seats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_zero_seats_and_none_is_no_limit() {
        assert_eq!(limit_of(Some(0)), Some(0));
        assert_eq!(limit_of(None), None);
        assert_eq!(limit_of(Some(-3)), Some(0));
        let full = Seats {
            used: 0,
            limit: Some(0),
        };
        assert_eq!(full.left(), Some(0));
        assert_eq!(Seats::default().left(), None);
        let over = Seats {
            used: 7,
            limit: Some(5),
        };
        assert_eq!(
            over.left(),
            Some(0),
            "a lowered limit leaves none, never wraps"
        );
        assert_eq!(over.used_line(), "7 of 5 seats used");
        assert_eq!(over.free_line().as_deref(), Some("0 of 5 seats free"));
        assert_eq!(Seats::default().used_line(), "0 seats used (no limit)");
        assert_eq!(Seats::default().free_line(), None);
    }
}
