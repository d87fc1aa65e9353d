//! The JWKS refresh through the pipeline's interface (`pipeline::key_refresh`), natively: the test plays
//! the entry (the Cron Trigger's fetch, the KV reads) and checks which tokens verify before and
//! after, that the embedded keys can never be taken away, and when an isolate reads KV.

mod common;

use common::drive::{drive, Outcome};
use common::{claims_with, ec, mint, public_jwk, public_pem, rsa, NOW_MS, ORIGIN};
use edgegate::http::HeaderList;
use edgegate::jwks::FetchedJwks;
use edgegate::keys::{parse_key_set, KeySet};
use edgegate::pipeline::{Event, Pipeline, Request, Step};
use serde_json::json;
use std::collections::HashMap;

const JWKS_URL: &str = "http://127.0.0.1:9999/.well-known/jwks.json";

fn pipeline(extra: &[(&str, &str)], kv_bound: bool) -> Pipeline {
    let pem = public_pem(rsa());
    let mut s: HashMap<String, String> = [
        ("CLERK_JWT_KEY", pem.as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
        ("JWKS_URL", JWKS_URL),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        s.insert(k.to_string(), v.to_string());
    }
    let mut p = Pipeline::from_settings(&|name: &str| s.get(name).cloned()).0;
    p.set_kv_bound(kv_bound);
    p
}

/// The keys the pipeline holds, read through its own `key_jwk` (what the entry imports).
fn held_keys(p: &Pipeline) -> KeySet {
    let mut keys = Vec::new();
    let mut i = 0;
    while let Some((_, jwk)) = p.key_jwk(i) {
        keys.push(serde_json::from_str::<serde_json::Value>(&jwk).unwrap_or_default());
        i += 1;
    }
    parse_key_set(&json!({ "keys": keys }).to_string()).unwrap_or_default()
}

/// An API call carrying `token` as a Bearer token.
fn bearer_request(token: &str) -> Request {
    let headers: HeaderList = [
        ("host", "app.example.com"),
        ("authorization", format!("Bearer {token}").as_str()),
        ("accept", "application/json"),
    ]
    .into_iter()
    .collect();
    Request {
        method: "GET".into(),
        url: "https://app.example.com/api/x".into(),
        headers,
    }
}

/// Runs a bearer request to its end through tests/common/drive.rs, verifying with the keys the
/// pipeline holds; returns the final status (200 when the origin fetch is reached).
fn status_for(p: &mut Pipeline, token: &str) -> u16 {
    let keys = held_keys(p);
    match drive(p, &keys, 200, bearer_request(token)).outcome {
        Outcome::Proxy(_) => 200,
        Outcome::Respond(plan) => plan.status,
        other => panic!("unexpected outcome {other:?}"),
    }
}

fn ec_token(kid: &str) -> String {
    mint(ec(), json!({ "kid": kid }), &claims_with(json!({})))
}

fn rsa_token() -> String {
    mint(rsa(), json!({}), &claims_with(json!({})))
}

fn jwks_body(kid: &str) -> String {
    json!({ "keys": [public_jwk(ec(), Some(kid))] }).to_string()
}

fn good(body: String) -> FetchedJwks {
    FetchedJwks::Response {
        status: 200,
        body,
        truncated: false,
    }
}

#[test]
fn a_fetched_key_verifies_only_after_the_refresh_and_the_embedded_key_always() {
    let mut p = pipeline(&[], true);
    assert_eq!(status_for(&mut p, &ec_token("ins_new")), 401);
    assert_eq!(status_for(&mut p, &rsa_token()), 200);
    let outcome = p.refresh_fetched(&good(jwks_body("ins_new")), NOW_MS);
    let (outcome, changed) = outcome.unwrap_or_else(|| panic!("refresh is on"));
    assert!(outcome.keys_text.is_some());
    assert!(
        changed,
        "the cron's own isolate installs the set and says so"
    );
    assert_eq!(status_for(&mut p, &ec_token("ins_new")), 200);
    assert_eq!(status_for(&mut p, &rsa_token()), 200);
}

#[test]
fn another_isolate_installs_the_stored_set_and_a_later_set_replaces_only_fetched_keys() {
    let mut cron = pipeline(&[], true);
    let first = cron
        .refresh_fetched(&good(jwks_body("ins_a")), NOW_MS)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    let mut p = pipeline(&[], true);
    let (changed, log) = p.install_stored_keys(Some(&first), None, true, NOW_MS);
    assert!(changed);
    assert!(log.unwrap_or_default().contains("jwks-installed"));
    assert_eq!(status_for(&mut p, &ec_token("ins_a")), 200);
    // The same record again changes nothing.
    assert!(!p.install_stored_keys(Some(&first), None, true, NOW_MS).0);
    // A later set without ins_a drops it; the embedded key stays.
    let second = cron
        .refresh_fetched(&good(jwks_body("ins_b")), NOW_MS + 1)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    assert!(
        p.install_stored_keys(Some(&second), None, true, NOW_MS + 1)
            .0
    );
    assert_eq!(status_for(&mut p, &ec_token("ins_a")), 401);
    assert_eq!(status_for(&mut p, &ec_token("ins_b")), 200);
    assert_eq!(status_for(&mut p, &rsa_token()), 200);
}

#[test]
fn failed_fetches_and_unreadable_records_change_nothing() {
    let mut p = pipeline(&[], true);
    p.refresh_fetched(&good(jwks_body("ins_a")), NOW_MS);
    for fetched in [
        FetchedJwks::Failed,
        FetchedJwks::Response {
            status: 500,
            body: String::new(),
            truncated: false,
        },
        good("not json".into()),
        good(r#"{"keys":[]}"#.into()),
    ] {
        let outcome = p.refresh_fetched(&fetched, NOW_MS + 5);
        assert_eq!(outcome.and_then(|(o, _)| o.keys_text), None);
        assert_eq!(status_for(&mut p, &ec_token("ins_a")), 200);
    }
    for junk in ["", "{}", "[1,2]", r#"{"keys":"x","fetched_at":1}"#] {
        assert!(!p.install_stored_keys(Some(junk), None, true, NOW_MS).0);
        assert!(!p.install_stored_keys(None, None, false, NOW_MS).0);
        assert_eq!(status_for(&mut p, &ec_token("ins_a")), 200);
        assert_eq!(status_for(&mut p, &rsa_token()), 200);
    }
}

#[test]
fn a_fetched_key_cannot_take_an_embedded_keys_kid() {
    let jwk = public_jwk(rsa(), Some("ins_embedded"));
    let embedded = json!({ "keys": [jwk] }).to_string();
    let mut p = pipeline(&[("CLERK_JWT_KEY", embedded.as_str())], true);
    // The attacker's key (here the EC test key) under the embedded key's kid is dropped.
    p.refresh_fetched(&good(jwks_body("ins_embedded")), NOW_MS);
    assert_eq!(status_for(&mut p, &ec_token("ins_embedded")), 401);
}

#[test]
fn the_kv_is_read_at_most_once_a_minute_and_never_without_a_binding() {
    let mut p = pipeline(&[], true);
    assert!(p.keys_pickup_due(NOW_MS));
    assert!(!p.keys_pickup_due(NOW_MS + 59_999));
    assert!(p.keys_pickup_due(NOW_MS + 60_000));
    let mut unbound = pipeline(&[], false);
    assert!(!unbound.keys_pickup_due(NOW_MS));
    assert_eq!(unbound.refresh_fetch(), None);
    assert_eq!(unbound.keys_next_pickup_ms(), None);
    let mut off = pipeline(&[("JWKS_URL", "off")], true);
    assert!(!off.keys_pickup_due(NOW_MS));
    assert_eq!(off.refresh_fetch(), None);
}

#[test]
fn jwks_url_settings_are_validated() {
    for (value, ok) in [
        ("auto", false), // no PUBLISHABLE_KEY
        ("http://clerk.example.com/.well-known/jwks.json", false),
        ("https://clerk.example.com/.well-known/jwks.json", true),
        ("off", true),
        ("not a url", false),
    ] {
        let pem = public_pem(rsa());
        let s: HashMap<&str, &str> = [
            ("CLERK_JWT_KEY", pem.as_str()),
            ("AUTHORIZED_PARTIES", ORIGIN),
            ("ORIGIN_URL", "http://127.0.0.1:9000"),
            ("JWKS_URL", value),
        ]
        .into_iter()
        .collect();
        let (_, problems) = Pipeline::from_settings(&|n: &str| s.get(n).map(|v| v.to_string()));
        assert_eq!(problems.is_empty(), ok, "{value}: {problems:?}");
    }
    // auto with a publishable key names the Frontend API's JWKS.
    let pem = public_pem(rsa());
    let pk = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
    let s: HashMap<&str, &str> = [
        ("CLERK_JWT_KEY", pem.as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
        ("JWKS_URL", "auto"),
        ("PUBLISHABLE_KEY", pk),
    ]
    .into_iter()
    .collect();
    let (mut p, problems) = Pipeline::from_settings(&|n: &str| s.get(n).map(|v| v.to_string()));
    assert!(problems.is_empty(), "{problems:?}");
    p.set_kv_bound(true);
    assert_eq!(
        p.refresh_fetch().map(|f| f.url),
        Some("https://clerk.example.com/.well-known/jwks.json".to_owned())
    );
}

#[test]
fn a_fetched_key_claiming_the_tokens_kid_never_shuts_out_the_embedded_pem() {
    // The embedded key is a PEM (no kid); a bad JWKS puts another key under Clerk's kid.
    let mut p = pipeline(&[], true);
    let foreign = json!({ "keys": [public_jwk(ec(), Some("ins_clerk"))] }).to_string();
    p.refresh_fetched(&good(foreign), NOW_MS);
    let token = mint(
        rsa(),
        json!({ "kid": "ins_clerk" }),
        &claims_with(json!({})),
    );
    assert_eq!(status_for(&mut p, &token), 200);
}

#[test]
fn an_older_stored_record_never_rolls_the_keys_back() {
    let mut cron = pipeline(&[], true);
    let old = cron
        .refresh_fetched(&good(jwks_body("ins_old")), NOW_MS)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    let new = cron
        .refresh_fetched(&good(jwks_body("ins_new")), NOW_MS + 1_000)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    let mut p = pipeline(&[], true);
    assert!(p.install_stored_keys(Some(&new), None, true, NOW_MS).0);
    assert!(!p.install_stored_keys(Some(&old), None, true, NOW_MS).0);
    assert_eq!(status_for(&mut p, &ec_token("ins_new")), 200);
    assert_eq!(status_for(&mut p, &ec_token("ins_old")), 401);
}

#[test]
fn a_fetched_key_check_answered_after_the_key_set_changed_counts_as_failed() {
    let mut p = pipeline(&[], true);
    p.refresh_fetched(&good(jwks_body("ins_a")), NOW_MS);
    let generation = p.key_generation();
    let (id, step) = p.start(bearer_request(&ec_token("ins_a")), NOW_MS, [4u8; 32]);
    assert!(matches!(step, Step::Verify(_)), "{step:?}");
    // The set changes while WebCrypto checks the signature with the old key.
    p.refresh_fetched(&good(jwks_body("ins_b")), NOW_MS + 1);
    assert_ne!(p.key_generation(), generation);
    let step = p.resume(id, Event::Verified(true));
    match step {
        Step::Respond { plan, .. } => assert_eq!(plan.status, 401),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_token_without_a_kid_never_verifies_with_a_fetched_key() {
    // The JWKS adds an EC key; a kid-less EC token signed by it finds no embedded EC key.
    let mut p = pipeline(&[], true);
    p.refresh_fetched(&good(jwks_body("ins_new")), NOW_MS);
    let kidless = mint(ec(), json!({}), &claims_with(json!({})));
    assert_eq!(status_for(&mut p, &kidless), 401);
    let mut keys = held_keys(&p);
    keys.fetched_from = Some(1); // the embedded PEM, then the fetched EC key
    assert_eq!(keys.keys.len(), 2);
    assert_eq!(
        keys.select(edgegate::keys::Alg::Es256, None).err(),
        Some(edgegate::keys::KeySelectError::UnknownKid),
        "the missing kid is named, not the algorithm"
    );
    assert_eq!(status_for(&mut p, &ec_token("ins_new")), 200);
    // The embedded PEM (no kid) still serves kid-less tokens.
    assert_eq!(status_for(&mut p, &rsa_token()), 200);
}

#[test]
fn an_embedded_key_check_answered_after_the_key_set_changed_still_counts() {
    // Embedded keys never move, so a refresh landing mid-check cannot refuse their tokens.
    let mut p = pipeline(&[], true);
    p.refresh_fetched(&good(jwks_body("ins_a")), NOW_MS);
    let (id, step) = p.start(bearer_request(&rsa_token()), NOW_MS, [5u8; 32]);
    let Step::Verify(q) = step else {
        panic!("expected a signature check, got {step:?}");
    };
    assert_eq!(q.key_index, 0, "the embedded PEM is key 0");
    p.refresh_fetched(&good(jwks_body("ins_b")), NOW_MS + 1);
    let step = p.resume(id, Event::Verified(true));
    assert!(matches!(step, Step::FetchOrigin(_)), "{step:?}");
}

#[test]
fn a_stored_record_dated_in_the_future_is_refused_and_cannot_pin_its_keys() {
    // Someone with write access to the namespace dates a record a year ahead.
    let mut cron = pipeline(&[], true);
    let record = cron
        .refresh_fetched(&good(jwks_body("ins_planted")), NOW_MS + 365 * 86_400_000)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    let mut p = pipeline(&[], true);
    let (changed, log) = p.install_stored_keys(Some(&record), None, true, NOW_MS);
    assert!(!changed);
    assert!(
        log.is_some_and(|l| l.contains("jwks-record-refused")),
        "the refusal is logged"
    );
    assert_eq!(status_for(&mut p, &ec_token("ins_planted")), 401);
    // A real fetch after it is installed as usual.
    p.refresh_fetched(&good(jwks_body("ins_real")), NOW_MS);
    assert_eq!(status_for(&mut p, &ec_token("ins_real")), 200);
    // A few minutes of clock difference between locations is allowed.
    let slightly_ahead = cron
        .refresh_fetched(&good(jwks_body("ins_next")), NOW_MS + 120_000)
        .and_then(|(o, _)| o.keys_text)
        .unwrap_or_default();
    assert!(
        p.install_stored_keys(Some(&slightly_ahead), None, true, NOW_MS)
            .0
    );
}
