//! Browser sessions beyond the 60-second token: the pure logic of Clerk's handshake (without any
//! network call: the token format, never a nonce), the cookie rules of Clerk's
//! `authenticateRequest`, the login-CSRF state of a handshake, and the outage-grace decision.
//!
//! This module owns: publishable-key parsing and the cookie suffix ([`PublishableKey`]), the
//! choice of suffixed or unsuffixed cookies ([`ClerkCookies::read`]), the cookie-session decision
//! ([`browser_decision`]), the handshake redirect ([`handshake_redirect`]), the handshake
//! resolution ([`begin_handshake`], [`finish_handshake`]), and the grace mode ([`grace_applies`], [`OutageProbe`]).
//!
//! Nothing here touches `worker`, reads a clock (every function takes `now_ms`, Unix ms) or draws
//! randomness (the state value comes in as bytes). No input can make it panic.

use crate::keys::KeySet;
use crate::token::{prepare, Candidates, Prepared, SessionClaims, TokenError, Validation};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use url::Url;

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// Clerk's session-token cookie (suffixed form: `__session_<suffix>`).
pub const SESSION_COOKIE: &str = "__session";
/// Clerk's client "updated at" cookie, seconds; `0` means signed out.
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";
/// Clerk's development-browser token (cookie, suffixed or not, and query parameter).
pub const DEV_BROWSER: &str = "__clerk_db_jwt";
/// The handshake token (query parameter or unsuffixed cookie).
pub const HANDSHAKE: &str = "__clerk_handshake";
/// Clerk's handshake debugging parameter, removed with the handshake.
pub const HANDSHAKE_HELP: &str = "__clerk_help";
/// The redirect-loop counter cookie.
pub const REDIRECT_COUNT_COOKIE: &str = "__clerk_redirect_count";
/// edgegate's login-CSRF state: the same name for the cookie and the query parameter.
pub const STATE_NAME: &str = "__edgegate_hs_state";
/// Lifetime of the state cookie.
pub const STATE_MAX_AGE_S: i64 = 300;
/// Lifetime of the redirect counter, as Clerk's.
pub const REDIRECT_COUNT_MAX_AGE_S: i64 = 3;
/// Handshake redirects allowed in a row before giving up (signed out, `redirect-loop`).
pub const MAX_HANDSHAKE_REDIRECTS: u32 = 3;
/// Oldest accepted handshake token `iat`, relative to now.
pub const HANDSHAKE_MAX_AGE_MS: i64 = 300_000;
/// At most this many Set-Cookie directives are taken from one handshake token.
pub const MAX_HANDSHAKE_COOKIES: usize = 32;
/// Longest accepted Set-Cookie directive from a handshake token.
pub const MAX_SET_COOKIE_BYTES: usize = 4096;
/// Suggested size limit for a handshake token: it carries whole session tokens (suffixed and
/// unsuffixed) inside its own payload, so it is larger than one session token. A query string
/// or cookie that long is still within what browsers and Cloudflare accept.
pub const HANDSHAKE_MAX_TOKEN_BYTES: usize = 16_384;
/// Largest token peeked at (unverified) for the suffix rules.
const MAX_PEEK_BYTES: usize = 8192;

/// How long one outage check is remembered per isolate.
pub const PROBE_CACHE_MS: i64 = 30_000;
/// Timeout of the outage check; the edge gives the fetch up after this.
pub const PROBE_TIMEOUT_MS: u64 = 1500;
/// Path of the outage check on the Frontend API.
pub const PROBE_PATH: &str = "/v1/environment";

// ---------------------------------------------------------------------------------------------
// Publishable key
// ---------------------------------------------------------------------------------------------

/// Clerk instance type, from the publishable key's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// `pk_test_`
    Development,
    /// `pk_live_`
    Production,
}

/// A parsed `PUBLISHABLE_KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    pub instance: Instance,
    /// The Frontend API host named by the key (validated host syntax, lower-cased).
    pub frontend_api: String,
    /// First 8 characters of base64url(SHA-1(key)): `__session_<suffix>`.
    pub cookie_suffix: String,
}

/// Standard alphabet, padding optional (as `atob`).
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl PublishableKey {
    /// `pk_test_` or `pk_live_` followed by the base64 of `<frontend api host>$`. Anything else
    /// (other prefix, extra `_` segments, bad base64, no `$`, not a host name) is `None`.
    pub fn parse(pk: &str) -> Option<PublishableKey> {
        let pk = pk.trim();
        let (instance, rest) = if let Some(rest) = pk.strip_prefix("pk_test_") {
            (Instance::Development, rest)
        } else if let Some(rest) = pk.strip_prefix("pk_live_") {
            (Instance::Production, rest)
        } else {
            return None;
        };
        if rest.is_empty() || rest.len() > 512 || rest.contains('_') {
            return None;
        }
        let decoded = STANDARD_LENIENT.decode(rest).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let host = decoded.strip_suffix('$')?;
        if !is_dns_host(host) {
            return None;
        }
        Some(PublishableKey {
            instance,
            frontend_api: host.to_ascii_lowercase(),
            cookie_suffix: cookie_suffix(pk),
        })
    }

    /// `https://<frontend api>`: the Frontend API base when `FRONTEND_API_URL` is not set.
    pub fn default_frontend_api_url(&self) -> String {
        format!("https://{}", self.frontend_api)
    }
}

/// Clerk's cookie suffix: the first 8 characters of base64url(SHA-1(publishable key)).
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = Sha1::digest(publishable_key.as_bytes());
    URL_SAFE_NO_PAD.encode(digest).chars().take(8).collect()
}

/// A DNS host name: dot-separated labels of ASCII letters, digits and `-` (not at a label's
/// ends), each 1-63 bytes, 253 bytes in all, at least two labels, the last not all digits.
pub fn is_dns_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    let mut last_all_digits = false;
    for label in host.split('.') {
        labels += 1;
        let bytes = label.as_bytes();
        if bytes.is_empty() || bytes.len() > 63 {
            return false;
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return false;
        }
        if bytes.first() == Some(&b'-') || bytes.last() == Some(&b'-') {
            return false;
        }
        last_all_digits = bytes.iter().all(u8::is_ascii_digit);
    }
    labels >= 2 && !last_all_digits
}

/// The Frontend API base URL: `FRONTEND_API_URL` when set (a Clerk proxy or a local stub; its
/// query and fragment are dropped, a trailing `/` removed), else `https://<key's host>`; `None`
/// when neither is configured (then no handshake and no outage check: grace never applies).
pub fn frontend_api_base(
    frontend_api_url: Option<&Url>,
    pk: Option<&PublishableKey>,
) -> Option<String> {
    match (frontend_api_url, pk) {
        (Some(u), _) => {
            let mut u = u.clone();
            u.set_query(None);
            u.set_fragment(None);
            Some(u.as_str().trim_end_matches('/').to_owned())
        }
        (None, Some(pk)) => Some(pk.default_frontend_api_url()),
        (None, None) => None,
    }
}

/// The outage-check URL: `<Frontend API base>/v1/environment`. Any non-5xx answer means up.
pub fn probe_url(frontend_api_base: &str) -> String {
    format!("{}{PROBE_PATH}", frontend_api_base.trim_end_matches('/'))
}

// ---------------------------------------------------------------------------------------------
// Cookies
// ---------------------------------------------------------------------------------------------

/// The first cookie called `name` with a non-empty value (first occurrence wins; an empty value
/// counts as absent, as in Clerk).
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

/// The claims Clerk's suffix rules look at, read WITHOUT verification.
#[derive(Debug, Default, Clone, Copy)]
struct Peek {
    decoded: bool,
    has_iss: bool,
    iat: f64,
    exp: Option<f64>,
}

fn peek(token: &str) -> (Peek, Option<String>) {
    let fail = (Peek::default(), None);
    if token.len() > MAX_PEEK_BYTES {
        return fail;
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return fail;
    };
    let lenient = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok();
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
    (
        Peek {
            decoded: true,
            has_iss: iss.is_some(),
            iat: payload.get("iat").and_then(Value::as_f64).unwrap_or(0.0),
            exp: payload.get("exp").and_then(Value::as_f64),
        },
        iss,
    )
}

/// `iss` without its scheme, compared with the key's Frontend API host.
fn belongs_to_instance(iss: Option<&str>, pk: &PublishableKey) -> bool {
    let Some(iss) = iss else { return false };
    let lower = iss.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    host == pk.frontend_api
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

/// `Number.parseInt(v) || 0` for a cookie value: optional leading whitespace, optional sign,
/// decimal digits up to the first other character; negative, empty or unparsable → 0;
/// saturates instead of overflowing.
pub fn parse_client_uat(value: Option<&str>) -> i64 {
    let Some(v) = value else { return 0 };
    let v = v.trim_start();
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let mut n: i64 = 0;
    let mut any = false;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        any = true;
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if !any || negative {
        0
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
    /// `__client_uat` or its suffixed form, parsed; 0 when absent or unparsable.
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

// ---------------------------------------------------------------------------------------------
// Query strings
// ---------------------------------------------------------------------------------------------

fn decode_component(s: &str) -> String {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8_lossy()
        .into_owned()
}

/// The first value of query parameter `name` (names and values percent-decoded, `+` as space,
/// as `URLSearchParams.get`); an empty value counts as absent.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(n) == name).then(|| decode_component(v))
        })
        .filter(|v| !v.is_empty())
}

/// The handshake-related query parameters of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeParams {
    /// `__clerk_handshake`
    pub handshake: Option<String>,
    /// `__clerk_db_jwt`
    pub dev_browser: Option<String>,
    /// `__edgegate_hs_state`
    pub state: Option<String>,
}

impl HandshakeParams {
    /// Reads them from a raw query string (without the `?`).
    pub fn from_query(query: Option<&str>) -> HandshakeParams {
        HandshakeParams {
            handshake: query_param(query, HANDSHAKE),
            dev_browser: query_param(query, DEV_BROWSER),
            state: query_param(query, STATE_NAME),
        }
    }
}

/// `url` with every query pair whose decoded name is in `remove` dropped, the other pairs kept
/// byte for byte, then `add` appended (already URL-safe), and the fragment dropped.
fn rewrite_url(url: &Url, remove: &[&str], add: Option<(&str, &str)>) -> String {
    let mut kept: Vec<String> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !remove.contains(&decode_component(name).as_str())
        })
        .map(str::to_owned)
        .collect();
    if let Some((n, v)) = add {
        kept.push(format!("{n}={v}"));
    }
    let mut out = url.clone();
    out.set_fragment(None);
    out.set_query(None);
    let mut s = out.as_str().to_owned();
    if !kept.is_empty() {
        s.push('?');
        s.push_str(&kept.join("&"));
    }
    s
}

/// Query parameters a handshake redirect or resolution removes from the public URL.
pub const HANDSHAKE_PARAMS: &[&str] = &[HANDSHAKE, HANDSHAKE_HELP, DEV_BROWSER, STATE_NAME];

// ---------------------------------------------------------------------------------------------
// Reasons
// ---------------------------------------------------------------------------------------------

/// Why a cookie session is not signed in, or why a handshake starts. Codes match Clerk's
/// `AuthErrorReason` where Clerk has one (they are sent to the Frontend API as
/// `__clerk_hs_reason`); the others are edgegate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    SessionTokenAndUatMissing,
    ClientUatWithoutSessionToken,
    SessionTokenWithoutClientUat,
    SessionTokenIatBeforeClientUat,
    SessionTokenExpired,
    SessionTokenNbf,
    SessionTokenIatInTheFuture,
    DevBrowserMissing,
    DevBrowserSync,
    /// More than [`MAX_HANDSHAKE_REDIRECTS`] handshakes in a row.
    RedirectLoop,
    /// A handshake token without a matching state cookie and parameter.
    HandshakeStateMismatch,
    /// The handshake token failed verification.
    HandshakeInvalid(HandshakeError),
    /// The session token was refused for a reason no handshake can fix.
    Token(TokenError),
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::SessionTokenAndUatMissing => "session-token-and-uat-missing",
            Reason::ClientUatWithoutSessionToken => "client-uat-but-no-session-token",
            Reason::SessionTokenWithoutClientUat => "session-token-but-no-client-uat",
            Reason::SessionTokenIatBeforeClientUat => "session-token-iat-before-client-uat",
            Reason::SessionTokenExpired => "session-token-expired",
            Reason::SessionTokenNbf => "session-token-nbf",
            Reason::SessionTokenIatInTheFuture => "session-token-iat-in-the-future",
            Reason::DevBrowserMissing => "dev-browser-missing",
            Reason::DevBrowserSync => "dev-browser-sync",
            Reason::RedirectLoop => "redirect-loop",
            Reason::HandshakeStateMismatch => "handshake-state-mismatch",
            Reason::HandshakeInvalid(e) => e.code(),
            Reason::Token(e) => e.code(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cookie-session decision
// ---------------------------------------------------------------------------------------------

/// Eligible for a handshake (Clerk's `isRequestEligibleForHandshake`, plus GET only):
/// `GET` and (`Sec-Fetch-Dest` `document` or `iframe`, or no `Sec-Fetch-Dest` and `Accept`
/// starting with `text/html`). An empty `Sec-Fetch-Dest` counts as absent, as in Clerk.
pub fn is_eligible(method: &str, sec_fetch_dest: Option<&str>, accept: Option<&str>) -> bool {
    if method != "GET" {
        return false;
    }
    match sec_fetch_dest.map(str::trim).filter(|d| !d.is_empty()) {
        Some(dest) => dest == "document" || dest == "iframe",
        None => accept.is_some_and(|a| a.trim_start().starts_with("text/html")),
    }
}

/// The outcome of verifying the cookie session token's signature, computed by the caller (the
/// core's `prepare` + signature, or `authenticate::signed_claims` with its cache). The
/// per-request policy (`SessionClaims::check`) is applied by [`browser_decision`].
#[derive(Debug, Clone, Copy)]
pub enum SessionOutcome<'a> {
    /// No session cookie.
    Missing,
    /// Refused before or at the signature (size, shape, header, `cat`, key, signature, claim
    /// types): the token says nothing trustworthy.
    Unverified(TokenError),
    /// The signature verified.
    Verified(&'a SessionClaims),
}

/// What Clerk's Frontend API looks like from here (see [`OutageProbe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FapiStatus {
    /// Not checked recently.
    Unknown,
    Up,
    Down,
}

/// The facts of one browser (cookie-carried) request. Use it only when the session token came
/// from cookies: a `Authorization` header token is never handshaken.
#[derive(Debug, Clone, Copy)]
pub struct BrowserRequest<'a> {
    pub method: &'a str,
    pub sec_fetch_dest: Option<&'a str>,
    pub accept: Option<&'a str>,
    /// The route is public: never start a handshake.
    pub is_public: bool,
    /// From the publishable key; `None` when `PUBLISHABLE_KEY` is not set (no handshake then).
    pub instance: Option<Instance>,
    /// [`ClerkCookies::client_uat`].
    pub client_uat: i64,
    /// A dev-browser token in the cookie or the query.
    pub dev_browser_present: bool,
    /// `__clerk_db_jwt` in the query (development: Clerk's `dev-browser-sync`).
    pub dev_browser_in_query: bool,
    /// [`ClerkCookies::redirect_count`].
    pub redirect_count: u32,
    pub session: SessionOutcome<'a>,
    /// The verification policy (`Gate::validation`).
    pub validation: &'a Validation,
    /// `OUTAGE_GRACE_SECONDS`.
    pub outage_grace_seconds: i64,
    pub fapi_status: FapiStatus,
    pub now_ms: i64,
}

/// What to do with a cookie-session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserDecision {
    /// The session verified: signed in with its claims.
    SignedIn,
    /// Outage grace: signed in until `until_ms` (`X-Edgegate-Auth-Status: grace`, `X-Auth-Grace: 1`).
    Grace { until_ms: i64 },
    /// Grace might apply: run the outage check, record it, and decide again.
    NeedOutageCheck,
    /// Redirect to the Frontend API handshake ([`handshake_redirect`]).
    Handshake { reason: Reason },
    /// Signed out (the gateway's sign-in redirect or 401).
    SignedOut { reason: Reason },
}

/// Clerk's cookie rules (`authenticateRequestWithTokenInCookie`), networkless. In order:
/// 1. development instance with `__clerk_db_jwt` in the query → handshake `dev-browser-sync`;
/// 2. no `__client_uat` (or 0) and no session → signed out, never a handshake (also on
///    development instances, where Clerk would first handshake for `dev-browser-missing`);
/// 3. session without client_uat → `session-token-but-no-client-uat`; client_uat without session
///    → `client-uat-but-no-session-token`;
/// 4. a token refused at or before its signature → signed out with the token's reason;
/// 5. a verified token whose `iat` is older than client_uat → `session-token-iat-before-client-uat`;
/// 6. the token's check: ok → signed in; expired → outage grace if it applies, else
///    `session-token-expired`; `nbf` → `session-token-nbf`; `iat` future →
///    `session-token-iat-in-the-future`; any other failure → signed out with the token's reason.
///
/// A handshake happens only when the request is eligible ([`is_eligible`]), not public, a
/// publishable key is configured and fewer than 3 handshakes ran in a row; otherwise signed out
/// with the same reason (`redirect-loop` for the last). On a development instance without a
/// dev-browser token the handshake reason is `dev-browser-missing`, as in Clerk.
pub fn browser_decision(input: &BrowserRequest<'_>) -> BrowserDecision {
    let dev = input.instance == Some(Instance::Development);
    if dev && input.dev_browser_in_query {
        return maybe_handshake(input, Reason::DevBrowserSync);
    }
    let has_client = input.client_uat > 0;
    let session = input.session;
    let has_session = !matches!(session, SessionOutcome::Missing);
    if !has_client && !has_session {
        return BrowserDecision::SignedOut {
            reason: Reason::SessionTokenAndUatMissing,
        };
    }
    if !has_client {
        return maybe_handshake(input, Reason::SessionTokenWithoutClientUat);
    }
    let claims = match session {
        SessionOutcome::Missing => {
            return maybe_handshake(input, Reason::ClientUatWithoutSessionToken)
        }
        SessionOutcome::Unverified(e) => {
            return BrowserDecision::SignedOut {
                reason: Reason::Token(e),
            }
        }
        SessionOutcome::Verified(claims) => claims,
    };
    if claims.iat.is_some_and(|iat| iat < input.client_uat) {
        return maybe_handshake(input, Reason::SessionTokenIatBeforeClientUat);
    }
    match claims.check(input.validation, input.now_ms) {
        Ok(()) => BrowserDecision::SignedIn,
        Err(TokenError::Expired) => {
            match grace_applies(
                claims,
                input.validation,
                input.outage_grace_seconds,
                Some(input.client_uat),
                input.now_ms,
                input.fapi_status,
            ) {
                GraceDecision::Accept { until_ms } => BrowserDecision::Grace { until_ms },
                GraceDecision::NeedOutageCheck => BrowserDecision::NeedOutageCheck,
                GraceDecision::No => maybe_handshake(input, Reason::SessionTokenExpired),
            }
        }
        Err(TokenError::NotActiveYet) => maybe_handshake(input, Reason::SessionTokenNbf),
        Err(TokenError::IatInFuture) => maybe_handshake(input, Reason::SessionTokenIatInTheFuture),
        Err(e) => BrowserDecision::SignedOut {
            reason: Reason::Token(e),
        },
    }
}

fn maybe_handshake(input: &BrowserRequest<'_>, reason: Reason) -> BrowserDecision {
    let eligible = input.instance.is_some()
        && !input.is_public
        && is_eligible(input.method, input.sec_fetch_dest, input.accept);
    if !eligible {
        return BrowserDecision::SignedOut { reason };
    }
    if input.redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return BrowserDecision::SignedOut {
            reason: Reason::RedirectLoop,
        };
    }
    let reason = if input.instance == Some(Instance::Development)
        && !input.dev_browser_present
        && reason != Reason::DevBrowserSync
    {
        Reason::DevBrowserMissing
    } else {
        reason
    };
    BrowserDecision::Handshake { reason }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// A response the edge builds as it is: status, `Location`, extra headers, `Set-Cookie`s (one
/// header each, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsePlan {
    pub status: u16,
    pub location: String,
    pub headers: Vec<(&'static str, String)>,
    pub set_cookies: Vec<String>,
}

fn handshake_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Cache-Control", "no-store".to_owned()),
        ("X-Edgegate-Auth-Status", "handshake".to_owned()),
    ]
}

fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Length of the random input of a state value (base64url → 43 characters).
pub const STATE_RANDOM_BYTES: usize = 32;

/// The state value made from the caller's random bytes.
pub fn state_value(random: &[u8; STATE_RANDOM_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Why a handshake redirect could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectError {
    /// `redirect_count` reached [`MAX_HANDSHAKE_REDIRECTS`]: signed out, `redirect-loop`.
    RedirectLoop,
    /// The public URL or the Frontend API base is not an absolute http(s) URL.
    BadUrl,
}

/// The 307 to `<FAPI>/v1/client/handshake`. `public_url` MUST be the validated public URL (the
/// gateway's forwarded-header rules and `ALLOWED_HOSTS`), never a client-chosen host.
///
/// `redirect_url` is the public URL without any handshake parameter and the dev-browser token,
/// with `__edgegate_hs_state=<state>` added; `suffixed_cookies` and `__clerk_hs_reason` follow;
/// `__clerk_db_jwt` is added for development instances that have one. No `format=nonce`: the
/// Frontend API then answers with the handshake token itself. Set-Cookie: the state cookie
/// (HttpOnly, Secure, SameSite=Lax, Path=/, 5 minutes) and `__clerk_redirect_count` + 1 (3 s).
#[allow(clippy::too_many_arguments)]
pub fn handshake_redirect(
    frontend_api_base: &str,
    public_url: &str,
    suffixed: bool,
    reason: Reason,
    dev_browser: Option<&str>,
    random: &[u8; STATE_RANDOM_BYTES],
    redirect_count: u32,
) -> Result<ResponsePlan, RedirectError> {
    if redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return Err(RedirectError::RedirectLoop);
    }
    let public = http_url(public_url).ok_or(RedirectError::BadUrl)?;
    let mut fapi = http_url(frontend_api_base).ok_or(RedirectError::BadUrl)?;
    fapi.set_query(None);
    fapi.set_fragment(None);
    let path = format!("{}/v1/client/handshake", fapi.path().trim_end_matches('/'));
    fapi.set_path(&path);

    let state = state_value(random);
    let redirect_url = rewrite_url(&public, HANDSHAKE_PARAMS, Some((STATE_NAME, &state)));
    {
        let mut q = fapi.query_pairs_mut();
        q.append_pair("redirect_url", &redirect_url);
        q.append_pair("suffixed_cookies", if suffixed { "true" } else { "false" });
        q.append_pair("__clerk_hs_reason", reason.code());
        if let Some(db) = dev_browser.filter(|d| !d.is_empty()) {
            q.append_pair(DEV_BROWSER, db);
        }
    }
    Ok(ResponsePlan {
        status: 307,
        location: fapi.into(),
        headers: handshake_headers(),
        set_cookies: vec![
            format!(
                "{STATE_NAME}={state}; Path=/; Max-Age={STATE_MAX_AGE_S}; HttpOnly; Secure; SameSite=Lax"
            ),
            format!(
                "{REDIRECT_COUNT_COOKIE}={}; Path=/; Max-Age={REDIRECT_COUNT_MAX_AGE_S}; HttpOnly; Secure; SameSite=Lax",
                redirect_count.saturating_add(1)
            ),
        ],
    })
}

fn http_url(s: &str) -> Option<Url> {
    let u = Url::parse(s).ok()?;
    ((u.scheme() == "https" || u.scheme() == "http") && u.host().is_some()).then_some(u)
}

/// Development instances only: the dev-browser token goes to the handshake.
pub fn dev_browser_for_handshake<'a>(
    instance: Instance,
    query: Option<&'a str>,
    cookie: Option<&'a str>,
) -> Option<&'a str> {
    match instance {
        Instance::Development => query.or(cookie).filter(|d| !d.is_empty()),
        Instance::Production => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake resolution
// ---------------------------------------------------------------------------------------------

/// Why a handshake token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// Shape, header, `cat`, key or signature: the core's reason.
    Token(TokenError),
    /// `iat` more than 5 minutes old.
    Stale,
    /// `iat` in the future beyond the clock skew.
    IatInFuture,
    /// `exp` present and passed.
    Expired,
    /// `iat`/`exp` not an integer, or `handshake` not an array of strings.
    BadClaims,
    /// The public URL given to the resolution is not an absolute http(s) URL (a caller bug).
    BadUrl,
}

impl HandshakeError {
    pub fn code(&self) -> &'static str {
        match self {
            HandshakeError::Token(TokenError::TypeMismatch) => "handshake-token-type-mismatch",
            HandshakeError::Token(TokenError::InvalidSignature) => {
                "handshake-token-invalid-signature"
            }
            HandshakeError::Token(_) => "handshake-token-invalid",
            HandshakeError::Stale => "handshake-token-stale",
            HandshakeError::IatInFuture => "handshake-token-iat-in-the-future",
            HandshakeError::Expired => "handshake-token-expired",
            HandshakeError::BadClaims => "handshake-token-invalid-claims",
            HandshakeError::BadUrl => "handshake-bad-url",
        }
    }
}

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
fn set_cookie_name(directive: &str) -> Option<&str> {
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
    pub reason: &'static str,
}

fn time_claim(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>, HandshakeError> {
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
        plan: ResponsePlan,
        dropped: Vec<DroppedCookie>,
    },
    /// Refused: treat the request as signed out with `reason` (nothing is planted). Send
    /// `clear_cookies` with whatever response follows.
    Refused {
        reason: Reason,
        clear_cookies: Vec<String>,
    },
}

/// The first half of a handshake resolution, before the signature: the state (missing or
/// different → refused with `handshake-state-mismatch`, before the token is even parsed), the
/// public URL, then the token's shape, header and key choice (pass
/// [`HANDSHAKE_MAX_TOKEN_BYTES`]; a JWT-template or machine token is refused). Then run the
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
                plan: ResponsePlan {
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
fn handshake_clears() -> Vec<String> {
    vec![clear_cookie(HANDSHAKE), clear_cookie(STATE_NAME)]
}

/// A refused handshake: signed out with `reason`, its cookies cleared.
pub fn handshake_refusal(reason: Reason) -> HandshakeResolution {
    HandshakeResolution::Refused {
        reason,
        clear_cookies: handshake_clears(),
    }
}

// ---------------------------------------------------------------------------------------------
// Outage grace
// ---------------------------------------------------------------------------------------------

/// Whether an expired session may be accepted because Clerk is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceDecision {
    /// Grace would apply if the Frontend API is down: check it, then decide again.
    NeedOutageCheck,
    /// Accept the session until `until_ms` (= (exp + grace) * 1000).
    Accept {
        until_ms: i64,
    },
    No,
}

/// Outage grace: only when `outage_grace_seconds` > 0, the token failed solely for expiry
/// (`SessionClaims::only_expired`: every other check passes), `now_ms` is before
/// `exp + grace`, and for cookie sessions (`client_uat` is `Some`) client_uat is > 0 and not later
/// than the token's `iat` (no sign-out since). Then: Frontend API unknown → check it; down →
/// accept; up → no (the normal handshake happens).
pub fn grace_applies(
    claims: &SessionClaims,
    validation: &Validation,
    outage_grace_seconds: i64,
    client_uat: Option<i64>,
    now_ms: i64,
    fapi: FapiStatus,
) -> GraceDecision {
    if outage_grace_seconds <= 0 || !claims.only_expired(validation, now_ms) {
        return GraceDecision::No;
    }
    if let Some(uat) = client_uat {
        if uat <= 0 || claims.iat.is_some_and(|iat| iat < uat) {
            return GraceDecision::No;
        }
    }
    let until_ms = claims
        .exp
        .saturating_add(outage_grace_seconds)
        .saturating_mul(1000);
    if now_ms >= until_ms {
        return GraceDecision::No;
    }
    match fapi {
        FapiStatus::Unknown => GraceDecision::NeedOutageCheck,
        FapiStatus::Up => GraceDecision::No,
        FapiStatus::Down => GraceDecision::Accept { until_ms },
    }
}

/// What the outage check's fetch produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    ConnectFailed,
    TimedOut,
    Status(u16),
}

/// Connection failure, timeout or 5xx → down; any other status → up.
pub fn classify_probe(result: ProbeResult) -> FapiStatus {
    match result {
        ProbeResult::ConnectFailed | ProbeResult::TimedOut => FapiStatus::Down,
        ProbeResult::Status(s) if (500..=599).contains(&s) => FapiStatus::Down,
        ProbeResult::Status(_) => FapiStatus::Up,
    }
}

/// The per-isolate memory of the last outage check, valid [`PROBE_CACHE_MS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutageProbe {
    last: Option<(FapiStatus, i64)>,
}

impl OutageProbe {
    pub fn new() -> OutageProbe {
        OutageProbe::default()
    }

    /// Up/Down when checked within the last 30 s (a clock going backwards counts as stale),
    /// else `Unknown`.
    pub fn status(&self, now_ms: i64) -> FapiStatus {
        match self.last {
            Some((status, at)) if now_ms >= at && now_ms.saturating_sub(at) < PROBE_CACHE_MS => {
                status
            }
            _ => FapiStatus::Unknown,
        }
    }

    /// Records a check and returns its classification.
    pub fn record(&mut self, result: ProbeResult, now_ms: i64) -> FapiStatus {
        let status = classify_probe(result);
        self.last = Some((status, now_ms));
        status
    }
}
