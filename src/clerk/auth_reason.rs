//! Reasons: why a cookie session is not signed in, why a handshake starts, and why a returning
//! handshake token was refused, with Clerk's codes.

use crate::token::TokenError;

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
    /// The error's stable code.
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

/// Why a cookie session is not signed in, or why a handshake starts. Codes match Clerk's
/// `AuthErrorReason` where Clerk has one (they are sent to the Frontend API as
/// `__clerk_hs_reason`); the others are edgegate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `session-token-and-uat-missing`: neither a session cookie nor `__client_uat`.
    SessionTokenAndUatMissing,
    /// `client-uat-but-no-session-token`: `__client_uat` is set, but there is no session cookie.
    ClientUatWithoutSessionToken,
    /// `session-token-but-no-client-uat`: a session cookie, but no `__client_uat` (or 0).
    SessionTokenWithoutClientUat,
    /// `session-token-iat-before-client-uat`: the token was issued before `__client_uat`.
    SessionTokenIatBeforeClientUat,
    /// `session-token-expired`: the session token expired.
    SessionTokenExpired,
    /// `session-token-nbf`: the session token's `nbf` is in the future.
    SessionTokenNbf,
    /// `session-token-iat-in-the-future`: the session token's `iat` is in the future.
    SessionTokenIatInTheFuture,
    /// `dev-browser-missing`: a development instance without a dev-browser token.
    DevBrowserMissing,
    /// `dev-browser-sync`: `__clerk_db_jwt` in the query on a development instance.
    DevBrowserSync,
    /// `satellite-needs-syncing` (Clerk's `SatelliteCookieNeedsSyncing`): a satellite without
    /// the primary's session, or asked to sync by `__clerk_synced=false`.
    SatelliteNeedsSyncing,
    /// `primary-responds-to-syncing`: a development primary sends a satellite's browser back
    /// with its dev-browser token.
    PrimaryRespondsToSyncing,
    /// `primary-domain-cross-origin-sync`: a navigation to the primary from a listed satellite
    /// refreshes the primary's session through the handshake.
    PrimaryDomainCrossOriginSync,
    /// More than [`MAX_HANDSHAKE_REDIRECTS`](super::MAX_HANDSHAKE_REDIRECTS) handshakes in a row.
    RedirectLoop,
    /// A handshake token without a matching state cookie and parameter.
    HandshakeStateMismatch,
    /// The handshake token failed verification.
    HandshakeInvalid(HandshakeError),
    /// The session token was refused for a reason no handshake can fix.
    Token(TokenError),
}

impl Reason {
    /// The reason's code.
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
            Reason::SatelliteNeedsSyncing => "satellite-needs-syncing",
            Reason::PrimaryRespondsToSyncing => "primary-responds-to-syncing",
            Reason::PrimaryDomainCrossOriginSync => "primary-domain-cross-origin-sync",
            Reason::RedirectLoop => "redirect-loop",
            Reason::HandshakeStateMismatch => "handshake-state-mismatch",
            Reason::HandshakeInvalid(e) => e.code(),
            Reason::Token(e) => e.code(),
        }
    }
}
