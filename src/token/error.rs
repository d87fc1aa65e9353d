//! `TokenError`: every reason a session token is refused, each with a stable public reason code.
//! The code is what clients and logs see; [`TokenError::detail`] adds a log-only hint that never
//! contains token content.

use std::fmt;

/// What exactly was malformed (for logs; the public code is always `token-invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    Segments,
    Base64,
    HeaderJson,
    PayloadJson,
    DuplicateMember,
    TooDeep,
    Typ,
    Kid,
    Cat,
    Claim(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// No token in the request.
    Missing,
    /// Longer than `MAX_TOKEN_BYTES`.
    TooLarge,
    /// Malformed shape, base64, JSON, header field or claim.
    Invalid(Malformed),
    /// `alg` is not RS256/ES256, or no configured key has it.
    InvalidAlgorithm,
    /// `crit`, `b64`, `zip` or another header member that changes what is signed.
    ForbiddenHeader,
    /// `cat` names a non-session token category (JWT template, machine token).
    TypeMismatch,
    /// Every configured key has a kid and none is the token's.
    UnknownKid,
    InvalidSignature,
    Expired,
    NotActiveYet,
    IatInFuture,
    InvalidAuthorizedParties,
    InvalidIssuer,
    InvalidAudience,
    /// `sts: "pending"` while pending sessions count as signed out.
    SessionPending,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Missing => "token-missing",
            TokenError::TooLarge => "token-too-large",
            TokenError::Invalid(_) => "token-invalid",
            TokenError::InvalidAlgorithm => "token-invalid-algorithm",
            TokenError::ForbiddenHeader => "token-forbidden-header",
            TokenError::TypeMismatch => "token-type-mismatch",
            TokenError::UnknownKid => "token-unknown-kid",
            TokenError::InvalidSignature => "token-invalid-signature",
            TokenError::Expired => "token-expired",
            TokenError::NotActiveYet => "token-not-active-yet",
            TokenError::IatInFuture => "token-iat-in-the-future",
            TokenError::InvalidAuthorizedParties => "token-invalid-authorized-parties",
            TokenError::InvalidIssuer => "token-invalid-issuer",
            TokenError::InvalidAudience => "token-invalid-audience",
            TokenError::SessionPending => "session-pending",
        }
    }

    /// A log-only hint for `token-invalid`; no token content.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            TokenError::Invalid(m) => Some(match m {
                Malformed::Segments => "not three segments",
                Malformed::Base64 => "segment is not strict base64url",
                Malformed::HeaderJson => "header is not a JSON object",
                Malformed::PayloadJson => "payload is not a JSON object",
                Malformed::DuplicateMember => "duplicate JSON member",
                Malformed::TooDeep => "JSON nested too deep",
                Malformed::Typ => "typ is not JWT",
                Malformed::Kid => "kid is not a string",
                Malformed::Cat => "cat is not a string",
                Malformed::Claim(name) => name,
            }),
            _ => None,
        }
    }

    /// Every public reason code, for the docs table and its test.
    pub const ALL_CODES: &'static [&'static str] = &[
        "token-missing",
        "token-too-large",
        "token-invalid",
        "token-invalid-algorithm",
        "token-forbidden-header",
        "token-type-mismatch",
        "token-unknown-kid",
        "token-invalid-signature",
        "token-expired",
        "token-not-active-yet",
        "token-iat-in-the-future",
        "token-invalid-authorized-parties",
        "token-invalid-issuer",
        "token-invalid-audience",
        "session-pending",
    ];
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{} ({detail})", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

impl std::error::Error for TokenError {}
