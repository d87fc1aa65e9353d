//! The signature check through WebCrypto (`crypto.subtle`), the worker's fast path: V8's native
//! RSA and ECDSA are an order of magnitude faster than the same math compiled to wasm. Keys are
//! imported once per isolate, as JWKs built from the public numbers the pure key parser produced. Cheap structural checks
//! (signature length, ECDSA `r`/`s` range) run in Rust first, so WebCrypto only sees inputs the
//! RustCrypto backend would also consider.

use crate::keys::{Alg, KeyMaterial};
use js_sys::{Array, Function, Object, Promise, Reflect};
use rsa::traits::PublicKeyParts;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn subtle() -> Result<JsValue, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    Reflect::get(&crypto, &JsValue::from_str("subtle"))
}

fn method(target: &JsValue, name: &str) -> Result<Function, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))?.dyn_into::<Function>()
}

/// The `importKey` algorithm; the `verify` parameters live in glue.js.
fn import_algorithm(alg: Alg) -> Result<Object, JsValue> {
    let o = Object::new();
    match alg {
        Alg::Rs256 => {
            Reflect::set(&o, &"name".into(), &"RSASSA-PKCS1-v1_5".into())?;
            Reflect::set(&o, &"hash".into(), &"SHA-256".into())?;
        }
        Alg::Es256 => {
            Reflect::set(&o, &"name".into(), &"ECDSA".into())?;
            Reflect::set(&o, &"namedCurve".into(), &"P-256".into())?;
        }
    }
    Ok(o)
}

/// Imports a public key for `verify`; the result is a `CryptoKey`.
pub async fn import_key(material: &KeyMaterial) -> Result<JsValue, JsValue> {
    let subtle = subtle()?;
    let import = method(&subtle, "importKey")?;
    let jwk = Object::new();
    for (name, value) in material.public_jwk() {
        Reflect::set(&jwk, &name.into(), &value.into())?;
    }
    let args = Array::new();
    args.push(&"jwk".into());
    args.push(&jwk.into());
    args.push(&import_algorithm(material.alg())?.into());
    args.push(&JsValue::FALSE);
    args.push(&Array::of1(&"verify".into()).into());
    let promise: Promise = import.apply(&subtle, &args)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// Structural checks WebCrypto implementations differ on, done the same way as the pure backend.
pub fn plausible_signature(material: &KeyMaterial, signature: &[u8]) -> bool {
    match material {
        KeyMaterial::Rsa { key, .. } => signature.len() == key.size(),
        KeyMaterial::Ec { .. } => {
            signature.len() == 64 && p256::ecdsa::Signature::from_slice(signature).is_ok()
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/edge/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = verifySignature, catch)]
    fn verify_signature(
        crypto_key: &JsValue,
        alg: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<Promise, JsValue>;
}

/// `crypto.subtle.verify` with an imported key: one call into glue.js, whose parameters are
/// built once per isolate.
pub async fn verify(
    crypto_key: &JsValue,
    alg: Alg,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, JsValue> {
    let promise = verify_signature(crypto_key, alg.as_str(), message, signature)?;
    Ok(JsFuture::from(promise).await?.as_bool() == Some(true))
}
