//! Where a session token comes from: `Authorization: Bearer` and the `__session` cookie (and a
//! suffixed form), and the lenient `Cookie` parser. With a publishable key, the choice between
//! suffixed and unsuffixed cookies follows Clerk's rules in `clerk`.
//! Pure: no clock, no I/O, never fails a request on junk input.

use crate::http::HeaderList;
use std::collections::HashMap;

/// Clerk's session token cookie (with a publishable key also `__session_<suffix>`).
pub const SESSION_COOKIE: &str = "__session";
/// Clerk's client timestamp cookie, in seconds (absent or 0: no signed-in client).
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// The one cookie lookup: the first cookie called `name` with a non-empty value (first
/// occurrence wins; an empty value counts as absent, as in Clerk), in a list of `(name, value)`
/// pairs such as [`CookieJar::iter`] gives.
pub fn cookie<'a, N: AsRef<str>, V: AsRef<str>>(
    cookies: &'a [(N, V)],
    name: &str,
) -> Option<&'a str> {
    cookies
        .iter()
        .find(|(n, _)| n.as_ref() == name)
        .map(|(_, v)| v.as_ref())
        .filter(|v| !v.is_empty())
}

/// Where the request's session token was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (scheme case-insensitive).
    Bearer(String),
    /// A session cookie; `name` is `__session` or `__session_<suffix>`.
    Cookie {
        /// The cookie's name.
        name: String,
        /// The cookie's value (the token).
        value: String,
    },
    /// No token found.
    None,
}

impl TokenSource {
    /// The token, if one was found.
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

/// The token in an `Authorization` value: after a `Bearer` scheme (any case), or the whole value
/// when it has no scheme at all (a bare token, as Clerk's `parseAuthorizationHeader` takes it).
/// `None` for other schemes (`Basic`, ...), which fall through to the cookies, and for an empty
/// token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let v = authorization.trim_matches(|c: char| c == ' ' || c == '\t');
    let Some(scheme_end) = v.find([' ', '\t']) else {
        // A lone `Bearer` is a scheme without its token, not a token.
        return (!v.is_empty() && !v.eq_ignore_ascii_case("bearer")).then_some(v);
    };
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
    let pairs: Vec<(&str, &str)> = jar.iter().collect();
    let nonempty = |name: &str| cookie(&pairs, name).map(str::to_owned);
    if let Some(suffix) = suffix {
        let name = format!("{SESSION_COOKIE}_{suffix}");
        if let Some(value) = nonempty(&name) {
            return TokenSource::Cookie { name, value };
        }
    }
    match nonempty(SESSION_COOKIE) {
        Some(value) => TokenSource::Cookie {
            name: SESSION_COOKIE.to_string(),
            value,
        },
        None => TokenSource::None,
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
    /// Reads every `Cookie` header of a request.
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

    /// Every cookie as (name, value), in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of cookies (names counted once).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are no cookies.
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
