//! The edge core's step interface (`pipeline::Pipeline`), natively: the test plays the
//! entry's part (RustCrypto stands in for WebCrypto, a header list for the fetched response) and
//! checks each `Step`, the cache, the request table and the header edits, and that the wire
//! text of every step reads back as the entry reads it.

mod common;

use common::{claims_with, mint, public_pem, rsa, NOW_MS, ORIGIN};
use edgegate::crypto::verify_signature;
use edgegate::http::{apply_edits, edits_for, HeaderEdit, HeaderList, Verdict};
use edgegate::keys::{parse_key_set, KeySet};
use edgegate::mint::SigningKey;
use edgegate::pipeline::{
    Event, Fetched, Pipeline, Request, RequestId, Step, MAX_REQUESTS_IN_FLIGHT,
};
use edgegate::wire;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn pipeline_with(settings: &[(&str, &str)]) -> Pipeline {
    let s: HashMap<String, String> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Pipeline::from_settings(&|name: &str| s.get(name).cloned()).0
}

fn pipeline(extra: &[(&str, &str)]) -> Pipeline {
    let pem = public_pem(rsa());
    let mut s = vec![
        ("CLERK_JWT_KEY", pem.as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
    ];
    s.extend_from_slice(extra);
    pipeline_with(&s)
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

fn get(headers: &HeaderList) -> Request {
    Request {
        method: "GET".into(),
        url: "https://app.example.com/api/data?x=1".into(),
        headers: headers.clone(),
    }
}

fn start(p: &mut Pipeline, headers: &HeaderList) -> (RequestId, Step) {
    p.start(get(headers), NOW_MS, [9u8; 32])
}

/// The entry's part for a `Verify` step, with RustCrypto in WebCrypto's place.
fn check(keys: &KeySet, step: &Step) -> bool {
    let Step::Verify(q) = step else {
        panic!("expected a signature check, got {step:?}")
    };
    keys.get(q.key_index)
        .is_some_and(|k| verify_signature(&k.material, q.alg, q.message(), q.signature()))
}

/// Runs every signature check natively; returns the first other step and how many checks ran.
fn verify_all(p: &mut Pipeline, keys: &KeySet, id: RequestId, mut step: Step) -> (Step, usize) {
    let mut checks = 0;
    while matches!(step, Step::Verify(_)) {
        let ok = check(keys, &step);
        checks += 1;
        step = p.resume(id, Event::Verified(ok));
    }
    (step, checks)
}

fn fetched(p: &mut Pipeline, id: RequestId, status: u16, headers: &[(&str, &str)]) -> Step {
    p.resume(
        id,
        Event::Fetched {
            fetched: Fetched::Response(status),
            headers: headers.iter().copied().collect(),
        },
    )
}

fn log_json(step: &Step) -> Value {
    let log = match step {
        Step::Respond { log, .. } | Step::Stream { log, .. } | Step::PassThrough { log } => log,
        other => panic!("no log in {other:?}"),
    };
    serde_json::from_str(&log.to_json(200, 3)).expect("log JSON")
}

fn status_of(step: &Step) -> u16 {
    match step {
        Step::Respond { plan, .. } => plan.status,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn a_cold_request_asks_for_one_check_then_fetches_the_origin_with_edits() {
    let mut p = pipeline(&[]);
    let keys = common::pem_set(rsa());
    let headers = request_headers(&token());
    let (id, step) = start(&mut p, &headers);
    assert!(matches!(step, Step::Verify(_)), "{step:?}");
    assert_eq!(p.in_flight(), 1);
    let step = p.resume(id, Event::Verified(check(&keys, &step)));
    let Step::FetchOrigin(f) = &step else {
        panic!("expected the origin fetch, got {step:?}")
    };
    assert_eq!(f.method, "GET");
    assert_eq!(f.url, "http://127.0.0.1:9000/api/data?x=1");
    assert_eq!(f.timeout_ms, 30_000, "the default UPSTREAM_TIMEOUT_MS");
    assert!(!f.forward_body, "a GET forwards no body");
    assert!(f
        .edits
        .contains(&HeaderEdit::Delete("x-auth-user-id".into())));
    assert!(f.edits.contains(&HeaderEdit::Append(
        "X-Auth-User-Id".into(),
        "user_123".into()
    )));
    assert!(!f.edits.iter().any(|e| matches!(e, HeaderEdit::Append(n, _) | HeaderEdit::Delete(n) if n.eq_ignore_ascii_case("accept"))));

    let done = fetched(
        &mut p,
        id,
        200,
        &[
            ("content-type", "application/json"),
            ("connection", "close, x-hop"),
            ("x-hop", "1"),
            ("x-edgegate-auth-status", "forged"),
        ],
    );
    let Step::Stream { status, edits, .. } = &done else {
        panic!("expected the stream, got {done:?}")
    };
    assert_eq!(*status, 200);
    // `Connection` itself is the runtime's to drop; the header it names is deleted.
    assert!(!edits.contains(&HeaderEdit::Delete("connection".into())));
    assert!(edits.contains(&HeaderEdit::Delete("x-hop".into())));
    assert!(edits.contains(&HeaderEdit::Delete("x-edgegate-auth-status".into())));
    assert!(edits.contains(&HeaderEdit::Append(
        "X-Edgegate-Auth-Status".into(),
        "signed-in".into()
    )));
    let log = log_json(&done);
    assert_eq!(log["auth_status"], "signed-in");
    assert_eq!(log["outcome"], "proxy");
    assert_eq!(p.in_flight(), 0);
    assert_eq!(p.cache_stats().0, 1);
}

#[test]
fn a_warm_request_needs_no_check() {
    let mut p = pipeline(&[]);
    let keys = common::pem_set(rsa());
    let headers = request_headers(&token());
    let (id, step) = start(&mut p, &headers);
    let (step, checks) = verify_all(&mut p, &keys, id, step);
    assert_eq!(checks, 1);
    assert!(matches!(step, Step::FetchOrigin(_)));
    fetched(&mut p, id, 200, &[]);
    let (_, again) = start(&mut p, &headers);
    assert!(matches!(again, Step::FetchOrigin(_)), "{again:?}");
    assert_eq!(p.cache_stats().1 .0, 1, "one cache hit");
}

#[test]
fn a_failed_check_is_401_and_is_not_cached() {
    let mut p = pipeline(&[]);
    let headers = request_headers(&token());
    let (id, step) = start(&mut p, &headers);
    assert!(matches!(step, Step::Verify(_)));
    let refused = p.resume(id, Event::Verified(false));
    assert_eq!(status_of(&refused), 401);
    assert_eq!(log_json(&refused)["reason"], "token-invalid-signature");
    assert_eq!(p.cache_stats().0, 0);
    assert_eq!(p.in_flight(), 0);
    // The next request asks again.
    assert!(matches!(start(&mut p, &headers).1, Step::Verify(_)));
}

#[test]
fn a_structurally_bad_signature_is_refused_without_asking() {
    let mut p = pipeline(&[]);
    let t = token();
    let cut = t.rfind('.').unwrap();
    let short = format!("{}.{}", &t[..cut], "AAAA");
    let (_, step) = start(&mut p, &request_headers(&short));
    assert_eq!(status_of(&step), 401);
    assert_eq!(p.in_flight(), 0);
}

#[test]
fn no_token_is_401_json_at_once() {
    let mut p = pipeline(&[]);
    let headers: HeaderList = [("host", "app.example.com")].into_iter().collect();
    let (_, step) = start(&mut p, &headers);
    let Step::Respond { plan, .. } = &step else {
        panic!("{step:?}")
    };
    assert_eq!(plan.status, 401);
    assert!(plan
        .header("content-type")
        .is_some_and(|v| v.contains("json")));
    let body: Value = serde_json::from_str(&plan.body).unwrap();
    assert_eq!(body["reason"], "token-missing");
}

/// `n` kid-less keys of one algorithm, as several PEM blocks.
fn many_keys(alg: edgegate::keys::Alg, n: usize) -> (Vec<SigningKey>, String) {
    let signers: Vec<SigningKey> = (0..n)
        .map(|_| SigningKey::generate(alg).expect("key"))
        .collect();
    let pems: Vec<String> = signers
        .iter()
        .map(|k| k.public_pem().expect("pem"))
        .collect();
    (signers, pems.join("\n"))
}

#[test]
fn any_number_of_kid_less_keys_works_and_a_forged_token_is_401() {
    // RSA key generation is slow in a debug build: twelve RSA keys are tested end to end
    // (tests/e2e/edge-core.test.mjs), four here.
    for (alg, n) in [
        (edgegate::keys::Alg::Es256, 12),
        (edgegate::keys::Alg::Rs256, 4),
    ] {
        let (signers, pems) = many_keys(alg, n);
        let keys = parse_key_set(&pems).expect("the keys");
        assert_eq!(keys.keys.len(), n);
        let mut p = pipeline_with(&[
            ("CLERK_JWT_KEY", &pems),
            ("AUTHORIZED_PARTIES", ORIGIN),
            ("ORIGIN_URL", "http://127.0.0.1:9000"),
        ]);
        for (i, signer) in signers.iter().enumerate() {
            let t = mint(
                signer,
                json!({}),
                &claims_with(json!({"sub": format!("user_{i}")})),
            );
            let (id, step) = start(&mut p, &request_headers(&t));
            let (step, checks) = verify_all(&mut p, &keys, id, step);
            assert_eq!(
                checks,
                i + 1,
                "{alg:?} key {i}: one check per candidate tried"
            );
            let Step::FetchOrigin(f) = &step else {
                panic!("{alg:?} key {i}: {step:?}")
            };
            assert!(f.edits.contains(&HeaderEdit::Append(
                "X-Auth-User-Id".into(),
                format!("user_{i}")
            )));
            fetched(&mut p, id, 200, &[]);
        }
        let stranger = SigningKey::generate(alg).expect("key");
        let forged = mint(&stranger, json!({}), &claims_with(json!({})));
        let (id, step) = start(&mut p, &request_headers(&forged));
        let (step, checks) = verify_all(&mut p, &keys, id, step);
        assert_eq!(checks, n);
        assert_eq!(status_of(&step), 401, "{alg:?}");
        assert_eq!(log_json(&step)["reason"], "token-invalid-signature");
        assert_eq!(p.in_flight(), 0);
    }
}

#[test]
fn a_full_table_refuses_the_new_request_with_503_and_leaves_the_others_alone() {
    let mut p = pipeline(&[("PUBLIC_ROUTES", "/(.*)")]);
    let headers: HeaderList = [("host", "app.example.com")].into_iter().collect();
    let mut ids = Vec::new();
    for _ in 0..MAX_REQUESTS_IN_FLIGHT {
        let (id, step) = start(&mut p, &headers);
        assert!(matches!(step, Step::FetchOrigin(_)));
        ids.push(id);
    }
    assert_eq!(p.in_flight(), MAX_REQUESTS_IN_FLIGHT);
    let (_, refused) = start(&mut p, &headers);
    let Step::Respond { plan, log } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(plan.status, 503);
    assert_eq!(plan.header("retry-after"), Some("1"));
    assert_eq!(log.reason.map(|r| r.code()), Some("gateway-busy"));
    assert!(log.detail.as_deref().is_some_and(|d| d.contains("8192")));
    // Every request already waiting still gets its response.
    for id in ids {
        assert!(matches!(
            fetched(&mut p, id, 200, &[]),
            Step::Stream { status: 200, .. }
        ));
    }
    assert_eq!(p.in_flight(), 0);
    assert!(matches!(start(&mut p, &headers).1, Step::FetchOrigin(_)));
}

#[test]
fn a_request_whose_answer_never_comes_is_dropped_at_its_deadline() {
    let mut p = pipeline(&[("PUBLIC_ROUTES", "/(.*)"), ("UPSTREAM_TIMEOUT_MS", "1000")]);
    let headers: HeaderList = [("host", "app.example.com")].into_iter().collect();
    let (stuck, _) = start(&mut p, &headers);
    assert_eq!(p.in_flight(), 1);
    // A request a minute later sweeps the table.
    let later = p.start(get(&headers), NOW_MS + 60_000, [1u8; 32]);
    assert!(matches!(later.1, Step::FetchOrigin(_)));
    assert_eq!(p.in_flight(), 1, "only the new request waits");
    let late = fetched(&mut p, stuck, 200, &[]);
    assert_eq!(status_of(&late), 503);
    let Step::Respond { log, .. } = &late else {
        unreachable!()
    };
    assert_eq!(log.reason.map(|r| r.code()), Some("request-expired"));
}

#[test]
fn origin_failures_and_unknown_ids_are_answered_by_the_gateway() {
    let mut p = pipeline(&[("PUBLIC_ROUTES", "/(.*)")]);
    let headers: HeaderList = [("host", "app.example.com")].into_iter().collect();
    let (a, _) = start(&mut p, &headers);
    let (b, _) = start(&mut p, &headers);
    assert_ne!(a, b, "each request has its own id");
    let timed_out = p.resume(
        a,
        Event::Fetched {
            fetched: Fetched::TimedOut,
            headers: HeaderList::new(),
        },
    );
    assert_eq!(status_of(&timed_out), 504);
    let failed = p.resume(
        b,
        Event::Fetched {
            fetched: Fetched::Failed,
            headers: HeaderList::new(),
        },
    );
    assert_eq!(status_of(&failed), 502);
    assert_eq!(log_json(&failed)["fault"], "origin");
    // Finished ids are forgotten: 503, never a 500.
    assert_eq!(status_of(&fetched(&mut p, b, 200, &[])), 503);
    // An answer of the wrong kind is refused the same way.
    let (c, _) = start(&mut p, &headers);
    assert_eq!(status_of(&p.resume(c, Event::Verified(true))), 503);
}

#[test]
fn a_websocket_upgrade_is_handed_on_untouched() {
    let mut p = pipeline(&[]);
    let keys = common::pem_set(rsa());
    let mut headers = request_headers(&token());
    headers.push("upgrade", "websocket");
    headers.push("connection", "Upgrade");
    let (id, step) = start(&mut p, &headers);
    let (step, _) = verify_all(&mut p, &keys, id, step);
    assert!(matches!(step, Step::FetchOrigin(_)));
    let done = fetched(&mut p, id, 101, &[]);
    assert!(matches!(done, Step::PassThrough { .. }), "{done:?}");
}

#[test]
fn invalid_settings_answer_503_everywhere() {
    let s: HashMap<&str, &str> = [("AUTHORIZED_PARTIES", ORIGIN)].into_iter().collect();
    let (mut p, problems) = Pipeline::from_settings(&|n: &str| s.get(n).map(|v| v.to_string()));
    let named: Vec<&str> = problems.iter().map(|p| p.setting).collect();
    assert!(
        named.contains(&"CLERK_JWT_KEY") && named.contains(&"ORIGIN_URL"),
        "{named:?}"
    );
    let headers = HeaderList::new();
    assert_eq!(status_of(&start(&mut p, &headers).1), 503);
    let health = p.start(
        Request {
            method: "GET".into(),
            url: "https://app.example.com/__edgegate/health".into(),
            headers,
        },
        NOW_MS,
        [0; 32],
    );
    let Step::Respond { plan, .. } = &health.1 else {
        panic!()
    };
    assert_eq!(plan.status, 503);
    assert!(plan.body.contains("CLERK_JWT_KEY"));
    assert!(p.key_jwk(0).is_none());
}

#[test]
fn key_jwk_names_the_algorithm_and_the_public_numbers_only() {
    let p = pipeline(&[]);
    let (alg, jwk) = p.key_jwk(0).expect("one key");
    assert_eq!(alg.as_str(), "RS256");
    let jwk: Value = serde_json::from_str(&jwk).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert!(jwk["n"].is_string() && jwk["e"] == "AQAB");
    assert!(jwk.get("d").is_none());
    assert!(p.key_jwk(1).is_none());
}

#[test]
fn every_step_reads_back_from_its_wire_answer() {
    let mut p = pipeline(&[]);
    let keys = common::pem_set(rsa());
    let headers = request_headers(&token());
    let (id, verify) = start(&mut p, &headers);
    let Step::Verify(q) = &verify else { panic!() };
    let read = wire::read(&wire::encode(id, &verify)).expect("readable");
    assert_eq!(
        read.fields,
        vec![
            "V".to_owned(),
            id.to_string(),
            q.key_index.to_string(),
            "RS256".into(),
            q.message_len.to_string()
        ]
    );
    assert_eq!(read.bytes, q.bytes);
    let fetch = p.resume(id, Event::Verified(check(&keys, &verify)));
    let Step::FetchOrigin(f) = &fetch else {
        panic!()
    };
    let read = wire::read(&wire::encode(id, &fetch)).expect("readable");
    assert_eq!(
        read.fields,
        vec![
            "P".to_owned(),
            id.to_string(),
            f.method.clone(),
            f.url.clone(),
            f.timeout_ms.to_string(),
            "0".into()
        ]
    );
    // The edits read back are the edits, and applied they give the planned headers.
    let mut read_edits = Vec::new();
    for (name, value) in &read.pairs {
        match name.strip_prefix(':') {
            Some(deleted) => read_edits.push(HeaderEdit::Delete(deleted.to_owned().into())),
            None => read_edits.push(HeaderEdit::Append(name.clone().into(), value.clone())),
        }
    }
    assert_eq!(read_edits, f.edits);
    assert!(read.bytes.is_empty());
    let stream = fetched(
        &mut p,
        id,
        200,
        &[("connection", "close, x-hop"), ("x-hop", "1")],
    );
    let read = wire::read(&wire::encode(id, &stream)).expect("readable");
    assert_eq!(&read.fields[..3], ["S", &id.to_string(), "200"]);
    let log: Value =
        serde_json::from_str(&format!("{},\"duration_ms\":1}}", read.fields[3])).unwrap();
    assert_eq!(log["status"], 200);
    let pairs: Vec<(&str, &str)> = read
        .pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (":x-hop", ""),
            ("Vary", "Authorization, Cookie"),
            ("X-Edgegate-Auth-Status", "signed-in")
        ]
    );
    // A response with a body: its status, log, body and headers.
    let (rid, refused) = start(&mut p, &HeaderList::new());
    let read = wire::read(&wire::encode(rid, &refused)).expect("readable");
    let Step::Respond { plan, .. } = &refused else {
        panic!()
    };
    assert_eq!(&read.fields[..3], ["R", &rid.to_string(), "401"]);
    assert_eq!(read.fields[4], plan.body);
    assert_eq!(read.pairs.len(), plan.headers.len());
    assert_eq!(wire::VERSION, 4);
}

fn edited(
    before: &[(&str, &str)],
    verdicts: &[Verdict],
    added: &[(&str, &str)],
) -> Vec<HeaderEdit> {
    let before: HeaderList = before.iter().copied().collect();
    let added = added
        .iter()
        .map(|(n, v)| (n.to_string().into(), v.to_string()))
        .collect();
    edits_for(&before, verdicts, added)
}

#[test]
fn edits_touch_only_what_changed() {
    use Verdict::{Drop, Keep, Replace};
    assert!(edited(&[("a", "1"), ("B", "2")], &[Keep, Keep], &[]).is_empty());
    assert!(edited(&[("a", "1")], &[], &[]).is_empty());
    assert_eq!(
        edited(
            &[("a", "1"), ("b", "2")],
            &[Keep, Replace("3".into())],
            &[("c", "4")]
        ),
        vec![
            HeaderEdit::Delete("b".into()),
            HeaderEdit::Append("b".into(), "3".into()),
            HeaderEdit::Append("c".into(), "4".into()),
        ]
    );
    assert_eq!(
        edited(&[("X", "1")], &[Drop], &[]),
        vec![HeaderEdit::Delete("x".into())]
    );
    // A name is deleted once, and the values it keeps come back in order, those before the
    // first dropped one included.
    assert_eq!(
        edited(
            &[("cookie", "a=1"), ("Cookie", "b=2"), ("cookie", "c=3")],
            &[Keep, Drop, Keep],
            &[("Set-Cookie", "d=4")]
        ),
        vec![
            HeaderEdit::Delete("cookie".into()),
            HeaderEdit::Append("cookie".into(), "a=1".into()),
            HeaderEdit::Append("cookie".into(), "c=3".into()),
            HeaderEdit::Append("Set-Cookie".into(), "d=4".into()),
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
        before in prop::collection::vec(("[a-dA-D]", "[0-3]", 0..3u8), 0..8),
        added in prop::collection::vec(("[a-dA-D]", "[0-3]"), 0..4),
    ) {
        let list: HeaderList = before.iter().map(|(n, v, _)| (n.as_str(), v.as_str())).collect();
        let verdicts: Vec<Verdict> = before
            .iter()
            .map(|(_, v, kind)| match kind {
                0 => Verdict::Keep,
                1 => Verdict::Drop,
                _ => Verdict::Replace(format!("{v}!")),
            })
            .collect();
        // The plan as a list: each header as its verdict says, then the added ones.
        let mut planned: Vec<(String, String)> = list
            .iter()
            .zip(&verdicts)
            .filter_map(|((n, v), verdict)| match verdict {
                Verdict::Keep => Some((n.to_owned(), v.to_owned())),
                Verdict::Drop => None,
                Verdict::Replace(x) => Some((n.to_owned(), x.clone())),
            })
            .collect();
        planned.extend(added.iter().cloned());
        let added = added.into_iter().map(|(n, v)| (n.into(), v)).collect();
        let edits = edits_for(&list, &verdicts, added);
        prop_assert_eq!(per_name(&apply_edits(&list, &edits)), per_name(&HeaderList::from(planned)));
        // A name that keeps every header is never touched.
        for (n, _) in list.iter() {
            let all_kept = list.iter().zip(&verdicts).all(|((m, _), v)| !m.eq_ignore_ascii_case(n) || *v == Verdict::Keep);
            if all_kept {
                prop_assert!(!edits.iter().any(|e| matches!(e, HeaderEdit::Delete(d) if d.eq_ignore_ascii_case(n))));
            }
        }
    }
}

/// A pipeline with the lean profile's settings.
fn lean_pipeline() -> Pipeline {
    pipeline(&[
        ("LOG_REQUESTS", "refusals"),
        ("AUTH_STATUS_HEADER", "false"),
    ])
}

/// A signed-in request started (its signature checked natively) up to its origin fetch.
fn fetching_origin(p: &mut Pipeline) -> RequestId {
    let keys = common::pem_set(rsa());
    let (id, step) = start(p, &request_headers(&token()));
    let (fetch, _) = verify_all(p, &keys, id, step);
    assert!(matches!(fetch, Step::FetchOrigin(_)), "{fetch:?}");
    id
}

/// The lean profile: `LOG_REQUESTS=refusals` and `AUTH_STATUS_HEADER=false` leave a proxied
/// response with nothing to change, so the entry sends it on untouched and writes no line;
/// refusals keep both.
#[test]
fn the_lean_profile_leaves_an_allowed_response_untouched_and_unlogged() {
    let mut p = lean_pipeline();
    let id = fetching_origin(&mut p);
    let private = [
        ("content-type", "application/json"),
        ("cache-control", "private"),
    ];
    let Step::Stream { edits, log, .. } = fetched(&mut p, id, 200, &private) else {
        panic!("expected a stream")
    };
    assert!(edits.is_empty(), "{edits:?}");
    assert!(!log.is_written());
    let read = wire::read(&wire::encode(
        id,
        &Step::Stream {
            status: 200,
            edits,
            log,
        },
    ));
    assert_eq!(
        read.expect("readable").fields.get(3).map(String::as_str),
        Some("")
    );
    // An origin failure is still logged, and a refusal still reports its status.
    let (id, step) = start(&mut p, &request_headers(&token()));
    let failed = p.resume(
        id,
        Event::Fetched {
            fetched: Fetched::Failed,
            headers: HeaderList::new(),
        },
    );
    assert!(
        matches!(step, Step::FetchOrigin(_)),
        "a cache hit: {step:?}"
    );
    let Step::Respond { log, .. } = &failed else {
        panic!("expected a 502")
    };
    assert!(log.is_written());
    let (_, refused) = start(&mut p, &HeaderList::new());
    let Step::Respond { plan, log } = &refused else {
        panic!()
    };
    assert!(log.is_written());
    assert!(plan.header("X-Edgegate-Auth-Status").is_some());
}

/// `Connection` and `Keep-Alive` of an origin response are the runtime's to drop (it owns the
/// client connection), so they alone never cost the response a copy; a header `Connection`
/// names is still deleted by an edit.
#[test]
fn connection_level_headers_alone_leave_the_response_untouched() {
    let mut p = lean_pipeline();
    let id = fetching_origin(&mut p);
    let keep_alive = [
        ("cache-control", "private"),
        ("connection", "keep-alive"),
        ("keep-alive", "timeout=5"),
    ];
    let Step::Stream { edits, .. } = fetched(&mut p, id, 200, &keep_alive) else {
        panic!("expected a stream")
    };
    assert!(edits.is_empty(), "{edits:?}");
    let (id, _) = start(&mut p, &request_headers(&token()));
    let named = [
        ("cache-control", "private"),
        ("connection", "keep-alive, X-Hop"),
        ("x-hop", "1"),
    ];
    let Step::Stream { edits, .. } = fetched(&mut p, id, 200, &named) else {
        panic!("expected a stream")
    };
    assert_eq!(edits, vec![HeaderEdit::Delete("x-hop".into())]);
}

#[test]
fn by_default_an_allowed_response_is_logged_and_reports_its_status() {
    let mut p = pipeline(&[]);
    let keys = common::pem_set(rsa());
    let (id, step) = start(&mut p, &request_headers(&token()));
    let (_, _) = verify_all(&mut p, &keys, id, step);
    let private = [("cache-control", "private")];
    let Step::Stream { edits, log, .. } = fetched(&mut p, id, 200, &private) else {
        panic!("expected a stream")
    };
    assert!(log.is_written());
    assert_eq!(
        edits,
        vec![HeaderEdit::Append(
            "X-Edgegate-Auth-Status".into(),
            "signed-in".into()
        )]
    );
}

#[test]
fn lean_settings_take_only_their_values() {
    for (name, value) in [("LOG_REQUESTS", "some"), ("AUTH_STATUS_HEADER", "maybe")] {
        let s: HashMap<&str, String> = [
            ("CLERK_JWT_KEY", public_pem(rsa())),
            ("AUTHORIZED_PARTIES", ORIGIN.to_owned()),
            ("ORIGIN_URL", "http://127.0.0.1:9000".to_owned()),
            (name, value.to_owned()),
        ]
        .into_iter()
        .collect();
        let problems = edgegate::config::Settings::from_settings(&|n: &str| s.get(n).cloned())
            .err()
            .unwrap_or_default();
        assert!(
            problems.iter().any(|p| p.setting == name),
            "{name}={value}: {problems:?}"
        );
    }
}
