//! `PROTECTED_ROUTES`, `feature:` and `reverification:` rules through the request pipeline
//! (`Pipeline`), natively with the RustCrypto backend.

mod common;

use common::drive::{self, Gw, Outcome};
use common::{claims_with, mint, public_pem, rsa, ORIGIN};
use edgegate::response::ResponsePlan;
use serde_json::{json, Value};
use std::collections::HashMap;

fn gateway(extra: &[(&str, &str)]) -> Gw {
    let pem = public_pem(rsa());
    let settings: HashMap<String, String> = [
        ("CLERK_JWT_KEY", pem.as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    drive::gateway(&settings)
}

/// `Ok(origin URL)` when proxied, `Err(plan)` when answered by the gateway.
fn request(gw: &mut Gw, url: &str, headers: &[(&str, &str)]) -> Result<String, ResponsePlan> {
    match drive::run(gw, "GET", url, headers).outcome {
        Outcome::Proxy(origin) => Ok(origin.url),
        Outcome::Respond(plan) => Err(plan),
        other => panic!("unexpected outcome {other:?}"),
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
