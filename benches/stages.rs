//! Stage costs of the verification pipeline, natively with RustCrypto (criterion).
//! `bash bench/run.sh` runs this and folds the figures into bench/results/latest.json.
//!
//! Stages: `parse` (token::prepare: base64, header and payload JSON, key choice), `signature`
//! (check_signature, RS256 and ES256), `claims` (SessionClaims::check, the per-request policy),
//! `cache_hit` (TokenCache::get of a remembered token), `verify_token` (all of it, uncached), and
//! `pipeline_warm` (`Pipeline::start` and `resume` for a proxied request whose token is in the
//! cache: everything the worker decides per request), and `edge_warm_step` (the same request as
//! the worker's entry drives it: header blob parsed, both steps written as wire text).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgegate::cache::TokenCache;
use edgegate::http::{self, HeaderList};
use edgegate::keys::{parse_key_set, Alg, KeySet};
use edgegate::mint::{mint_token, session_claims, SigningKey};
use edgegate::pipeline::{Event, Fetched, Pipeline, Request, Step};
use edgegate::token::{check_signature, prepare, verify_signed_claims, verify_token, Validation};
use edgegate::wire;
use serde_json::{Map, Value};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const AZP: &str = "https://app.edgegate.test";

struct Fixture {
    keys: KeySet,
    public_pem: String,
    token: String,
}

fn fixture(alg: Alg, now_s: i64) -> Fixture {
    let key = SigningKey::generate(alg).expect("key generation");
    let public_pem = key.public_pem().expect("public PEM");
    let keys = parse_key_set(&public_pem).expect("key set");
    let mut header = Map::new();
    header.insert("kid".into(), Value::String("ins_bench".into()));
    let claims = session_claims("user_bench000000000000000000", Some(AZP), now_s, 3600);
    let token = mint_token(&key, &header, &claims);
    Fixture {
        keys,
        public_pem,
        token,
    }
}

fn stages(c: &mut Criterion) {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let now_s = now_ms / 1000;
    let validation = Validation::default().with_authorized_parties([AZP]);

    for (name, alg) in [("rs256", Alg::Rs256), ("es256", Alg::Es256)] {
        let fx = fixture(alg, now_s);
        let max = validation.max_token_bytes;
        let mut g = c.benchmark_group(name);

        g.bench_function("parse", |b| {
            b.iter(|| prepare(black_box(&fx.token), &fx.keys, max).expect("prepare"))
        });
        let prepared = prepare(&fx.token, &fx.keys, max).expect("prepare");
        g.bench_function("signature", |b| {
            b.iter(|| check_signature(black_box(&prepared), &fx.keys).expect("signature"))
        });
        let claims = verify_signed_claims(&fx.token, &fx.keys, max).expect("claims");
        g.bench_function("claims", |b| {
            b.iter(|| {
                black_box(&claims)
                    .check(&validation, now_ms)
                    .expect("check")
            })
        });
        let mut cache = TokenCache::new(1024);
        cache.insert(&fx.token, Rc::new(claims.clone()), 5000, now_ms);
        g.bench_function("cache_hit", |b| {
            b.iter(|| cache.get(black_box(&fx.token), now_ms).expect("hit"))
        });
        g.bench_function("verify_token", |b| {
            b.iter(|| {
                verify_token(black_box(&fx.token), &fx.keys, &validation, now_ms).expect("ok")
            })
        });

        // The whole pure pipeline for a proxied GET with a cached token.
        let settings = [
            ("CLERK_JWT_KEY", fx.public_pem.clone()),
            ("AUTHORIZED_PARTIES", AZP.to_owned()),
            ("ORIGIN_URL", "http://127.0.0.1:9/".to_owned()),
        ];
        let lookup = |n: &str| {
            settings
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        let headers = HeaderList::from(vec![
            ("host".to_owned(), "127.0.0.1:8787".to_owned()),
            ("authorization".to_owned(), format!("Bearer {}", fx.token)),
            ("accept".to_owned(), "*/*".to_owned()),
            ("user-agent".to_owned(), "autocannon".to_owned()),
        ]);
        let request = Request {
            method: "GET".to_owned(),
            url: "http://127.0.0.1:8787/api/data".to_owned(),
            headers: headers.clone(),
        };
        let origin_headers = HeaderList::from(vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("content-length".to_owned(), "24".to_owned()),
            (
                "date".to_owned(),
                "Tue, 01 Dec 2026 12:00:00 GMT".to_owned(),
            ),
        ]);
        let (mut pipeline, problems) = Pipeline::from_settings(&lookup);
        assert!(problems.is_empty(), "pipeline settings must be valid");
        // The first request verifies the token (RustCrypto in WebCrypto's place) and caches it.
        let (id, mut step) = pipeline.start(request.clone(), now_ms, [7u8; 32]);
        while let Step::Verify(q) = &step {
            let ok = fx.keys.get(q.key_index).is_some_and(|k| {
                edgegate::crypto::verify_signature(&k.material, q.alg, q.message(), q.signature())
            });
            step = pipeline.resume(id, Event::Verified(ok));
        }
        assert!(
            matches!(step, Step::FetchOrigin(_)),
            "pipeline fixture must proxy"
        );
        let ok = Event::Fetched {
            fetched: Fetched::Response(200),
            headers: origin_headers.clone(),
        };
        pipeline.resume(id, ok.clone());
        g.bench_function("pipeline_warm", |b| {
            b.iter(|| {
                let (id, step) = pipeline.start(request.clone(), now_ms, [7u8; 32]);
                black_box(&step);
                black_box(pipeline.resume(id, ok.clone()))
            })
        });

        // The whole Rust side of a warm request in the worker: the request the entry writes
        // read, `start` and `resume` with the origin's headers, each step encoded.
        let blob = format!(
            "GET\nhttp://127.0.0.1:8787/api/data\n{}",
            http::header_blob(headers.iter())
        );
        g.bench_function("edge_warm_step", |b| {
            b.iter(|| {
                let request = wire::request(&blob).unwrap_or_default();
                let (id, step) = pipeline.start(request, now_ms, [7u8; 32]);
                black_box(wire::encode(id, &step));
                let done = pipeline.resume(
                    id,
                    Event::Fetched {
                        fetched: Fetched::Response(200),
                        headers: origin_headers.clone(),
                    },
                );
                black_box(wire::encode(id, &done))
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = stages
}
criterion_main!(benches);
