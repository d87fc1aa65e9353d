//! From a token string to verified, typed claims, through the per-isolate cache and a pluggable
//! signature backend: WebCrypto at the edge (asynchronous), RustCrypto natively. The pure core
//! calls this without knowing which backend or runtime it runs on.

use crate::cache::{TokenCache, TokenDigest};
use crate::crypto::verify_signature;
use crate::keys::{Alg, KeySet};
use crate::token::{prepare, Prepared, SessionClaims, TokenError};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

/// A signature backend. `key_index` indexes the [`KeySet`] the token was prepared against;
/// `message` and `signature` are the token's signing input and decoded signature, and `token`
/// the digest of the whole token they came from (a backend that has to name the check, as the
/// edge's does for WebCrypto, can name it by that instead of hashing the bytes again).
pub trait SignatureBackend {
    fn verify(
        &self,
        key_index: usize,
        alg: Alg,
        message: &[u8],
        signature: &[u8],
        token: &TokenDigest,
    ) -> impl Future<Output = bool>;
}

/// The RustCrypto backend (native, CLI, tests; fallback in wasm).
pub struct RustCryptoBackend<'a> {
    pub keys: &'a KeySet,
}

impl SignatureBackend for RustCryptoBackend<'_> {
    async fn verify(
        &self,
        key_index: usize,
        alg: Alg,
        message: &[u8],
        signature: &[u8],
        _token: &TokenDigest,
    ) -> bool {
        self.keys
            .get(key_index)
            .is_some_and(|k| verify_signature(&k.material, alg, message, signature))
    }
}

/// The signature-verified claims of `token`: from `cache` when this exact token verified before,
/// else parsed, checked by `backend` and remembered. Per-request policy is NOT applied here.
/// `keep_ms` is how long past `exp` a cached entry may serve (clock skew plus outage grace).
pub async fn signed_claims<B: SignatureBackend>(
    token: &str,
    keys: &KeySet,
    max_token_bytes: usize,
    cache: &RefCell<TokenCache>,
    keep_ms: i64,
    now_ms: i64,
    backend: &B,
) -> Result<Rc<SessionClaims>, TokenError> {
    if token.len() > max_token_bytes {
        return Err(TokenError::TooLarge);
    }
    let digest = match cache.borrow_mut().lookup(token, now_ms) {
        Ok(hit) => return Ok(hit),
        Err(digest) => digest,
    };
    let prepared = prepare(token, keys, max_token_bytes)?;
    verify_prepared(&prepared, &digest, backend).await?;
    let claims = Rc::new(prepared.into_claims()?);
    cache
        .borrow_mut()
        .insert_digested(&digest, token, Rc::clone(&claims), keep_ms, now_ms);
    Ok(claims)
}

/// The signature step for a prepared token (`digest` is the whole token's): any candidate key
/// that verifies it will do.
pub async fn verify_prepared<B: SignatureBackend>(
    prepared: &Prepared,
    digest: &TokenDigest,
    backend: &B,
) -> Result<(), TokenError> {
    let alg = prepared.header().alg;
    for &index in prepared.candidates() {
        if backend
            .verify(
                index,
                alg,
                prepared.signing_input(),
                prepared.signature(),
                digest,
            )
            .await
        {
            return Ok(());
        }
    }
    Err(TokenError::InvalidSignature)
}
