//! What of a client's request never reaches the origin, beyond hop-by-hop and identity headers:
//! the headers that steer an origin ([`DEFAULT_STRIPPED_HEADERS`], `STRIP_REQUEST_HEADERS` as
//! [`HeaderPattern`]s) and, with `FORWARD_TOKEN=false`, Clerk's token-bearing cookies and query
//! parameters.

use super::normalized_name;
use crate::http::is_token;

/// Request headers a client must never get through to the origin, whatever the settings (SECURITY.md
/// lists them too). A trailing `*` is a prefix. Compared on
/// the normalised name (lower case, `_` read as `-`).
/// - `x-original-url`, `x-original-uri`, `x-rewrite-url`, `x-envoy-original-path`,
///   `x-forwarded-*` (`-prefix`, `-uri`, `-path`, `-scheme`, `-ssl`, `-server`, ...): path,
///   host and scheme overrides that frameworks and proxies honour (IIS, Symfony, Laravel,
///   Spring, Envoy, Express), so an authorised `/public/x` could be served as `/admin`.
///   edgegate sets its own `X-Forwarded-For`/`-Host`/`-Proto` after stripping.
/// - `x-original-host`: a host override some frameworks honour like `X-Forwarded-Host`.
/// - `x-http-method-override`, `x-http-method`, `x-method-override`: method overrides, so a
///   `GET` allowed through could act as a `DELETE`.
/// - `x-middleware-subrequest`: Next.js's internal header; a client sending it skips the app's
///   middleware (CVE-2025-29927), Clerk's `clerkMiddleware` included.
/// - `x-clerk-*`: Clerk's middleware's internal request headers (`x-clerk-auth-status`,
///   `-reason`, `-message`, `-token`, `-signature`, `x-clerk-request-data`,
///   `x-clerk-redirect-to`, ...), which the app behind trusts as Clerk's own verdict.
/// - `x-client-ip`, `x-cluster-client-ip`, `true-client-ip`, `client-ip`, `x-remote-addr`,
///   `x-remote-ip`: client-address overrides that IP libraries read before `X-Forwarded-For`.
/// - `x-host`: a host override like `X-Forwarded-Host`.
/// - Next.js's internal request headers: `x-invoke-*` (path, query, output, status, error),
///   `x-matched-path`, `x-now-route-matches` (CVE-2024-46982: cache poisoning),
///   `x-prerender-revalidate*` (on-demand revalidation), `x-middleware-invoke`. Not the app
///   router's own (`RSC`, `Next-Router-State-Tree`, `Next-Router-Prefetch`, `Next-Url`,
///   `x-middleware-prefetch`): client navigation needs them.
pub const DEFAULT_STRIPPED_HEADERS: &[&str] = &[
    "x-original-url",
    "x-original-uri",
    "x-rewrite-url",
    "x-envoy-original-path",
    "x-forwarded-*",
    "x-original-host",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-middleware-subrequest",
    "x-clerk-*",
    "x-client-ip",
    "x-cluster-client-ip",
    "true-client-ip",
    "client-ip",
    "x-remote-addr",
    "x-remote-ip",
    "x-host",
    "x-invoke-*",
    "x-matched-path",
    "x-now-route-matches",
    "x-prerender-revalidate*",
    "x-middleware-invoke",
];

/// A header name, or a name prefix (written with a trailing `*`), in normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderPattern {
    /// An exact normalised name.
    Exact(String),
    /// A normalised name prefix (the entry without its `*`).
    Prefix(String),
}

impl HeaderPattern {
    /// Parses a `STRIP_REQUEST_HEADERS` entry: a header name, or a non-empty name prefix
    /// followed by `*`; any case, `_` read as `-`. `None` when it is neither.
    pub fn parse(entry: &str) -> Option<HeaderPattern> {
        let entry = entry.trim();
        let (name, prefix) = match entry.strip_suffix('*') {
            Some(head) => (head, true),
            None => (entry, false),
        };
        // `*` is a token character, but anywhere but last it would read as a wildcard.
        if name.is_empty() || !is_token(name) || name.contains('*') {
            return None;
        }
        let name = normalized_name(name).into_owned();
        Some(if prefix {
            HeaderPattern::Prefix(name)
        } else {
            HeaderPattern::Exact(name)
        })
    }

    /// True when the normalised header name matches.
    pub fn matches(&self, normalized: &str) -> bool {
        match self {
            HeaderPattern::Exact(n) => normalized == n,
            HeaderPattern::Prefix(p) => normalized.starts_with(p.as_str()),
        }
    }
}

/// True for a name on [`DEFAULT_STRIPPED_HEADERS`] (`normalized` as [`normalized_name`] gives).
pub(crate) fn is_default_stripped(normalized: &str) -> bool {
    // Bytes rather than `strip_suffix('*')`: this runs for every header of every request.
    DEFAULT_STRIPPED_HEADERS
        .iter()
        .any(|entry| match entry.as_bytes().split_last() {
            Some((b'*', prefix)) => normalized.as_bytes().starts_with(prefix),
            _ => normalized == *entry,
        })
}

/// Cookie name prefixes of Clerk's token-bearing cookies: the session token, the handshake
/// token, refresh tokens and the development browser token. `__client_uat` (a timestamp) and
/// the handshake state cookie carry no token and are kept.
pub const TOKEN_COOKIE_PREFIXES: &[&str] = &[
    "__session",
    "__clerk_handshake",
    "__refresh",
    "__clerk_db_jwt",
];

/// True for the name of one of Clerk's token-bearing cookies (see [`TOKEN_COOKIE_PREFIXES`]; the
/// FAPI's `__client` too, should it ever reach this domain).
pub fn is_token_cookie(name: &str) -> bool {
    name == "__client" || TOKEN_COOKIE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Query parameters of Clerk's that carry tokens: the handshake payload (session tokens), its
/// nonce, the development browser token, the legacy dev session, and sign-in tickets and
/// invitation tokens (credentials clerk-js redeems on the page).
pub const TOKEN_QUERY_PARAMS: &[&str] = &[
    "__clerk_handshake",
    "__clerk_handshake_nonce",
    "__clerk_db_jwt",
    "__dev_session",
    "__session",
    "__clerk_ticket",
    "__clerk_invitation_token",
];

/// A `Referer` without Clerk's token-bearing query parameters (the page a request came from
/// can carry a ticket or a handshake); `None` when nothing is left to send.
pub fn strip_referer(referer: &str) -> Option<String> {
    let (before, fragment) = referer
        .split_once('#')
        .map_or((referer, None), |(b, f)| (b, Some(f)));
    let _ = fragment; // browsers never send a fragment; one that comes is dropped
    match before.split_once('?') {
        None => Some(before.to_owned()),
        Some((base, query)) => Some(match strip_token_params(Some(query)) {
            Some(kept) => format!("{base}?{kept}"),
            None => base.to_owned(),
        }),
    }
    .filter(|r| !r.is_empty())
}

/// The query without Clerk's token-bearing parameters (see [`TOKEN_QUERY_PARAMS`]; names
/// percent-decoded and compared case-insensitively); the other pairs are kept byte for byte.
/// `None` when nothing is left.
pub fn strip_token_params(query: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = query?
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let raw = pair
                .split_once('=')
                .map_or(*pair, |(n, _)| n)
                .replace('+', " ");
            let name = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy();
            !TOKEN_QUERY_PARAMS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name.trim()))
        })
        .collect();
    if kept.is_empty() {
        None
    } else {
        Some(kept.join("&"))
    }
}

/// Removes every pair of a token-bearing cookie ([`is_token_cookie`]). A runtime that joins
/// repeated `Cookie` headers with `, ` (the Fetch `Headers` rule) hides a second header's pairs
/// after a comma, so a pair is also dropped when any comma-separated part of it names one.
pub(crate) fn strip_session_cookies(value: &str) -> String {
    let names_session = |part: &str| {
        let name = part.split_once('=').map_or(part, |(n, _)| n).trim();
        is_token_cookie(name)
    };
    value
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| !pair.split(',').any(names_session))
        .collect::<Vec<_>>()
        .join("; ")
}
