//! Shared helpers for the integration tests: development keys (generated once per test binary),
//! token minting with arbitrary header and claims, a raw-segment builder for malformed tokens,
//! and the lookup of the conformance vectors in `../shared/vectors` (never copied into the
//! project; see `../shared/vectors/README.md` for each file's source, commit and licence).

#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
pub mod drive;

use edgegate::keys::{parse_key_set, Alg, KeySet};
use edgegate::mint::{mint_token, SigningKey};
use edgegate::token::{verify_token, TokenError, Validation};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

/// A pinned "now" for the session tests: 2024-01-01T00:00:00Z.
pub const NOW_S: i64 = 1_704_067_200;
pub const NOW_MS: i64 = NOW_S * 1000;
pub const ORIGIN: &str = "https://app.example.com";

/// Four development keys: two RSA (rotation), two P-256. RSA key generation is slow, so each
/// test binary generates them once.
pub struct TestKeys {
    pub rsa_a: SigningKey,
    pub rsa_b: SigningKey,
    pub ec_a: SigningKey,
    pub ec_b: SigningKey,
}

pub fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let gen = |alg| SigningKey::generate(alg).expect("key generation");
        TestKeys {
            rsa_a: gen(Alg::Rs256),
            rsa_b: gen(Alg::Rs256),
            ec_a: gen(Alg::Es256),
            ec_b: gen(Alg::Es256),
        }
    })
}

pub fn rsa() -> &'static SigningKey {
    &keys().rsa_a
}

pub fn ec() -> &'static SigningKey {
    &keys().ec_a
}

/// The SPKI PEM of `key`'s public half.
pub fn public_pem(key: &SigningKey) -> String {
    key.public_pem().expect("public PEM")
}

/// A key set of one PEM key (no kid).
pub fn pem_set(key: &SigningKey) -> KeySet {
    parse_key_set(&public_pem(key)).expect("PEM key set")
}

/// The public JWK of `key` (RSA `n`/`e` or EC `x`/`y`), with an optional kid.
pub fn public_jwk(key: &SigningKey, kid: Option<&str>) -> Value {
    let mut jwk = match key {
        SigningKey::Rsa(k) => {
            use rsa::traits::PublicKeyParts;
            json!({
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(k.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(k.e().to_bytes_be()),
            })
        }
        SigningKey::Ec(k) => {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let point = k.public_key().to_encoded_point(false);
            json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
                "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
            })
        }
    };
    if let Some(kid) = kid {
        jwk["kid"] = Value::String(kid.to_owned());
    }
    jwk
}

/// A JWKS key set of `(key, kid)` pairs.
pub fn jwks_set(entries: &[(&SigningKey, &str)]) -> KeySet {
    let keys: Vec<Value> = entries
        .iter()
        .map(|(k, kid)| public_jwk(k, Some(kid)))
        .collect();
    parse_key_set(&json!({ "keys": keys }).to_string()).expect("JWKS key set")
}

/// Turns a `json!` object into a map.
pub fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Clerk-shaped v2 session claims valid at [`NOW_S`] for [`ORIGIN`].
pub fn claims() -> Map<String, Value> {
    obj(json!({
        "sub": "user_123",
        "sid": "sess_123",
        "azp": ORIGIN,
        "iss": "https://clerk.example.com",
        "iat": NOW_S - 10,
        "nbf": NOW_S - 15,
        "exp": NOW_S + 60,
        "v": 2,
        "sts": "active",
    }))
}

/// `claims()` with `changes` applied: a `null` value removes the claim.
pub fn claims_with(changes: Value) -> Map<String, Value> {
    let mut c = claims();
    for (k, v) in obj(changes) {
        if v.is_null() {
            c.remove(&k);
        } else {
            c.insert(k, v);
        }
    }
    c
}

/// A token signed by `key` with `extra_header` over `claims`.
pub fn mint(key: &SigningKey, extra_header: Value, claims: &Map<String, Value>) -> String {
    mint_token(key, &obj(extra_header), claims)
}

/// The policy of the session tests: [`ORIGIN`] authorized, everything else default.
pub fn validation() -> Validation {
    Validation::default().with_authorized_parties([ORIGIN])
}

/// Verifies at [`NOW_MS`] with [`validation`].
pub fn verify(token: &str, keys: &KeySet) -> Result<edgegate::auth::Auth, TokenError> {
    verify_token(token, keys, &validation(), NOW_MS)
}

/// The reason code of a rejection (panics on acceptance).
pub fn reject_code(token: &str, keys: &KeySet) -> &'static str {
    match verify(token, keys) {
        Ok(auth) => panic!("token was accepted: {auth:?}"),
        Err(e) => e.code(),
    }
}

pub fn b64u(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64u_decode(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).expect("base64url")
}

/// Raw segments: `b64u(header) . b64u(payload) . b64u(signature)`, no checks.
pub fn raw_token(header: &[u8], payload: &[u8], signature: &[u8]) -> String {
    format!("{}.{}.{}", b64u(header), b64u(payload), b64u(signature))
}

/// A token whose header and payload bytes are exactly `header` and `payload` (any JSON, or
/// not JSON at all), correctly signed by `key`: so the check under test is the one that fails.
pub fn signed_raw(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64u(header), b64u(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64u(sig))
}

/// Splits a compact token into its three segments.
pub fn segments(token: &str) -> (String, String, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS");
    (parts[0].into(), parts[1].into(), parts[2].into())
}

/// Hex to bytes (the Wycheproof files are hex).
pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The conformance vectors folder: `EDGEGATE_VECTORS_DIR`, else `../shared/vectors` beside the
/// project. When absent: a failure if `EDGEGATE_REQUIRE_VECTORS=1` (CI), otherwise a loud skip.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EDGEGATE_VECTORS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    };
    if dir.join("README.md").is_file() || dir.join("wycheproof").is_dir() {
        return Some(dir);
    }
    if std::env::var("EDGEGATE_REQUIRE_VECTORS").as_deref() == Ok("1") {
        panic!(
            "conformance vectors not found at {} (EDGEGATE_REQUIRE_VECTORS=1)",
            dir.display()
        );
    }
    eprintln!(
        "\n**********\nSKIPPED: vectors not found at {} (set EDGEGATE_VECTORS_DIR, or \
         EDGEGATE_REQUIRE_VECTORS=1 to make this a failure)\n**********\n",
        dir.display()
    );
    None
}

/// Reads and parses one vector file (relative to the vectors folder); `None` when the folder
/// is absent (see [`vectors_dir`]). A missing file inside a present folder is a failure.
pub fn vector_json(relative: &str) -> Option<Value> {
    let dir = vectors_dir()?;
    let path = dir.join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
