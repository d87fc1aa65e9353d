//! `CLERK_JWT_KEY` parsing: every accepted form, rotation, and each refusal with its code.
//! Keys are generated here (`edgegate::mint::SigningKey`); no vector files are used.

mod common;

use common::{b64u, claims, ec, keys, mint, obj, pem_set, public_jwk, public_pem, rsa, verify};
use edgegate::keys::{parse_jwk, parse_key_set, Alg, KeySet};
use edgegate::mint::SigningKey;
use serde_json::{json, Value};

fn code(input: &str) -> &'static str {
    match parse_key_set(input) {
        Ok(ks) => panic!("key accepted: {ks:?}"),
        Err(e) => e.code(),
    }
}

/// A token from `key` (no kid) verifies with `set`.
fn serves(set: &KeySet, key: &SigningKey) -> bool {
    verify(&mint(key, json!({}), &claims()), set).is_ok()
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn spki_pem_rsa() {
    let set = parse_key_set(&public_pem(rsa())).expect("RSA SPKI PEM");
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys[0].alg(), Alg::Rs256);
    assert_eq!(set.keys[0].kid, None);
    assert!(set.keys[0].label().starts_with("sha256:"));
    assert!(serves(&set, rsa()));
}

#[test]
fn spki_pem_ec() {
    let set = parse_key_set(&public_pem(ec())).expect("EC SPKI PEM");
    assert_eq!(set.keys[0].alg(), Alg::Es256);
    assert!(serves(&set, ec()));
}

#[test]
fn pkcs1_rsa_pem() {
    use rsa::pkcs1::{EncodeRsaPublicKey, LineEnding};
    let SigningKey::Rsa(k) = rsa() else {
        unreachable!()
    };
    let pem = k
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .expect("PKCS#1");
    assert!(pem.contains("BEGIN RSA PUBLIC KEY"));
    let set = parse_key_set(&pem).expect("PKCS#1 PEM");
    assert!(serves(&set, rsa()));
    // And as a bare body.
    let set = parse_key_set(&pem_body(&pem)).expect("PKCS#1 body");
    assert!(serves(&set, rsa()));
}

#[test]
fn pem_with_literal_backslash_n() {
    for key in [rsa(), ec()] {
        let escaped = public_pem(key).replace('\n', "\\n");
        assert!(!escaped.contains('\n'));
        let set = parse_key_set(&escaped).expect("escaped PEM");
        assert!(serves(&set, key));
        // Quoted, as in a .env file.
        let set = parse_key_set(&format!("\"{escaped}\"")).expect("quoted escaped PEM");
        assert!(serves(&set, key));
    }
}

#[test]
fn pem_with_crlf() {
    let crlf = public_pem(rsa()).replace('\n', "\r\n");
    let set = parse_key_set(&crlf).expect("CRLF PEM");
    assert!(serves(&set, rsa()));
    let escaped_crlf = public_pem(ec()).replace('\n', "\\r\\n");
    let set = parse_key_set(&escaped_crlf).expect("escaped CRLF PEM");
    assert!(serves(&set, ec()));
}

#[test]
fn pem_body_without_begin_end() {
    for key in [rsa(), ec()] {
        let body = pem_body(&public_pem(key));
        let set = parse_key_set(&body).expect("bare body");
        assert!(serves(&set, key));
    }
}

#[test]
fn two_pem_blocks_rotation() {
    let k = keys();
    let text = format!("{}\n{}", public_pem(&k.rsa_a), public_pem(&k.rsa_b));
    let set = parse_key_set(&text).expect("two PEM blocks");
    assert_eq!(set.len(), 2);
    assert!(serves(&set, &k.rsa_a));
    assert!(serves(&set, &k.rsa_b));
    // Mixed algorithms, glued without a newline.
    let text = format!("{}{}", public_pem(&k.rsa_a), public_pem(&k.ec_a));
    let set = parse_key_set(&text).expect("RSA + EC blocks");
    assert!(serves(&set, &k.rsa_a));
    assert!(serves(&set, &k.ec_a));
    assert!(!serves(&set, &k.rsa_b));
    assert!(!serves(&set, &k.ec_b));
}

#[test]
fn single_jwk() {
    for key in [rsa(), ec()] {
        let set = parse_key_set(&public_jwk(key, None).to_string()).expect("JWK");
        assert_eq!(set.len(), 1);
        assert!(serves(&set, key));
        let mut with_meta = public_jwk(key, Some("k1"));
        with_meta["use"] = "sig".into();
        with_meta["alg"] = key.alg().as_str().into();
        with_meta["key_ops"] = json!(["verify"]);
        let set = parse_key_set(&with_meta.to_string()).expect("JWK with use/alg/key_ops");
        assert_eq!(set.keys[0].kid.as_deref(), Some("k1"));
        assert_eq!(set.labels(), vec!["k1".to_owned()]);
    }
}

#[test]
fn jwks_with_two_kids() {
    let k = keys();
    let jwks =
        json!({"keys": [public_jwk(&k.rsa_a, Some("ins_1")), public_jwk(&k.ec_a, Some("ins_2"))]});
    let set = parse_key_set(&jwks.to_string()).expect("JWKS");
    assert_eq!(set.labels(), vec!["ins_1".to_owned(), "ins_2".to_owned()]);
    let t1 = mint(&k.rsa_a, json!({"kid": "ins_1"}), &claims());
    let t2 = mint(&k.ec_a, json!({"kid": "ins_2"}), &claims());
    assert!(verify(&t1, &set).is_ok());
    assert!(verify(&t2, &set).is_ok());
}

#[test]
fn jwk_alg_must_fit_key_type() {
    let mut jwk = public_jwk(rsa(), None);
    jwk["alg"] = "ES256".into();
    assert_eq!(code(&jwk.to_string()), "key-unsupported-algorithm");
    jwk["alg"] = "RS512".into();
    assert_eq!(code(&jwk.to_string()), "key-unsupported-algorithm");
}

#[test]
fn jwk_use_enc_and_key_ops_without_verify_are_refused() {
    let mut jwk = public_jwk(ec(), None);
    jwk["use"] = "enc".into();
    assert_eq!(code(&jwk.to_string()), "key-not-for-signing");
    let mut jwk = public_jwk(rsa(), None);
    jwk["key_ops"] = json!(["encrypt"]);
    assert_eq!(code(&jwk.to_string()), "key-not-for-signing");
    jwk["key_ops"] = json!("verify");
    assert_eq!(code(&jwk.to_string()), "key-not-for-signing");
}

#[test]
fn rsa_1024_is_too_small() {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let small = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).expect("RSA 1024");
    let pem = small
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM");
    assert_eq!(code(&pem), "key-rsa-too-small");
    let err = parse_key_set(&pem).unwrap_err();
    assert!(err.to_string().contains("1024"), "{err}");
    let jwk = public_jwk(&SigningKey::Rsa(Box::new(small)), None);
    assert_eq!(code(&jwk.to_string()), "key-rsa-too-small");
}

#[test]
fn rsa_exponent_other_than_65537() {
    for e in ["Aw", "AQM", "BQ", "AQAAAQ"] {
        let mut jwk = public_jwk(rsa(), None);
        jwk["e"] = e.into();
        assert_eq!(code(&jwk.to_string()), "key-rsa-exponent", "e = {e}");
    }
}

/// An e = 3 RSA key as SPKI PEM (built from our modulus; the primitive would accept it).
#[test]
fn rsa_exponent_3_spki_pem() {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::traits::PublicKeyParts;
    let SigningKey::Rsa(k) = rsa() else {
        unreachable!()
    };
    let e3 = rsa::RsaPublicKey::new(k.n().clone(), rsa::BigUint::from(3u8)).expect("e=3 key");
    let pem = e3.to_public_key_pem(LineEnding::LF).expect("PEM");
    assert_eq!(code(&pem), "key-rsa-exponent");
}

/// SPKI for P-384 (OID 1.3.132.0.34) with an arbitrary point: the curve is refused by name.
fn p384_spki_pem() -> String {
    let mut der = hex_bytes("3076301006072a8648ce3d020106052b81040022036200");
    der.push(4);
    der.extend(std::iter::repeat_n(7u8, 96));
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
}

fn hex_bytes(h: &str) -> Vec<u8> {
    common::hex(h)
}

#[test]
fn other_curves_are_unsupported() {
    assert_eq!(code(&p384_spki_pem()), "key-unsupported-curve");
    let err = parse_key_set(&p384_spki_pem()).unwrap_err();
    assert!(err.to_string().contains("P-384"), "{err}");
    for crv in ["P-384", "P-521", "secp256k1"] {
        let mut jwk = public_jwk(ec(), None);
        jwk["crv"] = crv.into();
        assert_eq!(code(&jwk.to_string()), "key-unsupported-curve", "{crv}");
    }
}

#[test]
fn private_keys_are_refused() {
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    let k = keys();
    // PKCS#8, RSA and EC.
    for key in [&k.rsa_a, &k.ec_a] {
        let pem = key.private_pem().expect("PKCS#8");
        assert!(pem.contains("BEGIN PRIVATE KEY"));
        assert_eq!(code(&pem), "key-private");
        assert_eq!(code(&pem.replace('\n', "\\n")), "key-private");
        // Body pasted without its PEM lines.
        assert_eq!(code(&pem_body(&pem)), "key-private");
        // After a public key (rotation list with a mistake in it).
        assert_eq!(code(&format!("{}{}", public_pem(key), pem)), "key-private");
    }
    // PKCS#1 "RSA PRIVATE KEY".
    let SigningKey::Rsa(rk) = &k.rsa_a else {
        unreachable!()
    };
    let pkcs1 = rk.to_pkcs1_pem(LineEnding::LF).expect("PKCS#1 private");
    assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    assert_eq!(code(&pkcs1), "key-private");
    assert_eq!(code(&pem_body(&pkcs1)), "key-private");
    // SEC1 "EC PRIVATE KEY".
    let SigningKey::Ec(ek) = &k.ec_a else {
        unreachable!()
    };
    let sec1 = ek.to_sec1_pem(p256::pkcs8::LineEnding::LF).expect("SEC1");
    assert_eq!(code(&sec1), "key-private");
    // JWK with `d`, alone and in a JWKS.
    let mut jwk = public_jwk(ec(), Some("k"));
    jwk["d"] = b64u([1u8; 32]).into();
    assert_eq!(code(&jwk.to_string()), "key-private");
    assert_eq!(
        code(&json!({"keys": [public_jwk(rsa(), Some("a")), jwk]}).to_string()),
        "key-private"
    );
    let err = parse_key_set(&pkcs1).unwrap_err();
    assert!(err.to_string().contains("PRIVATE"), "{err}");
}

#[test]
fn garbage_is_malformed() {
    for input in [
        "hello world",
        "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nAAAA",
        "-----BEGIN FOO-----\nAAAA\n-----END FOO-----",
        "{not json",
        "{\"kty\":\"RSA\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
        "{\"keys\": 5}",
        "{\"keys\": [1]}",
        "AAAA",
    ] {
        assert_eq!(code(input), "key-malformed", "{input:?}");
    }
    // A point not on the curve.
    let mut jwk = public_jwk(ec(), None);
    jwk["y"] = b64u([0u8; 32]).into();
    assert_eq!(code(&jwk.to_string()), "key-malformed");
}

#[test]
fn a_pem_header_alone_is_named_with_the_fix() {
    for input in [
        "-----BEGIN PUBLIC KEY-----",
        "  -----BEGIN PUBLIC KEY-----\n",
        "\"-----BEGIN PUBLIC KEY-----\"",
        "-----BEGIN RSA PUBLIC KEY-----",
    ] {
        assert_eq!(code(input), "key-pem-header-only", "{input:?}");
        let err = parse_key_set(input).unwrap_err();
        assert!(
            err.to_string()
                .contains("wrangler secret put CLERK_JWT_KEY <"),
            "{err}"
        );
    }
    // A header with a body is not the header alone.
    assert_eq!(code("-----BEGIN PUBLIC KEY-----\nAAAA"), "key-malformed");
}

#[test]
fn other_key_types_are_refused() {
    assert_eq!(
        code(&json!({"kty": "oct", "k": "c2VjcmV0"}).to_string()),
        "key-unsupported-type"
    );
    assert_eq!(
        code(&json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"}).to_string()),
        "key-unsupported-type"
    );
}

#[test]
fn certificate_is_refused() {
    assert_eq!(
        code("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
        "key-certificate"
    );
}

#[test]
fn empty_is_empty() {
    for input in ["", "   ", "\n\r\n", "\"\"", "{\"keys\": []}"] {
        assert_eq!(code(input), "key-empty", "{input:?}");
    }
}

/// Neither `Debug` of a key set nor any error's `Display`/`Debug` shows key material.
#[test]
fn no_key_material_in_debug_or_errors() {
    let k = keys();
    let SigningKey::Rsa(rk) = &k.rsa_a else {
        unreachable!()
    };
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    let modulus = b64u(rk.n().to_bytes_be());
    let body = pem_body(&public_pem(&k.rsa_a));
    let ec_jwk = public_jwk(&k.ec_a, Some("kid-1"));
    let ec_x = ec_jwk["x"].as_str().expect("x").to_owned();
    let set =
        parse_key_set(&format!("{}{}", public_pem(&k.rsa_a), public_pem(&k.ec_a))).expect("keys");
    let jwks = parse_key_set(&json!({"keys": [ec_jwk]}).to_string()).expect("jwks");
    let shown = format!("{set:?} {jwks:?} {:?}", set.keys[0].material);
    for secret in [&modulus[..40], &body[40..80], &ec_x[..20]] {
        assert!(!shown.contains(secret), "Debug shows key material: {shown}");
    }
    assert!(
        shown.contains("RS256") && shown.contains("ES256"),
        "{shown}"
    );

    let private = k.rsa_a.private_pem().expect("private");
    let private_body = pem_body(&private);
    let mut d_jwk = public_jwk(&k.rsa_a, None);
    d_jwk["d"] = b64u(rk.d().to_bytes_be()).into();
    let mut small_e = public_jwk(&k.rsa_a, None);
    small_e["e"] = "Aw".into();
    for input in [
        private.clone(),
        private_body.clone(),
        d_jwk.to_string(),
        small_e.to_string(),
    ] {
        let err = parse_key_set(&input).unwrap_err();
        let text = format!("{err} {err:?}");
        for secret in [&modulus[..40], &private_body[60..100]] {
            assert!(!text.contains(secret), "error shows key material: {text}");
        }
    }
}

/// `parse_jwk` on a map is the same as `parse_key_set` on the JSON text.
#[test]
fn parse_jwk_direct() {
    let jwk = obj(public_jwk(ec(), Some("x")));
    let key = parse_jwk(&jwk).expect("JWK");
    assert_eq!(key.kid.as_deref(), Some("x"));
    assert_eq!(key.alg(), Alg::Es256);
    let set = pem_set(ec());
    assert_eq!(set.keys[0].fingerprint, key.fingerprint);
    let _: Value = Value::Object(jwk);
}
