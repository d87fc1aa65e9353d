//! `TokenError`: every reason a session token is refused, each with a stable public reason code.
//! The code is what clients and logs see; [`TokenError::detail`] adds a log-only hint that never
//! contains token content.

use std::fmt;

/// What exactly was malformed (for logs; the public code is always `token-invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not three segments, or an empty header or signature segment.
    Segments,
    /// A segment that is not strict base64url.
    Base64,
    /// The header is not a JSON object.
    HeaderJson,
    /// The payload is not a JSON object.
    PayloadJson,
    /// A JSON member named twice.
    DuplicateMember,
    /// JSON nested too deep.
    TooDeep,
    /// `typ` is neither `JWT` nor an access-token type.
    Typ,
    /// `kid` is not a string.
    Kid,
    /// `cat` is not a string.
    Cat,
    /// A claim missing, of the wrong type or out of range (its name).
    Claim(&'static str),
}

/// Why a session token is refused; [`TokenError::code`] is its stable public reason code.
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
    /// Not a token type the route accepts: a machine token where a session is needed (or the
    /// other way round), a JWT template, a machine-marked token of no known type.
    TypeMismatch,
    /// `token-needs-backend-api`: an opaque machine token (API key, opaque M2M or OAuth token),
    /// which only Clerk's Backend API can verify; edgegate makes no network call for it.
    NeedsBackendApi,
    /// Every configured key has a kid and none is the token's.
    UnknownKid,
    /// `token-invalid-signature`: no candidate key verifies the signature.
    InvalidSignature,
    /// `token-expired`: `exp` has passed (beyond the clock skew).
    Expired,
    /// `token-not-active-yet`: `nbf` is in the future (beyond the clock skew).
    NotActiveYet,
    /// `token-iat-in-the-future`: `iat` is in the future (beyond the clock skew).
    IatInFuture,
    /// `token-invalid-authorized-parties`: `azp` is not an authorised party, or is missing while
    /// `AZP_MISSING` is not `allow`.
    InvalidAuthorizedParties,
    /// `token-invalid-issuer`: `iss` is not `ISSUER`.
    InvalidIssuer,
    /// `token-invalid-audience`: `aud` holds none of `AUDIENCE`.
    InvalidAudience,
    /// `sts: "pending"` while pending sessions count as signed out.
    SessionPending,
}

impl TokenError {
    /// The stable public reason code.
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
            TokenError::NeedsBackendApi => "token-needs-backend-api",
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
        "token-needs-backend-api",
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
