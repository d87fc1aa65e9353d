//! JOSE examples: RFC 7515 Appendix A.2 (RS256) and A.3 (ES256, a high-S signature) with the
//! A.3 low-S twin, RFC 7520 section 4.1 (RS256), the RFC 7515 Appendix E `crit` example, and the
//! RFC 7520 3.1 P-521 public key.
//!
//! Read in place from `../shared/vectors/jose/` (or `EDGEGATE_VECTORS_DIR`), never copied:
//! - `rfc7515_A2_A3.json`: RFC 7515 A.2/A.3 and Appendix E, with RFC 7520 4.1, gathered as JSON
//!   (keys as JWK and PEM); `RFC7515_A3_lowS_twin` is A.3 with s replaced by n - s. RFC text;
//!   IETF Trust (code components under the Revised BSD licence).
//! - `rfc7520_4_1_rs256.json`: ietf-jose/cookbook `jws/4_1.rsa_v15_signature.json`, commit
//!   13692b68bfc18b99557a5b1ed311fd5077bfff04, public domain (IETF cookbook).
//! - `rfc7520_3_1_ec_public_key.json`, `rfc7520_3_3_rsa_public_key.json`: ietf-jose/cookbook
//!   `jwk/`, commit 13692b68bfc18b99557a5b1ed311fd5077bfff04, public domain.
//!
//! These exercise the JWS layer (`verify_jws`): their payloads are not session claim sets.

mod common;

use common::{vector_json, ORIGIN};
use edgegate::json::parse_object;
use edgegate::keys::parse_key_set;
use edgegate::token::{verify_jws, verify_token, Malformed, TokenError, Validation};
use serde_json::Value;

/// 2011-03-22T18:43:00Z, shortly before the A.2/A.3 payload's `exp` (1300819380).
const PINNED_NOW_S: i64 = 1_300_819_000;

fn examples() -> Option<Value> {
    vector_json("jose/rfc7515_A2_A3.json")
}

fn compact(ex: &Value, name: &str) -> String {
    ex[name]["compact"].as_str().expect("compact").to_owned()
}

/// Both published forms of an example's key: the JWK and the SPKI PEM.
fn key_forms(ex: &Value, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("jwk", ex[name]["publicJwk"].to_string()),
        (
            "pem",
            ex[name]["publicKeyPem"].as_str().expect("PEM").to_owned(),
        ),
    ]
}

fn verifies_with_both_forms(ex: &Value, example: &str, key_of: &str) {
    let token = compact(ex, example);
    for (form, key_text) in key_forms(ex, key_of) {
        let keys = parse_key_set(&key_text)
            .unwrap_or_else(|e| panic!("{example}: {form} key refused: {e}"));
        let payload = verify_jws(&token, &keys, 8192)
            .unwrap_or_else(|e| panic!("{example} with the {form} key: {e}"));
        assert!(!payload.is_empty());
    }
}

#[test]
fn rfc7515_a2_rs256_verifies() {
    let Some(ex) = examples() else { return };
    verifies_with_both_forms(&ex, "RFC7515_A2", "RFC7515_A2");
}

#[test]
fn rfc7515_a3_es256_high_s_verifies() {
    let Some(ex) = examples() else { return };
    verifies_with_both_forms(&ex, "RFC7515_A3", "RFC7515_A3");
}

#[test]
fn rfc7515_a3_low_s_twin_verifies() {
    let Some(ex) = examples() else { return };
    assert_ne!(
        compact(&ex, "RFC7515_A3"),
        compact(&ex, "RFC7515_A3_lowS_twin")
    );
    verifies_with_both_forms(&ex, "RFC7515_A3_lowS_twin", "RFC7515_A3");
}

#[test]
fn rfc7520_4_1_rs256_verifies() {
    let Some(ex) = examples() else { return };
    verifies_with_both_forms(&ex, "RFC7520_4_1", "RFC7520_4_1");
}

/// The cookbook file itself: its compact output verifies with its key (the private members
/// stripped: edgegate refuses a JWK with `d`), and with the separate 3.3 public key file.
#[test]
fn rfc7520_4_1_cookbook_file_verifies() {
    let Some(doc) = vector_json("jose/rfc7520_4_1_rs256.json") else {
        return;
    };
    let token = doc["output"]["compact"].as_str().expect("compact");
    let mut jwk = doc["input"]["key"].as_object().expect("key").clone();
    let with_private = parse_key_set(&Value::Object(jwk.clone()).to_string());
    assert_eq!(with_private.map(|_| ()).unwrap_err().code(), "key-private");
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        jwk.remove(member);
    }
    let keys = parse_key_set(&Value::Object(jwk).to_string()).expect("public JWK");
    let payload = verify_jws(token, &keys, 8192).expect("RFC 7520 4.1");
    assert_eq!(
        payload,
        doc["input"]["payload"]
            .as_str()
            .expect("payload")
            .as_bytes()
    );
    let Some(public) = vector_json("jose/rfc7520_3_3_rsa_public_key.json") else {
        return;
    };
    let keys = parse_key_set(&public.to_string()).expect("RFC 7520 3.3 key");
    assert!(verify_jws(token, &keys, 8192).is_ok());
}

/// A mutated example is refused (sanity check that the tests above can fail).
#[test]
fn rfc7515_a2_with_flipped_signature_is_rejected() {
    let Some(ex) = examples() else { return };
    let mut token = compact(&ex, "RFC7515_A2");
    let last = token.pop().expect("char");
    token.push(if last == 'A' { 'B' } else { 'A' });
    let keys = parse_key_set(&ex["RFC7515_A2"]["publicJwk"].to_string()).expect("key");
    let err = verify_jws(&token, &keys, 8192).unwrap_err();
    assert!(
        matches!(
            err,
            TokenError::InvalidSignature | TokenError::Invalid(Malformed::Base64)
        ),
        "{err:?}"
    );
}

/// The A.2/A.3 payload decodes as strict JSON with the published claims; as a session token it
/// lacks `sub`, so the session layer refuses it with token-invalid even at a time when it is
/// current.
#[test]
fn rfc7515_payloads_decode_but_are_not_sessions() {
    let Some(ex) = examples() else { return };
    for name in ["RFC7515_A2", "RFC7515_A3", "RFC7515_A3_lowS_twin"] {
        let key_of = if name == "RFC7515_A2" {
            "RFC7515_A2"
        } else {
            "RFC7515_A3"
        };
        let keys = parse_key_set(&ex[key_of]["publicJwk"].to_string()).expect("key");
        let token = compact(&ex, name);
        let payload = verify_jws(&token, &keys, 8192).expect("signature");
        let claims = parse_object(&payload).expect("strict JSON object");
        assert_eq!(claims["iss"], "joe");
        assert_eq!(claims["exp"], 1_300_819_380);
        assert_eq!(claims["http://example.com/is_root"], true);
        let validation = Validation {
            allow_missing_azp: true,
            ..Validation::default().with_authorized_parties([ORIGIN])
        };
        let err = verify_token(&token, &keys, &validation, PINNED_NOW_S * 1000).unwrap_err();
        assert_eq!(err, TokenError::Invalid(Malformed::Claim("sub")), "{name}");
        assert_eq!(err.code(), "token-invalid");
    }
}

#[test]
fn rfc7515_appendix_e_crit_is_rejected() {
    let Some(ex) = examples() else { return };
    let token = compact(&ex, "RFC7515_E_crit_negative");
    assert_eq!(ex["RFC7515_E_crit_negative"]["expected"], "reject");
    for key_of in ["RFC7515_A2", "RFC7515_A3"] {
        let keys = parse_key_set(&ex[key_of]["publicJwk"].to_string()).expect("key");
        let err = verify_jws(&token, &keys, 8192).unwrap_err();
        // An unsecured JWS (`header.payload.`): the header is read first, so alg "none" is
        // refused for what it is, with or without a signature.
        assert_eq!(err, TokenError::InvalidAlgorithm, "{err:?}");
        let with_sig = format!("{token}AAAA");
        let err = verify_jws(&with_sig, &keys, 8192).unwrap_err();
        assert_eq!(err, TokenError::InvalidAlgorithm, "{err:?}");
    }
}

#[test]
fn rfc7520_3_1_p521_key_is_unsupported() {
    let Some(jwk) = vector_json("jose/rfc7520_3_1_ec_public_key.json") else {
        return;
    };
    assert_eq!(jwk["crv"], "P-521");
    let err = parse_key_set(&jwk.to_string()).unwrap_err();
    assert_eq!(err.code(), "key-unsupported-curve");
    assert!(err.to_string().contains("P-521"), "{err}");
}
