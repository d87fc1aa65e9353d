//! The way to the origin and back, as data: the outbound header plan (hop-by-hop and spoofed
//! identity removed, identity and forwarding headers set, optional HS256 origin assertion), the
//! `ORIGIN_URL` join, and the response-side header pass (hop-by-hop removed, `Location` on the
//! origin's host rewritten to the public host). Pure: time and randomness come in as parameters.
//!
//! # Header plan
//! 1. Dropped from the inbound request: hop-by-hop headers (`Connection`, `Keep-Alive`, `TE`,
//!    `Trailer`, `Transfer-Encoding`, `Upgrade`, every `Proxy-*`) and every header named in
//!    `Connection`, except that a WebSocket upgrade keeps `Upgrade` and gets `Connection: Upgrade`;
//!    every `X-Auth-*` and `X-Edgegate-*` in any case and with `_` for `-`; `Host` (the fetch sets
//!    the origin's); `Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `X-Request-Id` (replaced below);
//!    every name on [`DEFAULT_STRIPPED_HEADERS`] (path, method and host overrides, Next.js's
//!    `x-middleware-subrequest`, Clerk's `x-clerk-*`) and on `STRIP_REQUEST_HEADERS`.
//!    With `FORWARD_TOKEN=false` also `Authorization`, every token-bearing Clerk cookie
//!    ([`is_token_cookie`]) and, in the query, Clerk's token-bearing parameters
//!    ([`strip_token_params`]); with `FORWARD_TOKEN=true` only the first `Authorization` header
//!    (the one verified) is kept. A CORS preflight (never authenticated) is always treated as
//!    `FORWARD_TOKEN=false`.
//! 2. Set: `X-Forwarded-For` (from `CF-Connecting-IP`), `X-Forwarded-Host`/`X-Forwarded-Proto`
//!    (from the validated public URL), `X-Request-Id`, `X-Auth-Status` (`signed-in`,
//!    `signed-out`, `grace`) and, when signed out, `X-Auth-Reason` (the reason code); with a
//!    verified token `X-Auth-Token-Type` (`session_token`, `m2m_token`, `oauth_token`), for a
//!    machine token `X-Auth-Machine-Id` (M2M), `X-Auth-Client-Id` (OAuth), `X-Auth-Scopes`
//!    (space-separated); `X-Auth-User-Id` (a session's or an OAuth token's user, never an M2M
//!    machine),
//!    `X-Auth-Session-Id`, `X-Auth-Org-Id`, `X-Auth-Org-Role`, `X-Auth-Org-Slug`,
//!    `X-Auth-Org-Permissions` (comma-separated), `X-Auth-Actor` (`act.sub`),
//!    `X-Auth-Claim-<name>` per `FORWARD_CLAIMS` (sessions only, never a machine token's
//!    claims), `X-Auth-Grace: 1` in outage grace; with
//!    `ORIGIN_ASSERTION_SECRET`, `X-Edgegate-Assertion` on every proxied request.
//!
//! Values: a string that is printable ASCII and does not start with `"` is sent as-is; any other
//! string, and every non-string claim, is sent as ASCII-only JSON (`"caf\u00e9"`, `{"a":1}`,
//! `true`), so CR/LF and non-ASCII can never reach a header and nothing is lost.
//!
//! # Origin assertion (`X-Edgegate-Assertion`)
//! A compact JWS, `alg` HS256, `typ` JWT, keyed with the `ORIGIN_ASSERTION_SECRET` bytes. Claims:
//! `iss` = `"edgegate"`, `aud` = the `ORIGIN_URL` origin (`https://origin.example`), `iat` = now,
//! `exp` = `iat + 60`, `jti` = the request id, `htm` = the method, `htu` = the path and query
//! exactly as the origin receives them (with `ORIGIN_URL`'s base path); with a verified token
//! `token_type`, and for a machine token `machine_id` (M2M), `client_id` (OAuth) and `scopes`
//! (an array); with a session or OAuth token also `sub` (user id), `sid`, `org_id`, `org_role`, `org_slug`, `act`
//! (the impersonator's user id), `org_permissions`, `fva`, `fea` and `pla` when the session has
//! them, and `grace: true` in outage grace; `auth_status` always, and `auth_reason` when signed
//! out. An origin checks: the
//! signature with the shared secret (constant-time), `alg` exactly HS256, `iss`, `aud` equal to its
//! own origin, `exp` in the future and `iat` not in the future (a few seconds' skew), `htm`/`htu`
//! equal to the request it received, and then takes `sub`/`org_*` from the assertion rather than
//! from the `X-Auth-*` headers. Lock the origin to Cloudflare too (Cloudflare Tunnel, or a
//! firewall allowing only Cloudflare's ranges): the assertion proves a request came through
//! edgegate, the lock keeps everyone else out.

use crate::auth::Auth;
use crate::forwarded::{push_port, PublicUrl, Scheme};
use crate::http::{self, is_token, HeaderEdit, HeaderList, Verdict};
use crate::response::{AuthStatus, RefusalReason};
use crate::token::MachineIdentity;
use crate::web_url::{UrlError, WebUrl};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

mod assertion;
mod name_class;
mod plan;
mod strip;
pub use assertion::{assertion, assertion_claims, ASSERTION_TTL_SECS};
use name_class::NameClass;
pub use plan::{preflight_response, proxy_plan, PlanRequest, ProxyPlan, Upstream};
use strip::{is_default_stripped, strip_session_cookies};
pub use strip::{
    is_token_cookie, strip_referer, strip_token_params, HeaderPattern, DEFAULT_STRIPPED_HEADERS,
    TOKEN_COOKIE_PREFIXES, TOKEN_QUERY_PARAMS,
};

/// Proxy settings, parsed once per isolate.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `FORWARD_TOKEN` (default true).
    pub forward_token: bool,
    /// `STRIP_REQUEST_HEADERS`, stripped in addition to [`DEFAULT_STRIPPED_HEADERS`].
    pub strip_request_headers: Vec<HeaderPattern>,
    /// `FORWARD_CLAIMS`: claim names; invalid header tokens are skipped (see
    /// [`valid_claim_name`], which the settings parser should apply).
    pub forward_claims: Vec<String>,
    /// `ORIGIN_ASSERTION_SECRET` bytes.
    pub assertion_secret: Option<Vec<u8>>,
    /// The assertion's `aud`: the `ORIGIN_URL` origin.
    pub assertion_audience: String,
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("forward_token", &self.forward_token)
            .field("strip_request_headers", &self.strip_request_headers)
            .field("forward_claims", &self.forward_claims)
            .field(
                "assertion_secret",
                &self.assertion_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("assertion_audience", &self.assertion_audience)
            .finish()
    }
}

/// The facts of one request the plan is made from.
#[derive(Debug, Clone)]
pub struct RequestFacts<'a> {
    /// The request method.
    pub method: &'a str,
    /// The inbound request's headers.
    pub headers: &'a HeaderList,
    /// The verified session, when the request has one.
    pub auth: Option<&'a Auth>,
    /// The validated public URL (for `X-Forwarded-Host` and `X-Forwarded-Proto`).
    pub public_url: &'a PublicUrl,
    /// `CF-Connecting-IP`.
    pub client_ip: Option<&'a str>,
    /// From [`request_id`].
    pub request_id: &'a str,
    /// The path and query sent to the origin (canonical path + query).
    pub path_and_query: &'a str,
    /// Accepted in outage grace.
    pub grace: bool,
    /// Why the request has no session, when it has none (sent as `X-Auth-Reason`).
    pub signed_out_reason: Option<RefusalReason>,
    /// Seconds since the epoch.
    pub now: i64,
}

impl RequestFacts<'_> {
    /// `signed-in`, `signed-out` or `grace`, as `X-Auth-Status` and the assertion say it.
    pub fn auth_status(&self) -> AuthStatus {
        match (self.auth, self.grace) {
            (Some(_), true) => AuthStatus::Grace,
            (Some(_), false) => AuthStatus::SignedIn,
            (None, _) => AuthStatus::SignedOut,
        }
    }
}

/// A `FORWARD_CLAIMS` entry must be a header token.
pub fn valid_claim_name(name: &str) -> bool {
    is_token(name) && name.len() <= 64
}

/// `CF-Ray` when it looks like one (ASCII alphanumerics and `-`, 1-64 characters), otherwise 32
/// hex characters from the 16 bytes the caller supplies (unique to the request, see `random`).
pub fn request_id(cf_ray: Option<&str>, random: impl FnOnce() -> [u8; 16]) -> String {
    if let Some(ray) = cf_ray.map(str::trim) {
        if !ray.is_empty()
            && ray.len() <= 64
            && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return ray.to_string();
        }
    }
    crate::hex::hex_lower(&random())
}

/// JSON with every non-ASCII character and DEL escaped as `\uXXXX`.
fn ascii_json(v: &Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A header-safe rendering of a string (see the module documentation).
pub fn header_value(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.starts_with('"') {
        s.to_string()
    } else {
        ascii_json(&Value::String(s.to_string()))
    }
}

/// A header-safe rendering of a claim value: strings as [`header_value`], others ASCII JSON.
pub fn claim_header_value(v: &Value) -> String {
    match v {
        Value::String(s) => header_value(s),
        other => ascii_json(other),
    }
}

/// Trimmed, lower-case, `_` read as `-` (as some servers read it).
pub(crate) fn normalized_name(name: &str) -> Cow<'_, str> {
    // Bytes, not chars: this runs for every header of every request and response, and mapping
    // only ASCII bytes keeps any UTF-8 intact. The runtime hands the worker lower-case names, so
    // nearly every name is already normal and is borrowed, not copied.
    let trimmed = trim(name);
    if !trimmed.bytes().any(|b| b.is_ascii_uppercase() || b == b'_') {
        return Cow::Borrowed(trimmed);
    }
    let mut lower = trimmed.to_ascii_lowercase();
    if lower.contains('_') {
        lower = lower.replace('_', "-");
    }
    Cow::Owned(lower)
}

/// `s.trim()`, without decoding a character when `s` starts and ends with a printable ASCII
/// byte (every name the runtime hands over: a header name is a token).
#[inline]
fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// True for names the gateway owns (`X-Auth-*`, `X-Edgegate-*`, any case, `_` or `-`).
pub fn is_identity_header(name: &str) -> bool {
    is_identity_name(&normalized_name(name))
}

/// [`is_identity_header`] for a name already normalised ([`normalized_name`]).
fn is_identity_name(normalized: &str) -> bool {
    matches!(
        NameClass::of(normalized),
        NameClass::AuthIdentity | NameClass::GatewayOwn
    )
}

fn connection_tokens(headers: &HeaderList) -> impl Iterator<Item = Cow<'_, str>> {
    headers
        .get_all("connection")
        .flat_map(|v| v.split(','))
        .map(normalized_name)
        .filter(|t| !t.is_empty())
}

/// The names `Connection` lists that are not hop-by-hop already: the extra names a plan drops.
/// Usually none (`keep-alive`, `close`... `close` names no header but is kept here all the
/// same), so usually no allocation.
fn connection_named(headers: &HeaderList) -> Vec<Cow<'_, str>> {
    connection_tokens(headers)
        .filter(|t| !NameClass::of(t).is_hop_by_hop())
        .collect()
}

/// Hop-by-hop by its class, or named in `Connection`.
fn is_hop_by_hop(class: NameClass, lower: &str, named: &[Cow<'_, str>]) -> bool {
    class.is_hop_by_hop() || named.iter().any(|t| t == lower)
}

/// True for a WebSocket upgrade request (`Upgrade: websocket` and `Connection: upgrade`).
pub fn is_websocket_upgrade(headers: &HeaderList) -> bool {
    headers.get_all("upgrade").any(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
    }) && connection_tokens(headers).any(|t| t == "upgrade")
}

/// The edits that turn the request's headers into those sent to the origin (see the module
/// documentation): a verdict per inbound header, then the identity and forwarding headers.
/// `preflight`: the request is a CORS preflight, which is never an upgrade (the runtime would
/// send it as a WebSocket handshake).
pub fn request_edits(
    facts: &RequestFacts<'_>,
    settings: &ProxySettings,
    preflight: bool,
) -> Vec<HeaderEdit> {
    request_edits_kept(facts, settings, preflight, None)
}

/// [`request_edits`], the identity headers taken from `identity` (rendered there by the first
/// request that asks) when the token's cache entry gives one.
pub fn request_edits_kept(
    facts: &RequestFacts<'_>,
    settings: &ProxySettings,
    preflight: bool,
    identity: Option<&http::RenderedHeaders>,
) -> Vec<HeaderEdit> {
    let websocket = !preflight && is_websocket_upgrade(facts.headers);
    // A browser never sends credentials on a preflight, and the gateway never verified any:
    // whatever a client put there does not reach the origin.
    let forward_token = settings.forward_token && !preflight;
    let verdicts = inbound_verdicts(facts.headers, settings, websocket, forward_token);
    http::edits_for(
        facts.headers,
        &verdicts,
        added_headers(facts, settings, websocket, identity),
    )
}

/// What happens to each inbound header on its way to the origin.
fn inbound_verdicts(
    headers: &HeaderList,
    settings: &ProxySettings,
    websocket: bool,
    forward_token: bool,
) -> Vec<Verdict> {
    let named = connection_named(headers);
    let mut seen_authorization = false;
    let verdict = |name: &str, value: &str, seen_authorization: &mut bool| {
        let lower = normalized_name(name);
        let class = NameClass::of(&lower);
        let dropped = match class {
            NameClass::AuthIdentity | NameClass::GatewayOwn | NameClass::Replaced => true,
            NameClass::Other => is_default_stripped(&lower),
            _ => false,
        };
        if dropped
            || settings
                .strip_request_headers
                .iter()
                .any(|p| p.matches(&lower))
        {
            return Verdict::Drop;
        }
        if class == NameClass::Upgrade && websocket {
            return Verdict::Keep;
        }
        if is_hop_by_hop(class, &lower, &named) {
            return Verdict::Drop;
        }
        match class {
            NameClass::Authorization => {
                if !forward_token || *seen_authorization {
                    return Verdict::Drop;
                }
                *seen_authorization = true;
                Verdict::Keep
            }
            NameClass::Referer if !forward_token => {
                strip_referer(value).map_or(Verdict::Drop, |kept| replaced(value, kept))
            }
            NameClass::Cookie if !forward_token => {
                let kept = strip_session_cookies(value);
                if kept.is_empty() {
                    Verdict::Drop
                } else {
                    replaced(value, kept)
                }
            }
            _ => Verdict::Keep,
        }
    };
    headers
        .iter()
        .map(|(name, value)| verdict(name, value, &mut seen_authorization))
        .collect()
}

/// `Replace`, or `Keep` when the new value is the old one (no edit then).
fn replaced(old: &str, new: String) -> Verdict {
    if new == old {
        Verdict::Keep
    } else {
        Verdict::Replace(new)
    }
}

/// A header the plan adds, by name and value.
type Added = (http::EditName, String);

/// The identity and forwarding headers the origin gets, in order.
fn added_headers(
    facts: &RequestFacts<'_>,
    settings: &ProxySettings,
    websocket: bool,
    identity: Option<&http::RenderedHeaders>,
) -> Vec<Added> {
    let mut out: Vec<Added> = Vec::with_capacity(12);
    if websocket {
        out.push(("Connection".into(), "Upgrade".to_string()));
    }
    let mut add = |n: http::EditName, v: String| out.push((n, v));
    forwarding_headers(facts, &mut add);
    add(
        "X-Auth-Status".into(),
        facts.auth_status().as_str().to_string(),
    );
    if facts.auth.is_none() {
        if let Some(reason) = facts.signed_out_reason {
            add("X-Auth-Reason".into(), reason.code().to_string());
        }
    }
    if let Some(auth) = facts.auth {
        match identity {
            Some(kept) => {
                let rendered = kept.get_or_render(|| {
                    let mut headers = Vec::with_capacity(6);
                    identity_headers(auth, settings, &mut |n, v| headers.push((n, v)));
                    headers
                });
                for (name, value) in rendered {
                    add(name.clone(), value.clone());
                }
            }
            None => identity_headers(auth, settings, &mut add),
        }
        if facts.grace {
            add("X-Auth-Grace".into(), "1".to_string());
        }
    }
    if let Some(secret) = &settings.assertion_secret {
        if let Some(jwt) = assertion(facts, &settings.assertion_audience, secret) {
            add("X-Edgegate-Assertion".into(), jwt);
        }
    }
    out
}

/// `X-Forwarded-For` (a well-formed `CF-Connecting-IP` only), `X-Forwarded-Host`,
/// `X-Forwarded-Proto` and `X-Request-Id`.
fn forwarding_headers(facts: &RequestFacts<'_>, add: &mut impl FnMut(http::EditName, String)) {
    if let Some(ip) = facts.client_ip.map(str::trim).filter(|ip| {
        !ip.is_empty()
            && ip.len() <= 64
            && ip
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    }) {
        add("X-Forwarded-For".into(), ip.to_string());
    }
    add("X-Forwarded-Host".into(), facts.public_url.authority());
    add(
        "X-Forwarded-Proto".into(),
        facts.public_url.scheme.as_str().to_string(),
    );
    add("X-Request-Id".into(), header_value(facts.request_id));
}

/// What a verified token says of its holder: token type, user, machine, session, organisation,
/// actor, permissions and the `FORWARD_CLAIMS` claims.
fn identity_headers(
    auth: &Auth,
    settings: &ProxySettings,
    add: &mut impl FnMut(http::EditName, String),
) {
    add(
        "X-Auth-Token-Type".into(),
        auth.token_type().code().to_string(),
    );
    if let Some(user) = auth.user() {
        add("X-Auth-User-Id".into(), header_value(user));
    }
    if let Some(m) = &auth.machine {
        machine_headers(m, add);
    }
    let optional = [
        ("X-Auth-Session-Id", auth.session_id.as_deref()),
        ("X-Auth-Org-Id", auth.org_id.as_deref()),
        ("X-Auth-Org-Role", auth.org_role.as_deref()),
        ("X-Auth-Org-Slug", auth.org_slug.as_deref()),
        ("X-Auth-Actor", auth.actor_id()),
    ];
    for (n, v) in optional {
        if let Some(v) = v {
            add(n.into(), header_value(v));
        }
    }
    if !auth.org_permissions.is_empty() {
        add(
            "X-Auth-Org-Permissions".into(),
            header_value(&auth.org_permissions.join(",")),
        );
    }
    // A machine token's claims were chosen by whoever minted it: they never reach the origin as
    // claims; a machine request carries only the machine headers.
    if auth.machine.is_some() {
        return;
    }
    for claim in &settings.forward_claims {
        if let Some(v) = auth.claims.get(claim).filter(|_| valid_claim_name(claim)) {
            add(
                format!("X-Auth-Claim-{claim}").into(),
                claim_header_value(v),
            );
        }
    }
}

/// `X-Auth-Machine-Id` (M2M), `X-Auth-Client-Id` (OAuth), `X-Auth-Scopes`, when present.
fn machine_headers(m: &MachineIdentity, add: &mut impl FnMut(http::EditName, String)) {
    if let Some(id) = &m.machine_id {
        add("X-Auth-Machine-Id".into(), header_value(id));
    }
    if let Some(id) = &m.client_id {
        add("X-Auth-Client-Id".into(), header_value(id));
    }
    if !m.scopes.is_empty() {
        add("X-Auth-Scopes".into(), header_value(&m.scopes.join(" ")));
    }
}

/// Why `ORIGIN_URL` is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginError {
    /// `origin-url-invalid`: not an absolute URL with a host.
    Invalid,
    /// `origin-url-scheme`: a scheme other than http or https.
    Scheme,
    /// `origin-url-userinfo`: a user name or password in the URL.
    Userinfo,
    /// `origin-url-query-or-fragment`: a query or fragment in the URL.
    QueryOrFragment,
}

impl OriginError {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            OriginError::Invalid => "origin-url-invalid",
            OriginError::Scheme => "origin-url-scheme",
            OriginError::Userinfo => "origin-url-userinfo",
            OriginError::QueryOrFragment => "origin-url-query-or-fragment",
        }
    }
}

/// A parsed `ORIGIN_URL`: http(s), no credentials, no query or fragment, an optional path
/// prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// http or https.
    pub scheme: Scheme,
    /// Lowercased host (bracketed IPv6).
    pub host: String,
    /// Explicit non-default port.
    pub port: Option<u16>,
    /// Path prefix without a trailing `/` (empty for none).
    pub base_path: String,
}

impl Origin {
    /// Parses `ORIGIN_URL`, or says why it is unusable.
    pub fn parse(url: &str) -> Result<Origin, OriginError> {
        let u = WebUrl::parse(url).map_err(|e| match e {
            UrlError::Scheme => OriginError::Scheme,
            UrlError::Invalid => OriginError::Invalid,
        })?;
        let scheme = Scheme::parse(u.scheme()).map_err(|_| OriginError::Scheme)?;
        if u.has_credentials() {
            return Err(OriginError::Userinfo);
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err(OriginError::QueryOrFragment);
        }
        Ok(Origin {
            scheme,
            host: u.host_str().to_owned(),
            port: u.port(),
            base_path: u.path().trim_end_matches('/').to_string(),
        })
    }

    /// `host[:port]`.
    pub fn authority(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 6);
        out.push_str(&self.host);
        push_port(&mut out, self.port);
        out
    }

    /// `scheme://authority`, the assertion audience.
    pub fn origin(&self) -> String {
        let mut out = String::new();
        self.push_origin(&mut out);
        out
    }

    /// Appends `scheme://host[:port]` (pushed piece by piece: it runs for every proxied request).
    fn push_origin(&self, out: &mut String) {
        out.push_str(self.scheme.as_str());
        out.push_str("://");
        out.push_str(&self.host);
        push_port(out, self.port);
    }

    /// The URL to fetch: origin + [`Origin::path_and_query`].
    pub fn join(&self, canonical_path: &str, query: Option<&str>) -> String {
        let mut out = String::with_capacity(
            self.host.len() + self.base_path.len() + canonical_path.len() + 16,
        );
        self.push_origin(&mut out);
        self.push_path_and_query(&mut out, canonical_path, query);
        out
    }

    /// The path and query the origin receives (and the assertion's `htu`): base path +
    /// canonical path + `?query` (when the request had one; characters never valid in a query
    /// are percent-encoded).
    pub fn path_and_query(&self, canonical_path: &str, query: Option<&str>) -> String {
        let mut out = String::with_capacity(self.base_path.len() + canonical_path.len() + 16);
        self.push_path_and_query(&mut out, canonical_path, query);
        out
    }

    fn push_path_and_query(&self, out: &mut String, canonical_path: &str, query: Option<&str>) {
        out.push_str(&self.base_path);
        if !canonical_path.starts_with('/') {
            out.push('/');
        }
        out.push_str(canonical_path);
        if let Some(q) = query {
            out.push('?');
            out.push_str(&sanitize_query(q));
        }
    }
}

fn sanitize_query(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        if c.is_ascii_graphic()
            && !matches!(
                c,
                '#' | '"' | '<' | '>' | '`' | '{' | '}' | '\\' | '^' | '|'
            )
        {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// `Location` rewritten to the public URL when it names the origin's host (absolute or
/// scheme-relative, same host and effective port); the origin's base path prefix is removed.
/// `None` means: leave it unchanged. Pass the allow-listed URL from
/// `forwarded::redirect_target`, so a spoofed forwarded host never lands in a `Location`.
pub fn rewrite_location(location: &str, origin: &Origin, public: &PublicUrl) -> Option<String> {
    let loc = location.trim();
    let absolute = if loc.starts_with("//") {
        format!("{}:{}", origin.scheme.as_str(), loc)
    } else {
        loc.to_string()
    };
    // Only the scheme and authority are read (strictly); the rest is the origin's, kept as it
    // wrote it: the browser reads it against the public origin as it would have against the
    // origin's. (A path the URL reader refuses, such as `/a b`, must not leave the origin's
    // host in the header.)
    let (scheme, rest) = absolute.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let u = WebUrl::parse(&format!("{scheme}://{authority}")).ok()?;
    let origin_port = origin.port.unwrap_or(origin.scheme.default_port());
    if u.host_str() != origin.host || u.port_or_default() != origin_port {
        return None;
    }
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, after) = tail.split_at(path_end);
    let path = if path.is_empty() { "/" } else { path };
    let path = if origin.base_path.is_empty() {
        path
    } else {
        match path.strip_prefix(origin.base_path.as_str()) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => path,
        }
    };
    Some(format!("{}{path}{after}", public.origin()))
}

/// True when the origin's `Cache-Control` says `private` or `no-store` (any case), so no
/// shared cache keeps the response. `private="field"` does not count: it keeps only those
/// fields out of a shared cache, and the body stays shareable (RFC 9111, 5.2.2.7).
fn cache_is_private(origin_headers: &HeaderList) -> bool {
    origin_headers
        .get_all("cache-control")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|d| d.eq_ignore_ascii_case("private") || d.eq_ignore_ascii_case("no-store"))
}

/// The names a response to an authenticated request must vary on, so a shared cache never
/// serves one user's response to another.
pub const AUTH_VARY: &[&str] = &["Authorization", "Cookie"];

/// The origin's `Vary` names with [`AUTH_VARY`] added where missing, as one value; `None` when
/// the origin already varies on `*`.
fn merged_vary(origin_headers: &HeaderList) -> Option<String> {
    let mut names: Vec<&str> = origin_headers
        .get_all("vary")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.contains(&"*") {
        return None;
    }
    for add in AUTH_VARY {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(add)) {
            names.push(add);
        }
    }
    Some(names.join(", "))
}

/// The edits that turn the origin response's headers into those sent to the client: hop-by-hop headers and those named in
/// `Connection` removed (a 101 keeps `Upgrade` and `Connection`), the origin's own
/// `X-Edgegate-*` removed, `Location` rewritten (see [`rewrite_location`]), several `Set-Cookie`
/// kept several, and `X-Edgegate-Auth-Status` added (unless `status_header` is false:
/// `AUTH_STATUS_HEADER`). For an authenticated request (signed in or
/// in grace) whose response the origin did not mark `private` or `no-store`, `Vary` gains
/// `Authorization, Cookie` (merged with the origin's `Vary` into one header).
pub fn response_edits(
    origin_headers: &HeaderList,
    status: u16,
    origin: &Origin,
    public: &PublicUrl,
    auth_status: AuthStatus,
    status_header: bool,
) -> Vec<HeaderEdit> {
    let named = connection_named(origin_headers);
    let authenticated = matches!(auth_status, AuthStatus::SignedIn | AuthStatus::Grace);
    let vary = if authenticated && !cache_is_private(origin_headers) {
        merged_vary(origin_headers)
    } else {
        None
    };
    let verdict = |name: &str, value: &str| {
        let lower = normalized_name(name);
        let class = NameClass::of(&lower);
        match class {
            NameClass::Vary if vary.is_some() => Verdict::Drop,
            NameClass::Upgrade | NameClass::Connection if status == 101 => Verdict::Keep,
            NameClass::GatewayOwn => Verdict::Drop,
            _ if is_hop_by_hop(class, &lower, &named) => Verdict::Drop,
            NameClass::Location => rewrite_location(value, origin, public)
                .map_or(Verdict::Keep, |rewritten| replaced(value, rewritten)),
            _ => Verdict::Keep,
        }
    };
    let verdicts: Vec<Verdict> = origin_headers
        .iter()
        .map(|(name, value)| verdict(name, value))
        .collect();
    let mut added: Vec<(http::EditName, String)> = Vec::with_capacity(2);
    if let Some(vary) = vary {
        added.push(("Vary".into(), vary));
    }
    if status_header {
        added.push((
            "X-Edgegate-Auth-Status".into(),
            auth_status.as_str().to_string(),
        ));
    }
    http::edits_for(origin_headers, &verdicts, added)
}

#[cfg(test)]
mod identity_name_tests {
    use super::{is_identity_header, normalized_name};
    use proptest::prelude::*;

    /// The definition [`normalized_name`] is held to, a character at a time.
    fn normalized_char(c: char) -> char {
        if c == '_' {
            '-'
        } else {
            c.to_ascii_lowercase()
        }
    }

    proptest! {
        // The byte-wise normalisation must agree with the char-wise definition, UTF-8 included.
        #[test]
        fn normalized_name_is_trimmed_lower_case_with_dashes(name in "[ \\tA-Za-z_-]{0,4}\\PC{0,8}") {
            let expected: String = name.trim().chars().map(normalized_char).collect();
            prop_assert_eq!(normalized_name(&name), expected);
        }
    }

    #[test]
    fn identity_names_in_any_spelling() {
        for name in [
            "X-Auth-User-Id",
            "x_auth_user_id",
            " X-EDGEGATE-Assertion",
            "x-auth-",
        ] {
            assert!(is_identity_header(name), "{name}");
        }
        for name in [
            "X-Authorization",
            "x-auth",
            "X-Edgegate",
            "authorization",
            "ẋ-auth-x",
        ] {
            assert!(!is_identity_header(name), "{name}");
        }
    }
}
