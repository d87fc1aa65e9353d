//! The cookie-session decision: Clerk's `authenticateRequestWithTokenInCookie` rules, networkless.

use super::auth_reason::Reason;
use super::grace::{grace_applies, FapiStatus, GraceDecision};
use super::names::MAX_HANDSHAKE_REDIRECTS;
use super::publishable_key::Instance;

use crate::token::{SessionClaims, TokenError, Validation};

/// Eligible for a handshake (Clerk's `isRequestEligibleForHandshake`, plus GET only):
/// `GET` and (`Sec-Fetch-Dest` `document` or `iframe`, or no `Sec-Fetch-Dest` and `Accept`
/// starting with `text/html`). An empty `Sec-Fetch-Dest` counts as absent, as in Clerk.
pub fn is_eligible(method: &str, sec_fetch_dest: Option<&str>, accept: Option<&str>) -> bool {
    method == "GET" && crate::response::is_navigation(sec_fetch_dest, accept)
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

/// The facts of one browser (cookie-carried) request. Use it only when the session token came
/// from cookies: a `Authorization` header token is never handshaken.
#[derive(Debug, Clone, Copy)]
pub struct BrowserRequest<'a> {
    /// The request method.
    pub method: &'a str,
    /// `Sec-Fetch-Dest`, when sent.
    pub sec_fetch_dest: Option<&'a str>,
    /// `Accept`, when sent.
    pub accept: Option<&'a str>,
    /// The route is public: never start a handshake.
    pub is_public: bool,
    /// From the publishable key; `None` when `PUBLISHABLE_KEY` is not set (no handshake then).
    pub instance: Option<Instance>,
    /// [`ClerkCookies::client_uat`](super::ClerkCookies::client_uat).
    pub client_uat: i64,
    /// A dev-browser token in the cookie or the query.
    pub dev_browser_present: bool,
    /// `__clerk_db_jwt` in the query (development: Clerk's `dev-browser-sync`).
    pub dev_browser_in_query: bool,
    /// [`ClerkCookies::redirect_count`](super::ClerkCookies::redirect_count).
    pub redirect_count: u32,
    /// The session cookie token's signature outcome.
    pub session: SessionOutcome<'a>,
    /// The verification policy (`Gate::validation`).
    pub validation: &'a Validation,
    /// `OUTAGE_GRACE_SECONDS`.
    pub outage_grace_seconds: i64,
    /// What the Frontend API looks like now (for outage grace).
    pub fapi_status: FapiStatus,
    /// Now, Unix ms.
    pub now_ms: i64,
}

/// What to do with a cookie-session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserDecision {
    /// The session verified: signed in with its claims.
    SignedIn,
    /// Outage grace: signed in until `until_ms` (`X-Edgegate-Auth-Status: grace`, `X-Auth-Grace: 1`).
    Grace {
        /// Unix ms: `(exp + OUTAGE_GRACE_SECONDS) * 1000`.
        until_ms: i64,
    },
    /// Grace might apply: run the outage check, record it, and decide again.
    NeedOutageCheck,
    /// Redirect to the Frontend API handshake ([`handshake_redirect`](super::handshake_redirect)).
    Handshake {
        /// Why the handshake starts (sent as `__clerk_hs_reason`).
        reason: Reason,
    },
    /// Signed out (the gateway's sign-in redirect or 401).
    SignedOut {
        /// Why the request is signed out.
        reason: Reason,
    },
}

/// Clerk's cookie rules (`authenticateRequestWithTokenInCookie`), networkless. In order:
/// 1. development instance with `__clerk_db_jwt` in the query → handshake `dev-browser-sync`;
/// 2. development instance without a dev-browser token (query or cookie) → handshake
///    `dev-browser-missing`, whatever the session cookie holds (as Clerk);
/// 3. no `__client_uat` (0) and no session → signed out, never a handshake;
/// 4. session without client_uat → `session-token-but-no-client-uat`; client_uat (any value but
///    0, negative too, as Clerk's `parseInt`) without session → `client-uat-but-no-session-token`;
/// 5. a token refused at or before its signature, or a JWT-template token (Clerk checks the
///    category before anything else) → signed out with the token's reason;
/// 6. a verified token whose `iat` is older than client_uat → `session-token-iat-before-client-uat`;
/// 7. the token's check: ok → signed in; expired → outage grace if it applies, else
///    `session-token-expired`; `nbf` → `session-token-nbf`; `iat` future →
///    `session-token-iat-in-the-future`; any other failure → signed out with the token's reason.
///
/// A handshake happens only when the request is eligible ([`is_eligible`]), not public, a
/// publishable key is configured and fewer than 3 handshakes ran in a row; otherwise signed out
/// with the same reason (`redirect-loop` for the last).
pub fn browser_decision(input: &BrowserRequest<'_>) -> BrowserDecision {
    let dev = input.instance == Some(Instance::Development);
    if dev && input.dev_browser_in_query {
        return maybe_handshake(input, Reason::DevBrowserSync);
    }
    if dev && !input.dev_browser_present {
        return maybe_handshake(input, Reason::DevBrowserMissing);
    }
    let has_client = input.client_uat != 0;
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
    if claims.template && !input.validation.allow_missing_sid {
        return BrowserDecision::SignedOut {
            reason: Reason::Token(TokenError::TypeMismatch),
        };
    }
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

pub(crate) fn maybe_handshake(input: &BrowserRequest<'_>, reason: Reason) -> BrowserDecision {
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
    BrowserDecision::Handshake { reason }
}
