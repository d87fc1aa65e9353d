//! The signature primitive: `verify_signature(key, alg, message, signature)`, with the RustCrypto
//! backend (`rsa`, `p256`). This is what runs natively (tests, CLI); the worker hands the same
//! check to WebCrypto at the edge, after the structural checks of `plausible_signature`, and
//! both pass the same Wycheproof vectors.

use crate::keys::{Alg, KeyMaterial};
#[cfg(not(target_arch = "wasm32"))]
use rsa::signature::Verifier;

/// Checks `signature` over `message` with `key` under `alg`. RS256 is RSASSA-PKCS1-v1_5 with
/// SHA-256 (the signature must be exactly the modulus length); ES256 is ECDSA P-256 SHA-256 with
/// the raw 64-byte `r || s` form of JWS (DER is refused; `r` or `s` zero or `>= n` is refused).
/// High-S signatures are accepted, as plain ECDSA and WebCrypto accept them. In the worker, which
/// verifies with WebCrypto, neither algorithm has a verifier here and both are refused.
#[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
pub fn verify_signature(key: &KeyMaterial, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
    match (key, alg) {
        #[cfg(not(target_arch = "wasm32"))]
        (KeyMaterial::Rsa { verifier, .. }, Alg::Rs256) => {
            match rsa::pkcs1v15::Signature::try_from(signature) {
                Ok(sig) => verifier.verify(message, &sig).is_ok(),
                Err(_) => false,
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        (KeyMaterial::Ec { verifier, .. }, Alg::Es256) => {
            if signature.len() != 64 {
                return false;
            }
            match p256::ecdsa::Signature::from_slice(signature) {
                Ok(sig) => verifier.verify(message, &sig).is_ok(),
                Err(_) => false,
            }
        }
        _ => false,
    }
}

/// Structural checks that WebCrypto implementations differ on, done before a signature is handed
/// to one: an RS256 signature exactly the modulus length, an ES256 one 64 bytes with `r` and `s`
/// in range. Whatever fails here `verify_signature` refuses too.
pub fn plausible_signature(key: &KeyMaterial, signature: &[u8]) -> bool {
    match key {
        KeyMaterial::Rsa { modulus, .. } => signature.len() == modulus.len(),
        KeyMaterial::Ec { .. } => {
            signature.len() == 64 && p256::ecdsa::Signature::from_slice(signature).is_ok()
        }
    }
}
