//! Why a request is refused or signed out: one enum, [`RefusalReason`], whose codes are the
//! stable public reason codes (`X-Edgegate-Auth-Reason`, response bodies, the log line's
//! `reason`), and the log line's [`LogOutcome`].

use crate::clerk;
use crate::routes::{Forbidden, PathError};
use crate::token::TokenError;

/// Why a request is refused, or why its session is signed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// A token, cookie-session or handshake reason (`token-expired`, `client-uat-but-no-session-token`,
    /// `handshake-state-mismatch`, ...).
    Session(clerk::Reason),
    /// A refused path (`path-encoded-slash`, `path-double-encoded`, `path-too-long`, ...).
    Path(PathError),
    /// A route rule the session does not satisfy (`missing-role`, ...).
    Forbidden(Forbidden),
    /// `organization-mismatch`: the path names an organisation (`ORGANIZATION_PATTERNS`) that
    /// is not the session's active one, or the personal account (`PERSONAL_ACCOUNT_PATTERNS`)
    /// while one is active, and the request cannot be redirected to activate it (403).
    OrganizationMismatch,
    /// The request URL does not parse.
    BadUrl,
    /// A method the gateway's own paths do not take.
    MethodNotAllowed,
    /// Too many requests in flight.
    GatewayBusy,
    /// A request the gateway no longer knows (dropped at its deadline, or from a replaced
    /// instance).
    RequestExpired,
    /// Settings are invalid.
    Misconfigured,
    /// The origin could not be reached.
    OriginUnreachable,
    /// The origin did not answer in time.
    OriginTimeout,
}

impl RefusalReason {
    /// The stable public code.
    pub fn code(&self) -> &'static str {
        match self {
            RefusalReason::Session(r) => r.code(),
            RefusalReason::Path(e) => e.code(),
            RefusalReason::Forbidden(f) => f.code(),
            RefusalReason::OrganizationMismatch => "organization-mismatch",
            RefusalReason::BadUrl => "bad-url",
            RefusalReason::MethodNotAllowed => "method-not-allowed",
            RefusalReason::GatewayBusy => "gateway-busy",
            RefusalReason::RequestExpired => "request-expired",
            RefusalReason::Misconfigured => "misconfigured",
            RefusalReason::OriginUnreachable => "origin-unreachable",
            RefusalReason::OriginTimeout => "origin-timeout",
        }
    }
}

impl From<TokenError> for RefusalReason {
    fn from(e: TokenError) -> Self {
        RefusalReason::Session(clerk::Reason::Token(e))
    }
}

impl From<clerk::Reason> for RefusalReason {
    fn from(r: clerk::Reason) -> Self {
        RefusalReason::Session(r)
    }
}

/// What became of a request, as the log line's `outcome` says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogOutcome {
    /// Refused by the gateway (401, 403, 4xx, 5xx of its own).
    #[default]
    Refused,
    /// Proxied to the origin.
    Proxy,
    /// A CORS preflight passed to the origin.
    ProxyPreflight,
    /// A CORS preflight answered at the edge.
    Preflight,
    /// Sent to Clerk's Frontend API for a handshake.
    Handshake,
    /// Back from the handshake: the session planted.
    HandshakeResolved,
    /// Waiting for the outage probe (a request that ends there was refused).
    OutageCheck,
    /// `/__edgegate/health`.
    Health,
    /// `/__edgegate/session`.
    Session,
    /// A file of the session page.
    Asset,
}

impl LogOutcome {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LogOutcome::Refused => "refused",
            LogOutcome::Proxy => "proxy",
            LogOutcome::ProxyPreflight => "proxy-preflight",
            LogOutcome::Preflight => "preflight",
            LogOutcome::Handshake => "handshake",
            LogOutcome::HandshakeResolved => "handshake-resolved",
            LogOutcome::OutageCheck => "outage-check",
            LogOutcome::Health => "health",
            LogOutcome::Session => "session",
            LogOutcome::Asset => "asset",
        }
    }
}
