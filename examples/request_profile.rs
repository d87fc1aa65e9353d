//! One request's Rust work, natively, for instruction counts and the walk through `src/`
//! (`valgrind --tool=callgrind`, which counts instructions, not seconds: repeatable on a noisy
//! machine). The same calls the worker's wasm makes: the request read from its wire text,
//! `Pipeline::start`, `resume` with the origin's headers, each step encoded.
//!   cargo build --release --example request_profile
//!   N=20000 valgrind --tool=callgrind --toggle-collect='*run_loop*' target/release/examples/request_profile
//!   COLD=1 valgrind --tool=callgrind --toggle-collect='*cold_loop*' target/release/examples/request_profile
//! `COLD=1`: 3,000 distinct tokens (each a signature check, answered "verified"); otherwise `N`
//! requests with one cached token. `LOGREQ` and `STATUSH` set `LOG_REQUESTS` and
//! `AUTH_STATUS_HEADER` (`refusals` and `false`: the lean profile). With a debug build
//! (`cargo build --example request_profile`), `python3 bench/walk.py callgrind.out.N REQUESTS`
//! counts the files of `src/` a request enters and the calls between them.

use edgegate::http::{self, HeaderList};
use edgegate::keys::{parse_key_set, Alg};
use edgegate::mint::{mint_token, session_claims, SigningKey};
use edgegate::pipeline::{Event, Fetched, Pipeline, Request, Step};
use edgegate::wire;
use serde_json::{Map, Value};
use std::hint::black_box;
const AZP: &str = "https://app.edgegate.test";

/// One request as the worker's entry drives it: read, started, each signature check answered
/// "verified", the origin's response handed back, every step encoded.
/// The answer is reused across calls, as the edge reuses its one answer.
fn one_request(
    pipeline: &mut Pipeline,
    answer: &mut wire::Answer,
    blob: &str,
    origin: &str,
    now_ms: i64,
) {
    let request = wire::request(blob).unwrap_or_default();
    let (id, mut step) = pipeline.start(request, now_ms, [7u8; 32]);
    wire::encode_into(answer, id, &step);
    black_box(&answer);
    while let Step::Verify(_) = &step {
        step = pipeline.resume(id, Event::Verified(true));
        wire::encode_into(answer, id, &step);
        black_box(&answer);
    }
    let fetched = Event::Fetched {
        fetched: Fetched::Response(200),
        headers: wire::headers(origin),
    };
    wire::encode_into(answer, id, &pipeline.resume(id, fetched));
    black_box(&answer);
}

#[inline(never)]
fn cold_loop(pipeline: &mut Pipeline, blobs: &[String], origin: &str, now_ms: i64) {
    let mut answer = wire::Answer::default();
    for blob in blobs {
        one_request(pipeline, &mut answer, blob, origin, now_ms);
    }
}

#[inline(never)]
fn run_loop(pipeline: &mut Pipeline, blob: &str, origin: &str, now_ms: i64, n: usize) {
    let mut answer = wire::Answer::default();
    for _ in 0..n {
        one_request(pipeline, &mut answer, blob, origin, now_ms);
    }
}

fn main() {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let now_s = now_ms / 1000;
    let key = SigningKey::generate(Alg::Es256).unwrap();
    let public_pem = key.public_pem().unwrap();
    let keys = parse_key_set(&public_pem).unwrap();
    let mut header = Map::new();
    header.insert("kid".into(), Value::String("ins_bench".into()));
    let claims = session_claims("user_bench000000000000000000", Some(AZP), now_s, 3600);
    let token = mint_token(&key, &header, &claims);
    let settings = [
        ("CLERK_JWT_KEY", public_pem.clone()),
        ("AUTHORIZED_PARTIES", AZP.to_owned()),
        ("ORIGIN_URL", "http://127.0.0.1:9/".to_owned()),
        (
            "LOG_REQUESTS",
            std::env::var("LOGREQ").unwrap_or("all".into()),
        ),
        (
            "AUTH_STATUS_HEADER",
            std::env::var("STATUSH").unwrap_or("true".into()),
        ),
    ];
    let lookup = |n: &str| {
        settings
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    let headers = HeaderList::from(vec![
        ("host".to_owned(), "127.0.0.1:8787".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", token)),
        ("user-agent".to_owned(), "autocannon".to_owned()),
        ("connection".to_owned(), "keep-alive".to_owned()),
        ("accept-encoding".to_owned(), "gzip, deflate".to_owned()),
        ("cf-connecting-ip".to_owned(), "127.0.0.1".to_owned()),
    ]);
    let origin = HeaderList::from(vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), "24".to_owned()),
        ("cache-control".to_owned(), "private".to_owned()),
        (
            "date".to_owned(),
            "Tue, 01 Dec 2026 12:00:00 GMT".to_owned(),
        ),
        ("connection".to_owned(), "keep-alive".to_owned()),
        ("keep-alive".to_owned(), "timeout=30".to_owned()),
    ]);
    let (mut pipeline, problems) = Pipeline::from_settings(&lookup);
    assert!(problems.is_empty());
    let request = Request {
        method: "GET".into(),
        url: "http://127.0.0.1:8787/api/data".into(),
        headers: headers.clone(),
    };
    let (id, mut step) = pipeline.start(request, now_ms, [7u8; 32]);
    while let Step::Verify(q) = &step {
        let ok = keys.get(q.key_index).is_some_and(|k| {
            edgegate::crypto::verify_signature(&k.material, q.alg, q.message(), q.signature())
        });
        step = pipeline.resume(id, Event::Verified(ok));
    }
    assert!(matches!(step, Step::FetchOrigin(_)));
    pipeline.resume(
        id,
        Event::Fetched {
            fetched: Fetched::Response(200),
            headers: origin.clone(),
        },
    );
    // The origin's headers as the entry writes them (the response side reads them from text).
    let origin_text = http::header_blob(origin.iter());
    let blob = format!(
        "GET\nhttp://127.0.0.1:8787/api/data\n{}",
        http::header_blob(headers.iter())
    );
    if std::env::var("COLD").is_ok() {
        let blobs: Vec<String> = (0..3000).map(|i| {
            let claims = session_claims(&format!("user_bench{i:018}"), Some(AZP), now_s, 3600);
            let t = mint_token(&key, &header, &claims);
            format!("GET\nhttp://127.0.0.1:8787/api/data\nhost\n127.0.0.1:8787\nauthorization\nBearer {t}\nuser-agent\nautocannon\nconnection\nkeep-alive\n")
        }).collect();
        let t = std::time::Instant::now();
        cold_loop(&mut pipeline, &blobs, &origin_text, now_ms);
        eprintln!(
            "cold {:.2} us/req",
            t.elapsed().as_secs_f64() * 1e6 / blobs.len() as f64
        );
        return;
    }
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let t = std::time::Instant::now();
    run_loop(&mut pipeline, &blob, &origin_text, now_ms, n);
    eprintln!("{:.2} us/req", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
