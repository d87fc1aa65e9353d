//! Property tests: token decoding/verification and key parsing never panic, whatever the input;
//! and mutating a valid token never turns it into a different accepted session.

mod common;

use common::{b64u, claims, ec, mint, pem_set, public_jwk, public_pem, rsa, validation, NOW_MS};
use edgegate::keys::parse_key_set;
use edgegate::token::{decode_compact, prepare, verify_jws, verify_token};
use proptest::prelude::*;
use serde_json::json;

fn exercise(token: &str) {
    for set in [pem_set(rsa()), pem_set(ec())] {
        let _ = decode_compact(token, 8192);
        let _ = prepare(token, &set, 8192);
        let _ = verify_jws(token, &set, 8192);
        let _ = verify_token(token, &set, &validation(), NOW_MS);
        let mut lax = validation();
        lax.allow_missing_azp = true;
        lax.pending_is_signed_in = true;
        let _ = verify_token(token, &set, &lax, i64::MAX);
        let _ = verify_token(token, &set, &lax, i64::MIN);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Delete(usize),
    Insert(usize, char),
    Truncate(usize),
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![
        proptest::char::range('A', 'z'),
        Just('.'),
        Just('='),
        Just('+'),
        Just('/'),
        Just(' '),
        Just('-'),
        Just('_'),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    for m in mutations {
        let len = chars.len().max(1);
        match *m {
            Mutation::Replace(i, c) => {
                if !chars.is_empty() {
                    chars[i % len] = c;
                }
            }
            Mutation::Delete(i) => {
                if !chars.is_empty() {
                    chars.remove(i % len);
                }
            }
            Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Mutation::Truncate(i) => chars.truncate(i % len),
            Mutation::FlipBit(i, b) => {
                if !chars.is_empty() {
                    let idx = i % len;
                    let flipped = (chars[idx] as u32) ^ (1 << b);
                    if let Some(c) = char::from_u32(flipped) {
                        chars[idx] = c;
                    }
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Header/payload/signature segments built from arbitrary bytes (so decoding gets past base64).
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(b64u),
        Just(b64u(r#"{"alg":"RS256"}"#)),
        Just(b64u(r#"{"alg":"ES256","typ":"JWT","kid":"k"}"#)),
        Just(b64u(r#"{"sub":"u","exp":1e400}"#)),
        "[A-Za-z0-9_-]{0,40}",
        "\\PC{0,20}".prop_map(b64u),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics_on_arbitrary_strings(s in any::<String>()) {
        exercise(&s);
    }

    #[test]
    fn verify_never_panics_on_token_like_strings(s in "[A-Za-z0-9_=+/. -]{0,400}") {
        exercise(&s);
    }

    #[test]
    fn verify_never_panics_on_arbitrary_segments(h in segment(), p in segment(), s in segment()) {
        exercise(&format!("{h}.{p}.{s}"));
    }

    #[test]
    fn verify_never_panics_on_arbitrary_json_segments(
        header in "\\{(\"[a-z]{1,4}\":(\"[A-Za-z0-9]{0,6}\"|-?[0-9]{1,22}(\\.[0-9]{1,3})?|true|null|\\[\\]|\\{\\}),?){0,5}\\}",
        payload in "\\{(\"[a-z]{1,4}\":(\"[A-Za-z0-9:,]{0,12}\"|-?[0-9]{1,22}(\\.[0-9]{1,3})?(e[0-9]{1,3})?|true|null|\\[[0-9,]{0,6}\\]|\\{\\}),?){0,8}\\}",
    ) {
        let t = common::signed_raw(rsa(), header.as_bytes(), payload.as_bytes());
        exercise(&t);
        let t = common::signed_raw(ec(), header.as_bytes(), payload.as_bytes());
        exercise(&t);
    }

    #[test]
    fn mutated_tokens_never_panic_and_never_change_the_session(
        es in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let key = if es { ec() } else { rsa() };
        let set = pem_set(key);
        let token = mint(key, json!({"kid": "ins_1"}), &claims());
        let original = verify_token(&token, &set, &validation(), NOW_MS).expect("valid");
        let mutated = apply(&token, &mutations);
        exercise(&mutated);
        if mutated != token {
            if let Ok(auth) = verify_token(&mutated, &set, &validation(), NOW_MS) {
                // Only a mutation that leaves the signed bytes' meaning intact could pass;
                // with strict base64url none can, but in any case the session is the same.
                prop_assert_eq!(auth, original);
            }
        }
    }

    #[test]
    fn parse_key_set_never_panics_on_arbitrary_input(s in any::<String>()) {
        let _ = parse_key_set(&s);
    }

    #[test]
    fn parse_key_set_never_panics_on_pem_like_input(
        label in prop_oneof![Just(String::from("PUBLIC KEY")), Just(String::from("RSA PUBLIC KEY")), Just(String::from("PRIVATE KEY")), "[A-Z ]{0,12}"],
        body in "[A-Za-z0-9+/=\\n\\\\ -]{0,300}",
        end in any::<bool>(),
    ) {
        let text = if end {
            format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----")
        } else {
            format!("-----BEGIN {label}-----{body}")
        };
        let _ = parse_key_set(&text);
    }

    #[test]
    fn parse_key_set_never_panics_on_mutated_keys(
        which in 0usize..4,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let text = match which {
            0 => public_pem(rsa()),
            1 => public_pem(ec()),
            2 => public_jwk(rsa(), Some("k")).to_string(),
            _ => json!({"keys": [public_jwk(ec(), Some("a")), public_jwk(rsa(), None)]}).to_string(),
        };
        let _ = parse_key_set(&apply(&text, &mutations));
    }

    #[test]
    fn parse_key_set_never_panics_on_arbitrary_jwk(
        kty in prop_oneof![Just(String::from("RSA")), Just(String::from("EC")), Just(String::from("oct")), "[A-Za-z]{0,4}"],
        crv in prop_oneof![Just(String::from("P-256")), Just(String::from("P-384")), "[A-Za-z0-9-]{0,6}"],
        n in proptest::collection::vec(any::<u8>(), 0..600),
        e in proptest::collection::vec(any::<u8>(), 0..10),
        x in proptest::collection::vec(any::<u8>(), 0..40),
        y in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let jwk = json!({"kty": kty, "crv": crv, "n": b64u(&n), "e": b64u(&e), "x": b64u(&x), "y": b64u(&y)});
        let _ = parse_key_set(&jwk.to_string());
    }
}
