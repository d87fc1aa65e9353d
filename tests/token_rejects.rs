//! One test per rejection rule, named after the case, each asserting its public reason code.
//! Every token here is correctly signed unless the signature is the thing under test, so the
//! rule being tested is the one that fails.

mod common;

use common::{
    b64u, b64u_decode, claims, claims_with, ec, jwks_set, mint, obj, pem_set, reject_code, rsa,
    segments, signed_raw, validation, verify, NOW_MS, NOW_S, ORIGIN,
};
use edgegate::keys::KeySet;
use edgegate::mint::SigningKey;
use edgegate::token::{verify_token, Malformed, TokenError, Validation};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn rs_set() -> KeySet {
    pem_set(rsa())
}

fn es_set() -> KeySet {
    pem_set(ec())
}

fn header(extra: Value) -> Vec<u8> {
    let mut h = obj(json!({"alg": "RS256", "typ": "JWT"}));
    for (k, v) in obj(extra) {
        if v.is_null() {
            h.remove(&k);
        } else {
            h.insert(k, v);
        }
    }
    Value::Object(h).to_string().into_bytes()
}

fn payload() -> Vec<u8> {
    Value::Object(claims()).to_string().into_bytes()
}

/// Signs exactly the given segment texts (which may be non-canonical base64url).
fn sign_segments(key: &SigningKey, h: &str, p: &str) -> String {
    let input = format!("{h}.{p}");
    format!("{input}.{}", b64u(key.sign(input.as_bytes())))
}

fn rs_code(token: &str) -> &'static str {
    reject_code(token, &rs_set())
}

fn with_claims(changes: Value) -> String {
    mint(rsa(), json!({}), &claims_with(changes))
}

fn verify_with(token: &str, v: &Validation) -> Result<edgegate::auth::Auth, TokenError> {
    verify_token(token, &rs_set(), v, NOW_MS)
}

#[test]
fn valid_token_is_accepted() {
    assert!(verify(&mint(rsa(), json!({}), &claims()), &rs_set()).is_ok());
}

// ---- token-missing ----------------------------------------------------------------------

/// `token-missing` is produced by the request layer (no cookie, no header), not here; at this
/// layer an empty string is a malformed token.
#[test]
fn token_missing_is_not_produced_by_this_layer() {
    assert_eq!(TokenError::Missing.code(), "token-missing");
    assert_eq!(rs_code(""), "token-invalid");
}

// ---- token-too-large --------------------------------------------------------------------

fn padded_token(pad: usize) -> String {
    with_claims(json!({"pad": "x".repeat(pad)}))
}

#[test]
fn token_too_large_default_8192() {
    // Predict the length without signing (RS256 signature: 256 bytes = 342 characters).
    let predicted = |pad: usize| {
        let c = claims_with(json!({"pad": "x".repeat(pad)}));
        b64u(header(json!({}))).len() + b64u(Value::Object(c).to_string()).len() + 2 + 342
    };
    let pad = (4000..8000)
        .find(|&p| predicted(p + 1) > 8192)
        .expect("pad");
    let (last_ok, first_big) = (Some(padded_token(pad)), Some(padded_token(pad + 1)));
    let (ok, big) = (
        last_ok.expect("a token <= 8192"),
        first_big.expect("> 8192"),
    );
    assert!(ok.len() > 8180 && ok.len() <= 8192, "{}", ok.len());
    assert!(verify(&ok, &rs_set()).is_ok());
    assert_eq!(rs_code(&big), "token-too-large");
    // Checked before anything else: garbage beyond the limit is too large, not invalid.
    assert_eq!(rs_code(&"a".repeat(8193)), "token-too-large");
}

#[test]
fn token_too_large_configurable() {
    let t = mint(rsa(), json!({}), &claims());
    let mut v = validation();
    v.max_token_bytes = t.len();
    assert!(verify_with(&t, &v).is_ok());
    v.max_token_bytes = t.len() - 1;
    assert_eq!(verify_with(&t, &v).unwrap_err().code(), "token-too-large");
    v.max_token_bytes = 20_000;
    assert!(verify_with(&padded_token(10_000), &v).is_ok());
}

// ---- token-invalid: shape ----------------------------------------------------------------

#[test]
fn token_invalid_two_segments() {
    let t = mint(rsa(), json!({}), &claims());
    let (h, p, _) = segments(&t);
    assert_eq!(rs_code(&format!("{h}.{p}")), "token-invalid");
}

#[test]
fn token_invalid_four_segments() {
    let t = mint(rsa(), json!({}), &claims());
    assert_eq!(rs_code(&format!("{t}.AAAA")), "token-invalid");
    assert_eq!(rs_code(&format!("{t}.")), "token-invalid");
}

#[test]
fn token_invalid_empty_segments() {
    let t = mint(rsa(), json!({}), &claims());
    let (h, p, s) = segments(&t);
    for bad in [
        "..".to_owned(),
        format!(".{p}.{s}"),
        format!("{h}.{p}."),
        format!("{h}..{s}"),
    ] {
        let code = rs_code(&bad);
        assert!(
            code == "token-invalid" || code == "token-invalid-signature",
            "{bad}: {code}"
        );
    }
    assert_eq!(rs_code(&format!("{h}.{p}.")), "token-invalid");
    assert_eq!(rs_code(&format!(".{p}.{s}")), "token-invalid");
}

#[test]
fn token_invalid_base64_padding() {
    let h = b64u(header(json!({})));
    let mut p = b64u(payload());
    // Make the payload segment need padding, then pad it.
    let mut extra = 0;
    while p.len().is_multiple_of(4) {
        extra += 1;
        p = b64u(Value::Object(claims_with(json!({"pad": "x".repeat(extra)}))).to_string());
    }
    let padded = format!("{p}{}", "=".repeat(4 - p.len() % 4));
    let t = sign_segments(rsa(), &h, &padded);
    assert_eq!(
        verify(&t, &rs_set()).unwrap_err(),
        TokenError::Invalid(Malformed::Base64)
    );
    // And on the signature.
    let good = sign_segments(rsa(), &h, &p);
    let (_, _, s) = segments(&good);
    if s.len() % 4 != 0 {
        let t = format!("{h}.{p}.{s}{}", "=".repeat(4 - s.len() % 4));
        assert_eq!(rs_code(&t), "token-invalid");
    }
}

/// Finds a payload whose base64url contains `c` ('-' or '_').
fn payload_segment_with(c: char) -> String {
    for i in 0..64 {
        let s = b64u(
            Value::Object(claims_with(
                json!({"x": format!("{}>>>???~~~", "a".repeat(i))}),
            ))
            .to_string(),
        );
        if s.contains(c) {
            return s;
        }
    }
    panic!("no payload with {c}");
}

#[test]
fn token_invalid_base64_plus_and_slash() {
    let h = b64u(header(json!({})));
    for (url, std) in [('-', '+'), ('_', '/')] {
        let p = payload_segment_with(url).replace(url, &std.to_string());
        let t = sign_segments(rsa(), &h, &p);
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::Base64),
            "{std}"
        );
    }
}

#[test]
fn token_invalid_whitespace() {
    let t = mint(rsa(), json!({}), &claims());
    let (h, p, s) = segments(&t);
    let mid = p.len() / 2;
    for bad in [
        format!(" {t}"),
        format!("{t} "),
        format!("{t}\n"),
        format!("{h}.{} {}.{s}", &p[..mid], &p[mid..]),
        format!("{h}.{}\n{}.{s}", &p[..mid], &p[mid..]),
        format!("{h} .{p}.{s}"),
    ] {
        assert_eq!(rs_code(&bad), "token-invalid", "{bad:?}");
    }
}

#[test]
fn token_invalid_non_canonical_trailing_bits() {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let h = b64u(header(json!({})));
    for extra in 0..4 {
        let p = b64u(Value::Object(claims_with(json!({"pad": "y".repeat(extra)}))).to_string());
        if p.len().is_multiple_of(4) {
            continue;
        }
        let last = p.chars().last().expect("char");
        let idx = ALPHABET.find(last).expect("alphabet");
        // The low bits of the last character are unused: setting one gives the same bytes
        // to a lenient decoder.
        let tweaked = ALPHABET.as_bytes()[idx | 1] as char;
        assert_ne!(tweaked, last);
        let bad = format!("{}{tweaked}", &p[..p.len() - 1]);
        let t = sign_segments(rsa(), &h, &bad);
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::Base64),
            "len % 4 = {}",
            p.len() % 4
        );
    }
}

#[test]
fn token_invalid_header_not_a_json_object() {
    for h in [
        &b"[]"[..],
        b"\"RS256\"",
        b"null",
        b"{",
        b"not json",
        b"{\"alg\":\"RS256\"} x",
    ] {
        let t = signed_raw(rsa(), h, &payload());
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::HeaderJson),
            "{}",
            String::from_utf8_lossy(h)
        );
    }
}

#[test]
fn token_invalid_payload_not_a_json_object() {
    for p in [&b"[]"[..], b"\"sub\"", b"42", b"", b"{", b"hello"] {
        let t = signed_raw(rsa(), &header(json!({})), p);
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::PayloadJson),
            "{}",
            String::from_utf8_lossy(p)
        );
    }
}

#[test]
fn token_invalid_duplicate_member_in_header() {
    for h in [
        r#"{"alg":"RS256","alg":"RS256"}"#,
        r#"{"alg":"RS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"a","\u006bid":"b"}"#,
    ] {
        let t = signed_raw(rsa(), h.as_bytes(), &payload());
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::DuplicateMember),
            "{h}"
        );
    }
}

#[test]
fn token_invalid_duplicate_member_in_payload() {
    let base = String::from_utf8(payload()).expect("utf8");
    let inner = base.trim_start_matches('{').trim_end_matches('}');
    for p in [
        format!(r#"{{{inner},"sub":"user_other"}}"#),
        format!(r#"{{{inner},"exp":9999999999}}"#),
        format!(r#"{{{inner},"o":{{"id":"a","id":"b"}}}}"#),
    ] {
        let t = signed_raw(rsa(), &header(json!({})), p.as_bytes());
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::DuplicateMember),
            "{p}"
        );
    }
}

#[test]
fn token_invalid_nesting_too_deep() {
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let p = format!(r#"{{"sub":"user_1","exp":{},"x":{deep}}}"#, NOW_S + 60);
    let t = signed_raw(rsa(), &header(json!({})), p.as_bytes());
    assert_eq!(
        verify(&t, &rs_set()).unwrap_err(),
        TokenError::Invalid(Malformed::TooDeep)
    );
    let h = format!(r#"{{"alg":"RS256","x":{deep}}}"#);
    let t = signed_raw(rsa(), h.as_bytes(), &payload());
    assert_eq!(
        verify(&t, &rs_set()).unwrap_err(),
        TokenError::Invalid(Malformed::TooDeep)
    );
    // Very deep input does not overflow the stack.
    let very = format!(r#"{{"x":{}1{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let t = signed_raw(rsa(), &header(json!({})), very.as_bytes());
    let mut v = validation();
    v.max_token_bytes = 1_000_000;
    assert_eq!(verify_with(&t, &v).unwrap_err().code(), "token-invalid");
}

#[test]
fn token_invalid_typ_not_jwt() {
    for typ in [json!("JWS"), json!("jwt"), json!(""), json!(5), json!(null)] {
        if typ.is_null() {
            // Absent typ is fine.
            let t = signed_raw(rsa(), &header(json!({"typ": null})), &payload());
            assert!(verify(&t, &rs_set()).is_ok());
            continue;
        }
        let t = mint(rsa(), json!({"typ": typ.clone()}), &claims());
        assert_eq!(
            verify(&t, &rs_set()).unwrap_err(),
            TokenError::Invalid(Malformed::Typ),
            "{typ}"
        );
    }
}

#[test]
fn token_invalid_kid_or_cat_not_a_string() {
    let t = mint(rsa(), json!({"kid": 5}), &claims());
    assert_eq!(rs_code(&t), "token-invalid");
    let t = mint(rsa(), json!({"cat": ["cl_B7d4PD111AAA"]}), &claims());
    assert_eq!(rs_code(&t), "token-invalid");
}

// ---- token-invalid: claims ---------------------------------------------------------------

fn assert_claim_invalid(changes: Value, claim: &str) {
    let t = with_claims(changes.clone());
    let err = verify(&t, &rs_set()).unwrap_err();
    assert_eq!(err.code(), "token-invalid", "{changes}");
    assert_eq!(err.detail(), Some(claim), "{changes}");
}

#[test]
fn token_invalid_sub_missing() {
    assert_claim_invalid(json!({"sub": null}), "sub");
}

#[test]
fn token_invalid_sub_not_a_string() {
    for sub in [
        json!(123),
        json!(["user_1"]),
        json!({"id": "user_1"}),
        json!(true),
        json!(""),
    ] {
        assert_claim_invalid(json!({"sub": sub}), "sub");
    }
}

#[test]
fn token_invalid_exp_missing() {
    assert_claim_invalid(json!({"exp": null}), "exp");
}

#[test]
fn token_invalid_exp_string() {
    assert_claim_invalid(json!({"exp": (NOW_S + 60).to_string()}), "exp");
}

#[test]
fn token_invalid_exp_float_with_fraction() {
    assert_claim_invalid(json!({"exp": NOW_S as f64 + 60.5}), "exp");
}

#[test]
fn token_invalid_exp_float_without_fraction() {
    // `1.0`-style numbers are not integers in JSON's grammar: refused.
    let p = String::from_utf8(payload()).expect("utf8").replace(
        &format!("\"exp\":{}", NOW_S + 60),
        &format!("\"exp\":{}.0", NOW_S + 60),
    );
    assert!(p.contains(".0"));
    let t = signed_raw(rsa(), &header(json!({})), p.as_bytes());
    assert_eq!(
        verify(&t, &rs_set()).unwrap_err(),
        TokenError::Invalid(Malformed::Claim("exp"))
    );
    let p = p.replace(&format!("{}.0", NOW_S + 60), &format!("{}e0", NOW_S + 60));
    let t = signed_raw(rsa(), &header(json!({})), p.as_bytes());
    assert_eq!(rs_code(&t), "token-invalid");
}

#[test]
fn token_invalid_exp_negative() {
    assert_claim_invalid(json!({"exp": -1}), "exp");
}

#[test]
fn token_invalid_exp_absurd() {
    assert_claim_invalid(json!({"exp": 1e20}), "exp");
    assert_claim_invalid(json!({"exp": u64::MAX}), "exp");
    assert_claim_invalid(json!({"exp": 253_402_300_800i64}), "exp");
    // The last second of year 9999 is still a time.
    assert!(verify(&with_claims(json!({"exp": 253_402_300_799i64})), &rs_set()).is_ok());
}

#[test]
fn token_invalid_exp_other_types() {
    for exp in [json!(true), json!([1]), json!({"t": 1})] {
        assert_claim_invalid(json!({"exp": exp}), "exp");
    }
}

#[test]
fn token_invalid_nbf_string() {
    assert_claim_invalid(json!({"nbf": (NOW_S - 5).to_string()}), "nbf");
    assert_claim_invalid(json!({"nbf": 1.5}), "nbf");
}

#[test]
fn token_invalid_iat_string() {
    assert_claim_invalid(json!({"iat": (NOW_S - 5).to_string()}), "iat");
    assert_claim_invalid(json!({"iat": -5}), "iat");
}

#[test]
fn token_invalid_other_claim_types() {
    assert_claim_invalid(json!({"azp": 5}), "azp");
    assert_claim_invalid(json!({"iss": ["a"]}), "iss");
    assert_claim_invalid(json!({"sid": 1}), "sid");
    assert_claim_invalid(json!({"sts": false}), "sts");
    assert_claim_invalid(json!({"aud": 5}), "aud");
    assert_claim_invalid(json!({"aud": ["a", 5]}), "aud");
    assert_claim_invalid(json!({"act": "user_admin"}), "act");
}

// ---- token-invalid-algorithm -------------------------------------------------------------

#[test]
fn token_invalid_algorithm_none_any_case() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = header(json!({"alg": alg}));
        // Unsecured form (empty signature): the header is read first, so it is named by alg.
        let unsecured = format!("{}.{}.", b64u(&h), b64u(payload()));
        assert_eq!(rs_code(&unsecured), "token-invalid-algorithm", "{alg}");
        // With a signature: refused by alg.
        let t = raw_with_sig(&h, &[0u8; 256]);
        assert_eq!(rs_code(&t), "token-invalid-algorithm", "{alg}");
        let t = signed_raw(rsa(), &h, &payload());
        assert_eq!(rs_code(&t), "token-invalid-algorithm", "{alg}");
    }
}

fn raw_with_sig(h: &[u8], sig: &[u8]) -> String {
    common::raw_token(h, &payload(), sig)
}

/// The classic confusion: HS256 with the server's public key bytes as the HMAC secret.
#[test]
fn token_invalid_algorithm_hs256_with_public_key_as_secret() {
    use hmac::{Hmac, Mac};
    let pem = common::public_pem(rsa());
    let der = rs_set().keys[0].material.spki_der();
    for secret in [pem.as_bytes(), pem.trim().as_bytes(), &der[..]] {
        let input = format!(
            "{}.{}",
            b64u(header(json!({"alg": "HS256"}))),
            b64u(payload())
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac");
        mac.update(input.as_bytes());
        let t = format!("{input}.{}", b64u(mac.finalize().into_bytes()));
        assert_eq!(rs_code(&t), "token-invalid-algorithm");
        assert_eq!(reject_code(&t, &es_set()), "token-invalid-algorithm");
    }
}

#[test]
fn token_invalid_algorithm_rs256_token_vs_ec_only_keys() {
    let t = mint(rsa(), json!({}), &claims());
    assert_eq!(reject_code(&t, &es_set()), "token-invalid-algorithm");
    let t = mint(ec(), json!({}), &claims());
    assert_eq!(reject_code(&t, &rs_set()), "token-invalid-algorithm");
    // An RS256 token relabelled ES256 (and vice versa) against a set with both keys.
    let both = common::jwks_set(&[(rsa(), "r"), (ec(), "e")]);
    let h = header(json!({"alg": "ES256", "kid": "r"}));
    let t = signed_raw(rsa(), &h, &payload());
    assert_eq!(reject_code(&t, &both), "token-invalid-algorithm");
    let h = header(json!({"alg": "ES256"}));
    let t = signed_raw(rsa(), &h, &payload());
    assert_eq!(reject_code(&t, &both), "token-invalid-signature");
}

#[test]
fn token_invalid_algorithm_missing() {
    let t = signed_raw(rsa(), &header(json!({"alg": null})), &payload());
    assert_eq!(rs_code(&t), "token-invalid-algorithm");
}

#[test]
fn token_invalid_algorithm_not_a_string() {
    for alg in [
        json!(5),
        json!(["RS256"]),
        json!({"name": "RS256"}),
        json!(true),
    ] {
        let t = signed_raw(rsa(), &header(json!({"alg": alg.clone()})), &payload());
        assert_eq!(rs_code(&t), "token-invalid-algorithm", "{alg}");
    }
}

#[test]
fn token_invalid_algorithm_other_names() {
    for alg in [
        "rs256", "RS384", "RS512", "PS256", "ES384", "ES512", "EdDSA", "HS512", "", "RS256 ",
    ] {
        let t = signed_raw(rsa(), &header(json!({"alg": alg})), &payload());
        assert_eq!(rs_code(&t), "token-invalid-algorithm", "{alg:?}");
    }
}

// ---- token-forbidden-header --------------------------------------------------------------

#[test]
fn token_forbidden_header_crit() {
    for crit in [json!(["exp"]), json!([]), json!(["b64"])] {
        let t = mint(rsa(), json!({"crit": crit.clone(), "exp": 1}), &claims());
        assert_eq!(rs_code(&t), "token-forbidden-header", "{crit}");
    }
}

#[test]
fn token_forbidden_header_b64() {
    for b in [json!(false), json!(true)] {
        let t = mint(rsa(), json!({"b64": b}), &claims());
        assert_eq!(rs_code(&t), "token-forbidden-header");
    }
}

#[test]
fn token_forbidden_header_zip() {
    let t = mint(rsa(), json!({"zip": "DEF"}), &claims());
    assert_eq!(rs_code(&t), "token-forbidden-header");
    let t = mint(rsa(), json!({"enc": "A128GCM"}), &claims());
    assert_eq!(rs_code(&t), "token-forbidden-header");
}

/// `jku`, `x5u`, `x5c`, `jwk` are ignored: a header key never replaces the configured ones.
#[test]
fn embedded_keys_in_the_header_are_not_trusted() {
    let attacker = &common::keys().rsa_b;
    let jwk = common::public_jwk(attacker, None);
    let t = mint(
        attacker,
        json!({"jwk": jwk, "jku": "https://evil.example/jwks", "x5u": "https://evil.example/c", "x5c": ["AAAA"]}),
        &claims(),
    );
    assert_eq!(rs_code(&t), "token-invalid-signature");
    let t = mint(
        rsa(),
        json!({"jwk": jwk, "jku": "https://evil.example/jwks"}),
        &claims(),
    );
    assert!(verify(&t, &rs_set()).is_ok());
}

// ---- token-type-mismatch -----------------------------------------------------------------

#[test]
fn token_type_mismatch_jwt_template() {
    let t = mint(rsa(), json!({"cat": "cl_B7d4PD222AAA"}), &claims());
    assert_eq!(rs_code(&t), "token-type-mismatch");
}

#[test]
fn token_type_mismatch_machine_token() {
    let t = mint(rsa(), json!({"cat": "cl_B7d4PD333AAA"}), &claims());
    assert_eq!(rs_code(&t), "token-type-mismatch");
}

#[test]
fn token_type_mismatch_other_values() {
    for cat in ["", "cl_b7d4pd111aaa", "cl_B7d4PD111AAA ", "session"] {
        let t = mint(rsa(), json!({"cat": cat}), &claims());
        assert_eq!(rs_code(&t), "token-type-mismatch", "{cat:?}");
    }
}

#[test]
fn token_type_accepted_categories() {
    for cat in [
        json!(null),
        json!("cl_B7d4PD111AAA"),
        json!("cl_I7d4PD111III"),
    ] {
        let h = header(json!({"cat": cat.clone()}));
        let t = signed_raw(rsa(), &h, &payload());
        assert!(verify(&t, &rs_set()).is_ok(), "{cat}");
    }
}

// ---- token-unknown-kid -------------------------------------------------------------------

#[test]
fn token_unknown_kid() {
    let set = jwks_set(&[(rsa(), "ins_1"), (ec(), "ins_2")]);
    let t = mint(rsa(), json!({"kid": "ins_3"}), &claims());
    assert_eq!(reject_code(&t, &set), "token-unknown-kid");
    let t = mint(rsa(), json!({"kid": ""}), &claims());
    assert_eq!(reject_code(&t, &set), "token-unknown-kid");
}

// ---- token-invalid-signature -------------------------------------------------------------

fn resign(token: &str, sig: &[u8]) -> String {
    let (h, p, _) = segments(token);
    format!("{h}.{p}.{}", b64u(sig))
}

#[test]
fn token_invalid_signature_flipped_bit() {
    for key in [rsa(), ec()] {
        let set = pem_set(key);
        let t = mint(key, json!({}), &claims());
        let (_, _, s) = segments(&t);
        let sig = b64u_decode(&s);
        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                reject_code(&resign(&t, &bad), &set),
                "token-invalid-signature"
            );
        }
    }
}

#[test]
fn token_invalid_signature_modified_payload_or_header() {
    let t = mint(rsa(), json!({}), &claims());
    let (_, _, s) = segments(&t);
    let other_payload = b64u(Value::Object(claims_with(json!({"sub": "user_admin"}))).to_string());
    let (h, _, _) = segments(&t);
    assert_eq!(
        rs_code(&format!("{h}.{other_payload}.{s}")),
        "token-invalid-signature"
    );
    let other_header = b64u(header(json!({"kid": "x"})));
    let (_, p, _) = segments(&t);
    assert_eq!(
        rs_code(&format!("{other_header}.{p}.{s}")),
        "token-invalid-signature"
    );
}

#[test]
fn token_invalid_signature_wrong_key() {
    let k = common::keys();
    let t = mint(&k.rsa_b, json!({}), &claims());
    assert_eq!(rs_code(&t), "token-invalid-signature");
    let t = mint(&k.ec_b, json!({}), &claims());
    assert_eq!(reject_code(&t, &es_set()), "token-invalid-signature");
}

#[test]
fn token_invalid_signature_truncated_or_extended() {
    for key in [rsa(), ec()] {
        let set = pem_set(key);
        let t = mint(key, json!({}), &claims());
        let sig = b64u_decode(&segments(&t).2);
        let mut longer = vec![0u8];
        longer.extend(&sig);
        for bad in [&sig[..sig.len() - 1], &sig[..1], &longer[..], &[][..]] {
            if bad.is_empty() {
                continue; // an empty segment is a shape error (tested above)
            }
            assert_eq!(
                reject_code(&resign(&t, bad), &set),
                "token-invalid-signature"
            );
        }
    }
}

#[test]
fn token_invalid_signature_rsa_value_at_or_above_modulus() {
    use rsa::traits::PublicKeyParts;
    let SigningKey::Rsa(k) = rsa() else {
        unreachable!()
    };
    let t = mint(rsa(), json!({}), &claims());
    let n = k.n().to_bytes_be();
    assert_eq!(rs_code(&resign(&t, &n)), "token-invalid-signature");
    assert_eq!(
        rs_code(&resign(&t, &[0xff; 256])),
        "token-invalid-signature"
    );
    assert_eq!(rs_code(&resign(&t, &[0u8; 256])), "token-invalid-signature");
}

const P256_N: &str = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

fn es_token_and_sig() -> (String, Vec<u8>) {
    let t = mint(ec(), json!({}), &claims());
    let sig = b64u_decode(&segments(&t).2);
    assert_eq!(sig.len(), 64);
    (t, sig)
}

#[test]
fn token_invalid_signature_es256_der_encoded() {
    let (t, sig) = es_token_and_sig();
    let parsed = p256::ecdsa::Signature::from_slice(&sig).expect("sig");
    let der = parsed.to_der();
    assert_eq!(
        reject_code(&resign(&t, der.as_bytes()), &es_set()),
        "token-invalid-signature"
    );
}

#[test]
fn token_invalid_signature_es256_r_zero() {
    let (t, sig) = es_token_and_sig();
    let mut bad = vec![0u8; 32];
    bad.extend(&sig[32..]);
    assert_eq!(
        reject_code(&resign(&t, &bad), &es_set()),
        "token-invalid-signature"
    );
}

#[test]
fn token_invalid_signature_es256_s_zero_and_s_n_and_r_n() {
    let (t, sig) = es_token_and_sig();
    let n = common::hex(&P256_N.to_lowercase());
    let cases = [
        [&sig[..32], &[0u8; 32][..]].concat(),
        [&sig[..32], &n[..]].concat(),
        [&n[..], &sig[32..]].concat(),
        [&[0xffu8; 32][..], &sig[32..]].concat(),
    ];
    for bad in cases {
        assert_eq!(
            reject_code(&resign(&t, &bad), &es_set()),
            "token-invalid-signature"
        );
    }
}

/// High-S signatures are valid ECDSA (WebCrypto accepts them; RFC 7515 A.3 is one): accepted.
#[test]
fn es256_high_s_twin_is_accepted() {
    use p256::elliptic_curve::ops::Neg;
    let (t, sig) = es_token_and_sig();
    let parsed = p256::ecdsa::Signature::from_slice(&sig).expect("sig");
    let (r, s) = parsed.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r, s.neg()).expect("twin");
    let twin_bytes = twin.to_bytes().to_vec();
    assert_ne!(twin_bytes, sig);
    assert!(verify(&resign(&t, &twin_bytes), &es_set()).is_ok());
}

// ---- time: token-expired, token-not-active-yet, token-iat-in-the-future -------------------

#[test]
fn token_expired_beyond_skew() {
    let t = with_claims(json!({"exp": NOW_S - 6, "iat": NOW_S - 100, "nbf": NOW_S - 100}));
    assert_eq!(rs_code(&t), "token-expired");
}

/// Clerk's rule: expired when `exp * 1000 <= now - skew`: exactly at the boundary is expired.
#[test]
fn token_expired_exactly_at_skew_boundary() {
    let t = with_claims(json!({"exp": NOW_S - 5, "iat": NOW_S - 100, "nbf": NOW_S - 100}));
    assert_eq!(rs_code(&t), "token-expired");
    let mut v = validation();
    v.clock_skew_ms = 0;
    let t = with_claims(json!({"exp": NOW_S}));
    assert_eq!(verify_with(&t, &v).unwrap_err().code(), "token-expired");
    // One millisecond earlier it is still valid.
    assert!(verify_token(&t, &rs_set(), &v, NOW_MS - 1).is_ok());
}

#[test]
fn token_expired_within_skew_is_accepted() {
    let t = with_claims(json!({"exp": NOW_S - 4, "iat": NOW_S - 100, "nbf": NOW_S - 100}));
    assert!(verify(&t, &rs_set()).is_ok());
    let t = with_claims(json!({"exp": NOW_S}));
    assert!(verify(&t, &rs_set()).is_ok());
}

#[test]
fn token_expired_configurable_skew() {
    let t = with_claims(json!({"exp": NOW_S - 30, "iat": NOW_S - 100, "nbf": NOW_S - 100}));
    let mut v = validation();
    v.clock_skew_ms = 60_000;
    assert!(verify_with(&t, &v).is_ok());
    v.clock_skew_ms = 30_000;
    assert_eq!(verify_with(&t, &v).unwrap_err().code(), "token-expired");
}

#[test]
fn token_not_active_yet() {
    let t = with_claims(json!({"nbf": NOW_S + 6}));
    assert_eq!(rs_code(&t), "token-not-active-yet");
    let t = with_claims(json!({"nbf": NOW_S + 5}));
    assert!(verify(&t, &rs_set()).is_ok(), "nbf within skew");
}

#[test]
fn token_iat_in_the_future() {
    let t = with_claims(json!({"iat": NOW_S + 6, "nbf": null}));
    assert_eq!(rs_code(&t), "token-iat-in-the-future");
    let t = with_claims(json!({"iat": NOW_S + 5, "nbf": null}));
    assert!(verify(&t, &rs_set()).is_ok(), "iat within skew");
}

#[test]
fn time_is_a_parameter() {
    let t = with_claims(json!({}));
    assert!(verify_token(&t, &rs_set(), &validation(), NOW_MS).is_ok());
    let later = (NOW_S + 3600) * 1000;
    assert_eq!(
        verify_token(&t, &rs_set(), &validation(), later)
            .unwrap_err()
            .code(),
        "token-expired"
    );
    let earlier = (NOW_S - 3600) * 1000;
    assert_eq!(
        verify_token(&t, &rs_set(), &validation(), earlier)
            .unwrap_err()
            .code(),
        "token-not-active-yet"
    );
    // Extreme clocks do not overflow.
    assert!(verify_token(&t, &rs_set(), &validation(), i64::MAX).is_err());
    assert!(verify_token(&t, &rs_set(), &validation(), i64::MIN).is_err());
}

// ---- token-invalid-authorized-parties ----------------------------------------------------

#[test]
fn token_invalid_authorized_parties_wrong_azp() {
    for azp in [
        "https://evil.example.com",
        "https://app.example.com.evil.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://APP.example.com",
        "",
    ] {
        let t = with_claims(json!({"azp": azp}));
        assert_eq!(rs_code(&t), "token-invalid-authorized-parties", "{azp:?}");
    }
}

#[test]
fn token_invalid_authorized_parties_missing_azp_by_default() {
    let t = with_claims(json!({"azp": null}));
    assert_eq!(rs_code(&t), "token-invalid-authorized-parties");
}

#[test]
fn missing_azp_allowed_with_allow_missing_azp() {
    let mut v = validation();
    v.allow_missing_azp = true;
    assert!(verify_with(&with_claims(json!({"azp": null})), &v).is_ok());
    // A present azp is still checked.
    let t = with_claims(json!({"azp": "https://evil.example.com"}));
    assert_eq!(
        verify_with(&t, &v).unwrap_err().code(),
        "token-invalid-authorized-parties"
    );
}

#[test]
fn azp_is_compared_exactly_and_configured_parties_lose_a_trailing_slash() {
    // As Clerk's assertAuthorizedPartiesClaim: the token's azp exactly.
    let t = with_claims(json!({"azp": format!("{ORIGIN}/")}));
    assert_eq!(
        verify(&t, &rs_set()),
        Err(TokenError::InvalidAuthorizedParties)
    );
    // A configured party written with a trailing slash is the origin.
    let v = Validation::default()
        .with_authorized_parties([format!("{ORIGIN}/"), "https://b.example".into()]);
    assert!(verify_with(&with_claims(json!({})), &v).is_ok());
    assert!(verify_with(&with_claims(json!({"azp": "https://b.example"})), &v).is_ok());
    assert_eq!(
        verify_with(&with_claims(json!({"azp": "https://b.example/"})), &v),
        Err(TokenError::InvalidAuthorizedParties)
    );
}

#[test]
fn no_authorized_parties_means_azp_unchecked() {
    let v = Validation::default();
    assert!(verify_with(&with_claims(json!({"azp": "https://anything.example"})), &v).is_ok());
    assert!(verify_with(&with_claims(json!({"azp": null})), &v).is_ok());
}

// ---- token-invalid-issuer / token-invalid-audience ---------------------------------------

#[test]
fn token_invalid_issuer() {
    let mut v = validation();
    v.issuer = Some("https://clerk.example.com".into());
    assert!(verify_with(&with_claims(json!({})), &v).is_ok());
    for iss in [
        json!("https://clerk.other.com"),
        json!("https://clerk.example.com/"),
        json!(null),
    ] {
        let t = with_claims(json!({"iss": iss.clone()}));
        assert_eq!(
            verify_with(&t, &v).unwrap_err().code(),
            "token-invalid-issuer",
            "{iss}"
        );
    }
}

#[test]
fn token_invalid_audience_string_and_array() {
    let mut v = validation();
    v.audience = Some(vec!["api-1".into(), "api-2".into()]);
    for aud in [json!("api-1"), json!(["x", "api-2"]), json!(["api-1"])] {
        assert!(
            verify_with(&with_claims(json!({"aud": aud.clone()})), &v).is_ok(),
            "{aud}"
        );
    }
    for aud in [json!("api-3"), json!(["x", "y"]), json!([]), json!(null)] {
        let t = with_claims(json!({"aud": aud.clone()}));
        assert_eq!(
            verify_with(&t, &v).unwrap_err().code(),
            "token-invalid-audience",
            "{aud}"
        );
    }
    // Not configured: aud is not checked.
    assert!(verify(&with_claims(json!({"aud": "anything"})), &rs_set()).is_ok());
}

// ---- session-pending ---------------------------------------------------------------------

#[test]
fn session_pending() {
    let t = with_claims(json!({"sts": "pending"}));
    assert_eq!(rs_code(&t), "session-pending");
}

#[test]
fn session_pending_accepted_when_pending_is_signed_in() {
    let mut v = validation();
    v.pending_is_signed_in = true;
    let auth = verify_with(&with_claims(json!({"sts": "pending"})), &v).expect("pending ok");
    assert_eq!(auth.session_status.as_deref(), Some("pending"));
}

// ---- the code table ----------------------------------------------------------------------

/// Every code in `ALL_CODES` is produced by some token here (token-missing and
/// token-needs-backend-api by the request layer), and every produced code is in the table.
#[test]
fn all_codes_are_produced_and_listed() {
    let es_only = es_set();
    let kids = jwks_set(&[(rsa(), "k1")]);
    let mut v_iss = validation();
    v_iss.issuer = Some("other".into());
    let mut v_aud = validation();
    v_aud.audience = Some(vec!["other".into()]);
    let errors = vec![
        TokenError::Missing,
        // Opaque machine tokens: by the request layer (tests/machine_tokens.rs).
        TokenError::NeedsBackendApi,
        verify(&"a".repeat(9000), &rs_set()).unwrap_err(),
        verify("a.b", &rs_set()).unwrap_err(),
        verify(&mint(rsa(), json!({}), &claims()), &es_only).unwrap_err(),
        verify(&mint(rsa(), json!({"crit": ["x"]}), &claims()), &rs_set()).unwrap_err(),
        verify(
            &mint(rsa(), json!({"cat": "cl_B7d4PD222AAA"}), &claims()),
            &rs_set(),
        )
        .unwrap_err(),
        verify(&mint(rsa(), json!({"kid": "k2"}), &claims()), &kids).unwrap_err(),
        verify(
            &mint(&common::keys().rsa_b, json!({}), &claims()),
            &rs_set(),
        )
        .unwrap_err(),
        verify(&with_claims(json!({"exp": NOW_S - 60})), &rs_set()).unwrap_err(),
        verify(&with_claims(json!({"nbf": NOW_S + 60})), &rs_set()).unwrap_err(),
        verify(
            &with_claims(json!({"iat": NOW_S + 60, "nbf": null})),
            &rs_set(),
        )
        .unwrap_err(),
        verify(&with_claims(json!({"azp": "x"})), &rs_set()).unwrap_err(),
        verify_with(&with_claims(json!({})), &v_iss).unwrap_err(),
        verify_with(&with_claims(json!({})), &v_aud).unwrap_err(),
        verify(&with_claims(json!({"sts": "pending"})), &rs_set()).unwrap_err(),
    ];
    let produced: BTreeSet<&str> = errors.iter().map(TokenError::code).collect();
    let listed: BTreeSet<&str> = TokenError::ALL_CODES.iter().copied().collect();
    assert_eq!(listed.len(), TokenError::ALL_CODES.len(), "duplicate codes");
    assert_eq!(produced, listed);
    // Codes are public identifiers: no spaces, lowercase, and Display starts with the code.
    for e in &errors {
        let code = e.code();
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{code}"
        );
        assert!(e.to_string().starts_with(code));
    }
}

#[test]
fn empty_signature_with_a_valid_alg_is_token_invalid() {
    let h = header(json!({"alg": "RS256"}));
    let t = format!("{}.{}.", b64u(&h), b64u(payload()));
    assert_eq!(rs_code(&t), "token-invalid");
}
