//! The JWS compact layer: size limit, three strict-base64url segments, a strict JSON header, and
//! the header rules (alg, typ, crit and friends, kid, cat). Payloads here are bytes: the session
//! layer above decides they must be a JSON claim set.

use super::token_error::{Malformed, TokenError};
use crate::json::{parse_object, StrictJsonError};
use crate::keys::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// `cat` values that mean "session token": Clerk's session category, and the value of instances
/// that stamp every class alike.
pub const SESSION_CATEGORIES: &[&str] = &["cl_B7d4PD111AAA", IGNORED_CATEGORY];

/// The `cat` of instances that stamp every class alike (Clerk's `use_ignore_jwt_cat`).
pub const IGNORED_CATEGORY: &str = "cl_I7d4PD111III";

/// The `cat` of Clerk's JWT-template tokens: accepted only with `SID_MISSING=allow`.
pub const TEMPLATE_CATEGORY: &str = "cl_B7d4PD222AAA";

/// `typ` values of OAuth 2.0 access tokens (RFC 9068), compared case-insensitively as media
/// types are.
pub const ACCESS_TOKEN_TYPES: &[&str] = &["at+jwt", "application/at+jwt"];

/// Header members that change how the token must be processed; edgegate implements none of them.
const FORBIDDEN_HEADER_MEMBERS: &[&str] = &["crit", "b64", "zip", "enc"];

/// The header members edgegate acts on. `jku`, `x5u`, `x5c` and `jwk` are ignored: keys come
/// only from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `alg`: RS256 or ES256.
    pub alg: Alg,
    /// `kid`, when present.
    pub kid: Option<String>,
    /// `cat`, Clerk's token category, when present.
    pub cat: Option<String>,
    /// `typ` names an OAuth access token (`at+jwt`): a machine token, never a session.
    pub access_token: bool,
}

/// A decoded compact JWS whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    /// The checked header.
    pub header: Header,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded payload (not yet known to be JSON).
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

pub(crate) fn b64(segment: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment.as_bytes())
        .map_err(|_| TokenError::Invalid(Malformed::Base64))
}

pub(crate) fn json_error(err: StrictJsonError, whole: Malformed) -> TokenError {
    TokenError::Invalid(match err {
        StrictJsonError::DuplicateMember => Malformed::DuplicateMember,
        StrictJsonError::TooDeep => Malformed::TooDeep,
        StrictJsonError::Syntax | StrictJsonError::NotAnObject => whole,
    })
}

/// Splits and decodes a compact JWS and checks its header. No key is touched.
pub fn decode_compact(token: &str, max_bytes: usize) -> Result<CompactJws<'_>, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Invalid(Malformed::Segments));
    }
    if token.len() > max_bytes {
        return Err(TokenError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid(Malformed::Segments));
    };
    if h.is_empty() {
        return Err(TokenError::Invalid(Malformed::Segments));
    }
    // The header first, so an unsigned `alg: none` token is named for what it is.
    let header_bytes = b64(h)?;
    let header_map =
        parse_object(&header_bytes).map_err(|e| json_error(e, Malformed::HeaderJson))?;
    let header = check_header(&header_map)?;
    if s.is_empty() {
        return Err(TokenError::Invalid(Malformed::Segments));
    }
    let payload = b64(p)?;
    let signature = b64(s)?;
    let signing_input = token
        .get(..h.len() + 1 + p.len())
        .ok_or(TokenError::Invalid(Malformed::Segments))?;
    Ok(CompactJws {
        header,
        signing_input,
        payload,
        signature,
    })
}

fn check_header(map: &serde_json::Map<String, Value>) -> Result<Header, TokenError> {
    let alg = match map.get("alg") {
        Some(Value::String(name)) => {
            Alg::from_jws_name(name).ok_or(TokenError::InvalidAlgorithm)?
        }
        _ => return Err(TokenError::InvalidAlgorithm),
    };
    if FORBIDDEN_HEADER_MEMBERS
        .iter()
        .any(|m| map.contains_key(*m))
    {
        return Err(TokenError::ForbiddenHeader);
    }
    let access_token = match map.get("typ") {
        None => false,
        Some(Value::String(t)) if t == "JWT" => false,
        // Exact, as Clerk's `assertHeaderType`: `AT+JWT` is no access token there either.
        Some(Value::String(t)) if ACCESS_TOKEN_TYPES.contains(&t.as_str()) => true,
        Some(_) => return Err(TokenError::Invalid(Malformed::Typ)),
    };
    let kid = match map.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(TokenError::Invalid(Malformed::Kid)),
    };
    let cat = match map.get("cat") {
        None => None,
        Some(Value::String(c)) => Some(c.clone()),
        Some(_) => return Err(TokenError::Invalid(Malformed::Cat)),
    };
    Ok(Header {
        alg,
        kid,
        cat,
        access_token,
    })
}

/// The class of token a header's `cat` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// A session token, no `cat` (tokens minted before Clerk's categories), or the value of
    /// instances that stamp every class alike.
    Session,
    /// A JWT-template token.
    Template,
    /// Anything else: machine tokens and classes edgegate does not know.
    Other,
}

/// The class of token the header's `cat` names.
pub fn category(header: &Header) -> Category {
    match header.cat.as_deref() {
        None => Category::Session,
        Some(c) if SESSION_CATEGORIES.contains(&c) => Category::Session,
        Some(TEMPLATE_CATEGORY) => Category::Template,
        Some(_) => Category::Other,
    }
}
