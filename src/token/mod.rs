//! Session-token verification: shape → header → key → signature → claims → policy.
//!
//! The pipeline is split where the signature check happens so that the worker can hand that one
//! step to WebCrypto (asynchronous) and keep everything else pure:
//! [`prepare`] (no crypto) → signature over [`Prepared::signing_input`] with one of
//! [`Prepared::candidates`] → [`Prepared::into_claims`] → [`SessionClaims::check`].
//! [`verify_token`] runs the whole pipeline with the RustCrypto backend.

pub mod candidates;
pub mod claims;
pub mod jws;
pub mod machine_token;
pub mod token_error;

pub use candidates::{verify_candidates, Candidates, SignatureCheck};
pub use claims::SessionClaims;
pub use jws::{decode_compact, CompactJws, Header};
pub use machine_token::{MachineIdentity, TokenType, TokenTypes};
pub use token_error::{Malformed, TokenError};

use crate::auth::Auth;
use crate::json::parse_object;
use crate::keys::{KeySelectError, KeySet};
use serde_json::{Map, Value};

/// Default `MAX_TOKEN_BYTES`: browsers cap a cookie at 4 KiB, so real session tokens fit well below.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;
/// Default `CLOCK_SKEW_MS`, as Clerk's SDK.
pub const DEFAULT_CLOCK_SKEW_MS: i64 = 5000;
/// Largest `CLOCK_SKEW_MS` accepted: more would be a typo switching expiry off.
pub const MAX_CLOCK_SKEW_MS: i64 = 60_000;

/// The verification policy. `Validation::default()` is the secure default: `azp` required and
/// checked against `authorized_parties` (empty = not checked, which only the CLI allows),
/// 5 s clock skew, pending sessions signed out, 8 KiB token limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Allowed `azp` origins, without trailing slashes.
    pub authorized_parties: Vec<String>,
    /// `AZP_MISSING=allow`: accept tokens without `azp` (a present `azp` is still checked).
    pub allow_missing_azp: bool,
    /// `CLOCK_SKEW_MS`: the leeway for `exp`, `nbf` and `iat`.
    pub clock_skew_ms: i64,
    /// `ISSUER`: the exact `iss` required, when set.
    pub issuer: Option<String>,
    /// `AUDIENCE`: `aud` must hold one of these, when set.
    pub audience: Option<Vec<String>>,
    /// `PENDING_SESSIONS=signed-in`.
    pub pending_is_signed_in: bool,
    /// `SID_MISSING=allow`: accept tokens without `sid` and JWT-template tokens (machine
    /// tokens stay refused).
    pub allow_missing_sid: bool,
    /// `MAX_TOKEN_BYTES`: longer tokens are refused.
    pub max_token_bytes: usize,
}

impl Default for Validation {
    fn default() -> Self {
        Validation {
            authorized_parties: Vec::new(),
            allow_missing_azp: false,
            clock_skew_ms: DEFAULT_CLOCK_SKEW_MS,
            issuer: None,
            audience: None,
            pending_is_signed_in: false,
            allow_missing_sid: false,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

impl Validation {
    /// Sets the authorized parties, normalising trailing slashes.
    pub fn with_authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.authorized_parties = parties
            .into_iter()
            .map(|p| p.as_ref().trim().trim_end_matches('/').to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        self
    }
}

/// A session token that passed every check that needs no key: ready for the signature check.
#[derive(Debug, Clone)]
pub struct Prepared {
    header: Header,
    signing_input: String,
    signature: Vec<u8>,
    payload: Map<String, Value>,
    candidates: Vec<usize>,
    template: bool,
    token_type: TokenType,
}

impl Prepared {
    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The bytes the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }
    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// The header's `cat` named a JWT-template token.
    pub fn is_template(&self) -> bool {
        self.template
    }
    /// The token's type, read from the token itself ([`machine_token::classify`]).
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }
    /// Indices into the [`KeySet`] of the keys that may have signed this token.
    pub fn candidates(&self) -> &[usize] {
        &self.candidates
    }
    /// Call only after the signature verified with one of the candidates.
    pub fn into_claims(self) -> Result<SessionClaims, TokenError> {
        if self.token_type != TokenType::Session {
            return SessionClaims::from_machine_payload(self.payload, self.token_type);
        }
        let mut claims = SessionClaims::from_payload(self.payload)?;
        claims.template = self.template;
        Ok(claims)
    }
    /// The raw payload, for callers with their own claim rules (the handshake token).
    pub fn into_payload(self) -> Map<String, Value> {
        self.payload
    }
}

/// Shape, header, token class and key choice for a session token: everything before the
/// signature. A machine token (`typ: at+jwt`, a machine `cat`, a machine payload, see
/// [`machine`]) is refused here, before any key is tried, as Clerk refuses it before verifying.
pub fn prepare(token: &str, keys: &KeySet, max_token_bytes: usize) -> Result<Prepared, TokenError> {
    prepare_accepting(token, keys, max_token_bytes, TokenTypes::SESSION)
}

/// As [`prepare`], for a route that accepts the token types `accepts`: a token of another
/// type, or of no known type, is `token-type-mismatch` before any key is tried.
pub fn prepare_accepting(
    token: &str,
    keys: &KeySet,
    max_token_bytes: usize,
    accepts: TokenTypes,
) -> Result<Prepared, TokenError> {
    let jws = decode_compact(token, max_token_bytes)?;
    let payload =
        parse_object(&jws.payload).map_err(|e| jws::json_error(e, Malformed::PayloadJson))?;
    let token_type = machine_token::classify(&jws.header, &payload)
        .filter(|t| accepts.contains(*t))
        .ok_or(TokenError::TypeMismatch)?;
    let candidates = select_keys(keys, &jws.header)?;
    let template =
        token_type == TokenType::Session && jws::category(&jws.header) == jws::Category::Template;
    Ok(Prepared {
        signing_input: jws.signing_input.to_owned(),
        signature: jws.signature,
        header: jws.header,
        payload,
        candidates,
        template,
        token_type,
    })
}

fn select_keys(keys: &KeySet, header: &Header) -> Result<Vec<usize>, TokenError> {
    keys.select(header.alg, header.kid.as_deref())
        .map_err(|e| match e {
            KeySelectError::NoKeyForAlg => TokenError::InvalidAlgorithm,
            KeySelectError::UnknownKid => TokenError::UnknownKid,
        })
}

/// Checks the signature of a prepared token with the RustCrypto backend.
pub fn check_signature(prepared: &Prepared, keys: &KeySet) -> Result<(), TokenError> {
    if verify_candidates(
        keys,
        prepared.header.alg,
        &prepared.candidates,
        prepared.signing_input(),
        prepared.signature(),
    ) {
        Ok(())
    } else {
        Err(TokenError::InvalidSignature)
    }
}

/// Verifies a session token completely (RustCrypto backend). `now_ms` is Unix time in ms.
pub fn verify_token(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now_ms: i64,
) -> Result<Auth, TokenError> {
    let claims = verify_signed_claims(token, keys, validation.max_token_bytes)?;
    claims.check(validation, now_ms)?;
    Ok(claims.auth)
}

/// As [`verify_token`], for a route that accepts the token types `accepts` (Clerk's
/// `acceptsToken`): an opaque machine token is `token-needs-backend-api` on every route (as a
/// Bearer token at the edge), a token of another
/// type `token-type-mismatch` before any key is tried, and a machine token gets the time checks
/// and the `ISSUER`/`AUDIENCE` pins ([`SessionClaims::check_as`]).
pub fn verify_token_accepting(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now_ms: i64,
    accepts: TokenTypes,
) -> Result<Auth, TokenError> {
    if machine_token::is_opaque_machine_token(token) {
        return Err(TokenError::NeedsBackendApi);
    }
    let prepared = prepare_accepting(token, keys, validation.max_token_bytes, accepts)?;
    check_signature(&prepared, keys)?;
    let claims = prepared.into_claims()?;
    claims.check_as(accepts, validation, now_ms)?;
    Ok(claims.auth)
}

/// Everything but the per-request policy: what a verified-token cache may remember.
pub fn verify_signed_claims(
    token: &str,
    keys: &KeySet,
    max_token_bytes: usize,
) -> Result<SessionClaims, TokenError> {
    let prepared = prepare(token, keys, max_token_bytes)?;
    check_signature(&prepared, keys)?;
    prepared.into_claims()
}

/// The JWS layer alone (shape, header, key, signature), for payloads that are not session
/// claims: the conformance vectors. Returns the payload bytes.
pub fn verify_jws(
    token: &str,
    keys: &KeySet,
    max_token_bytes: usize,
) -> Result<Vec<u8>, TokenError> {
    let jws = decode_compact(token, max_token_bytes)?;
    let candidates = select_keys(keys, &jws.header)?;
    if verify_candidates(
        keys,
        jws.header.alg,
        &candidates,
        jws.signing_input.as_bytes(),
        &jws.signature,
    ) {
        Ok(jws.payload)
    } else {
        Err(TokenError::InvalidSignature)
    }
}
