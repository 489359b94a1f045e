//! `orgs org set-seats`: an organization's seat limit, set by the operator as billing would
//! (`organizations::billing`), recorded in its audit log as made from the command line.

use entity::OrganizationId;

use super::connect_migrated;
use crate::config::Settings;
use crate::events::Events;
use crate::organizations::billing::{self, BillingError, Change};
use crate::tenancy::Actor;

/// `--limit`: a whole number of seats, or `none` for no limit.
fn parse_limit(limit: &str) -> anyhow::Result<Option<u64>> {
    let limit = limit.trim();
    if limit.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    limit.parse::<u64>().map(Some).map_err(|_| {
        anyhow::anyhow!("limit: `{limit}` is neither a whole number of seats nor `none`")
    })
}

/// Sets the seat limit of the organization `organization` and prints where its seats stand.
pub(super) async fn set_seats(
    settings: &Settings,
    organization: i64,
    limit: &str,
) -> anyhow::Result<()> {
    let limit = parse_limit(limit)?;
    let db = connect_migrated(settings).await?;
    let change = Change {
        seat_limit: Some(limit),
        ..Change::default()
    };
    let billing = billing::change(
        &db,
        &Events::new(),
        OrganizationId(organization),
        Actor::system("orgs org set-seats"),
        change,
    )
    .await
    .map_err(|error| match error {
        BillingError::NotFound => {
            anyhow::anyhow!("organization: no organization with id {organization}")
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    let limit = billing.seat_limit.map_or_else(
        || "no seat limit".to_string(),
        |n| format!("seat limit {n}"),
    );
    println!(
        "{} ({}): {limit}, {} used",
        billing.name, billing.slug, billing.seats_used
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_limit;

    #[test]
    fn a_limit_is_a_whole_number_or_none() {
        assert_eq!(parse_limit("25").unwrap(), Some(25));
        assert_eq!(parse_limit("0").unwrap(), Some(0));
        assert_eq!(parse_limit("None").unwrap(), None);
        for bad in ["-1", "ten", "", "2.5"] {
            assert!(
                parse_limit(bad)
                    .unwrap_err()
                    .to_string()
                    .starts_with("limit:")
            );
        }
    }
}
