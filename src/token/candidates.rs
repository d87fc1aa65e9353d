//! The candidate keys of a prepared token, tried one at a time: the one loop over keys that
//! every signature check goes through (step by step at the edge, where each check is a WebCrypto
//! call; in one go natively with [`verify_candidates`]).

use super::Prepared;
use crate::crypto::{plausible_signature, verify_signature};
use crate::keys::{Alg, KeySet};

/// One signature check to run: does `signature` verify over `message` with key `key_index`?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureCheck<'a> {
    /// The index of the key in the configured [`KeySet`].
    pub key_index: usize,
    /// The token's algorithm.
    pub alg: Alg,
    /// The signed bytes.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// A prepared token and the candidate keys still to try.
#[derive(Debug, Clone)]
pub struct Candidates {
    prepared: Prepared,
    /// Position in `prepared.candidates()` of the key being checked.
    at: usize,
}

impl Candidates {
    /// Starts at the first candidate key that can have made the signature (its algorithm fits
    /// and the signature has the key's shape; see `crypto::plausible_signature`). `None` when
    /// no candidate can.
    pub fn first(prepared: Prepared, keys: &KeySet) -> Option<Candidates> {
        Candidates { prepared, at: 0 }.settle(keys)
    }

    /// The next plausible candidate after the current one.
    pub fn next(mut self, keys: &KeySet) -> Option<Candidates> {
        self.at += 1;
        self.settle(keys)
    }

    fn settle(mut self, keys: &KeySet) -> Option<Candidates> {
        let alg = self.prepared.header().alg;
        while let Some(&index) = self.prepared.candidates().get(self.at) {
            let fits = keys.get(index).is_some_and(|key| {
                key.alg() == alg && plausible_signature(&key.material, self.prepared.signature())
            });
            if fits {
                return Some(self);
            }
            self.at += 1;
        }
        None
    }

    /// The check for the current candidate.
    pub fn check(&self) -> SignatureCheck<'_> {
        SignatureCheck {
            key_index: self
                .prepared
                .candidates()
                .get(self.at)
                .copied()
                .unwrap_or(usize::MAX),
            alg: self.prepared.header().alg,
            message: self.prepared.signing_input(),
            signature: self.prepared.signature(),
        }
    }

    /// The prepared token, once a candidate verified it.
    pub fn into_prepared(self) -> Prepared {
        self.prepared
    }
}

/// Runs every plausible candidate's check with RustCrypto until one verifies (natively: CLI,
/// tests, the conformance vectors).
pub fn verify_candidates(
    keys: &KeySet,
    alg: Alg,
    candidates: &[usize],
    message: &[u8],
    signature: &[u8],
) -> bool {
    candidates.iter().any(|&index| {
        keys.get(index).is_some_and(|key| {
            key.alg() == alg
                && plausible_signature(&key.material, signature)
                && verify_signature(&key.material, alg, message, signature)
        })
    })
}
