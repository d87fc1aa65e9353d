//! JWK and JWKS (strict JSON): `parse_jwk` checks `use`, `key_ops`, `alg` and `kid` and refuses
//! private members; the key numbers become `KeyMaterial`.

use super::alg::Alg;
use super::key_error::KeyError;
use super::key_material::KeyMaterial;
use super::key_set::Key;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

pub(super) fn parse_json_keys(text: &str) -> Result<Vec<Key>, KeyError> {
    // Strict like token JSON: a duplicated `n` or `kid` must not mean two things.
    let obj = crate::json::parse_object(text.as_bytes()).map_err(|e| match e {
        crate::json::StrictJsonError::DuplicateMember => {
            KeyError::Malformed("duplicate JSON member")
        }
        _ => KeyError::Malformed("invalid JSON object"),
    })?;
    let obj = &obj;
    match obj.get("keys") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|k| {
                k.as_object()
                    .ok_or(KeyError::Malformed("JWKS entry is not an object"))
                    .and_then(parse_jwk)
            })
            .collect(),
        Some(_) => Err(KeyError::Malformed("JWKS `keys` is not an array")),
        None => Ok(vec![parse_jwk(obj)?]),
    }
}

fn jwk_str<'a>(jwk: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, KeyError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or(KeyError::Malformed(name))
}

fn jwk_bytes(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = jwk_str(jwk, name)?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('=').as_bytes())
        .map_err(|_| KeyError::Malformed(name))
}

/// One JWK. `alg` and `use`, when present, must fit (RS256/ES256, "sig"); `d` means private.
pub fn parse_jwk(jwk: &Map<String, Value>) -> Result<Key, KeyError> {
    if jwk.contains_key("d") {
        return Err(KeyError::PrivateKey);
    }
    if let Some(use_) = jwk.get("use") {
        if use_.as_str() != Some("sig") {
            return Err(KeyError::NotForSigning);
        }
    }
    // RFC 7517 4.3: `key_ops`, when present, lists what the key may do; a key without "verify"
    // (e.g. ["encrypt"]) must not verify signatures.
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err(KeyError::NotForSigning);
        }
    }
    let kty = jwk_str(jwk, "kty")?;
    let material = match kty {
        "RSA" => {
            let (n, e) = (jwk_bytes(jwk, "n")?, jwk_bytes(jwk, "e")?);
            KeyMaterial::from_rsa_numbers(&n, &e).ok_or(KeyError::Malformed("invalid RSA key"))?
        }
        "EC" => {
            let crv = jwk_str(jwk, "crv")?;
            if crv != "P-256" {
                return Err(KeyError::UnsupportedCurve(crv.to_owned()));
            }
            let x = jwk_bytes(jwk, "x")?;
            let y = jwk_bytes(jwk, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(KeyError::Malformed("EC coordinates must be 32 bytes"));
            }
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(4u8);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            KeyMaterial::from_p256_point(&sec1)
                .ok_or(KeyError::Malformed("EC point is not on P-256"))?
        }
        other => return Err(KeyError::UnsupportedKeyType(other.to_owned())),
    };
    if let Some(alg) = jwk.get("alg") {
        let name = alg.as_str().ok_or(KeyError::Malformed("alg"))?;
        match Alg::from_jws_name(name) {
            Some(a) if a == material.alg() => {}
            _ => return Err(KeyError::UnsupportedAlgorithm(name.to_owned())),
        }
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(KeyError::Malformed("kid")),
    };
    Key::new(material, kid)
}
