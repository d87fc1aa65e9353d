//! `KeyMaterial`: a public key as RSA numbers or a P-256 point, with its verifier type (native
//! only), and what every key gives whatever its kind: its algorithm, public numbers (for
//! fingerprints), public JWK (for WebCrypto) and size. Built by `rsa_key.rs`, `p256_key.rs` and
//! `spki.rs`; never shown in `Debug` beyond its algorithm and size.

use super::alg::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::fmt;

/// Public key material with its verifier built once, so a request pays for no key set-up.
#[derive(Clone)]
pub enum KeyMaterial {
    /// An RSA public key (RS256).
    Rsa {
        /// The modulus, big-endian, without leading zero bytes.
        modulus: Box<[u8]>,
        /// The public exponent, big-endian, without leading zero bytes.
        exponent: Box<[u8]>,
        /// Its RSASSA-PKCS1-v1_5 SHA-256 verifier (native only: at the edge WebCrypto verifies).
        verifier: RsaVerifier,
    },
    /// A P-256 public key (ES256).
    Ec {
        /// The uncompressed SEC1 point (`04 || x || y`), checked to lie on P-256.
        point: Box<[u8; 65]>,
        /// Its ECDSA verifier (native only: at the edge WebCrypto verifies).
        verifier: EcVerifier,
    },
}

/// The RSA verifier natively (CLI, tests). The worker verifies with WebCrypto and reads an RSA
/// key as its two numbers only, which keeps the `rsa` crate's big-integer code out of it.
#[cfg(not(target_arch = "wasm32"))]
pub type RsaVerifier = rsa::pkcs1v15::VerifyingKey<sha2::Sha256>;
/// The RSA verifier natively (CLI, tests); in the worker, WebCrypto verifies.
#[cfg(target_arch = "wasm32")]
pub type RsaVerifier = ();

/// The ECDSA verifier natively (CLI, tests). The worker verifies with WebCrypto and never
/// builds one, which keeps p256's field arithmetic (about 20 KB of the gzipped wasm) out of it.
#[cfg(not(target_arch = "wasm32"))]
pub type EcVerifier = p256::ecdsa::VerifyingKey;
/// The ECDSA verifier natively (CLI, tests); in the worker, WebCrypto verifies.
#[cfg(target_arch = "wasm32")]
pub type EcVerifier = ();

impl KeyMaterial {
    /// The algorithm this material verifies.
    pub fn alg(&self) -> Alg {
        match self {
            KeyMaterial::Rsa { .. } => Alg::Rs256,
            KeyMaterial::Ec { .. } => Alg::Es256,
        }
    }

    /// The key's public numbers as bytes (RSA: n then e; EC: the uncompressed SEC1 point), for
    /// fingerprints. Cheaper than re-encoding the SPKI, which the worker never needs.
    pub fn public_numbers(&self) -> Vec<u8> {
        match self {
            KeyMaterial::Rsa {
                modulus, exponent, ..
            } => [&modulus[..], &exponent[..]].concat(),
            KeyMaterial::Ec { point, .. } => point.to_vec(),
        }
    }

    /// The key as a public JWK (`kty`, `n`/`e` or `crv`/`x`/`y`), for WebCrypto's
    /// `importKey("jwk", ...)`.
    pub fn public_jwk(&self) -> Vec<(&'static str, String)> {
        match self {
            KeyMaterial::Rsa {
                modulus, exponent, ..
            } => vec![
                ("kty", "RSA".to_owned()),
                ("n", URL_SAFE_NO_PAD.encode(modulus)),
                ("e", URL_SAFE_NO_PAD.encode(exponent)),
            ],
            KeyMaterial::Ec { point, .. } => vec![
                ("kty", "EC".to_owned()),
                ("crv", "P-256".to_owned()),
                ("x", URL_SAFE_NO_PAD.encode(&point[1..33])),
                ("y", URL_SAFE_NO_PAD.encode(&point[33..])),
            ],
        }
    }

    pub(super) fn bits(&self) -> usize {
        match self {
            KeyMaterial::Rsa { modulus, .. } => bit_length(modulus),
            KeyMaterial::Ec { .. } => 256,
        }
    }
}

/// The bit length of a big-endian number without leading zero bytes.
pub(super) fn bit_length(number: &[u8]) -> usize {
    number.first().map_or(0, |&top| {
        (number.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    })
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({} bits)", self.alg().as_str(), self.bits())
    }
}
