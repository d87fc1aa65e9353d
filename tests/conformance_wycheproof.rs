//! Wycheproof conformance: the signature primitive (`edgegate::crypto::verify_signature`) and the
//! JWS layer (`edgegate::token::verify_jws`).
//!
//! Vectors are read in place from `../shared/vectors/wycheproof/` (or `EDGEGATE_VECTORS_DIR`),
//! never copied into the project. Source: C2SP/wycheproof, directory `testvectors_v1/`, commit
//! dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166, licence Apache-2.0:
//! - `rsa_signature_2048_sha256_test.json`, `rsa_signature_3072_sha256_test.json`,
//!   `rsa_signature_4096_sha256_test.json` (RSASSA-PKCS1-v1_5 with SHA-256),
//! - `ecdsa_secp256r1_sha256_p1363_test.json` (ECDSA P-256 SHA-256, raw r||s signatures),
//! - `json_web_signature_test.json` (compact JWS).
//!
//! The primitive is tested with every key a vector gives, e = 3 keys included: the key policy
//! (RSA >= 2048 bits, e = 65537) is a configuration rule applied by `Key::new`, not a rule of the
//! primitive, so keys are built with `KeyMaterial::from_spki_der`.
//!
//! `acceptable` results: the only ones in the RSA files are the `MissingNull` cases (tcId 8 in
//! each file): a PKCS#1 v1.5 DigestInfo whose AlgorithmIdentifier omits the NULL parameters.
//! Wycheproof flags it LEGACY: invalid per RFC 8017, accepted by some libraries for old signers.
//! edgegate REJECTS it: its only signers are Clerk's instance keys (and our own dev keys), which
//! emit the standard encoding, and byte-exact comparison with the one DER encoding is the simplest
//! padding check to reason about. The ECDSA and JWS files have no `acceptable` cases.

mod common;

use common::{hex, vector_json};
use edgegate::crypto::{plausible_signature, verify_signature};
use edgegate::keys::{parse_jwk, Alg, KeyMaterial, KeySet};
use edgegate::token::verify_jws;
use serde_json::Value;

#[derive(Debug, Default, PartialEq)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable: usize,
}

/// Runs every test of a Wycheproof signature file through the primitive. Returns the counts and
/// the list of failures (tcId, expected, got).
fn run_signature_file(file: &str, alg: Alg) -> Option<(Counts, Vec<String>)> {
    let doc = vector_json(file)?;
    let declared = doc["numberOfTests"].as_u64().expect("numberOfTests") as usize;
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().expect("testGroups") {
        let der = hex(group["publicKeyDer"].as_str().expect("publicKeyDer"));
        let key = KeyMaterial::from_spki_der(&der)
            .unwrap_or_else(|e| panic!("{file}: group key refused by the primitive: {e}"));
        assert_eq!(key.alg(), alg, "{file}: key type");
        for test in group["tests"].as_array().expect("tests") {
            let id = &test["tcId"];
            let msg = hex(test["msg"].as_str().expect("msg"));
            let sig = hex(test["sig"].as_str().expect("sig"));
            let got = verify_signature(&key, alg, &msg, &sig);
            let result = test["result"].as_str().expect("result");
            let expected = match result {
                "valid" => {
                    counts.valid += 1;
                    true
                }
                "invalid" => {
                    counts.invalid += 1;
                    false
                }
                // See the module docs: acceptable (MissingNull) is rejected.
                "acceptable" => {
                    counts.acceptable += 1;
                    false
                }
                other => panic!("{file} tcId {id}: unknown result {other}"),
            };
            if got != expected {
                failures.push(format!(
                    "tcId {id} ({result}, {}): got {got}",
                    test["comment"]
                ));
            }
        }
    }
    assert_eq!(
        counts.valid + counts.invalid + counts.acceptable,
        declared,
        "{file}: every declared test was run"
    );
    assert!(counts.valid > 0 && counts.invalid > 0, "{file}: {counts:?}");
    eprintln!("{file}: {counts:?}");
    Some((counts, failures))
}

fn check_signature_file(file: &str, alg: Alg, expected: Counts) {
    let Some((counts, failures)) = run_signature_file(file, alg) else {
        return;
    };
    assert!(failures.is_empty(), "{file}: {failures:#?}");
    assert_eq!(counts, expected, "{file}: vector counts");
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256() {
    check_signature_file(
        "wycheproof/rsa_signature_2048_sha256_test.json",
        Alg::Rs256,
        Counts {
            valid: 9,
            invalid: 249,
            acceptable: 1,
        },
    );
}

#[test]
fn wycheproof_rsa_pkcs1_3072_sha256() {
    check_signature_file(
        "wycheproof/rsa_signature_3072_sha256_test.json",
        Alg::Rs256,
        Counts {
            valid: 8,
            invalid: 250,
            acceptable: 1,
        },
    );
}

#[test]
fn wycheproof_rsa_pkcs1_4096_sha256() {
    check_signature_file(
        "wycheproof/rsa_signature_4096_sha256_test.json",
        Alg::Rs256,
        Counts {
            valid: 7,
            invalid: 250,
            acceptable: 1,
        },
    );
}

#[test]
fn wycheproof_ecdsa_p256_sha256_p1363() {
    check_signature_file(
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
        Alg::Es256,
        Counts {
            valid: 173,
            invalid: 89,
            acceptable: 0,
        },
    );
}

/// The `acceptable` RSA cases are exactly the MissingNull ones, which edgegate rejects.
#[test]
fn wycheproof_rsa_acceptable_cases_are_missing_null() {
    for bits in [2048, 3072, 4096] {
        let file = format!("wycheproof/rsa_signature_{bits}_sha256_test.json");
        let Some(doc) = vector_json(&file) else {
            return;
        };
        for group in doc["testGroups"].as_array().expect("groups") {
            for test in group["tests"].as_array().expect("tests") {
                if test["result"] == "acceptable" {
                    assert_eq!(test["flags"], serde_json::json!(["MissingNull"]), "{file}");
                }
            }
        }
    }
}

/// The structural pre-check the worker runs before it hands a signature to WebCrypto
/// (`crypto::plausible_signature`: length, ECDSA `r`/`s` range) never refuses a signature the
/// primitive accepts, on every vector of every signature file; and it does refuse some.
#[test]
fn wycheproof_pre_check_never_refuses_what_the_primitive_accepts() {
    let files = [
        ("wycheproof/rsa_signature_2048_sha256_test.json", Alg::Rs256),
        ("wycheproof/rsa_signature_3072_sha256_test.json", Alg::Rs256),
        ("wycheproof/rsa_signature_4096_sha256_test.json", Alg::Rs256),
        (
            "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
            Alg::Es256,
        ),
    ];
    for (file, alg) in files {
        let Some(doc) = vector_json(file) else {
            return;
        };
        let mut refused = 0;
        for group in doc["testGroups"].as_array().expect("testGroups") {
            let der = hex(group["publicKeyDer"].as_str().expect("publicKeyDer"));
            let key = KeyMaterial::from_spki_der(&der).expect("group key");
            for test in group["tests"].as_array().expect("tests") {
                let id = &test["tcId"];
                let msg = hex(test["msg"].as_str().expect("msg"));
                let sig = hex(test["sig"].as_str().expect("sig"));
                let plausible = plausible_signature(&key, &sig);
                let accepted = verify_signature(&key, alg, &msg, &sig);
                assert!(
                    plausible || !accepted,
                    "{file} tcId {id}: pre-check refused a good one"
                );
                if test["result"] == "valid" {
                    assert!(
                        plausible,
                        "{file} tcId {id}: pre-check refused a valid vector"
                    );
                }
                if !plausible {
                    refused += 1;
                }
            }
        }
        eprintln!("{file}: the pre-check refused {refused}");
        assert!(refused > 0, "{file}: the pre-check refused nothing");
    }
}

/// Key algorithms of the JWS file that edgegate does not implement: their groups are skipped.
const SKIPPED_JWS_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512",
    "ES521",
];

/// tcIds of `json_web_signature_test.json` not run, and why:
/// - 1..=17, 348, 352, 357..=377: HS256 groups (`oct` keys): edgegate verifies RS256/ES256 only
///   (an HS256 token is refused with token-invalid-algorithm before any key is used);
/// - 264..=267 (RS384), 268..=271 (RS512), 272..=344 (PS256/PS384/PS512), 346, 350 (PS256
///   key), 347, 351 (ES521 / P-521 key): algorithms edgegate does not implement.
///
/// Run: 18..=263 (ES256, RS256 with many DER/padding mutations), 345 and 349 (RFC 7520 4.1,
/// the latter with `key_ops: ["verify"]`), 353..=356 (RSA/P-256 keys with `use: "enc"` or
/// `key_ops: ["encrypt"]`: refused as keys, hence the tokens are rejected), 378..=401 (ES256
/// special cases: DER, wrong lengths, r/s out of range).
///
/// The file has no JSON-serialization cases (every `jws` is a compact string; asserted below).
const EXPECTED_SKIPPED_TCIDS: &str = "1-17,264-344,346-348,350-352,357-377";

fn expand_ranges(spec: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<u64>().expect("n")..=b.parse::<u64>().expect("n")),
            None => out.push(part.parse().expect("n")),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn wycheproof_json_web_signature_rs256_es256() {
    let file = "wycheproof/json_web_signature_test.json";
    let Some(doc) = vector_json(file) else {
        return;
    };
    let declared = doc["numberOfTests"].as_u64().expect("numberOfTests") as usize;
    let mut counts = Counts::default();
    let mut skipped: Vec<u64> = Vec::new();
    let mut failures = Vec::new();
    let mut total = 0usize;
    for group in doc["testGroups"].as_array().expect("testGroups") {
        let tests = group["tests"].as_array().expect("tests");
        total += tests.len();
        let jwk = group.get("public").and_then(Value::as_object);
        let key_alg = group
            .get("public")
            .or_else(|| group.get("private"))
            .and_then(|k| k.get("alg"))
            .and_then(Value::as_str);
        let usable = match (jwk, key_alg) {
            (None, _) => false, // symmetric (oct) keys: HS*
            (Some(_), Some(a)) => !SKIPPED_JWS_ALGS.contains(&a),
            // No alg on the key: RSA or P-256 keys meant for encryption; their tokens are
            // RS256/ES256 and must be rejected (wrong `use` / `key_ops`).
            (Some(k), None) => matches!(k.get("kty").and_then(Value::as_str), Some("RSA" | "EC")),
        };
        if !usable {
            skipped.extend(tests.iter().map(|t| tc_id(&t["tcId"])));
            continue;
        }
        let jwk = jwk.expect("public JWK");
        // A key the configuration refuses (wrong use/key_ops) counts as a rejection.
        let keyset = parse_jwk(jwk).map(|k| KeySet {
            keys: vec![k],
            fetched_from: None,
        });
        for test in tests {
            let id = tc_id(&test["tcId"]);
            let jws = test["jws"]
                .as_str()
                .unwrap_or_else(|| panic!("tcId {id}: JSON serialization in an RS/ES group"));
            let got = match &keyset {
                Ok(ks) => verify_jws(jws, ks, 8192).is_ok(),
                Err(_) => false,
            };
            let result = test["result"].as_str().expect("result");
            let expected = match result {
                "valid" => {
                    counts.valid += 1;
                    true
                }
                "invalid" => {
                    counts.invalid += 1;
                    false
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            };
            if got != expected {
                failures.push(format!(
                    "tcId {id} ({result}, {}): got {got}",
                    test["comment"]
                ));
            }
        }
    }
    assert_eq!(total, declared, "{file}: numberOfTests");
    assert!(failures.is_empty(), "{file}: {failures:#?}");
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        expand_ranges(EXPECTED_SKIPPED_TCIDS),
        "skipped tcIds"
    );
    assert_eq!(counts.valid + counts.invalid + skipped.len(), declared);
    assert_eq!(
        counts,
        Counts {
            valid: 10,
            invalid: 266,
            acceptable: 0
        }
    );
    eprintln!("{file}: {counts:?}, skipped {}", skipped.len());
}

fn tc_id(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("tcId"),
        Value::String(s) => s.parse().expect("tcId"),
        other => panic!("tcId {other}"),
    }
}
