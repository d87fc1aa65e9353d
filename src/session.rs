//! Where a session token comes from: `Authorization: Bearer`, the `__session` cookie and its
//! publishable-key-suffixed form, plus `__client_uat` for the browser-session rules. Also the
//! lenient `Cookie` parser and the publishable-key helpers (cookie suffix, Frontend API host).
//! Pure: no clock, no I/O, never fails a request on junk input.

use crate::http::HeaderList;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha1::{Digest, Sha1};
use std::collections::HashMap;

pub const SESSION_COOKIE: &str = "__session";
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// Where the request's session token was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (scheme case-insensitive).
    Bearer(String),
    /// A session cookie; `name` is `__session` or `__session_<suffix>`.
    Cookie {
        name: String,
        value: String,
    },
    None,
}

impl TokenSource {
    pub fn token(&self) -> Option<&str> {
        match self {
            TokenSource::Bearer(t) => Some(t),
            TokenSource::Cookie { value, .. } => Some(value),
            TokenSource::None => None,
        }
    }

    /// `header`, `cookie` or `none`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenSource::Bearer(_) => "header",
            TokenSource::Cookie { .. } => "cookie",
            TokenSource::None => "none",
        }
    }
}

/// The token in an `Authorization` value when its scheme is `Bearer` (any case). Returns `None`
/// for other schemes and for an empty token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let v = authorization.trim_matches(|c: char| c == ' ' || c == '\t');
    let scheme_end = v.find([' ', '\t'])?;
    let scheme = v.get(..scheme_end)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = v
        .get(scheme_end..)?
        .trim_matches(|c: char| c == ' ' || c == '\t');
    if token.is_empty() {
        None
    } else {
        Some(token)
    }
}

/// Finds the session token. The first `Authorization` header, when it carries a Bearer token,
/// wins over cookies; otherwise `__session_<suffix>` (when `suffix` is given and the cookie is
/// non-empty), then `__session`. Empty cookie values count as absent.
pub fn find_session_token(headers: &HeaderList, suffix: Option<&str>) -> TokenSource {
    if let Some(token) = headers.get("authorization").and_then(bearer_token) {
        return TokenSource::Bearer(token.to_string());
    }
    let jar = CookieJar::from_headers(headers);
    let clerk = ClerkCookies::read(&jar, suffix);
    if let (Some(name), Some(value)) = (clerk.session_suffixed_name, clerk.session_suffixed) {
        return TokenSource::Cookie { name, value };
    }
    if let Some(value) = clerk.session {
        return TokenSource::Cookie {
            name: SESSION_COOKIE.to_string(),
            value,
        };
    }
    TokenSource::None
}

/// The cookies Clerk's request authentication reads, raw (empty values count as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClerkCookies {
    pub session: Option<String>,
    pub session_suffixed: Option<String>,
    pub session_suffixed_name: Option<String>,
    pub client_uat: Option<String>,
    pub client_uat_suffixed: Option<String>,
}

impl ClerkCookies {
    pub fn read(jar: &CookieJar, suffix: Option<&str>) -> ClerkCookies {
        let non_empty = |name: &str| jar.get(name).filter(|v| !v.is_empty()).map(str::to_string);
        let mut out = ClerkCookies {
            session: non_empty(SESSION_COOKIE),
            client_uat: non_empty(CLIENT_UAT_COOKIE),
            ..ClerkCookies::default()
        };
        if let Some(sfx) = suffix.filter(|s| !s.is_empty()) {
            let sname = format!("{SESSION_COOKIE}_{sfx}");
            out.session_suffixed = non_empty(&sname);
            if out.session_suffixed.is_some() {
                out.session_suffixed_name = Some(sname);
            }
            out.client_uat_suffixed = non_empty(&format!("{CLIENT_UAT_COOKIE}_{sfx}"));
        }
        out
    }
}

/// A lenient view of the request's cookies: every `Cookie` header, `;`-separated pairs, the first
/// occurrence of a name wins, pairs without `=` or with an empty name are skipped, values lose
/// surrounding whitespace and one pair of surrounding double quotes and are percent-decoded when
/// that yields UTF-8 (as the `cookie` npm package Clerk uses does). Never fails.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    pairs: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl CookieJar {
    pub fn from_headers(headers: &HeaderList) -> CookieJar {
        let mut jar = CookieJar::default();
        for value in headers.get_all("cookie") {
            jar.add_header(value);
        }
        jar
    }

    /// Parses one header value.
    pub fn parse(header: &str) -> CookieJar {
        let mut jar = CookieJar::default();
        jar.add_header(header);
        jar
    }

    /// Parses raw header bytes (non-UTF-8 bytes become U+FFFD; such a cookie never matches a
    /// Clerk cookie's ASCII value requirements downstream).
    pub fn parse_bytes(headers: &[&[u8]]) -> CookieJar {
        let mut jar = CookieJar::default();
        for h in headers {
            jar.add_header(&String::from_utf8_lossy(h));
        }
        jar
    }

    fn add_header(&mut self, header: &str) {
        for pair in header.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() || self.index.contains_key(name) {
                continue;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            self.index.insert(name.to_string(), self.pairs.len());
            self.pairs
                .push((name.to_string(), decode_cookie_value(value)));
        }
    }

    /// The first value of the cookie called exactly `name` (names are case-sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = *self.index.get(name)?;
        self.pairs.get(i).map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

fn decode_cookie_value(value: &str) -> String {
    if !value.contains('%') {
        return value.to_string();
    }
    match percent_encoding::percent_decode_str(value).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => value.to_string(),
    }
}

/// Clerk's cookie-name suffix for a publishable key: the first 8 characters of the URL-safe
/// base64 (no padding) SHA-1 of the whole key string. `None` when the key is not a valid
/// publishable key.
pub fn cookie_suffix(publishable_key: &str) -> Option<String> {
    frontend_api_from_publishable_key(publishable_key)?;
    let digest = Sha1::digest(publishable_key.as_bytes());
    let encoded = URL_SAFE_NO_PAD.encode(digest);
    encoded.get(..8).map(str::to_string)
}

/// The instance type a publishable key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceType {
    Development,
    Production,
}

pub fn instance_type(publishable_key: &str) -> Option<InstanceType> {
    if publishable_key.starts_with("pk_test_") {
        Some(InstanceType::Development)
    } else if publishable_key.starts_with("pk_live_") {
        Some(InstanceType::Production)
    } else {
        None
    }
}

/// The Frontend API host a publishable key names: `pk_test_`/`pk_live_` followed by the base64 of
/// `<host>$`. The host must be an ASCII DNS name (optionally with a port); anything else is `None`.
pub fn frontend_api_from_publishable_key(pk: &str) -> Option<String> {
    let encoded = pk
        .strip_prefix("pk_test_")
        .or_else(|| pk.strip_prefix("pk_live_"))?;
    if encoded.is_empty() || encoded.len() > 1024 {
        return None;
    }
    let unpadded = encoded.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD.decode(unpadded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let host = text.strip_suffix('$')?;
    let parsed = crate::forwarded::parse_host(host).ok()?;
    Some(parsed.to_string())
}
