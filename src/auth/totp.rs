//! TOTP codes (RFC 6238: SHA-1, 6 digits, 30-second steps), as authenticator apps make them:
//! a new secret, its `otpauth://` address and QR code (SVG made here, no outside service), and
//! which time step a typed code belongs to, one step of clock drift either way. Whether that
//! step was already used is the service's question (`auth::two_factor`).

use rand::RngCore as _;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per code.
pub const STEP_SECS: u64 = 30;

/// A new secret: 20 random bytes (160 bits, RFC 4226's recommendation).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, String> {
    // An issuer or account with ':' cannot be written in the address's label.
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| e.to_string())
}

/// The secret as authenticator apps take it typed: base32 without padding.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The `otpauth://totp/...` address of `secret` for `account` at `issuer`.
pub fn otpauth_url(secret: &[u8], issuer: &str, account: &str) -> Result<String, String> {
    totp(secret, issuer, account)?
        .to_url()
        .map_err(|e| e.to_string())
}

/// The time step of the code `code` for `secret` at `now` (Unix seconds): the current step or
/// one either side; `None` when it matches none.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "orgs", "account").ok()?;
    let step = now / STEP_SECS;
    let mut found = None;
    // Every candidate is compared, in time independent of which one matches.
    for candidate in [step.saturating_sub(1), step, step + 1] {
        let expected = totp.generate(candidate * STEP_SECS).to_string();
        if crate::tokens::constant_time_eq(&expected, &code) {
            found = i64::try_from(candidate).ok();
        }
    }
    found
}

/// The code of `secret` at `now` (tests, and the seeder's demonstration account).
pub fn code_at(secret: &[u8], now: u64) -> String {
    totp(secret, "orgs", "account")
        .map(|t| t.generate(now).to_string())
        .unwrap_or_default()
}

/// A QR code of `text` as an SVG document: dark modules on a light square with its quiet zone,
/// legible in light and dark pages alike.
pub fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"200\" height=\"200\" role=\"img\" aria-label=\"QR code of the secret\" \
         shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\
         <path d=\"{path}\" fill=\"#000000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_rfc_6238_sha1_six_digits() {
        // RFC 6238 appendix B at T = 59 s: 94287082 (8 digits); its last six.
        assert_eq!(code_at(RFC_SECRET, 59), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804");
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side() {
        let now = 1_111_111_109;
        let step = i64::try_from(now / STEP_SECS).unwrap_or_default();
        let code = code_at(RFC_SECRET, now);
        assert_eq!(matching_step(RFC_SECRET, &code, now), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now + 30), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now - 30), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now + 90), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", now), None);
        assert_eq!(matching_step(b"another secret 2025!", &code, now), None);
    }

    #[test]
    fn the_address_carries_the_secret_in_base32_and_the_issuer() {
        let url = otpauth_url(RFC_SECRET, "orgs", "ada@example.com").unwrap_or_default();
        assert!(
            url.starts_with("otpauth://totp/orgs:ada%40example.com?"),
            "{url}"
        );
        assert!(
            url.contains(&format!("secret={}", base32(RFC_SECRET))),
            "{url}"
        );
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_qr_code_is_an_svg_document() {
        let svg = qr_svg("otpauth://totp/orgs:ada?secret=GEZDGNBV");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<path d=\"M"));
    }
}
