//! The step interface the worker's JavaScript entry drives (`isolate::Isolate`), natively: the
//! test plays the entry's part (RustCrypto stands in for WebCrypto, a header list for the
//! fetched response) and checks each wire answer, the cache, and the header edits.

mod common;

use common::{claims_with, keys, mint, pem_set, public_pem, rsa, NOW_MS, ORIGIN};
use edgegate::app::Inbound;
use edgegate::crypto::verify_signature;
use edgegate::http::{apply_edits, header_edits, HeaderEdit, HeaderList};
use edgegate::isolate::{parse_answers, wire, Fetched, Isolate, MAX_GUESSES};
use edgegate::keys::parse_key_set;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn isolate(extra: &[(&str, &str)]) -> Isolate {
    let mut s: HashMap<String, String> = [
        ("CLERK_JWT_KEY", public_pem(rsa()).as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        s.insert(k.to_string(), v.to_string());
    }
    Isolate::from_settings(&|name: &str| s.get(name).cloned()).0
}

fn token() -> String {
    mint(rsa(), json!({"kid": "ins_1"}), &claims_with(json!({})))
}

fn request_headers(token: &str) -> HeaderList {
    [
        ("host", "app.example.com"),
        ("authorization", &format!("Bearer {token}")),
        ("accept", "application/json"),
        ("x-auth-user-id", "user_spoofed"),
    ]
    .into_iter()
    .collect()
}

/// One `decide` call, as the entry makes it.
fn decide(iso: &mut Isolate, headers: &HeaderList, answers: &str) -> String {
    let inbound = Inbound {
        method: "GET",
        url: "https://app.example.com/api/data?x=1",
        headers,
    };
    iso.decide(&inbound, NOW_MS, [9u8; 32], &parse_answers(answers), false)
}

/// Answers a `V` step the way the entry does, with RustCrypto in WebCrypto's place.
fn answer(iso: &Isolate, step: &str) -> String {
    let (fields, _, _) = wire::read(step);
    assert_eq!(
        fields[0], "V",
        "expected a signature question, got {step:?}"
    );
    let question = iso.question().expect("the question's bytes are kept");
    assert_eq!(fields[1], question.id);
    assert_eq!(fields[3], "RS256");
    let message_len: usize = fields[4].parse().unwrap();
    let (message, signature) = question.bytes.split_at(message_len);
    let keys = pem_set(rsa());
    let key_index: usize = fields[2].parse().unwrap();
    let ok = verify_signature(
        &keys.get(key_index).unwrap().material,
        question.alg,
        message,
        signature,
    );
    format!("{}:{}", question.id, if ok { 1 } else { 0 })
}

/// The question a `V` step asks (its first five fields), without the guess that comes with it.
fn asked(step: &str) -> Vec<&str> {
    let (fields, _, _) = wire::read(step);
    assert_eq!(
        fields[0], "V",
        "expected a signature question, got {step:?}"
    );
    fields[..5].to_vec()
}

/// A `V` step's guess: its id and the guessed step.
fn guess_of(step: &str) -> (u32, &str) {
    let (fields, _, rest) = wire::read(step);
    assert_eq!(
        fields[0], "V",
        "expected a signature question, got {step:?}"
    );
    (fields[5].parse().expect("a guess id"), rest)
}

/// `finish` for a fetch that answered 200 with no headers.
fn finished(iso: &mut Isolate, fetch: u32) -> String {
    iso.finish(fetch, Fetched::Response(200), HeaderList::default())
}

/// A fresh isolate, a request with a valid token, and the entry's answer to its first step.
fn verified_once() -> (Isolate, HeaderList, String) {
    let mut iso = isolate(&[]);
    let headers = request_headers(&token());
    let first = decide(&mut iso, &headers, "");
    let verdict = answer(&iso, &first);
    (iso, headers, verdict)
}

fn log_json(open: &str) -> Value {
    serde_json::from_str(&format!("{open},\"duration_ms\":3}}")).expect("the log line is JSON")
}

#[test]
fn cold_request_asks_for_one_signature_check_then_proxies_with_edits() {
    let (mut iso, headers, verdict) = verified_once();
    assert!(verdict.ends_with(":1"));
    let second = decide(&mut iso, &headers, &verdict);
    let (fields, edits, _) = wire::read(&second);
    assert_eq!(fields[0], "P", "{second:?}");
    assert_eq!(fields[2], "GET");
    assert_eq!(fields[3], "http://127.0.0.1:9000/api/data?x=1");
    assert_eq!(fields[4], "30000", "the default UPSTREAM_TIMEOUT_MS");
    assert_eq!(fields[5], "0", "a GET forwards no body");
    // The spoofed identity header is deleted and the verified one appended.
    assert!(edits.contains(&(":x-auth-user-id", "")), "{edits:?}");
    assert!(edits.contains(&("X-Auth-User-Id", "user_123")), "{edits:?}");
    // Headers the plan leaves alone are not touched.
    assert!(!edits.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")));

    let id: u32 = fields[1].parse().unwrap();
    let origin: HeaderList = [
        ("content-type", "application/json"),
        ("connection", "close"),
        ("x-edgegate-auth-status", "forged"),
    ]
    .into_iter()
    .collect();
    let done = iso.finish(id, Fetched::Response(200), origin);
    let (fields, edits, _) = wire::read(&done);
    assert_eq!(fields[0], "S", "{done:?}");
    assert_eq!(fields[1], "200");
    let log = log_json(fields[2]);
    assert_eq!(log["status"], 200);
    assert_eq!(log["auth_status"], "signed-in");
    assert_eq!(log["duration_ms"], 3);
    assert!(
        edits.contains(&(":connection", "")),
        "hop-by-hop removed: {edits:?}"
    );
    assert!(
        edits.contains(&(":x-edgegate-auth-status", "")),
        "{edits:?}"
    );
    assert!(
        edits.contains(&("X-Edgegate-Auth-Status", "signed-in")),
        "{edits:?}"
    );
    assert!(!edits.iter().any(|(n, _)| n.contains("content-type")));
}

#[test]
fn warm_request_hits_the_cache_and_needs_no_check() {
    let (mut iso, headers, verdict) = verified_once();
    assert!(decide(&mut iso, &headers, &verdict).starts_with("P\n"));
    let (entries, _) = iso.cache_stats();
    assert_eq!(entries, 1);
    let again = decide(&mut iso, &headers, "");
    assert!(again.starts_with("P\n"), "{again:?}");
    assert!(iso.question().is_none());
}

#[test]
fn a_failed_check_is_401_and_is_not_cached() {
    let mut iso = isolate(&[]);
    let t = token();
    let headers = request_headers(&t);
    let first = decide(&mut iso, &headers, "");
    let id = iso.question().unwrap().id.clone();
    let refused = decide(&mut iso, &headers, &format!("{id}:0"));
    let (fields, pairs, body) = wire::read(&refused);
    assert_eq!(fields[..2], ["R", "401"], "{refused:?}");
    assert!(pairs
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("www-authenticate")));
    assert!(body.contains("token-invalid-signature"), "{body}");
    assert_eq!(log_json(fields[2])["reason"], "token-invalid-signature");
    assert_eq!(iso.cache_stats().0, 0);
    // The next request asks again.
    assert_eq!(asked(&decide(&mut iso, &headers, "")), asked(&first));
}

#[test]
fn an_answer_only_settles_the_question_it_names() {
    let mut iso = isolate(&[]);
    let t = token();
    let headers = request_headers(&t);
    let first = decide(&mut iso, &headers, "");
    let wrong = format!("{}:1", "0".repeat(64));
    assert_eq!(asked(&decide(&mut iso, &headers, &wrong)), asked(&first));
    assert_eq!(
        asked(&decide(&mut iso, &headers, "garbage,:,x:2")),
        asked(&first)
    );
    assert_eq!(iso.cache_stats().0, 0);
}

#[test]
fn a_cold_request_carries_its_guess_which_a_passed_check_confirms() {
    let mut iso = isolate(&[]);
    let headers = request_headers(&token());
    let first = decide(&mut iso, &headers, "");
    let verdict = answer(&iso, &first);
    assert!(verdict.ends_with(":1"));
    let question = asked(&first)[1].to_owned();
    let (guess, step) = guess_of(&first);
    // The guessed step is what the pipeline gives once the check has passed.
    let (fields, edits, _) = wire::read(step);
    assert_eq!(fields[0], "P", "{step:?}");
    assert_eq!(fields[3], "http://127.0.0.1:9000/api/data?x=1");
    assert!(edits.contains(&("X-Auth-User-Id", "user_123")), "{edits:?}");
    // Nothing of it took effect yet: the token is not cached.
    assert_eq!(iso.cache_stats().0, 0);
    assert!(iso.settle_guess(guess, &question, true));
    assert_eq!(iso.cache_stats().0, 1);
    // A guess is settled once.
    assert!(!iso.settle_guess(guess, &question, true));
    // Its fetch is the one `finish` knows.
    let id: u32 = fields[1].parse().unwrap();
    let done = finished(&mut iso, id);
    assert!(done.starts_with("S\n200\n"), "{done:?}");
    // The same token again is warm.
    assert!(decide(&mut iso, &headers, "").starts_with("P\n"));
}

#[test]
fn a_guess_is_dropped_unless_its_own_check_passed() {
    let mut iso = isolate(&[]);
    let headers = request_headers(&token());
    let first = decide(&mut iso, &headers, "");
    let question = asked(&first)[1].to_owned();
    let (guess, step) = guess_of(&first);
    let (fields, _, _) = wire::read(step);
    let fetch: u32 = fields[1].parse().unwrap();
    // A failed check drops the guess and its fetch; nothing is cached.
    assert!(!iso.settle_guess(guess, &question, false));
    assert_eq!(iso.cache_stats().0, 0);
    let forgotten = finished(&mut iso, fetch);
    assert!(forgotten.starts_with("R\n500\n"), "{forgotten:?}");
    assert!(
        !iso.settle_guess(guess, &question, true),
        "dropped for good"
    );
    // The pipeline then runs again with the answer: 401.
    let refused = decide(&mut iso, &headers, &format!("{question}:0"));
    assert!(refused.starts_with("R\n401\n"), "{refused:?}");

    // Another question's answer never confirms a guess.
    let again = decide(&mut iso, &headers, "");
    let (guess, _) = guess_of(&again);
    assert!(!iso.settle_guess(guess, &"0".repeat(64), true));
    assert_eq!(iso.cache_stats().0, 0);
    // Nor does an unknown guess id.
    assert!(!iso.settle_guess(guess.wrapping_add(7), &question, true));
}

#[test]
fn two_requests_with_one_cold_token_each_get_their_own_guess() {
    let mut iso = isolate(&[]);
    let headers = request_headers(&token());
    let a = decide(&mut iso, &headers, "");
    let b = decide(&mut iso, &headers, "");
    assert_eq!(asked(&a), asked(&b));
    let (guess_a, step_a) = guess_of(&a);
    let (guess_b, step_b) = guess_of(&b);
    assert_ne!(guess_a, guess_b);
    assert_ne!(step_a, step_b, "each has its own fetch id");
    let question = asked(&a)[1].to_owned();
    assert!(!iso.settle_guess(guess_b, &question, false));
    assert!(iso.settle_guess(guess_a, &question, true));
    assert_eq!(iso.cache_stats().0, 1);
}

#[test]
fn with_two_keys_a_failed_first_guess_gives_way_to_the_next_keys() {
    // Two PEM blocks and a token without a kid, signed by the second key: the first guess is
    // made on the first key, fails, and is dropped with its fetch; the second is confirmed.
    let both = format!("{}{}", public_pem(&keys().rsa_a), public_pem(&keys().rsa_b));
    let set = parse_key_set(&both).unwrap();
    let mut iso = isolate(&[("CLERK_JWT_KEY", both.as_str())]);
    let signed = mint(&keys().rsa_b, json!({}), &claims_with(json!({})));
    let headers = request_headers(&signed);
    let webcrypto = |iso: &Isolate| {
        let q = iso.question().unwrap();
        let (message, signature) = q.bytes.split_at(q.message_len);
        verify_signature(
            &set.get(q.key_index).unwrap().material,
            q.alg,
            message,
            signature,
        )
    };
    let first = decide(&mut iso, &headers, "");
    let q1 = asked(&first)[1].to_owned();
    assert_eq!(asked(&first)[2], "0");
    let (g1, step1) = guess_of(&first);
    let fetch1: u32 = wire::read(step1).0[1].parse().unwrap();
    assert!(!webcrypto(&iso));
    assert!(!iso.settle_guess(g1, &q1, false));

    let second = decide(&mut iso, &headers, &format!("{q1}:0"));
    let q2 = asked(&second)[1].to_owned();
    assert_eq!(asked(&second)[2], "1");
    let (g2, step2) = guess_of(&second);
    let fetch2: u32 = wire::read(step2).0[1].parse().unwrap();
    assert!(webcrypto(&iso));
    assert!(iso.settle_guess(g2, &q2, true));
    assert_eq!(iso.cache_stats().0, 1);
    let dropped = finished(&mut iso, fetch1);
    assert!(dropped.starts_with("R\n500\n"), "{dropped:?}");
    let proxied = finished(&mut iso, fetch2);
    assert!(proxied.starts_with("S\n200\n"), "{proxied:?}");
    // Warm from now on.
    assert!(decide(&mut iso, &headers, "").starts_with("P\n"));
}

#[test]
fn unsettled_guesses_are_capped_and_forget_their_fetches() {
    let mut iso = isolate(&[]);
    let first = decide(&mut iso, &request_headers(&token()), "");
    let question = asked(&first)[1].to_owned();
    let (guess, step) = guess_of(&first);
    let fetch: u32 = wire::read(step).0[1].parse().unwrap();
    // An entry that never settles its guesses: each cold request makes one more (its token is
    // never cached), and the oldest are forgotten, fetch ids and all, once the cap is reached.
    let headers = request_headers(&token());
    for _ in 0..MAX_GUESSES {
        assert!(decide(&mut iso, &headers, "").starts_with("V\n"));
    }
    assert!(!iso.settle_guess(guess, &question, true));
    let forgotten = finished(&mut iso, fetch);
    assert!(forgotten.starts_with("R\n500\n"), "{forgotten:?}");
    assert_eq!(iso.cache_stats().0, 0);
}

#[test]
fn a_structurally_bad_signature_is_refused_without_asking() {
    let mut iso = isolate(&[]);
    let t = token();
    let cut = t.rfind('.').unwrap();
    let short = format!("{}.{}", &t[..cut], "AAAA");
    let step = decide(&mut iso, &request_headers(&short), "");
    assert!(step.starts_with("R\n401\n"), "{step:?}");
    assert!(iso.question().is_none());
}

#[test]
fn no_token_is_401_json_at_once() {
    let mut iso = isolate(&[]);
    let headers: HeaderList = [("host", "app.example.com")].into_iter().collect();
    let step = decide(&mut iso, &headers, "");
    let (fields, pairs, body) = wire::read(&step);
    assert_eq!(fields[..2], ["R", "401"]);
    assert!(pairs
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.contains("json")));
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["reason"], "token-missing");
}

#[test]
fn origin_failures_and_unknown_fetches_are_refused_by_the_gateway() {
    let (mut iso, headers, verdict) = verified_once();
    let mut fetch_id = || {
        let step = decide(&mut iso, &headers, &verdict);
        wire::read(&step).0[1].parse::<u32>().unwrap()
    };
    let a = fetch_id();
    let b = fetch_id();
    assert_ne!(a, b, "each fetch has its own id");
    let timed_out = iso.finish(a, Fetched::TimedOut, HeaderList::new());
    assert!(timed_out.starts_with("R\n504\n"), "{timed_out:?}");
    let failed = iso.finish(b, Fetched::Failed, HeaderList::new());
    assert!(failed.starts_with("R\n502\n"), "{failed:?}");
    assert_eq!(log_json(wire::read(&failed).0[2])["fault"], "origin");
    // Finished ids are forgotten.
    let again = iso.finish(b, Fetched::Response(200), HeaderList::new());
    assert!(again.starts_with("R\n500\n"), "{again:?}");
}

#[test]
fn a_websocket_upgrade_is_handed_on_untouched() {
    let mut iso = isolate(&[]);
    let t = token();
    let mut headers = request_headers(&t);
    headers.push("upgrade", "websocket");
    headers.push("connection", "Upgrade");
    let first = decide(&mut iso, &headers, "");
    let verdict = answer(&iso, &first);
    let step = decide(&mut iso, &headers, &verdict);
    let id: u32 = wire::read(&step).0[1].parse().unwrap();
    let done = iso.finish(id, Fetched::Response(101), HeaderList::new());
    let (fields, _, _) = wire::read(&done);
    assert_eq!(fields[0], "W");
    assert_eq!(log_json(fields[1])["status"], 101);
}

#[test]
fn invalid_settings_answer_500_and_503_on_health() {
    let s: HashMap<&str, &str> = [("AUTHORIZED_PARTIES", ORIGIN)].into_iter().collect();
    let (mut iso, problems) = Isolate::from_settings(&|n: &str| s.get(n).map(|v| v.to_string()));
    let named: Vec<&str> = problems.iter().map(|p| p.setting).collect();
    assert!(
        named.contains(&"CLERK_JWT_KEY") && named.contains(&"ORIGIN_URL"),
        "{named:?}"
    );
    let headers = HeaderList::new();
    let step = decide(&mut iso, &headers, "");
    assert!(step.starts_with("R\n500\n"), "{step:?}");
    let health = iso.decide(
        &Inbound {
            method: "GET",
            url: "https://app.example.com/__edgegate/health",
            headers: &headers,
        },
        NOW_MS,
        [0; 32],
        &[],
        false,
    );
    let (fields, _, body) = wire::read(&health);
    assert_eq!(fields[1], "503");
    assert!(body.contains("CLERK_JWT_KEY"));
    assert!(iso.key_jwk(0).is_none());
}

#[test]
fn key_jwk_names_the_algorithm_and_the_public_numbers_only() {
    let iso = isolate(&[]);
    let (alg, jwk) = iso.key_jwk(0).expect("one key");
    assert_eq!(alg.as_str(), "RS256");
    let jwk: Value = serde_json::from_str(&jwk).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert!(jwk["n"].is_string() && jwk["e"] == "AQAB");
    assert!(jwk.get("d").is_none());
    assert!(iso.key_jwk(1).is_none());
}

#[test]
fn parse_answers_takes_only_well_formed_items() {
    assert_eq!(parse_answers("a:1,b:0"), vec![("a", true), ("b", false)]);
    assert!(parse_answers("").is_empty());
    assert!(parse_answers("a:2,b,:").is_empty());
}

fn edited(before: &[(&str, &str)], after: &[(&str, &str)]) -> Vec<HeaderEdit> {
    let before: HeaderList = before.iter().copied().collect();
    let after: Vec<(String, String)> = after
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    header_edits(&before, &after)
}

#[test]
fn header_edits_touch_only_what_changed() {
    assert!(edited(&[("a", "1"), ("B", "2")], &[("b", "2"), ("A", "1")]).is_empty());
    assert_eq!(
        edited(
            &[("a", "1"), ("b", "2")],
            &[("a", "1"), ("b", "3"), ("c", "4")]
        ),
        vec![
            HeaderEdit::Delete("b".into()),
            HeaderEdit::Append("b".into(), "3".into()),
            HeaderEdit::Append("c".into(), "4".into()),
        ]
    );
    assert_eq!(
        edited(&[("x", "1")], &[]),
        vec![HeaderEdit::Delete("x".into())]
    );
    // Repeated values keep their order.
    assert_eq!(
        edited(
            &[("set-cookie", "a=1")],
            &[("set-cookie", "a=1"), ("Set-Cookie", "b=2")]
        ),
        vec![
            HeaderEdit::Delete("set-cookie".into()),
            HeaderEdit::Append("set-cookie".into(), "a=1".into()),
            HeaderEdit::Append("Set-Cookie".into(), "b=2".into()),
        ]
    );
}

fn per_name(list: &HeaderList) -> Vec<(String, Vec<String>)> {
    let mut names: Vec<String> = list.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            let values = list.get_all(&n).map(str::to_owned).collect();
            (n, values)
        })
        .collect()
}

proptest! {
    #[test]
    fn applying_the_edits_gives_the_planned_headers(
        before in prop::collection::vec(("[a-dA-D]", "[0-3]"), 0..8),
        after in prop::collection::vec(("[a-dA-D]", "[0-3]"), 0..8),
    ) {
        let before: HeaderList = before.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let after_list: Vec<(String, String)> = after.clone();
        let edits = header_edits(&before, &after_list);
        let result = apply_edits(&before, &edits);
        prop_assert_eq!(per_name(&result), per_name(&HeaderList(after_list)));
    }
}
