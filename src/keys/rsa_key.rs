//! An RSA key kept as its two numbers: `KeyMaterial::from_rsa_numbers` (the checks the `rsa`
//! crate would make, without its big-integer code in the worker) and `from_pkcs1_der`.

use super::key_material::{bit_length, KeyMaterial};
use rsa::pkcs8::der::Decode;
#[cfg(not(target_arch = "wasm32"))]
use sha2::Sha256;

/// The largest RSA modulus accepted, in bits (the `rsa` crate's limit, so that the worker and
/// the CLI agree on every key).
const RSA_MAX_BITS: usize = 4096;

impl KeyMaterial {
    /// From an RSA key's modulus and public exponent (big-endian), without the key policy (the
    /// primitive accepts any valid key; the policy is a configuration rule applied by
    /// [`Key::new`](crate::keys::Key::new)). `None` unless the modulus is odd and at most 4096
    /// bits and the exponent is odd, at least 3, below 2^33 and below the modulus (what the
    /// `rsa` crate accepts).
    pub fn from_rsa_numbers(modulus: &[u8], exponent: &[u8]) -> Option<KeyMaterial> {
        let modulus = without_leading_zeros(modulus);
        let exponent = without_leading_zeros(exponent);
        let odd = |n: &[u8]| n.last().is_some_and(|b| b & 1 == 1);
        let e_ok = exponent.len() <= 5
            && exponent.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)) < 1 << 33
            && exponent != [1]
            && (exponent.len(), exponent) < (modulus.len(), modulus);
        if !odd(modulus) || !odd(exponent) || !e_ok || bit_length(modulus) > RSA_MAX_BITS {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        let verifier = {
            let n = rsa::BigUint::from_bytes_be(modulus);
            let e = rsa::BigUint::from_bytes_be(exponent);
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa::RsaPublicKey::new(n, e).ok()?)
        };
        #[cfg(target_arch = "wasm32")]
        let verifier = ();
        Some(KeyMaterial::Rsa {
            modulus: modulus.into(),
            exponent: exponent.into(),
            verifier,
        })
    }

    /// From a DER PKCS#1 RSAPublicKey, without the key policy.
    pub fn from_pkcs1_der(der: &[u8]) -> Option<KeyMaterial> {
        let key = rsa::pkcs1::RsaPublicKey::from_der(der).ok()?;
        KeyMaterial::from_rsa_numbers(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }
}

/// `bytes` without its leading zero bytes.
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

#[cfg(test)]
mod rsa_number_tests {
    use super::*;

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xffu8; bits.div_ceil(8)];
        if let Some(top) = n.first_mut() {
            *top >>= (8 - bits % 8) % 8;
        }
        n
    }

    #[test]
    fn the_numbers_rsa_would_accept_make_key_material() {
        let n = modulus(2048);
        let key = KeyMaterial::from_rsa_numbers(&[&[0, 0][..], &n].concat(), &[0, 1, 0, 1])
            .expect("a valid key");
        assert_eq!(key.bits(), 2048);
        assert_eq!(key.public_numbers(), [&n[..], &[1, 0, 1]].concat());
        assert!(KeyMaterial::from_rsa_numbers(&modulus(4096), &[3]).is_some());
    }

    #[test]
    fn numbers_no_rsa_key_has_are_refused() {
        let n = modulus(2048);
        let mut even = n.clone();
        if let Some(last) = even.last_mut() {
            *last = 0xfe;
        }
        for (n, e) in [
            (even, vec![1, 0, 1]),
            (n.clone(), vec![1]),
            (n.clone(), vec![1, 0, 0]),
            (n.clone(), vec![2, 0, 0, 0, 1]),
            (n.clone(), n.clone()),
            (modulus(4097), vec![1, 0, 1]),
            (Vec::new(), vec![1, 0, 1]),
            (n, Vec::new()),
        ] {
            assert!(
                KeyMaterial::from_rsa_numbers(&n, &e).is_none(),
                "{} {e:?}",
                n.len()
            );
        }
    }
}
