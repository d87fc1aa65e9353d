//! `CLERK_JWT_KEY` → [`KeySet`]: SPKI PEM (RSA, EC P-256), PKCS#1 RSA PEM, a PEM body without its
//! BEGIN/END lines, several PEM blocks (rotation), a single JWK or a JWKS. Applies the key policy
//! (RSA ≥ 2048 bits with e = 65537, EC only on P-256, no private keys) and selects keys by `kid`.
//! Key material never appears in `Debug` output or errors.
//!
//! One file a concept: `alg.rs`, `key_error.rs`, `key_material.rs` (with `rsa_key.rs`,
//! `p256_key.rs` and `spki.rs` building it), `key_set.rs` (the policy and selection), and the
//! formats: `parse.rs` (the setting as pasted), `pem.rs`, `jwk.rs`.

mod alg;
mod jwk;
mod key_error;
mod key_material;
mod key_set;
mod p256_key;
mod parse;
mod pem;
mod rsa_key;
mod spki;

pub use alg::Alg;
pub use jwk::parse_jwk;
pub use key_error::KeyError;
pub use key_material::{EcVerifier, KeyMaterial, RsaVerifier};
pub use key_set::{Key, KeySelectError, KeySet};
pub use parse::parse_key_set;
