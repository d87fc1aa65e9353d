//! `KeyError`: why `CLERK_JWT_KEY` (or a fetched JWK) was refused, its stable reason code and
//! its message, which names the problem and never the key.

use std::fmt;

/// Why `CLERK_JWT_KEY` was refused. The message names the problem, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// `key-empty`: no key in the setting.
    Empty,
    /// `key-private`: a private key instead of a public one.
    PrivateKey,
    /// `key-rsa-too-small`: an RSA key under 2048 bits (its size in bits).
    RsaTooSmall(usize),
    /// `key-rsa-exponent`: an RSA public exponent other than 65537.
    RsaExponent,
    /// `key-unsupported-curve`: an EC curve other than P-256 (its name).
    UnsupportedCurve(String),
    /// `key-unsupported-type`: neither RSA nor EC (the JWK `kty` or the SPKI algorithm OID).
    UnsupportedKeyType(String),
    /// `key-unsupported-algorithm`: a JWK `alg` that is not RS256/ES256 or does not fit the key.
    UnsupportedAlgorithm(String),
    /// `key-not-for-signing`: a JWK whose `use` is not `sig` or whose `key_ops` lack `verify`.
    NotForSigning,
    /// `key-certificate`: a certificate instead of a public key.
    Certificate,
    /// `key-malformed`: unreadable key data (what was wrong).
    Malformed(&'static str),
    /// `key-pem-header-only`: the PEM's first line alone, as `wrangler secret put` stores a PEM
    /// pasted at its prompt (it submits at the first newline).
    PemHeaderOnly,
}

impl KeyError {
    /// Stable reason code for logs and the health endpoint.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Empty => "key-empty",
            KeyError::PrivateKey => "key-private",
            KeyError::RsaTooSmall(_) => "key-rsa-too-small",
            KeyError::RsaExponent => "key-rsa-exponent",
            KeyError::UnsupportedCurve(_) => "key-unsupported-curve",
            KeyError::UnsupportedKeyType(_) => "key-unsupported-type",
            KeyError::UnsupportedAlgorithm(_) => "key-unsupported-algorithm",
            KeyError::NotForSigning => "key-not-for-signing",
            KeyError::Certificate => "key-certificate",
            KeyError::Malformed(_) => "key-malformed",
            KeyError::PemHeaderOnly => "key-pem-header-only",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => write!(f, "no key found"),
            KeyError::PemHeaderOnly => write!(
                f,
                "only the PEM's first line (-----BEGIN ...-----) arrived: `wrangler secret put` \
                 submits a pasted PEM at its first newline; pipe the file in instead: \
                 npx wrangler secret put CLERK_JWT_KEY < clerk-public.pem"
            ),
            KeyError::PrivateKey => write!(
                f,
                "this is a PRIVATE key: paste the instance's PUBLIC key (PEM or JWKS) instead, and rotate the private key if it was shared"
            ),
            KeyError::RsaTooSmall(bits) => {
                write!(f, "RSA key of {bits} bits: at least 2048 bits are required")
            }
            KeyError::RsaExponent => write!(f, "RSA public exponent must be 65537"),
            KeyError::UnsupportedCurve(c) => {
                write!(f, "EC curve {c} is not supported: only P-256 (ES256)")
            }
            KeyError::UnsupportedKeyType(t) => {
                write!(f, "key type {t} is not supported: only RSA and EC P-256")
            }
            KeyError::UnsupportedAlgorithm(a) => {
                write!(f, "key algorithm {a} is not supported: only RS256 and ES256")
            }
            KeyError::NotForSigning => {
                write!(f, "JWK `use` is not \"sig\" or its `key_ops` lack \"verify\"")
            }
            KeyError::Certificate => write!(
                f,
                "a certificate was given: paste the public key (BEGIN PUBLIC KEY) instead"
            ),
            KeyError::Malformed(what) => write!(f, "malformed key: {what}"),
        }
    }
}

impl std::error::Error for KeyError {}
