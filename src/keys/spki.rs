//! DER SubjectPublicKeyInfo: `KeyMaterial::from_spki_der` (RSA, or EC on a named curve, which
//! must be P-256) and, natively, `KeyMaterial::spki_der` back.

use super::key_error::KeyError;
use super::key_material::KeyMaterial;
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

impl KeyMaterial {
    /// From a DER SubjectPublicKeyInfo, without the key policy.
    pub fn from_spki_der(der: &[u8]) -> Result<KeyMaterial, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| KeyError::Malformed("not a DER SubjectPublicKeyInfo"))?;
        if spki.algorithm.oid == OID_RSA {
            spki.subject_public_key
                .as_bytes()
                .and_then(KeyMaterial::from_pkcs1_der)
                .ok_or(KeyError::Malformed("invalid RSA public key"))
        } else if spki.algorithm.oid == OID_EC {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::Malformed("EC key without a named curve"))?;
            if curve != OID_P256 {
                return Err(KeyError::UnsupportedCurve(curve_name(&curve)));
            }
            spki.subject_public_key
                .as_bytes()
                .and_then(KeyMaterial::from_p256_point)
                .ok_or(KeyError::Malformed(
                    "invalid P-256 public key (an uncompressed point on the curve)",
                ))
        } else {
            Err(KeyError::UnsupportedKeyType(spki.algorithm.oid.to_string()))
        }
    }

    /// DER SubjectPublicKeyInfo (tests and the CLI; the worker hands WebCrypto a JWK).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spki_der(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePublicKey;
        let der = match self {
            KeyMaterial::Rsa { verifier, .. } => verifier.as_ref().to_public_key_der(),
            KeyMaterial::Ec { point, .. } => {
                let mut der = P256_SPKI_PREFIX.to_vec();
                der.extend_from_slice(&point[..]);
                return der;
            }
        };
        der.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }
}

/// A P-256 SubjectPublicKeyInfo up to its 65-byte point: SEQUENCE { SEQUENCE { id-ecPublicKey,
/// prime256v1 }, BIT STRING (0 unused bits) }.
#[cfg(not(target_arch = "wasm32"))]
pub(super) const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn curve_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        other => other.to_owned(),
    }
}
