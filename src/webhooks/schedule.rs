//! When a failed delivery is tried again: Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
//! 10 h after the first, second ... failure) with up to a tenth of jitter either way, or later
//! when a 429 or 503 says `Retry-After`. After the eighth attempt fails the delivery has failed.

use chrono::TimeDelta;

/// The wait after failed attempt 1, 2 ... 7; the eighth is the last.
const WAITS: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// The first wait, in seconds: also how long a receiver that gave no answer is left alone.
pub const FIRST_WAIT: i64 = WAITS[0];

/// Attempts in all.
pub const ATTEMPTS: i32 = WAITS.len() as i32 + 1;

/// The longest `Retry-After` honoured: a day.
const MAX_RETRY_AFTER: i64 = 86_400;

/// The wait after failed attempt number `attempts` (from 1), `None` when it was the last;
/// `jitter` in [-1, 1] moves it by up to a tenth; `retry_after` (seconds) lengthens it.
pub fn after(attempts: i32, jitter: f64, retry_after: Option<i64>) -> Option<TimeDelta> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let base = *WAITS.get(index)?;
    let millis = (base as f64 * 1_000.0 * (1.0 + jitter.clamp(-1.0, 1.0) / 10.0)) as i64;
    let wait = TimeDelta::milliseconds(millis);
    Some(match retry_after {
        Some(secs) => wait.max(TimeDelta::seconds(secs.clamp(0, MAX_RETRY_AFTER))),
        None => wait,
    })
}

/// A random jitter for [`after`].
pub fn jitter() -> f64 {
    rand::random::<f64>() * 2.0 - 1.0
}

/// Seconds a `Retry-After` header asks for: a number of seconds, or an HTTP date.
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs.clamp(0, MAX_RETRY_AFTER));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .num_seconds()
            .clamp(0, MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_svix_s_and_ends_after_eight_attempts() {
        let secs: Vec<i64> = (1..ATTEMPTS)
            .map(|n| after(n, 0.0, None).unwrap().num_seconds())
            .collect();
        assert_eq!(secs, vec![5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
        assert_eq!(after(ATTEMPTS, 0.0, None), None);
        assert_eq!(after(0, 0.0, None), None);
    }

    #[test]
    fn jitter_moves_a_wait_by_a_tenth_at_most_and_retry_after_lengthens_it() {
        assert_eq!(after(2, 1.0, None), Some(TimeDelta::seconds(330)));
        assert_eq!(after(2, -1.0, None), Some(TimeDelta::seconds(270)));
        assert_eq!(after(1, 0.0, Some(120)), Some(TimeDelta::seconds(120)));
        assert_eq!(after(2, 0.0, Some(1)), Some(TimeDelta::seconds(300)));
        assert_eq!(
            after(1, 0.0, Some(10_000_000)),
            Some(TimeDelta::seconds(86_400))
        );
        let now = chrono::Utc::now();
        assert_eq!(retry_after(" 42 ", now), Some(42));
        let later = (now + TimeDelta::seconds(90)).to_rfc2822();
        assert!((88..=90).contains(&retry_after(&later, now).unwrap()));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("99999999999999999", now), Some(86_400));
        assert_eq!(
            retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(86_400)
        );
    }
}
