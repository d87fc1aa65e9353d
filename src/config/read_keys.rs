//! The keys and the token policy: `CLERK_JWT_KEY`, `AUTHORIZED_PARTIES`, `ORIGIN_URL` (its URL
//! form), the token policy's settings, and `JWKS_URL` (where extra keys are fetched from).

use super::reader::{Reader, NON_ASCII_HOST};
use super::setting_names as name;
use crate::keys::{parse_key_set, KeySet};
use crate::token::{Validation, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_TOKEN_BYTES, MAX_CLOCK_SKEW_MS};
use crate::web_url::{is_loopback_host, WebUrl as Url};

fn origin_of(party: &str) -> Option<String> {
    let u = Url::parse(party).ok()?;
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return None;
    }
    Some(u.origin())
}

/// The keys, the token policy and the required settings.
pub(super) struct CoreSettings {
    pub(super) keys: Option<KeySet>,
    pub(super) origin_url: Option<Url>,
    pub(super) validation: Validation,
}

/// `CLERK_JWT_KEY`, `AUTHORIZED_PARTIES`, `ORIGIN_URL` (its URL form; the origin itself is the
/// proxy's), then the token policy: `CLOCK_SKEW_MS`, `MAX_TOKEN_BYTES`, `AZP_MISSING`,
/// `SID_MISSING`, `PENDING_SESSIONS`, `ISSUER`, `AUDIENCE`.
pub(super) fn read_keys_and_validation<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
) -> CoreSettings {
    let keys = r
        .required(name::CLERK_JWT_KEY)
        .and_then(|raw| match parse_key_set(&raw) {
            Ok(k) => Some(k),
            Err(e) => {
                r.problem(name::CLERK_JWT_KEY, format!("{} ({e})", e.code()));
                None
            }
        });
    let mut parties = Vec::new();
    if r.required(name::AUTHORIZED_PARTIES).is_some() {
        for p in r.list(name::AUTHORIZED_PARTIES) {
            match origin_of(&p) {
                Some(o) => parties.push(o),
                None if !p.is_ascii() => r.problem(name::AUTHORIZED_PARTIES, NON_ASCII_HOST),
                None => r.problem(
                    name::AUTHORIZED_PARTIES,
                    "each entry must be an origin such as https://app.example.com",
                ),
            }
        }
    }
    let origin_url = r
        .required(name::ORIGIN_URL)
        .and_then(|v| r.url(name::ORIGIN_URL, &v, false));
    let mut validation = Validation::default().with_authorized_parties(&parties);
    validation.clock_skew_ms = r.int(
        name::CLOCK_SKEW_MS,
        DEFAULT_CLOCK_SKEW_MS,
        0,
        MAX_CLOCK_SKEW_MS,
    );
    validation.max_token_bytes = r.int(
        name::MAX_TOKEN_BYTES,
        DEFAULT_MAX_TOKEN_BYTES as i64,
        512,
        65_536,
    ) as usize;
    validation.allow_missing_azp =
        r.choice(name::AZP_MISSING, &["reject", "allow"]) == Some("allow");
    validation.allow_missing_sid =
        r.choice(name::SID_MISSING, &["reject", "allow"]) == Some("allow");
    validation.pending_is_signed_in =
        r.choice(name::PENDING_SESSIONS, &["signed-out", "signed-in"]) == Some("signed-in");
    validation.issuer = r.raw(name::ISSUER);
    let audience = r.list(name::AUDIENCE);
    validation.audience = (!audience.is_empty()).then_some(audience);
    CoreSettings {
        keys,
        origin_url,
        validation,
    }
}

/// `JWKS_URL`: unset or `off` (the default), `auto` (the Frontend API's JWKS, which needs
/// `PUBLISHABLE_KEY` or `FRONTEND_API_URL`), or an https URL (http only on loopback).
pub(super) fn read_jwks_url<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    fapi_base: Option<&str>,
) -> Option<crate::jwks::JwksSource> {
    let raw = r.raw(name::JWKS_URL)?;
    if raw.eq_ignore_ascii_case("off") {
        return None;
    }
    if raw.eq_ignore_ascii_case("auto") {
        let Some(base) = fapi_base else {
            r.problem(
                name::JWKS_URL,
                "auto needs PUBLISHABLE_KEY (or FRONTEND_API_URL) to name the Frontend API",
            );
            return None;
        };
        return Some(crate::jwks::JwksSource {
            url: crate::jwks::auto_url(base),
        });
    }
    let u = r.url(name::JWKS_URL, &raw, false)?;
    if u.scheme() == "http" && !is_loopback_host(&u) {
        r.problem(
            name::JWKS_URL,
            "must be https (http only on loopback), auto or off",
        );
        return None;
    }
    Some(crate::jwks::JwksSource { url: u.to_string() })
}
