//! From a token string to verified, typed claims, through the per-isolate cache, as a small
//! state machine with no I/O: [`authenticate`] answers from the cache or asks for one signature
//! check at a time ([`Authn::Verify`]); the caller runs the check (WebCrypto at the edge,
//! RustCrypto natively) and hands the answer to [`PendingToken::answer`]. The candidate keys are
//! tried one after the other, so any number of configured keys works.

use crate::cache::TokenCache;
use crate::keys::KeySet;
use crate::token::TokenTypes;
use crate::token::{prepare_accepting, Candidates, SessionClaims, SignatureCheck, TokenError};
use std::rc::Rc;

/// A session token waiting for a signature check.
#[derive(Debug, Clone)]
pub struct PendingToken {
    candidates: Candidates,
    token: String,
}

/// Where authenticating a token stands.
#[derive(Debug)]
pub enum Authn {
    /// Decided: the signature-verified claims (per-request policy NOT applied), or why not.
    Done(Result<Rc<SessionClaims>, TokenError>),
    /// Run [`PendingToken::check`], then call [`PendingToken::answer`] with the result.
    Verify(PendingToken),
}

/// Starts authenticating `token` for a route that accepts the token types `accepts`: a cache
/// hit (this exact token verified before) is decided at once, and a hit of another type than
/// `accepts` is `token-type-mismatch` (the cache keeps each token's type with its claims, so a
/// machine token verified on a machine route is never served as a session); otherwise the
/// token is prepared and its first signature check asked for.
pub fn authenticate(
    token: &str,
    keys: &KeySet,
    max_token_bytes: usize,
    accepts: TokenTypes,
    cache: &mut TokenCache,
    now_ms: i64,
) -> Authn {
    if token.len() > max_token_bytes {
        return Authn::Done(Err(TokenError::TooLarge));
    }
    match cache.get(token, now_ms) {
        Some(hit) if accepts.contains(hit.token_type()) => return Authn::Done(Ok(hit)),
        Some(_) => return Authn::Done(Err(TokenError::TypeMismatch)),
        None => {}
    }
    let prepared = match prepare_accepting(token, keys, max_token_bytes, accepts) {
        Ok(p) => p,
        Err(e) => return Authn::Done(Err(e)),
    };
    match Candidates::first(prepared, keys) {
        Some(candidates) => Authn::Verify(PendingToken {
            candidates,
            token: token.to_owned(),
        }),
        None => Authn::Done(Err(TokenError::InvalidSignature)),
    }
}

impl PendingToken {
    /// The signature check to run now.
    pub fn check(&self) -> SignatureCheck<'_> {
        self.candidates.check()
    }

    /// Takes the check's result: verified → the claims are typed and remembered in `cache`
    /// (`keep_ms` past `exp`: clock skew plus outage grace); refused → the next candidate key,
    /// or `token-invalid-signature` when none is left.
    pub fn answer(
        self,
        verified: bool,
        keys: &KeySet,
        cache: &mut TokenCache,
        keep_ms: i64,
        now_ms: i64,
    ) -> Authn {
        if !verified {
            return match self.candidates.next(keys) {
                Some(candidates) => Authn::Verify(PendingToken { candidates, ..self }),
                None => Authn::Done(Err(TokenError::InvalidSignature)),
            };
        }
        match self.candidates.into_prepared().into_claims() {
            Ok(claims) => {
                let claims = Rc::new(claims);
                cache.insert(&self.token, Rc::clone(&claims), keep_ms, now_ms);
                Authn::Done(Ok(claims))
            }
            Err(e) => Authn::Done(Err(e)),
        }
    }
}
