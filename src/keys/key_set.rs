//! The configured keys: `Key` (the key policy, RSA ≥ 2048 bits with e = 65537, applied by
//! `Key::new`; its fingerprint and label), `KeySet` and how a token's `alg` and `kid` select
//! keys from it (`KeySelectError` when none fits).

use super::alg::Alg;
use super::key_error::KeyError;
use super::key_material::{bit_length, KeyMaterial};
use sha2::{Digest, Sha256};
use std::fmt;

/// One configured verification key: material, algorithm, optional `kid`.
#[derive(Clone)]
pub struct Key {
    /// The key's `kid`, when it has one (PEM keys never do).
    pub kid: Option<String>,
    /// The public key and its verifier.
    pub material: KeyMaterial,
    /// A short SHA-256 fingerprint of the SPKI, to name keys without a kid in logs and health.
    pub fingerprint: String,
}

impl Key {
    /// Applies the key policy: RSA at least 2048 bits with e = 65537; EC P-256 only.
    pub fn new(material: KeyMaterial, kid: Option<String>) -> Result<Key, KeyError> {
        if let KeyMaterial::Rsa {
            modulus, exponent, ..
        } = &material
        {
            let bits = bit_length(modulus);
            if bits < 2048 {
                return Err(KeyError::RsaTooSmall(bits));
            }
            if exponent[..] != [1, 0, 1] {
                return Err(KeyError::RsaExponent);
            }
        }
        let digest = Sha256::digest(material.public_numbers());
        let fingerprint = crate::hex::hex_lower(digest.get(..8).unwrap_or_default());
        Ok(Key {
            kid,
            material,
            fingerprint,
        })
    }

    /// The algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.material.alg()
    }

    /// The kid, or `sha256:<fingerprint>` for keys configured without one.
    pub fn label(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => format!("sha256:{}", self.fingerprint),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("material", &self.material)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// Why no key fits a token's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelectError {
    /// No configured key verifies this algorithm.
    NoKeyForAlg,
    /// Every key has a kid and none is the token's.
    UnknownKid,
}

/// The configured keys, parsed once per isolate.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    /// The keys, in the order they were configured.
    pub keys: Vec<Key>,
    /// Where the fetched keys (`JWKS_URL`) begin, when there are any: the keys before are the
    /// embedded `CLERK_JWT_KEY` ones.
    pub fetched_from: Option<usize>,
}

impl KeySet {
    /// Indices of the keys that may verify a token with this `alg` and `kid`:
    /// a key whose kid equals the token's is chosen by it (and must fit `alg`); keys without a
    /// kid serve any token whose alg fits them; a token without a kid may use any fitting
    /// embedded key, never a fetched one (a JWKS key is chosen by its kid, as Clerk's are).
    pub fn select(&self, alg: Alg, kid: Option<&str>) -> Result<Vec<usize>, KeySelectError> {
        if let Some(kid) = kid {
            let named: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.kid.as_deref() == Some(kid))
                .map(|(i, _)| i)
                .collect();
            if !named.is_empty() {
                let mut fitting: Vec<usize> = named
                    .into_iter()
                    .filter(|&i| self.keys.get(i).is_some_and(|k| k.alg() == alg))
                    .collect();
                self.add_embedded_fallback(&mut fitting, alg);
                return if fitting.is_empty() {
                    Err(KeySelectError::NoKeyForAlg)
                } else {
                    Ok(fitting)
                };
            }
            let kidless: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.kid.is_none())
                .map(|(i, _)| i)
                .collect();
            if kidless.is_empty() {
                return Err(KeySelectError::UnknownKid);
            }
            let fitting: Vec<usize> = kidless
                .into_iter()
                .filter(|&i| self.keys.get(i).is_some_and(|k| k.alg() == alg))
                .collect();
            if fitting.is_empty() {
                Err(KeySelectError::NoKeyForAlg)
            } else {
                Ok(fitting)
            }
        } else {
            let embedded = self.fetched_from.unwrap_or(self.keys.len());
            let fitting: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .take(embedded)
                .filter(|(_, k)| k.alg() == alg)
                .map(|(i, _)| i)
                .collect();
            if !fitting.is_empty() {
                Ok(fitting)
            } else if self.keys.iter().skip(embedded).any(|k| k.alg() == alg) {
                // Only a fetched key could serve it, and those are chosen by kid alone.
                Err(KeySelectError::UnknownKid)
            } else {
                Err(KeySelectError::NoKeyForAlg)
            }
        }
    }

    /// When every key chosen by kid was fetched, the embedded keys without a kid that fit `alg`
    /// are tried after them: a fetched key claiming a kid never shuts out the embedded key.
    fn add_embedded_fallback(&self, chosen: &mut Vec<usize>, alg: Alg) {
        let Some(fetched_from) = self.fetched_from else {
            return;
        };
        if chosen.iter().any(|&i| i < fetched_from) {
            return;
        }
        chosen.extend(
            self.keys
                .iter()
                .enumerate()
                .take(fetched_from)
                .filter(|(_, k)| k.kid.is_none() && k.alg() == alg)
                .map(|(i, _)| i),
        );
    }

    /// The key at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&Key> {
        self.keys.get(index)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The labels of every key (kid or fingerprint), for `/__edgegate/health`.
    pub fn labels(&self) -> Vec<String> {
        self.keys.iter().map(Key::label).collect()
    }
}
