//! Satellite domains: Clerk's multi-domain sync (`isSatellite`, `domain`, `signInUrl`,
//! `satelliteAutoSync`, the `__clerk_synced` and `__clerk_redirect_url` round trip), networkless.
//! This module owns the satellite settings and their checks ([`SatelliteSettings`]), the
//! satellite's sync decision ([`satellite_sync`]) and its redirects (the handshake's URL, the
//! development redirect to the primary's sign-in, the sign-in return URL), the development
//! primary's answer to a satellite ([`primary_sync_redirect`], only to an origin listed in
//! `SATELLITE_DOMAINS`), the primary's cross-origin-referrer check ([`is_satellite_referrer`])
//! and the removal of `__clerk_synced` once a handshake planted a session.
//!
//! Pure: no clock, no randomness, no network; every URL a redirect names comes from the
//! settings or is the request's validated public URL, except the primary's redirect back to a
//! satellite, which must be an origin the settings list.

use super::names::{MAX_HANDSHAKE_REDIRECTS, SESSION_COOKIE};
use super::publishable_key::{is_dns_host, Instance};
use super::query::{decode_component, query_param, rewrite_url, HANDSHAKE_PARAMS};
use super::redirect::{
    handshake_headers, http_url, redirect_count_cookie, RedirectError, RedirectPlan,
};
use super::DEV_BROWSER;
use crate::web_url::WebUrl as Url;

/// Clerk's sync-status query parameter: `false` asks a satellite to sync, `true` says it just did.
pub const SYNCED_PARAM: &str = "__clerk_synced";
/// The satellite URL a development primary sends the browser back to.
pub const REDIRECT_URL_PARAM: &str = "__clerk_redirect_url";
/// Longest `__clerk_redirect_url` a primary follows.
pub const MAX_SATELLITE_URL_BYTES: usize = 4096;

/// `__clerk_synced`, as Clerk reads it (the first value; anything else than `false` or `true`
/// is [`SyncStatus::Absent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    /// No `__clerk_synced` (or another value).
    Absent,
    /// `__clerk_synced=false`: back from the primary's sign-in, sync now.
    NeedsSync,
    /// `__clerk_synced=true`: a sync just ran, never start another (the loop guard).
    Completed,
}

impl SyncStatus {
    /// Reads it from a raw query string (without the `?`).
    pub fn from_query(query: Option<&str>) -> SyncStatus {
        match query_param(query, SYNCED_PARAM).as_deref() {
            Some("false") => SyncStatus::NeedsSync,
            Some("true") => SyncStatus::Completed,
            _ => SyncStatus::Absent,
        }
    }
}

/// The satellite settings, checked. The default: a primary with no satellites listed (nothing
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SatelliteSettings {
    /// `IS_SATELLITE`.
    pub is_satellite: bool,
    /// `DOMAIN`: the satellite's host as Clerk knows it (lower-cased, maybe with `:port`).
    pub domain: Option<String>,
    /// `SATELLITE_AUTO_SYNC` (default false, as Clerk Core 3).
    pub auto_sync: bool,
    /// `SATELLITE_DOMAINS` (a primary only): the satellite origins (`https://host[:port]`) a
    /// development primary may send a browser back to, and whose navigations to the primary
    /// start Clerk's cross-origin handshake.
    pub satellite_origins: Vec<String>,
}

/// The raw values the satellite settings are checked with.
#[derive(Debug, Clone, Default)]
pub struct SatelliteInput<'a> {
    /// `IS_SATELLITE` (`CLERK_IS_SATELLITE`).
    pub is_satellite: bool,
    /// `DOMAIN` (`CLERK_DOMAIN`).
    pub domain: Option<String>,
    /// `SATELLITE_AUTO_SYNC` (`CLERK_SATELLITE_AUTO_SYNC`).
    pub auto_sync: bool,
    /// `SATELLITE_DOMAINS`, split at commas.
    pub satellite_domains: Vec<String>,
    /// `PUBLISHABLE_KEY` was given (valid or not: an invalid one is its own problem).
    pub publishable_given: bool,
    /// The publishable key's instance, when it is valid.
    pub instance: Option<Instance>,
    /// `FRONTEND_API_URL` (`CLERK_PROXY_URL`, `CLERK_FRONTEND_API`) is set and valid.
    pub frontend_api_given: bool,
    /// `SIGN_IN_URL`, as validated (absolute URL or a path).
    pub sign_in_url: Option<&'a str>,
}

/// A setting problem: the setting's name and the message.
pub type SatelliteProblem = (&'static str, String);

impl SatelliteSettings {
    /// Checks the settings as Clerk's `authenticateRequest` does (a satellite needs a domain or
    /// a proxy URL; a development satellite a sign-in URL; the sign-in URL absolute and not on
    /// the satellite) and edgegate's own rules. Every problem names its setting.
    pub fn from_settings(
        input: &SatelliteInput<'_>,
    ) -> Result<SatelliteSettings, Vec<SatelliteProblem>> {
        let mut problems: Vec<SatelliteProblem> = Vec::new();
        let domain = match input.domain.as_deref().map(parse_domain) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                problems.push(("DOMAIN", e.to_owned()));
                None
            }
            None => None,
        };
        let settings = SatelliteSettings {
            is_satellite: input.is_satellite,
            domain: domain.filter(|_| input.is_satellite),
            auto_sync: input.auto_sync,
            satellite_origins: parse_origins(&input.satellite_domains, &mut problems),
        };
        if input.is_satellite {
            satellite_problems(input, settings.domain.as_deref(), &mut problems);
        } else {
            primary_problems(input, &settings, &mut problems);
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// The Frontend API of a production satellite without a proxy URL: `https://clerk.<DOMAIN>`,
    /// as Clerk's `parsePublishableKey` names it. `None` otherwise (the usual Frontend API).
    pub fn frontend_api_base(&self, instance: Option<Instance>, proxy: bool) -> Option<String> {
        let production = instance == Some(Instance::Production);
        match &self.domain {
            Some(domain) if self.is_satellite && production && !proxy => {
                Some(format!("https://clerk.{domain}"))
            }
            _ => None,
        }
    }

    /// A primary that lists satellites.
    pub fn has_satellites(&self) -> bool {
        !self.is_satellite && !self.satellite_origins.is_empty()
    }
}

fn satellite_problems(
    input: &SatelliteInput<'_>,
    domain: Option<&str>,
    out: &mut Vec<SatelliteProblem>,
) {
    if !input.publishable_given {
        out.push((
            "IS_SATELLITE",
            "a satellite needs PUBLISHABLE_KEY (its sync is Clerk's handshake)".to_owned(),
        ));
    }
    if domain.is_none() && input.domain.is_none() && !input.frontend_api_given {
        out.push((
            "DOMAIN",
            "required on a satellite (IS_SATELLITE=true) unless FRONTEND_API_URL (CLERK_PROXY_URL) \
             is set: the satellite's domain as Clerk knows it, e.g. satellite.example.com"
                .to_owned(),
        ));
    }
    match input.sign_in_url {
        None if input.instance == Some(Instance::Development) => out.push((
            "SIGN_IN_URL",
            "required on a development satellite (pk_test_ key): the primary's sign-in page, \
             an absolute URL"
                .to_owned(),
        )),
        None => {}
        Some(path) if path.starts_with('/') => out.push((
            "SIGN_IN_URL",
            "on a satellite must be an absolute URL on the primary's domain (a path would be \
             on the satellite)"
                .to_owned(),
        )),
        Some(url) => {
            let same = Url::parse(url)
                .ok()
                .is_some_and(|u| Some(authority(&u)) == domain.map(str::to_owned));
            if same {
                out.push((
                    "SIGN_IN_URL",
                    "must be on the primary's domain, not on the satellite's (DOMAIN)".to_owned(),
                ));
            }
        }
    }
    if !input.satellite_domains.is_empty() {
        out.push((
            "SATELLITE_DOMAINS",
            "lists a primary's satellites: a satellite (IS_SATELLITE=true) has none".to_owned(),
        ));
    }
}

fn primary_problems(
    input: &SatelliteInput<'_>,
    s: &SatelliteSettings,
    out: &mut Vec<SatelliteProblem>,
) {
    if input.auto_sync {
        out.push((
            "SATELLITE_AUTO_SYNC",
            "only applies to a satellite: set IS_SATELLITE=true or remove it".to_owned(),
        ));
    }
    if !s.satellite_origins.is_empty() && !input.publishable_given {
        out.push((
            "SATELLITE_DOMAINS",
            "needs PUBLISHABLE_KEY (the answers to a satellite are Clerk's handshake)".to_owned(),
        ));
    }
}

/// `host` or `host:port` of an http(s) URL, lower-cased (the default port omitted).
fn authority(u: &Url) -> String {
    let host = u.host_str();
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// `DOMAIN`: a DNS host (or `localhost`), optionally with `:port`; no scheme, path or
/// credentials.
fn parse_domain(raw: &str) -> Result<String, &'static str> {
    if !raw.is_ascii() {
        return Err("must be ASCII: write a non-ASCII host in its xn-- (punycode) form");
    }
    let lower = raw.trim().to_ascii_lowercase();
    let (host, port) = match lower.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (lower.as_str(), None),
    };
    let host_ok = is_dns_host(host) || host == "localhost" || host.ends_with(".localhost");
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(lower)
    } else {
        Err(
            "must be a host such as satellite.example.com (optionally with :port), without a \
             scheme or path",
        )
    }
}

/// `SATELLITE_DOMAINS` entries: origins such as `https://satellite.example.com`, http only on
/// loopback. Invalid entries are problems.
fn parse_origins(entries: &[String], problems: &mut Vec<SatelliteProblem>) -> Vec<String> {
    let mut origins = Vec::new();
    for entry in entries {
        match Url::parse(entry) {
            Ok(u) if is_plain_origin(&u) => {
                if u.scheme() == "http" && !crate::web_url::is_loopback_host(&u) {
                    problems.push((
                        "SATELLITE_DOMAINS",
                        "entries must be https (http only on loopback)".to_owned(),
                    ));
                } else {
                    origins.push(u.origin());
                }
            }
            _ => problems.push((
                "SATELLITE_DOMAINS",
                "each entry must be an origin such as https://satellite.example.com".to_owned(),
            )),
        }
    }
    origins
}

fn is_plain_origin(u: &Url) -> bool {
    u.path() == "/" && u.query().is_none() && u.fragment().is_none() && !u.has_credentials()
}

/// A navigation the multi-domain sync may redirect: `GET` with `Sec-Fetch-Dest: document` (as
/// Clerk's `isRequestEligibleForMultiDomainSync`), or, from a browser that sends no
/// `Sec-Fetch-Dest`, `Accept: text/html` (as edgegate's other handshakes). Never an iframe.
pub fn is_document_navigation(
    method: &str,
    sec_fetch_dest: Option<&str>,
    accept: Option<&str>,
) -> bool {
    if method != "GET" {
        return false;
    }
    match sec_fetch_dest.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.eq_ignore_ascii_case("document"),
        None => crate::response::is_navigation(None, accept),
    }
}

/// The facts of a satellite's cookie-carried request that the sync decision reads.
#[derive(Debug, Clone, Copy)]
pub struct SatelliteRequest {
    /// [`is_document_navigation`].
    pub document_navigation: bool,
    /// The route needs no session: only an explicit `__clerk_synced=false` syncs there.
    pub is_public: bool,
    /// `__clerk_synced`.
    pub synced: SyncStatus,
    /// A session cookie or a non-zero `__client_uat`.
    pub has_cookies: bool,
    /// `SATELLITE_AUTO_SYNC`.
    pub auto_sync: bool,
    /// `__clerk_redirect_count`.
    pub redirect_count: u32,
}

/// What the satellite does with a request (Clerk's multi-domain sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SatelliteSync {
    /// No sync: Clerk's cookie rules decide (cookies present, a sync just ran, not a page load).
    Continue,
    /// Signed out without a redirect (`session-token-and-uat-missing`): no cookies, auto sync
    /// off and no `__clerk_synced=false` (Clerk Core 3's default).
    SignedOut,
    /// Sync: production, the handshake to the satellite's Frontend API; development, the
    /// primary's sign-in URL with `__clerk_redirect_url`. Reason `satellite-needs-syncing`.
    Sync,
    /// Three syncs in a row: signed out, `redirect-loop`.
    Loop,
}

/// Clerk's multi-domain sync decision for a satellite, in Clerk's order: only document
/// navigations; never after `__clerk_synced=true`; without cookies and without
/// `__clerk_synced=false`, signed out unless auto sync is on; with cookies, only on
/// `__clerk_synced=false`. edgegate adds: a public route syncs only on `__clerk_synced=false`
/// (its routes never start a handshake by themselves).
pub fn satellite_sync(req: &SatelliteRequest) -> SatelliteSync {
    if !req.document_navigation || req.synced == SyncStatus::Completed {
        return SatelliteSync::Continue;
    }
    let asked = req.synced == SyncStatus::NeedsSync;
    if !asked && !req.auto_sync && !req.has_cookies {
        return SatelliteSync::SignedOut;
    }
    if !asked && (req.has_cookies || req.is_public) {
        return SatelliteSync::Continue;
    }
    if req.redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return SatelliteSync::Loop;
    }
    SatelliteSync::Sync
}

/// The public URL the satellite's sync handshake returns to: `__clerk_synced=true` in place of
/// any value, so that the browser coming back never starts another sync (when the handshake
/// planted no session, the URL keeps it; see [`strip_synced_after_handshake`]).
pub fn synced_return_url(public: &str) -> Option<String> {
    with_synced(public, Some("true"))
}

/// The satellite's return URL in its sign-in redirect: `__clerk_synced=false` in place of any
/// value, as Clerk's `createRedirect` marks a satellite's cross-origin sign-in, so that the
/// browser back from signing in on the primary syncs.
pub fn sign_in_return_url(public: &str) -> Option<String> {
    with_synced(public, Some("false"))
}

/// The satellite's return URL in a sign-in redirect that must not restart a sync (its loop
/// guard stopped it, or the Frontend API is down): without `__clerk_synced`.
pub fn unsynced_return_url(public: &str) -> Option<String> {
    with_synced(public, None)
}

/// `public` with any `__clerk_synced` replaced by `status`, or dropped for `None`.
fn with_synced(public: &str, status: Option<&str>) -> Option<String> {
    let public = http_url(public)?;
    let status = status.map(|v| (SYNCED_PARAM, v));
    Some(rewrite_url(&public, &[SYNCED_PARAM], status))
}

/// A development satellite's sync: 307 to `SIGN_IN_URL` (absolute) with
/// `__clerk_redirect_url=<this URL>` appended (the public URL without the handshake's
/// token-bearing parameters), `Cache-Control: no-store` and `__clerk_redirect_count` + 1.
pub fn dev_sync_redirect(
    sign_in_url: &str,
    public_url: &str,
    redirect_count: u32,
) -> Result<RedirectPlan, RedirectError> {
    if redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return Err(RedirectError::RedirectLoop);
    }
    let mut target = http_url(sign_in_url).ok_or(RedirectError::BadUrl)?;
    let public = http_url(public_url).ok_or(RedirectError::BadUrl)?;
    let back = rewrite_url(&public, HANDSHAKE_PARAMS, None);
    target.append_pair(REDIRECT_URL_PARAM, &back);
    Ok(sync_plan(target.into(), redirect_count))
}

fn sync_plan(location: String, redirect_count: u32) -> RedirectPlan {
    RedirectPlan {
        status: 307,
        location,
        headers: handshake_headers(),
        set_cookies: vec![redirect_count_cookie(redirect_count.saturating_add(1))],
    }
}

/// `__clerk_redirect_url`, when it is one a primary may send a browser to: an absolute http(s)
/// URL of at most [`MAX_SATELLITE_URL_BYTES`], without credentials, whose origin (scheme, host
/// and port) is exactly one of `SATELLITE_DOMAINS`. Anything else is `None` (never followed:
/// no open redirect).
pub fn safe_satellite_url(raw: &str, satellite_origins: &[String]) -> Option<Url> {
    if raw.len() > MAX_SATELLITE_URL_BYTES || raw.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    let u = http_url(raw)?;
    if u.has_credentials() {
        return None;
    }
    let origin = u.origin();
    satellite_origins.contains(&origin).then_some(u)
}

/// The development primary's answer to a satellite (Clerk's `primary-responds-to-syncing`):
/// 307 back to the satellite URL with the primary's dev-browser token (`__clerk_db_jwt`, in
/// place of any) and `__clerk_synced=true` (in place of any `false`), `Cache-Control: no-store`
/// and `__clerk_redirect_count` + 1. `satellite` MUST come from [`safe_satellite_url`].
pub fn primary_sync_redirect(
    satellite: &Url,
    dev_browser: Option<&str>,
    redirect_count: u32,
) -> Result<RedirectPlan, RedirectError> {
    if redirect_count >= MAX_HANDSHAKE_REDIRECTS {
        return Err(RedirectError::RedirectLoop);
    }
    let mut pairs: Vec<(String, String)> = satellite
        .query_pairs()
        .filter(|(n, _)| n != DEV_BROWSER)
        .collect();
    if let Some(db) = dev_browser.filter(|d| !d.is_empty()) {
        pairs.push((DEV_BROWSER.to_owned(), db.to_owned()));
    }
    set_pair(&mut pairs, SYNCED_PARAM, "true");
    let mut back = satellite.clone();
    back.set_fragment(None);
    back.set_query(None);
    for (name, value) in &pairs {
        back.append_pair(name, value);
    }
    Ok(sync_plan(back.into(), redirect_count))
}

/// `URLSearchParams.set`: the first pair named `name` gets `value`, later ones go; appended when
/// there is none.
fn set_pair(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    let mut seen = false;
    pairs.retain_mut(|(n, v)| {
        if n != name {
            return true;
        }
        if seen {
            return false;
        }
        seen = true;
        *v = value.to_owned();
        true
    });
    if !seen {
        pairs.push((name.to_owned(), value.to_owned()));
    }
}

/// The primary's cross-origin check (Clerk's `isCrossOriginReferrer`, edgegate's narrower
/// rule): the `Referer`'s origin is another origin than `own_origin` and one of
/// `SATELLITE_DOMAINS`. (Clerk handshakes for any cross-origin referrer but its own Frontend
/// API and Account Portal; edgegate only for the satellites it lists, so a link from anywhere
/// else costs no redirect.)
pub fn is_satellite_referrer(
    referer: Option<&str>,
    own_origin: &str,
    satellite_origins: &[String],
) -> bool {
    let Some(referrer) = referer.and_then(|r| Url::parse(r).ok()) else {
        return false;
    };
    let origin = referrer.origin();
    let own = Url::parse(own_origin).map(|u| u.origin());
    own.is_ok_and(|own| own != origin) && satellite_origins.contains(&origin)
}

/// On a satellite, once a handshake planted a session (a non-empty `__session` or
/// `__session_<suffix>` cookie among its `Set-Cookie`s), the redirect back drops
/// `__clerk_synced`, as Clerk's browser SDK clears it after a handshake. A handshake that
/// planted none keeps it, so the page after it starts no new sync.
pub fn strip_synced_after_handshake(plan: &mut RedirectPlan) {
    if !plan.set_cookies.iter().any(|c| plants_session(c)) {
        return;
    }
    if let Ok(location) = Url::parse(&plan.location) {
        let has_synced = location.query_pairs().any(|(n, _)| n == SYNCED_PARAM);
        if has_synced {
            plan.location = rewrite_url(&location, &[SYNCED_PARAM], None);
        }
    }
}

fn plants_session(directive: &str) -> bool {
    let pair = directive.split(';').next().unwrap_or("");
    let Some((name, value)) = pair.split_once('=') else {
        return false;
    };
    let name = decode_component(name.trim());
    let session = name == SESSION_COOKIE
        || name
            .strip_prefix(SESSION_COOKIE)
            .is_some_and(|rest| rest.starts_with('_'));
    session && !value.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_reads_only_false_and_true() {
        assert_eq!(
            SyncStatus::from_query(Some("__clerk_synced=false")),
            SyncStatus::NeedsSync
        );
        assert_eq!(
            SyncStatus::from_query(Some("a=1&__clerk_synced=true")),
            SyncStatus::Completed
        );
        assert_eq!(
            SyncStatus::from_query(Some("__clerk_synced=1")),
            SyncStatus::Absent
        );
        assert_eq!(SyncStatus::from_query(None), SyncStatus::Absent);
    }

    #[test]
    fn domains_are_hosts() {
        assert_eq!(
            parse_domain("Satellite.Example.com"),
            Ok("satellite.example.com".into())
        );
        assert_eq!(parse_domain("localhost:3001"), Ok("localhost:3001".into()));
        assert!(parse_domain("https://satellite.example.com").is_err());
        assert!(parse_domain("satellite.example.com/x").is_err());
        assert!(parse_domain("satellite.example.com:0").is_err());
    }

    #[test]
    fn set_pair_replaces_the_first_and_drops_the_rest() {
        let mut pairs = vec![
            ("a".to_owned(), "1".to_owned()),
            ("s".to_owned(), "false".to_owned()),
            ("s".to_owned(), "x".to_owned()),
        ];
        set_pair(&mut pairs, "s", "true");
        assert_eq!(
            pairs,
            [("a".into(), "1".into()), ("s".into(), "true".into())]
        );
    }

    #[test]
    fn a_session_cookie_with_a_value_plants_a_session() {
        assert!(plants_session("__session=abc; Path=/"));
        assert!(plants_session("__session_Xy12AbCd=abc; Path=/"));
        assert!(!plants_session("__session=; Path=/; Max-Age=0"));
        assert!(!plants_session("__client_uat=0; Path=/"));
    }

    fn plan_to(location: &str, cookies: &[&str]) -> RedirectPlan {
        RedirectPlan {
            status: 307,
            location: location.to_owned(),
            headers: Vec::new(),
            set_cookies: cookies.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn a_planted_session_drops_the_sync_marker_and_an_empty_handshake_keeps_it() {
        let url = "https://sat.example.net/p?a=1&__clerk_synced=true";
        let mut planted = plan_to(url, &["__session=t; Path=/", "__client_uat=5; Path=/"]);
        strip_synced_after_handshake(&mut planted);
        assert_eq!(planted.location, "https://sat.example.net/p?a=1");
        let mut empty = plan_to(url, &["__session=; Max-Age=0", "__client_uat=0; Path=/"]);
        strip_synced_after_handshake(&mut empty);
        assert_eq!(empty.location, url, "the loop guard stays");
    }

    #[test]
    fn the_sync_decision_follows_clerks_order() {
        let req = SatelliteRequest {
            document_navigation: true,
            is_public: false,
            synced: SyncStatus::Absent,
            has_cookies: false,
            auto_sync: false,
            redirect_count: 0,
        };
        assert_eq!(satellite_sync(&req), SatelliteSync::SignedOut);
        let auto = SatelliteRequest {
            auto_sync: true,
            ..req
        };
        assert_eq!(satellite_sync(&auto), SatelliteSync::Sync);
        let asked = SatelliteRequest {
            synced: SyncStatus::NeedsSync,
            has_cookies: true,
            ..req
        };
        assert_eq!(satellite_sync(&asked), SatelliteSync::Sync);
        let cookies = SatelliteRequest {
            has_cookies: true,
            ..req
        };
        assert_eq!(satellite_sync(&cookies), SatelliteSync::Continue);
        let done = SatelliteRequest {
            synced: SyncStatus::Completed,
            auto_sync: true,
            ..req
        };
        assert_eq!(satellite_sync(&done), SatelliteSync::Continue);
        let fetch = SatelliteRequest {
            document_navigation: false,
            synced: SyncStatus::NeedsSync,
            ..req
        };
        assert_eq!(satellite_sync(&fetch), SatelliteSync::Continue);
        let looping = SatelliteRequest {
            synced: SyncStatus::NeedsSync,
            redirect_count: 3,
            ..req
        };
        assert_eq!(satellite_sync(&looping), SatelliteSync::Loop);
    }
}
