//! Clerk's cookies: the suffixed-or-unsuffixed choice (peeking at unverified claims as Clerk does),
//! `__client_uat`, and one request's Clerk cookies.

use super::names::{DEV_BROWSER, HANDSHAKE, MAX_PEEK_BYTES, REDIRECT_COUNT_COOKIE, STATE_NAME};
use super::publishable_key::{Instance, PublishableKey};
use crate::token_source::{cookie, CLIENT_UAT_COOKIE, SESSION_COOKIE};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The claims Clerk's suffix rules look at, read WITHOUT verification.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Peek {
    decoded: bool,
    has_iss: bool,
    iat: f64,
    exp: Option<f64>,
}

pub(crate) fn peek(token: &str) -> (Peek, Option<String>) {
    let fail = (Peek::default(), None);
    if token.len() > MAX_PEEK_BYTES {
        return fail;
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return fail;
    };
    let lenient = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok();
    // Clerk's decoder reads the signature too (its loose mode still refuses non-canonical
    // trailing bits): a token whose signature does not decode is no token for the suffix choice.
    if lenient(sig).is_none() {
        return fail;
    }
    // The same JSON reader as verification (one parser in the worker, not two).
    let header: Option<Map<String, Value>> =
        lenient(h).and_then(|b| crate::json::parse_object(&b).ok());
    let payload: Option<Map<String, Value>> =
        lenient(p).and_then(|b| crate::json::parse_object(&b).ok());
    let (Some(_), Some(payload)) = (header, payload) else {
        return fail;
    };
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    // Clerk tests `!!payload.iss` here (JavaScript truthiness) and wants a string only where it
    // compares the issuer: a non-string `iss` has an issuer that belongs to no instance.
    let has_iss = payload.get("iss").is_some_and(|v| match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    });
    (
        Peek {
            decoded: true,
            has_iss,
            iat: payload.get("iat").and_then(Value::as_f64).unwrap_or(0.0),
            exp: payload.get("exp").and_then(Value::as_f64),
        },
        iss,
    )
}

/// `iss` without its scheme, compared with the key's Frontend API host, or on a production
/// satellite with its own (Clerk compares with the satellite's alone; edgegate takes both, so
/// a session cookie is read whichever of the two issued it).
pub(crate) fn belongs_to_instance(iss: Option<&str>, pk: &PublishableKey) -> bool {
    let Some(iss) = iss else { return false };
    let lower = iss.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    host == pk.frontend_api || pk.satellite_frontend_api.as_deref() == Some(host)
}

/// Clerk's `usesSuffixedCookies` (authenticateContext `shouldUseSuffixed`), in order:
/// 1. no publishable key → unsuffixed;
/// 2. an unsuffixed `__session` that does not decode or has no `iss` → unsuffixed (a malformed
///    cookie gives signed out, not a handshake);
/// 3. an unsuffixed `__session` issued by another Frontend API than the key's → suffixed;
/// 4. neither `__client_uat_<s>` nor `__session_<s>` → unsuffixed;
/// 5. both client_uat cookies other than `"0"` and the unsuffixed session newer (`iat`) → unsuffixed;
/// 6. `__client_uat_<s>` is `"0"` but `__client_uat` is not → unsuffixed;
/// 7. development only: `__client_uat_<s>` not `"0"`, `__client_uat` `"0"` and the suffixed
///    session expired → unsuffixed;
/// 8. `__session_<s>` without `__client_uat_<s>` → unsuffixed;
/// 9. otherwise suffixed.
///
/// Missing cookies compare as "not `"0"`" exactly as Clerk's string comparisons do.
pub fn uses_suffixed_cookies<N: AsRef<str>, V: AsRef<str>>(
    cookies: &[(N, V)],
    pk: Option<&PublishableKey>,
    now_ms: i64,
) -> bool {
    let Some(pk) = pk else { return false };
    let sfx = |name: &str| format!("{name}_{}", pk.cookie_suffix);
    let suffixed_uat = cookie(cookies, &sfx(CLIENT_UAT_COOKIE));
    let uat = cookie(cookies, CLIENT_UAT_COOKIE);
    let suffixed_session = cookie(cookies, &sfx(SESSION_COOKIE));
    let session = cookie(cookies, SESSION_COOKIE);

    let (session_peek, session_iss) = session.map(peek).unwrap_or_default();
    if session.is_some() && !session_peek.has_iss {
        return false;
    }
    if session.is_some() && !belongs_to_instance(session_iss.as_deref(), pk) {
        return true;
    }
    if suffixed_uat.is_none() && suffixed_session.is_none() {
        return false;
    }
    let (suffixed_peek, _) = suffixed_session.map(peek).unwrap_or_default();
    if suffixed_uat != Some("0") && uat != Some("0") && session_peek.iat > suffixed_peek.iat {
        return false;
    }
    if suffixed_uat == Some("0") && uat != Some("0") {
        return false;
    }
    if pk.instance != Instance::Production {
        let now_s = (now_ms.div_euclid(1000)) as f64;
        let suffixed_expired =
            suffixed_peek.decoded && suffixed_peek.exp.is_some_and(|exp| exp <= now_s);
        if suffixed_uat != Some("0") && uat == Some("0") && suffixed_expired {
            return false;
        }
    }
    if suffixed_uat.is_none() && suffixed_session.is_some() {
        return false;
    }
    true
}

/// `Number.parseInt(v) || 0` for a cookie value, as Clerk reads `__client_uat`: optional leading
/// whitespace, an optional sign, then decimal digits up to the first other character (or hex
/// digits after `0x`, as `parseInt` without a radix reads them); empty or unparsable → 0.
/// Negative values stay negative (`-1` is a client, as in Clerk: only 0 means none); saturates
/// instead of overflowing.
pub fn parse_client_uat(value: Option<&str>) -> i64 {
    let Some(v) = value else { return 0 };
    let v = v.trim_start();
    let (negative, unsigned) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let (radix, digits) = match unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        Some(hex) => (16, hex),
        None => (10, unsigned),
    };
    let mut n: i64 = 0;
    for d in digits.chars().map_while(|c| c.to_digit(radix)) {
        n = n
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    if negative {
        n.saturating_neg()
    } else {
        n
    }
}

/// The Clerk cookies of one request, with the suffix choice made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkCookies {
    /// Whether the suffixed names were chosen (also sent to the handshake as `suffixed_cookies`).
    pub suffixed: bool,
    /// `__session` or `__session_<suffix>`: the token to verify.
    pub session: Option<String>,
    /// `__client_uat` or its suffixed form, parsed ([`parse_client_uat`]); 0 when absent or
    /// unparsable, and only 0 means no client.
    pub client_uat: i64,
    /// `__clerk_db_jwt` (suffixed or not, following `suffixed`).
    pub dev_browser: Option<String>,
    /// `__clerk_handshake` (never suffixed).
    pub handshake: Option<String>,
    /// `__clerk_redirect_count`, 0 when absent or not a number.
    pub redirect_count: u32,
    /// `__edgegate_hs_state`.
    pub state: Option<String>,
}

impl ClerkCookies {
    /// Reads the Clerk cookies from a simple cookie list (name, value; first occurrence of a name
    /// wins; `(String, String)` or `(&str, &str)` pairs, e.g. `jar.iter().collect::<Vec<_>>()`).
    /// Without a publishable key only the unsuffixed names are read.
    pub fn read<N: AsRef<str>, V: AsRef<str>>(
        cookies: &[(N, V)],
        pk: Option<&PublishableKey>,
        now_ms: i64,
    ) -> ClerkCookies {
        let suffixed = uses_suffixed_cookies(cookies, pk, now_ms);
        let pick = |name: &str| -> Option<String> {
            match (suffixed, pk) {
                (true, Some(pk)) => cookie(cookies, &format!("{name}_{}", pk.cookie_suffix)),
                _ => cookie(cookies, name),
            }
            .map(str::to_owned)
        };
        let redirect_count = cookie(cookies, REDIRECT_COUNT_COOKIE)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0);
        ClerkCookies {
            suffixed,
            session: pick(SESSION_COOKIE),
            client_uat: parse_client_uat(pick(CLIENT_UAT_COOKIE).as_deref()),
            dev_browser: pick(DEV_BROWSER),
            handshake: cookie(cookies, HANDSHAKE).map(str::to_owned),
            redirect_count,
            state: cookie(cookies, STATE_NAME).map(str::to_owned),
        }
    }
}
