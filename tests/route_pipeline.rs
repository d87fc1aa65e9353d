//! `PROTECTED_ROUTES`, `feature:` and `reverification:` rules through the request pipeline
//! (`Pipeline`), natively with the RustCrypto backend.

mod common;

use common::{claims_with, mint, public_pem, rsa, NOW_MS, ORIGIN};
use edgegate::crypto::verify_signature;
use edgegate::http::HeaderList;
use edgegate::keys::{parse_key_set, KeySet};
use edgegate::pipeline::{Event, Fetched, Pipeline, Request, Step};
use edgegate::response::ResponsePlan;
use serde_json::{json, Value};

struct Gw {
    keys: KeySet,
    pipeline: Pipeline,
}

fn gateway(extra: &[(&str, &str)]) -> Gw {
    let pem = public_pem(rsa());
    let mut all: Vec<(String, String)> = [
        ("CLERK_JWT_KEY", pem.as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    all.reverse();
    let lookup = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Err(problems) = edgegate::config::Settings::from_settings(&lookup) {
        panic!("settings refused: {problems:?}");
    }
    Gw {
        keys: parse_key_set(&pem).expect("keys"),
        pipeline: Pipeline::from_settings(&lookup).0,
    }
}

/// `Ok(origin URL)` when proxied, `Err(plan)` when answered by the gateway.
fn request(gw: &mut Gw, url: &str, headers: &[(&str, &str)]) -> Result<String, ResponsePlan> {
    let headers: HeaderList = headers.iter().copied().collect();
    let request = Request {
        method: "GET".to_owned(),
        url: url.to_owned(),
        headers,
    };
    let (id, mut step) = gw.pipeline.start(request, NOW_MS, [7u8; 32]);
    loop {
        step = match step {
            Step::Verify(q) => {
                let ok = gw.keys.get(q.key_index).is_some_and(|k| {
                    verify_signature(&k.material, q.alg, q.message(), q.signature())
                });
                gw.pipeline.resume(id, Event::Verified(ok))
            }
            Step::Respond { plan, .. } => return Err(plan),
            Step::FetchOrigin(f) => {
                let _ = gw.pipeline.resume(
                    id,
                    Event::Fetched {
                        fetched: Fetched::Response(200),
                        headers: HeaderList::new(),
                    },
                );
                return Ok(f.url);
            }
            other => panic!("unexpected step {other:?}"),
        };
    }
}

fn bearer(changes: Value) -> String {
    let token = mint(rsa(), json!({"kid": "ins_test"}), &claims_with(changes));
    format!("Bearer {token}")
}

fn body(plan: &ResponsePlan) -> Value {
    serde_json::from_str(&plan.body).unwrap_or(Value::Null)
}

#[test]
fn protected_routes_mode_passes_everything_else_signed_out() {
    let mut gw = gateway(&[
        ("PROTECTED_ROUTES", "/dashboard/:path*"),
        ("ROUTE_RULES", "/admin(.*)=role:admin"),
    ]);
    let proxied = request(&mut gw, "https://app.example.com/pricing", &[]);
    assert_eq!(proxied.as_deref(), Ok("http://127.0.0.1:9000/pricing"));
    for path in ["/dashboard", "/Dashboard/x", "/admin"] {
        let refused = request(&mut gw, &format!("https://app.example.com{path}"), &[]);
        let plan = refused.expect_err(path);
        assert_eq!(plan.status, 401, "{path}");
    }
    let auth = bearer(json!({}));
    let ok = request(
        &mut gw,
        "https://app.example.com/dashboard/x",
        &[("authorization", &auth)],
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn a_missing_feature_is_403_missing_feature() {
    let mut gw = gateway(&[("ROUTE_RULES", "/reports(.*)=feature:org:reports,plan:pro")]);
    let lacking = bearer(json!({"fea": "u:reports", "pla": "o:pro"}));
    let plan = request(
        &mut gw,
        "https://app.example.com/reports",
        &[("authorization", &lacking)],
    )
    .expect_err("refused");
    assert_eq!(plan.status, 403);
    assert_eq!(
        body(&plan),
        json!({"error": "forbidden", "reason": "missing-feature"})
    );
    let entitled = bearer(json!({"fea": "o:reports", "pla": "o:pro"}));
    let ok = request(
        &mut gw,
        "https://app.example.com/reports",
        &[("authorization", &entitled)],
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn stale_verification_is_clerks_reverification_error_or_a_page() {
    let mut gw = gateway(&[("ROUTE_RULES", "/settings(.*)=reverification:strict")]);
    let stale = bearer(json!({"fva": [30, 30]}));
    let api = request(
        &mut gw,
        "https://app.example.com/settings/email",
        &[("authorization", &stale), ("accept", "application/json")],
    )
    .expect_err("refused");
    assert_eq!(api.status, 403);
    assert_eq!(
        body(&api),
        json!({"clerk_error": {"type": "forbidden", "reason": "reverification-error",
            "metadata": {"reverification": {"level": "second_factor", "afterMinutes": 10}}}})
    );
    assert_eq!(
        api.header("x-edgegate-auth-reason"),
        Some("reverification-required")
    );
    let page = request(
        &mut gw,
        "https://app.example.com/settings/email",
        &[("authorization", &stale), ("accept", "text/html,*/*")],
    )
    .expect_err("refused");
    assert_eq!(page.status, 403);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let fresh = bearer(json!({"fva": [30, 2]}));
    let ok = request(
        &mut gw,
        "https://app.example.com/settings",
        &[("authorization", &fresh)],
    );
    assert!(ok.is_ok(), "{ok:?}");
}
