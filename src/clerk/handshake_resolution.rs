//! Handshake resolution: the state check, the handshake token, the cookies it may plant.

use super::auth_reason::{HandshakeError, Reason};
use super::names::{
    HANDSHAKE, HANDSHAKE_MAX_AGE_MS, MAX_HANDSHAKE_COOKIES, MAX_SET_COOKIE_BYTES, STATE_NAME,
};
use super::query::{rewrite_url, HANDSHAKE_PARAMS};
use super::redirect::{clear_cookie, handshake_headers, http_url, RedirectPlan};

use crate::keys::KeySet;
use crate::token::{prepare, Candidates, Prepared, TokenError};
use crate::web_url::WebUrl as Url;
use serde_json::{Map, Value};

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The login-CSRF check: the state cookie and the state parameter are both present, non-empty
/// and equal.
pub fn state_matches(cookie: Option<&str>, param: Option<&str>) -> bool {
    match (cookie, param) {
        (Some(c), Some(p)) if !c.is_empty() => constant_time_eq(c.as_bytes(), p.as_bytes()),
        _ => false,
    }
}

/// True for Set-Cookie names Clerk owns: `__session*`, `__client_uat*`, `__clerk_*`, `__refresh*`.
pub fn is_clerk_cookie_name(name: &str) -> bool {
    ["__session", "__client_uat", "__clerk_", "__refresh"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// The name of a Set-Cookie directive, when it is a valid cookie-name token.
pub(crate) fn set_cookie_name(directive: &str) -> Option<&str> {
    let (name, _) = directive.split_once('=')?;
    let name = name.trim();
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
    token.then_some(name)
}

/// A Set-Cookie directive from the handshake token that was not passed on, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedCookie {
    /// The cookie's name when readable (never its value), else `None`.
    pub name: Option<String>,
    /// Why it was dropped: `too-long`, `control-characters`, `malformed`, `foreign-cookie` or
    /// `too-many`.
    pub reason: &'static str,
}

pub(crate) fn time_claim(
    payload: &Map<String, Value>,
    name: &str,
) -> Result<Option<i64>, HandshakeError> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(HandshakeError::BadClaims),
        Some(_) => Err(HandshakeError::BadClaims),
    }
}

/// Checks a verified handshake payload: `iat` (when present) not older than 5 minutes and not in
/// the future beyond `clock_skew_ms`; `exp` (when present) not passed; `handshake` an array of
/// strings. Returns the Set-Cookie directives to pass on and those dropped (foreign names,
/// control characters, oversized, beyond [`MAX_HANDSHAKE_COOKIES`]).
pub fn handshake_cookies(
    payload: &Map<String, Value>,
    clock_skew_ms: i64,
    now_ms: i64,
) -> Result<(Vec<String>, Vec<DroppedCookie>), HandshakeError> {
    if let Some(iat) = time_claim(payload, "iat")? {
        let iat_ms = iat.saturating_mul(1000);
        if iat_ms < now_ms.saturating_sub(HANDSHAKE_MAX_AGE_MS) {
            return Err(HandshakeError::Stale);
        }
        if iat_ms > now_ms.saturating_add(clock_skew_ms) {
            return Err(HandshakeError::IatInFuture);
        }
    }
    if let Some(exp) = time_claim(payload, "exp")? {
        if exp.saturating_mul(1000) <= now_ms.saturating_sub(clock_skew_ms) {
            return Err(HandshakeError::Expired);
        }
    }
    let Some(Value::Array(items)) = payload.get("handshake") else {
        return Err(HandshakeError::BadClaims);
    };
    let mut keep = Vec::new();
    let mut dropped = Vec::new();
    for item in items {
        let Some(directive) = item.as_str() else {
            return Err(HandshakeError::BadClaims);
        };
        let name = set_cookie_name(directive);
        let drop = |reason| DroppedCookie {
            name: name.filter(|n| n.len() <= 64).map(str::to_owned),
            reason,
        };
        if directive.len() > MAX_SET_COOKIE_BYTES {
            dropped.push(drop("too-long"));
        } else if directive.bytes().any(|b| b.is_ascii_control()) {
            dropped.push(drop("control-characters"));
        } else if name.is_none() {
            dropped.push(drop("malformed"));
        } else if !name.is_some_and(is_clerk_cookie_name) {
            dropped.push(drop("foreign-cookie"));
        } else if keep.len() >= MAX_HANDSHAKE_COOKIES {
            dropped.push(drop("too-many"));
        } else {
            keep.push(directive.to_owned());
        }
    }
    Ok((keep, dropped))
}

/// A request that carries a handshake token.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeRequest<'a> {
    /// The validated public URL of this request (with its query).
    pub public_url: &'a str,
    /// `__clerk_handshake` from the query, else from the cookie.
    pub token: &'a str,
    /// `__edgegate_hs_state` cookie.
    pub state_cookie: Option<&'a str>,
    /// `__edgegate_hs_state` query parameter.
    pub state_param: Option<&'a str>,
}

/// The result of a handshake resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeResolution {
    /// 307 back to the same URL without the handshake parameters, with Clerk's cookies and the
    /// handshake and state cookies cleared. Log each `dropped` entry.
    Redirect {
        /// The 307 back to the public URL.
        plan: RedirectPlan,
        /// The token's Set-Cookie directives that were not passed on.
        dropped: Vec<DroppedCookie>,
    },
    /// Refused: treat the request as signed out with `reason` (nothing is planted). Send
    /// `clear_cookies` with whatever response follows.
    Refused {
        /// Why the handshake was refused.
        reason: Reason,
        /// `Set-Cookie`s that clear the handshake and state cookies.
        clear_cookies: Vec<String>,
    },
}

/// The first half of a handshake resolution, before the signature: the state (missing or
/// different → refused with `handshake-state-mismatch`, before the token is even parsed), the
/// public URL, then the token's shape, header and key choice (pass
/// [`HANDSHAKE_MAX_TOKEN_BYTES`](super::HANDSHAKE_MAX_TOKEN_BYTES); a JWT-template or machine token is refused). Then run the
/// candidates' signature checks and call [`finish_handshake`].
pub fn begin_handshake(
    req: &HandshakeRequest<'_>,
    keys: &KeySet,
    max_token_bytes: usize,
) -> Result<(Candidates, Url), HandshakeResolution> {
    if !state_matches(req.state_cookie, req.state_param) {
        return Err(handshake_refusal(Reason::HandshakeStateMismatch));
    }
    let Some(public) = http_url(req.public_url) else {
        return Err(handshake_refusal(Reason::HandshakeInvalid(
            HandshakeError::BadUrl,
        )));
    };
    let token_error = |e| handshake_refusal(Reason::HandshakeInvalid(HandshakeError::Token(e)));
    let prepared = prepare(req.token, keys, max_token_bytes).map_err(token_error)?;
    // Clerk mints handshake tokens with the session category: a template's never is one.
    if prepared.is_template() {
        return Err(token_error(TokenError::TypeMismatch));
    }
    match Candidates::first(prepared, keys) {
        Some(candidates) => Ok((candidates, public)),
        None => Err(token_error(TokenError::InvalidSignature)),
    }
}

/// The second half, once a candidate key verified the token: the payload's rules
/// ([`handshake_cookies`]) and the redirect back to `public` without the handshake parameters.
/// (When no candidate verifies it, the refusal is [`handshake_refusal`] with
/// `token-invalid-signature`.)
pub fn finish_handshake(
    prepared: Prepared,
    public: &Url,
    clock_skew_ms: i64,
    now_ms: i64,
) -> HandshakeResolution {
    match handshake_cookies(&prepared.into_payload(), clock_skew_ms, now_ms) {
        Ok((mut set_cookies, dropped)) => {
            set_cookies.extend(handshake_clears());
            HandshakeResolution::Redirect {
                plan: RedirectPlan {
                    status: 307,
                    location: rewrite_url(public, HANDSHAKE_PARAMS, None),
                    headers: handshake_headers(),
                    set_cookies,
                },
                dropped,
            }
        }
        Err(e) => handshake_refusal(Reason::HandshakeInvalid(e)),
    }
}

/// The cookies a finished or refused handshake clears.
pub(crate) fn handshake_clears() -> Vec<String> {
    vec![clear_cookie(HANDSHAKE), clear_cookie(STATE_NAME)]
}

/// A refused handshake: signed out with `reason`, its cookies cleared.
pub fn handshake_refusal(reason: Reason) -> HandshakeResolution {
    HandshakeResolution::Refused {
        reason,
        clear_cookies: handshake_clears(),
    }
}
