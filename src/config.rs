//! Settings → one validated [`Settings`], once per isolate, with everything derived from them
//! (route table, origin, proxy settings, publishable key, Frontend API). Every problem is found
//! in one pass. Every setting is read through a lookup
//! function (the edge passes wrangler's vars and secrets; tests pass a map), so nothing here
//! reads an environment. A [`ConfigError`] names the setting and the problem, never the value.

use crate::clerk::PublishableKey;
use crate::forwarded::PublicUrl;
use crate::keys::{parse_key_set, KeySet};
use crate::proxy::{HeaderPattern, Origin, ProxySettings};
use crate::routes::RouteTable;
use crate::token::{Validation, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_TOKEN_BYTES, MAX_CLOCK_SKEW_MS};
use crate::web_url::{is_loopback_host, UrlError, WebUrl as Url};
use std::fmt;
use std::rc::Rc;

/// Default `UPSTREAM_TIMEOUT_MS`.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 30_000;
/// Largest `OUTAGE_GRACE_SECONDS`.
pub const MAX_OUTAGE_GRACE_SECONDS: i64 = 3600;

/// A settings lookup as the wasm's callers pass it: the worker's entry and the deployment check
/// (`crate::deploy_check`) both call the settings parser with this one type, so that the wasm
/// holds one copy of the parser rather than one per closure type (about 14 KB gzipped).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One invalid or missing setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's name.
    pub setting: &'static str,
    /// What is wrong with it (never its value).
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem)
    }
}

/// How CORS preflights are handled (`CORS_PREFLIGHT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreflightMode {
    /// `origin` (default): passed to the origin without a token, identity headers stripped.
    PassToOrigin,
    /// `edge`: answered at the edge with 204 and no CORS grant (the origin's CORS policy is
    /// not known here, so this refuses cross-origin calls unless the origin is same-site).
    AnswerAtEdge,
}

/// Every setting, typed, and what is derived from them. Built once per isolate by
/// [`Settings::from_settings`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// `CLERK_JWT_KEY`: the keys a token may be signed with.
    pub keys: KeySet,
    /// The token policy: `AUTHORIZED_PARTIES`, `ISSUER`, `AUDIENCE`, `CLOCK_SKEW_MS`,
    /// `MAX_TOKEN_BYTES`, `AZP_MISSING`, `SID_MISSING` and `PENDING_SESSIONS`.
    pub validation: Validation,
    /// `ORIGIN_URL`; shared with every proxy plan (which needs it again for `Location`).
    pub origin: Rc<Origin>,
    /// `PUBLIC_ROUTES`, `PROTECTED_ROUTES`, `ROUTE_RULES` and the sign-in path.
    pub routes: RouteTable,
    /// The outbound header plan's settings.
    pub proxy: ProxySettings,
    /// `PUBLISHABLE_KEY`, parsed: cookie suffix, instance type, Frontend API host.
    pub publishable: Option<PublishableKey>,
    /// The Frontend API (handshake and outage check): `FRONTEND_API_URL` or from the key.
    pub fapi_base: Option<String>,
    /// Hosts of `AUTHORIZED_PARTIES`, for the default `ALLOWED_HOSTS`.
    pub party_hosts: Vec<String>,
    /// `SIGN_IN_URL`: an absolute http(s) URL, or a path on this host (starting with one `/`).
    pub sign_in_url: Option<String>,
    /// `OUTAGE_GRACE_SECONDS` (0, the default, turns grace off).
    pub outage_grace_seconds: i64,
    /// `ORGANIZATION_PATTERNS` and `PERSONAL_ACCOUNT_PATTERNS`: organisation sync.
    pub org_sync: crate::clerk::OrgSync,
    /// `IS_SATELLITE`, `DOMAIN`, `SATELLITE_AUTO_SYNC`, `SATELLITE_DOMAINS`: satellite domains.
    pub satellite: crate::clerk::SatelliteSettings,
    /// `TRUST_FORWARDED` (default false).
    pub trust_forwarded: bool,
    /// `ALLOWED_HOSTS`, lowercased; `None` when not set.
    pub allowed_hosts: Option<Vec<String>>,
    /// `UPSTREAM_TIMEOUT_MS`.
    pub upstream_timeout_ms: u64,
    /// `CORS_PREFLIGHT`.
    pub preflight: PreflightMode,
    /// `JWKS_URL`: where the Cron Trigger fetches extra keys from (`None`: off, the default).
    pub jwks: Option<crate::jwks::JwksSource>,
    /// How many of `keys` are the embedded `CLERK_JWT_KEY` keys (they come first); the rest
    /// were fetched (`JWKS_URL`).
    pub embedded_keys: usize,
    /// What this isolate knows of the JWKS refresh, for health.
    pub key_refresh: crate::jwks::RefreshView,
    /// Names given that look like settings but are none (see [`unknown_setting_warnings`]):
    /// logged at start-up and listed by health, never fatal.
    pub warnings: Vec<String>,
    /// `LOG_REQUESTS` and `AUTH_STATUS_HEADER`: what an allowed request costs besides the fetch.
    pub reporting: Reporting,
}

/// What the gateway reports of an allowed (proxied) request: the lean profile turns both off
/// (docs/performance.md gives each one's measured cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reporting {
    /// `LOG_REQUESTS=all` (default): a log line for every request; `refusals`: none for a
    /// request the origin answered (refusals, redirects, origin failures are always logged).
    pub log_allowed: bool,
    /// `AUTH_STATUS_HEADER=true` (default): proxied responses carry `X-Edgegate-Auth-Status`;
    /// `false`: they do not (the gateway's own responses always do).
    pub status_header: bool,
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting {
            log_allowed: true,
            status_header: true,
        }
    }
}

/// Clerk's environment names accepted for edgegate's settings where they mean the same. A
/// setting given under both names is a problem.
pub const ALIASES: &[(&str, &str)] = &[
    ("PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY"),
    ("SIGN_IN_URL", "CLERK_SIGN_IN_URL"),
    ("FRONTEND_API_URL", "CLERK_PROXY_URL"),
    ("FRONTEND_API_URL", "CLERK_FRONTEND_API"),
    ("IS_SATELLITE", "CLERK_IS_SATELLITE"),
    ("DOMAIN", "CLERK_DOMAIN"),
    ("SATELLITE_AUTO_SYNC", "CLERK_SATELLITE_AUTO_SYNC"),
];

struct Reader<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<ConfigError>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn one(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The setting under its own name or one of Clerk's ([`ALIASES`]); two of them set is a
    /// problem (the own name wins).
    fn raw(&mut self, name: &'static str) -> Option<String> {
        let mut found: Vec<(&'static str, String)> = Vec::new();
        if let Some(v) = self.one(name) {
            found.push((name, v));
        }
        for (own, alias) in ALIASES {
            if *own == name {
                if let Some(v) = self.one(alias) {
                    // CLERK_FRONTEND_API is a host; FRONTEND_API_URL a URL.
                    let v = if *alias == "CLERK_FRONTEND_API" && !v.contains("://") {
                        format!("https://{v}")
                    } else {
                        v
                    };
                    found.push((alias, v));
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|(n, _)| *n).collect();
            self.problem(
                name,
                format!("set more than once, as {}: keep one", names.join(" and ")),
            );
        }
        found.into_iter().next().map(|(_, v)| v)
    }

    fn problem(&mut self, setting: &'static str, problem: impl Into<String>) {
        self.problems.push(ConfigError {
            setting,
            problem: problem.into(),
        });
    }

    fn required(&mut self, name: &'static str) -> Option<String> {
        let v = self.raw(name);
        if v.is_none() {
            self.problem(name, "required but not set");
        }
        v
    }

    fn bool(&mut self, name: &'static str, default: bool) -> bool {
        match self.raw(name) {
            None => default,
            Some(v) => parse_bool(&v).unwrap_or_else(|| {
                self.problem(name, "must be true or false");
                default
            }),
        }
    }

    fn int(&mut self, name: &'static str, default: i64, min: i64, max: i64) -> i64 {
        match self.raw(name) {
            None => default,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.problem(name, format!("must be an integer from {min} to {max}"));
                    default
                }
            },
        }
    }

    fn choice(&mut self, name: &'static str, choices: &[&'static str]) -> Option<&'static str> {
        let v = self.raw(name)?;
        let found = choices.iter().find(|c| c.eq_ignore_ascii_case(&v)).copied();
        if found.is_none() {
            self.problem(name, format!("must be one of: {}", choices.join(", ")));
        }
        found
    }

    fn list(&mut self, name: &'static str) -> Vec<String> {
        self.raw(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn url(&mut self, name: &'static str, value: &str, allow_path: bool) -> Option<Url> {
        // A non-ASCII host stays refused (NON_ASCII_HOST).
        match Url::parse_encoding_non_ascii(value) {
            Ok(u) => {
                if !allow_path && (u.query().is_some() || u.fragment().is_some()) {
                    self.problem(name, "must not have a query or fragment");
                    return None;
                }
                if u.has_credentials() {
                    self.problem(name, "must not contain credentials");
                    return None;
                }
                Some(u)
            }
            Err(_) if !value.is_ascii() => {
                self.problem(name, NON_ASCII_HOST);
                None
            }
            Err(UrlError::Scheme | UrlError::Invalid) => {
                self.problem(name, "must be an absolute http(s) URL");
                None
            }
        }
    }
}

/// URLs are ASCII (src/web_url.rs): a host with other characters goes in its punycode form.
const NON_ASCII_HOST: &str =
    "must be ASCII: write a non-ASCII host in its xn-- (punycode) form, as browsers send it";

fn origin_of(party: &str) -> Option<String> {
    let u = Url::parse(party).ok()?;
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return None;
    }
    Some(u.origin())
}

impl Settings {
    /// Reads and validates every setting, one reader per group (keys and validation, Clerk and
    /// the handshake, satellites, the proxy, routes, key refresh). On failure returns every
    /// problem found (so health can list them all), each naming its setting.
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        lookup: &F,
    ) -> Result<Settings, Vec<ConfigError>> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let core = read_keys_and_validation(&mut r);
        let clerk = read_clerk(&mut r);
        let (satellite, satellite_fapi) = read_satellite(&mut r, &clerk);
        let proxy = read_proxy(&mut r, core.origin_url);
        let routes = read_routes(&mut r, clerk.sign_in_url.as_deref());
        let fapi_base = satellite_fapi.or(clerk.fapi_base);
        let jwks = read_jwks_url(&mut r, fapi_base.as_deref());
        let reporting = read_reporting(&mut r);
        let party_hosts =
            crate::forwarded::default_allowed_hosts("", &core.validation.authorized_parties)
                .into_iter()
                .filter(|h| !h.is_empty())
                .collect();

        match (core.keys, proxy.origin) {
            (Some(keys), Some((origin, proxy_settings))) if r.problems.is_empty() => {
                let embedded_keys = keys.len();
                Ok(Settings {
                    keys,
                    jwks,
                    embedded_keys,
                    key_refresh: crate::jwks::RefreshView::default(),
                    validation: core.validation,
                    origin: Rc::new(origin),
                    routes,
                    proxy: proxy_settings,
                    publishable: with_satellite_frontend_api(clerk.publishable, &satellite),
                    fapi_base,
                    party_hosts,
                    sign_in_url: clerk.sign_in_url,
                    outage_grace_seconds: clerk.outage_grace_seconds,
                    org_sync: clerk.org_sync,
                    satellite,
                    trust_forwarded: proxy.trust_forwarded,
                    allowed_hosts: proxy.allowed_hosts,
                    upstream_timeout_ms: proxy.upstream_timeout_ms,
                    preflight: proxy.preflight,
                    warnings: Vec::new(),
                    reporting,
                })
            }
            _ => Err(r.problems),
        }
    }
}

/// `LOG_REQUESTS` and `AUTH_STATUS_HEADER`.
fn read_reporting<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Reporting {
    let log_allowed = !matches!(
        r.choice("LOG_REQUESTS", &["all", "refusals"]),
        Some("refusals")
    );
    Reporting {
        log_allowed,
        status_header: r.bool("AUTH_STATUS_HEADER", true),
    }
}

/// The keys, the token policy and the required settings.
struct CoreSettings {
    keys: Option<KeySet>,
    origin_url: Option<Url>,
    validation: Validation,
}

/// `CLERK_JWT_KEY`, `AUTHORIZED_PARTIES`, `ORIGIN_URL` (its URL form; the origin itself is the
/// proxy's), then the token policy: `CLOCK_SKEW_MS`, `MAX_TOKEN_BYTES`, `AZP_MISSING`,
/// `SID_MISSING`, `PENDING_SESSIONS`, `ISSUER`, `AUDIENCE`.
fn read_keys_and_validation<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> CoreSettings {
    let keys = r
        .required("CLERK_JWT_KEY")
        .and_then(|raw| match parse_key_set(&raw) {
            Ok(k) => Some(k),
            Err(e) => {
                r.problem("CLERK_JWT_KEY", format!("{} ({e})", e.code()));
                None
            }
        });
    let mut parties = Vec::new();
    if r.required("AUTHORIZED_PARTIES").is_some() {
        for p in r.list("AUTHORIZED_PARTIES") {
            match origin_of(&p) {
                Some(o) => parties.push(o),
                None if !p.is_ascii() => r.problem("AUTHORIZED_PARTIES", NON_ASCII_HOST),
                None => r.problem(
                    "AUTHORIZED_PARTIES",
                    "each entry must be an origin such as https://app.example.com",
                ),
            }
        }
    }
    let origin_url = r
        .required("ORIGIN_URL")
        .and_then(|v| r.url("ORIGIN_URL", &v, false));
    let mut validation = Validation::default().with_authorized_parties(&parties);
    validation.clock_skew_ms = r.int("CLOCK_SKEW_MS", DEFAULT_CLOCK_SKEW_MS, 0, MAX_CLOCK_SKEW_MS);
    validation.max_token_bytes = r.int(
        "MAX_TOKEN_BYTES",
        DEFAULT_MAX_TOKEN_BYTES as i64,
        512,
        65_536,
    ) as usize;
    validation.allow_missing_azp = r.choice("AZP_MISSING", &["reject", "allow"]) == Some("allow");
    validation.allow_missing_sid = r.choice("SID_MISSING", &["reject", "allow"]) == Some("allow");
    validation.pending_is_signed_in =
        r.choice("PENDING_SESSIONS", &["signed-out", "signed-in"]) == Some("signed-in");
    validation.issuer = r.raw("ISSUER");
    let audience = r.list("AUDIENCE");
    validation.audience = (!audience.is_empty()).then_some(audience);
    CoreSettings {
        keys,
        origin_url,
        validation,
    }
}

/// What the Clerk reader found.
struct ClerkSettings {
    sign_in_url: Option<String>,
    /// `PUBLISHABLE_KEY` was given (valid or not).
    publishable_given: bool,
    publishable: Option<PublishableKey>,
    /// `FRONTEND_API_URL` (or `CLERK_PROXY_URL`, `CLERK_FRONTEND_API`) was given.
    frontend_api_given: bool,
    fapi_base: Option<String>,
    outage_grace_seconds: i64,
    org_sync: crate::clerk::OrgSync,
}

/// Clerk and the handshake: `SIGN_IN_URL`, `PUBLISHABLE_KEY`, `FRONTEND_API_URL`,
/// `OUTAGE_GRACE_SECONDS`, the organisation-sync patterns, and the Frontend API they name.
fn read_clerk<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> ClerkSettings {
    let sign_in_url = read_sign_in_url(r);
    let publishable_key = r.raw("PUBLISHABLE_KEY");
    if let Some(pk) = &publishable_key {
        if !(pk.starts_with("pk_test_") || pk.starts_with("pk_live_")) {
            r.problem("PUBLISHABLE_KEY", "must start with pk_test_ or pk_live_");
        }
    }
    let frontend_api_url = r.raw("FRONTEND_API_URL").and_then(|v| {
        let u = r.url("FRONTEND_API_URL", &v, true)?;
        if u.scheme() == "http" && !is_loopback_host(&u) {
            r.problem("FRONTEND_API_URL", "must be https (http only on loopback)");
            return None;
        }
        Some(u)
    });
    let outage_grace_seconds = r.int("OUTAGE_GRACE_SECONDS", 0, 0, MAX_OUTAGE_GRACE_SECONDS);
    let org_sync = read_org_sync(r);
    let publishable = publishable_key.as_deref().and_then(|pk| {
        let parsed = PublishableKey::parse(pk);
        if parsed.is_none() && (pk.starts_with("pk_test_") || pk.starts_with("pk_live_")) {
            r.problem("PUBLISHABLE_KEY", "not a valid Clerk publishable key");
        }
        parsed
    });
    let fapi_base =
        crate::clerk::frontend_api_base(frontend_api_url.as_ref(), publishable.as_ref());
    ClerkSettings {
        sign_in_url,
        publishable_given: publishable_key.is_some(),
        publishable,
        frontend_api_given: frontend_api_url.is_some(),
        fapi_base,
        outage_grace_seconds,
        org_sync,
    }
}

/// `SIGN_IN_URL`: an absolute http(s) URL, or a path on this host (starting with one `/`).
fn read_sign_in_url<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Option<String> {
    let v = r.raw("SIGN_IN_URL")?;
    if v.starts_with('/') && !v.starts_with("//") && !v.contains('\\') {
        // A path on this host: resolved against the public URL per request.
        let valid = !v.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if !valid {
            r.problem("SIGN_IN_URL", "path contains spaces or control characters");
            return None;
        }
        Some(v)
    } else {
        r.url("SIGN_IN_URL", &v, true).map(|u| u.to_string())
    }
}

/// The publishable key, on a production satellite with its own Frontend API host as Clerk's
/// `parsePublishableKey` gives it there (`clerk.<DOMAIN>`).
fn with_satellite_frontend_api(
    pk: Option<PublishableKey>,
    satellite: &crate::clerk::SatelliteSettings,
) -> Option<PublishableKey> {
    let mut pk = pk?;
    if let (true, crate::clerk::Instance::Production, Some(domain)) = (
        satellite.is_satellite,
        pk.instance,
        satellite.domain.as_deref(),
    ) {
        pk.satellite_frontend_api = Some(format!("clerk.{domain}"));
    }
    Some(pk)
}

/// `IS_SATELLITE`, `DOMAIN`, `SATELLITE_AUTO_SYNC` and `SATELLITE_DOMAINS` (see
/// `clerk::satellite`), checked against the Clerk settings as Clerk's `authenticateRequest`
/// checks them. Returns the settings and, on a production satellite without a proxy URL, its
/// Frontend API (`https://clerk.<DOMAIN>`).
fn read_satellite<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    clerk: &ClerkSettings,
) -> (crate::clerk::SatelliteSettings, Option<String>) {
    let input = crate::clerk::SatelliteInput {
        is_satellite: r.bool("IS_SATELLITE", false),
        domain: r.raw("DOMAIN"),
        auto_sync: r.bool("SATELLITE_AUTO_SYNC", false),
        satellite_domains: r.list("SATELLITE_DOMAINS"),
        publishable_given: clerk.publishable_given,
        instance: clerk.publishable.as_ref().map(|pk| pk.instance),
        frontend_api_given: clerk.frontend_api_given,
        sign_in_url: clerk.sign_in_url.as_deref(),
    };
    match crate::clerk::SatelliteSettings::from_settings(&input) {
        Ok(s) => {
            let fapi = s.frontend_api_base(input.instance, input.frontend_api_given);
            (s, fapi)
        }
        Err(problems) => {
            for (setting, problem) in problems {
                r.problem(setting, problem);
            }
            (crate::clerk::SatelliteSettings::default(), None)
        }
    }
}

/// What the proxy reader found; `origin` is `ORIGIN_URL` parsed, with the outbound header
/// plan's settings.
struct ProxyRead {
    origin: Option<(Origin, ProxySettings)>,
    trust_forwarded: bool,
    allowed_hosts: Option<Vec<String>>,
    upstream_timeout_ms: u64,
    preflight: PreflightMode,
}

/// The proxy: `TRUST_FORWARDED`, `ALLOWED_HOSTS`, `UPSTREAM_TIMEOUT_MS`,
/// `ORIGIN_ASSERTION_SECRET`, `FORWARD_CLAIMS`, `FORWARD_TOKEN`, `STRIP_REQUEST_HEADERS`,
/// `CORS_PREFLIGHT`, and the origin of `ORIGIN_URL`.
fn read_proxy<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    origin_url: Option<Url>,
) -> ProxyRead {
    let trust_forwarded = r.bool("TRUST_FORWARDED", false);
    let hosts = r.list("ALLOWED_HOSTS");
    let allowed_hosts =
        (!hosts.is_empty()).then(|| hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect());
    let upstream_timeout_ms = r.int(
        "UPSTREAM_TIMEOUT_MS",
        DEFAULT_UPSTREAM_TIMEOUT_MS as i64,
        1,
        600_000,
    ) as u64;
    let assertion_secret = r.raw("ORIGIN_ASSERTION_SECRET").and_then(|s| {
        if s.len() < 32 {
            r.problem(
                "ORIGIN_ASSERTION_SECRET",
                "must be at least 32 characters (use a random value)",
            );
            None
        } else {
            Some(s.into_bytes())
        }
    });
    let forward_claims = read_forward_claims(r);
    let forward_token = r.bool("FORWARD_TOKEN", true);
    let strip_request_headers = read_strip_request_headers(r);
    let preflight = match r.choice("CORS_PREFLIGHT", &["origin", "edge"]) {
        Some("edge") => PreflightMode::AnswerAtEdge,
        _ => PreflightMode::PassToOrigin,
    };
    let origin = origin_url.and_then(|u| match Origin::parse(&u.to_string()) {
        Ok(o) => Some(o),
        Err(e) => {
            r.problem("ORIGIN_URL", e.code());
            None
        }
    });
    let origin = origin.map(|origin| {
        let proxy = ProxySettings {
            forward_token,
            strip_request_headers,
            forward_claims,
            assertion_secret,
            assertion_audience: origin.origin(),
        };
        (origin, proxy)
    });
    ProxyRead {
        origin,
        trust_forwarded,
        allowed_hosts,
        upstream_timeout_ms,
        preflight,
    }
}

/// `FORWARD_CLAIMS`: claim names of letters, digits, `_` and `-`, at most 64 characters.
fn read_forward_claims<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> Vec<String> {
    let forward_claims = r.list("FORWARD_CLAIMS");
    let problem = forward_claims.iter().find_map(|name| {
        let charset = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !charset {
            Some("claim names may only use letters, digits, '_' and '-'")
        } else if !crate::proxy::valid_claim_name(name) {
            Some("claim names must be at most 64 characters")
        } else {
            None
        }
    });
    if let Some(problem) = problem {
        r.problem("FORWARD_CLAIMS", problem);
    }
    forward_claims
}

/// `STRIP_REQUEST_HEADERS`: header names or name prefixes ending in `*`.
fn read_strip_request_headers<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
) -> Vec<HeaderPattern> {
    let mut patterns = Vec::new();
    for entry in r.list("STRIP_REQUEST_HEADERS") {
        match HeaderPattern::parse(&entry) {
            Some(p) => patterns.push(p),
            None => {
                r.problem(
                    "STRIP_REQUEST_HEADERS",
                    "each entry must be a header name, or a name prefix ending in *",
                );
                break;
            }
        }
    }
    patterns
}

/// `JWKS_URL`: unset or `off` (the default), `auto` (the Frontend API's JWKS, which needs
/// `PUBLISHABLE_KEY` or `FRONTEND_API_URL`), or an https URL (http only on loopback).
fn read_jwks_url<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    fapi_base: Option<&str>,
) -> Option<crate::jwks::JwksSource> {
    let raw = r.raw("JWKS_URL")?;
    if raw.eq_ignore_ascii_case("off") {
        return None;
    }
    if raw.eq_ignore_ascii_case("auto") {
        let Some(base) = fapi_base else {
            r.problem(
                "JWKS_URL",
                "auto needs PUBLISHABLE_KEY (or FRONTEND_API_URL) to name the Frontend API",
            );
            return None;
        };
        return Some(crate::jwks::JwksSource {
            url: crate::jwks::auto_url(base),
        });
    }
    let u = r.url("JWKS_URL", &raw, false)?;
    if u.scheme() == "http" && !is_loopback_host(&u) {
        r.problem(
            "JWKS_URL",
            "must be https (http only on loopback), auto or off",
        );
        return None;
    }
    Some(crate::jwks::JwksSource { url: u.to_string() })
}

/// `ORGANIZATION_PATTERNS` and `PERSONAL_ACCOUNT_PATTERNS` (see `clerk::org_sync`); invalid
/// patterns are problems naming the entry and fragment, and read as none.
fn read_org_sync<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> crate::clerk::OrgSync {
    let org = r.raw("ORGANIZATION_PATTERNS");
    let personal = r.raw("PERSONAL_ACCOUNT_PATTERNS");
    crate::clerk::OrgSync::from_settings(org.as_deref(), personal.as_deref()).unwrap_or_else(
        |problems| {
            for (setting, problem) in problems {
                r.problem(setting, problem);
            }
            crate::clerk::OrgSync::default()
        },
    )
}

/// `PUBLIC_ROUTES` or `PROTECTED_ROUTES` (not both) and `ROUTE_RULES`, with the `SIGN_IN_URL`
/// path (when on this host) public unless a rule names it (`routes::outranks_exemption`); an
/// invalid table is a problem and reads as empty.
fn read_routes<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<'_, F>,
    sign_in_url: Option<&str>,
) -> RouteTable {
    let public = r.raw("PUBLIC_ROUTES").unwrap_or_default();
    let rules = r.raw("ROUTE_RULES").unwrap_or_default();
    let protected = r.raw("PROTECTED_ROUTES");
    if protected.is_some() && !public.is_empty() {
        r.problem(
            "PROTECTED_ROUTES",
            "set together with PUBLIC_ROUTES: set one of them (with PROTECTED_ROUTES every \
             other path is public; with PUBLIC_ROUTES every other path needs a session)",
        );
    }
    let table = RouteTable::from_settings(&public, &rules).and_then(|mut t| {
        if let Some(raw) = &protected {
            t.set_protected_routes(crate::routes::parse_protected_routes(raw)?);
        }
        Ok(t)
    });
    // Only separators would make every path public: fail closed.
    if protected
        .as_deref()
        .is_some_and(|raw| raw.split([',', '\n']).all(|p| p.trim().is_empty()))
    {
        r.problem(
            "PROTECTED_ROUTES",
            "lists no pattern (it would make every path public): list the protected patterns \
             or remove it",
        );
    }
    let mut routes = table.unwrap_or_else(|e| {
        r.problem(e.setting, e.problem());
        // One problem per setting, every setting at once: the other table may be wrong too.
        let other = match e.setting {
            "PUBLIC_ROUTES" => RouteTable::from_settings("", &rules).err(),
            "ROUTE_RULES" => RouteTable::from_settings(&public, "").err(),
            _ => None,
        };
        if let Some(o) = other.filter(|o| o.setting != e.setting) {
            r.problem(o.setting, o.problem());
        }
        RouteTable::default()
    });
    if let Some(path) = sign_in_url.filter(|u| u.starts_with('/')) {
        let path_only = path.split(['?', '#']).next().unwrap_or(path);
        if routes.add_always_public(path_only).is_err() {
            r.problem("SIGN_IN_URL", "path is not usable");
        }
    }
    routes
}

impl Settings {
    /// The sign-in page: `SIGN_IN_URL` when set, else the Account Portal's sign-in page of the
    /// publishable key's instance (as Clerk's SDKs redirect), else `None`.
    pub fn sign_in_page(&self) -> Option<String> {
        match (&self.sign_in_url, &self.publishable) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(pk)) => Some(crate::clerk::account_portal_sign_in_url(pk)),
            (None, None) => None,
        }
    }

    /// Where a protected page load sends a signed-out visitor: `SIGN_IN_URL`; on a satellite
    /// without one, [`Settings::sign_in_page`]'s Account Portal (Clerk's `redirectToSignIn`),
    /// since a satellite has no sign-in of its own. `None`: the 401 page.
    pub fn page_sign_in_url(&self) -> Option<String> {
        if self.sign_in_url.is_some() || self.satellite.is_satellite {
            self.sign_in_page()
        } else {
            None
        }
    }

    /// True when this request is for the sign-in page itself on this host: public unless a
    /// `ROUTE_RULES` rule names the path, and never redirected to sign-in (that would loop).
    pub fn sign_in_is_here(&self, public: &PublicUrl, canonical: &str) -> bool {
        let Some(configured) = self.sign_in_url.as_deref() else {
            return false;
        };
        if configured.starts_with('/') {
            // The route table holds the path, canonicalised once (`read_routes`).
            return self.routes.is_always_public(canonical);
        }
        match PublicUrl::from_request_url(configured) {
            Some(target) => {
                let target_path = target.path_and_query.split('?').next().unwrap_or("/");
                target.authority() == public.authority()
                    && crate::routes::canonical_path(target_path).is_ok_and(|p| p == canonical)
            }
            None => false,
        }
    }

    /// How long past `exp` a cached token may serve: clock skew plus outage grace.
    pub fn keep_ms(&self) -> i64 {
        self.validation
            .clock_skew_ms
            .saturating_add(self.outage_grace_seconds.saturating_mul(1000))
    }

    /// The hosts a redirect may name: `ALLOWED_HOSTS`, else the request's own host and those of
    /// `AUTHORIZED_PARTIES`.
    pub fn allowed_hosts(&self, own: &PublicUrl) -> Vec<String> {
        match &self.allowed_hosts {
            Some(hosts) => hosts.clone(),
            None => {
                let mut hosts = vec![own.authority()];
                hosts.extend(self.party_hosts.iter().cloned());
                hosts
            }
        }
    }
}

/// Edit distance between two ASCII names (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<u8> = b.bytes().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let diagonal = prev + usize::from(ca != *cb);
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = diagonal
                    .min(above.saturating_add(1))
                    .min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// A boolean setting's value: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case;
/// `None` for anything else.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Every setting the gateway reads (the edge looks each up once per isolate).
pub const SETTING_NAMES: &[&str] = &[
    "CLERK_JWT_KEY",
    "AUTHORIZED_PARTIES",
    "ORIGIN_URL",
    "PUBLIC_ROUTES",
    "PROTECTED_ROUTES",
    "ROUTE_RULES",
    "SIGN_IN_URL",
    "CLOCK_SKEW_MS",
    "ISSUER",
    "AUDIENCE",
    "AZP_MISSING",
    "SID_MISSING",
    "PENDING_SESSIONS",
    "MAX_TOKEN_BYTES",
    "PUBLISHABLE_KEY",
    "FRONTEND_API_URL",
    "OUTAGE_GRACE_SECONDS",
    "ORGANIZATION_PATTERNS",
    "PERSONAL_ACCOUNT_PATTERNS",
    "TRUST_FORWARDED",
    "ALLOWED_HOSTS",
    "UPSTREAM_TIMEOUT_MS",
    "ORIGIN_ASSERTION_SECRET",
    "FORWARD_CLAIMS",
    "FORWARD_TOKEN",
    "STRIP_REQUEST_HEADERS",
    "CORS_PREFLIGHT",
    "LOG_REQUESTS",
    "AUTH_STATUS_HEADER",
    "JWKS_URL",
    "IS_SATELLITE",
    "DOMAIN",
    "SATELLITE_AUTO_SYNC",
    "SATELLITE_DOMAINS",
    // Clerk's names for the same settings (config::ALIASES).
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_SIGN_IN_URL",
    "CLERK_PROXY_URL",
    "CLERK_FRONTEND_API",
    "CLERK_IS_SATELLITE",
    "CLERK_DOMAIN",
    "CLERK_SATELLITE_AUTO_SYNC",
];

/// Warnings for names that look like settings (upper case with an underscore) but that edgegate
/// does not read, with the closest known name when one is near (`AUTHORISED_PARTIES` → did you
/// mean `AUTHORIZED_PARTIES`?). Names far from every setting are the app's own and pass
/// silently, unless they start with `CLERK_` or `EDGEGATE_`.
pub fn unknown_setting_warnings<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let known = SETTING_NAMES;
    let mut out = Vec::new();
    for name in names {
        let looks_like_a_setting = name.len() >= 4
            && name.contains('_')
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !looks_like_a_setting || known.contains(&name) {
            continue;
        }
        let closest = known
            .iter()
            .map(|k| (distance(name, k), *k))
            .min_by_key(|(d, _)| *d);
        match closest {
            Some((d, k)) if d <= (name.len() / 4).max(2) => out.push(format!(
                "{name} is not a setting edgegate reads (ignored): did you mean {k}?"
            )),
            _ if name.starts_with("CLERK_") || name.starts_with("EDGEGATE_") => out.push(format!(
                "{name} is not a setting edgegate reads (ignored); see README, Settings"
            )),
            _ => {}
        }
    }
    out
}
