//! The [`Settings`] struct and its groups ([`TokenSettings`], [`ClerkSettings`],
//! [`OriginSettings`], [`HostSettings`], [`Reporting`]; [`PreflightMode`], the defaults and
//! limits named there), and what a request asks of them once built (sign-in page, allowed hosts,
//! how long a cached token may serve).

use crate::clerk::PublishableKey;
use crate::forwarded::PublicUrl;
use crate::keys::KeySet;
use crate::proxy::{Origin, ProxySettings};
use crate::routes::RouteTable;
use crate::token::Validation;
use std::rc::Rc;

/// Default `UPSTREAM_TIMEOUT_MS`.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 30_000;
/// Largest `OUTAGE_GRACE_SECONDS`.
pub const MAX_OUTAGE_GRACE_SECONDS: i64 = 3600;

/// How CORS preflights are handled (`CORS_PREFLIGHT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreflightMode {
    /// `origin` (default): passed to the origin without a token, identity headers stripped.
    PassToOrigin,
    /// `edge`: answered at the edge with 204 and no CORS grant (the origin's CORS policy is
    /// not known here, so this refuses cross-origin calls unless the origin is same-site).
    AnswerAtEdge,
}

/// Every setting, typed, and what is derived from them, in groups each read by its concept.
/// Built once per isolate by [`Settings::from_settings`] and never changed after: what changes
/// at runtime (the keys fetched through `JWKS_URL`) is the pipeline's.
#[derive(Debug)]
pub struct Settings {
    /// What a token must be and the keys it may be signed with.
    pub tokens: TokenSettings,
    /// Clerk's browser protocol: the publishable key, the Frontend API, sign-in, outage grace,
    /// organisation sync and satellites.
    pub clerk: ClerkSettings,
    /// The origin and what an allowed request is sent to it with.
    pub proxy: OriginSettings,
    /// The host the client used and where redirects may go.
    pub hosts: HostSettings,
    /// `PUBLIC_ROUTES`, `PROTECTED_ROUTES`, `ROUTE_RULES` and the sign-in path.
    pub routes: RouteTable,
    /// `JWKS_URL`: where the Cron Trigger fetches extra keys from (`None`: off, the default).
    pub jwks: Option<crate::jwks::JwksSource>,
    /// `LOG_REQUESTS` and `AUTH_STATUS_HEADER`: what an allowed request costs besides the fetch.
    pub reporting: Reporting,
    /// Names given that look like settings but are none (see
    /// [`unknown_setting_warnings`](super::unknown_setting_warnings)):
    /// logged at start-up and listed by health, never fatal.
    pub warnings: Vec<String>,
}

/// The token policy and the embedded keys.
#[derive(Debug)]
pub struct TokenSettings {
    /// The token policy: `AUTHORIZED_PARTIES`, `ISSUER`, `AUDIENCE`, `CLOCK_SKEW_MS`,
    /// `MAX_TOKEN_BYTES`, `AZP_MISSING`, `SID_MISSING` and `PENDING_SESSIONS`.
    pub validation: Validation,
    /// `CLERK_JWT_KEY`: the embedded keys a token may be signed with. The pipeline starts its
    /// key set from them and adds any fetched (`JWKS_URL`) after them.
    pub embedded_keys: KeySet,
}

/// Clerk's browser protocol.
#[derive(Debug)]
pub struct ClerkSettings {
    /// `PUBLISHABLE_KEY`, parsed: cookie suffix, instance type, Frontend API host.
    pub publishable: Option<PublishableKey>,
    /// The Frontend API (handshake and outage check): `FRONTEND_API_URL` or from the key.
    pub fapi_base: Option<String>,
    /// `SIGN_IN_URL`: an absolute http(s) URL, or a path on this host (starting with one `/`).
    pub sign_in_url: Option<String>,
    /// `OUTAGE_GRACE_SECONDS` (0, the default, turns grace off).
    pub outage_grace_seconds: i64,
    /// `ORGANIZATION_PATTERNS` and `PERSONAL_ACCOUNT_PATTERNS`: organisation sync.
    pub org_sync: crate::clerk::OrgSync,
    /// `IS_SATELLITE`, `DOMAIN`, `SATELLITE_AUTO_SYNC`, `SATELLITE_DOMAINS`: satellite domains.
    pub satellite: crate::clerk::SatelliteSettings,
}

/// The origin side of a proxied request.
#[derive(Debug)]
pub struct OriginSettings {
    /// `ORIGIN_URL`; shared with every proxy plan (which needs it again for `Location`).
    pub origin: Rc<Origin>,
    /// The outbound header plan's settings: `ORIGIN_ASSERTION_SECRET`, `FORWARD_CLAIMS`,
    /// `FORWARD_TOKEN`, `STRIP_REQUEST_HEADERS`.
    pub headers: ProxySettings,
    /// `UPSTREAM_TIMEOUT_MS`.
    pub upstream_timeout_ms: u64,
    /// `CORS_PREFLIGHT`.
    pub preflight: PreflightMode,
}

/// Hosts: the public URL a client used, and the redirect targets allowed.
#[derive(Debug)]
pub struct HostSettings {
    /// `TRUST_FORWARDED` (default false).
    pub trust_forwarded: bool,
    /// `ALLOWED_HOSTS`, lowercased; `None` when not set.
    pub allowed: Option<Vec<String>>,
    /// Hosts of `AUTHORIZED_PARTIES`, for the default `ALLOWED_HOSTS`.
    pub party_hosts: Vec<String>,
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

impl ClerkSettings {
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
    /// without one, [`ClerkSettings::sign_in_page`]'s Account Portal (Clerk's
    /// `redirectToSignIn`), since a satellite has no sign-in of its own. `None`: the 401 page.
    pub fn page_sign_in_url(&self) -> Option<String> {
        if self.sign_in_url.is_some() || self.satellite.is_satellite {
            self.sign_in_page()
        } else {
            None
        }
    }
}

impl HostSettings {
    /// The hosts a redirect may name: `ALLOWED_HOSTS`, else the request's own host and those of
    /// `AUTHORIZED_PARTIES`.
    pub fn allowed_hosts(&self, own: &PublicUrl) -> Vec<String> {
        match &self.allowed {
            Some(hosts) => hosts.clone(),
            None => {
                let mut hosts = vec![own.authority()];
                hosts.extend(self.party_hosts.iter().cloned());
                hosts
            }
        }
    }
}

impl Settings {
    /// True when this request is for the sign-in page itself on this host: public unless a
    /// `ROUTE_RULES` rule names the path, and never redirected to sign-in (that would loop).
    pub fn sign_in_is_here(&self, public: &PublicUrl, canonical: &str) -> bool {
        let Some(configured) = self.clerk.sign_in_url.as_deref() else {
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
        self.tokens
            .validation
            .clock_skew_ms
            .saturating_add(self.clerk.outage_grace_seconds.saturating_mul(1000))
    }
}
