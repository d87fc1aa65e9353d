//! The request pipeline (`Pipeline::start`/`resume`) natively, with the RustCrypto backend: a request's facts
//! in, an outcome out. The same decisions are tested end to end in workerd by tests/e2e/.

mod common;

use common::drive::{self, run, Done, Gw, OriginRequest, Outcome};
use common::{claims_with, mint, public_pem, rsa, NOW_MS, ORIGIN};
use edgegate::config::Settings;
use edgegate::http::HeaderList;
use edgegate::pipeline::decision::{misconfigured, Inbound};
use edgegate::pipeline::{Pipeline, Request, Step};
use serde_json::{json, Value};
use std::collections::HashMap;

fn settings(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut s: HashMap<String, String> = [
        ("CLERK_JWT_KEY", public_pem(rsa()).as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
        ("PUBLIC_ROUTES", "/, /blog/:slug"),
        ("ROUTE_RULES", "/admin(.*)=role:org:admin"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        s.insert(k.to_string(), v.to_string());
    }
    s
}

/// The gateway for some settings: one pipeline (one isolate: one token cache) for every request
/// of a test, driven by tests/common/drive.rs.
fn gateway(extra: &[(&str, &str)]) -> Gw {
    drive::gateway(&settings(extra))
}

fn token(changes: Value) -> String {
    mint(rsa(), json!({"kid": "ins_test"}), &claims_with(changes))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn respond(decision: &Done) -> (u16, &[(String, String)], Value) {
    match &decision.outcome {
        Outcome::Respond(plan) => (
            plan.status,
            &plan.headers,
            serde_json::from_str(&plan.body).unwrap_or(Value::Null),
        ),
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn valid_bearer_token_is_proxied_with_identity_headers() {
    let mut gw = gateway(&[]);
    let bearer = format!("Bearer {}", token(json!({})));
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/api/items?x=1",
        &[("authorization", &bearer), ("x-auth-user-id", "spoofed")],
    );
    let Outcome::Proxy(plan) = &d.outcome else {
        panic!("not proxied: {:?}", d.outcome)
    };
    assert_eq!(plan.url, "http://127.0.0.1:9000/api/items?x=1");
    assert_eq!(plan.headers.get("x-auth-user-id"), Some("user_123"));
    assert_eq!(plan.headers.get("x-auth-session-id"), Some("sess_123"));
    assert_eq!(
        plan.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("x-auth-user-id"))
            .count(),
        1
    );
    assert_eq!(d.log.auth_status.as_str(), "signed-in");
}

#[test]
fn missing_token_on_api_call_is_401_json() {
    let mut gw = gateway(&[]);
    let d = run(&mut gw, "GET", "https://app.example.com/api/items", &[]);
    let (status, headers, body) = respond(&d);
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "unauthenticated", "reason": "token-missing"})
    );
    assert_eq!(
        header(headers, "www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(
        header(headers, "x-edgegate-auth-status"),
        Some("signed-out")
    );
    assert_eq!(
        header(headers, "x-edgegate-auth-reason"),
        Some("token-missing")
    );
    assert_eq!(header(headers, "cache-control"), Some("private, no-store"));
}

#[test]
fn expired_token_page_load_redirects_to_sign_in_with_return_url() {
    let mut gw = gateway(&[("SIGN_IN_URL", "https://accounts.example.com/sign-in")]);
    let cookie = format!("__session={}", token(json!({"exp": NOW_MS / 1000 - 120})));
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/dashboard",
        &[("cookie", &cookie), ("sec-fetch-dest", "document")],
    );
    let (status, headers, _) = respond(&d);
    assert_eq!(status, 307);
    assert_eq!(
        header(headers, "location"),
        Some("https://accounts.example.com/sign-in?redirect_url=https%3A%2F%2Fapp.example.com%2Fdashboard")
    );
    assert_eq!(
        header(headers, "x-edgegate-auth-reason"),
        Some("token-expired")
    );
}

#[test]
fn spoofed_forwarded_host_never_lands_in_the_redirect() {
    let mut gw = gateway(&[("SIGN_IN_URL", "/sign-in"), ("TRUST_FORWARDED", "true")]);
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/dashboard",
        &[
            ("accept", "text/html"),
            ("x-forwarded-host", "evil.example"),
        ],
    );
    let (status, headers, _) = respond(&d);
    assert_eq!(status, 307);
    let location = header(headers, "location").unwrap_or_default();
    assert!(location.starts_with("https://app.example.com/sign-in?redirect_url="));
    assert!(!location.contains("evil"), "{location}");
}

#[test]
fn sign_in_path_is_public_so_the_redirect_cannot_loop() {
    let mut gw = gateway(&[("SIGN_IN_URL", "/sign-in")]);
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/sign-in",
        &[("accept", "text/html")],
    );
    assert!(matches!(d.outcome, Outcome::Proxy(_)));
}

#[test]
fn missing_role_is_403_and_case_cannot_dodge_the_rule() {
    let mut gw = gateway(&[]);
    let bearer = format!("Bearer {}", token(json!({})));
    for path in ["/admin", "/ADMIN/users", "/Admin"] {
        let d = run(
            &mut gw,
            "GET",
            &format!("https://app.example.com{path}"),
            &[("authorization", &bearer)],
        );
        let (status, _, body) = respond(&d);
        assert_eq!(status, 403, "{path}");
        // No active organisation at all: the role cannot be held.
        assert_eq!(
            body,
            json!({"error": "forbidden", "reason": "missing-organization"})
        );
    }
    let member = format!(
        "Bearer {}",
        token(json!({"o": {"id": "org_1", "rol": "member"}}))
    );
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/admin",
        &[("authorization", &member)],
    );
    let (status, _, body) = respond(&d);
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "forbidden", "reason": "missing-role"})
    );
    let admin = format!(
        "Bearer {}",
        token(json!({"o": {"id": "org_1", "rol": "admin"}}))
    );
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/admin",
        &[("authorization", &admin)],
    );
    assert!(matches!(d.outcome, Outcome::Proxy(_)));
}

#[test]
fn public_route_needs_no_token_but_gets_identity_when_valid() {
    let mut gw = gateway(&[]);
    let d = run(&mut gw, "GET", "https://app.example.com/blog/hello", &[]);
    let Outcome::Proxy(plan) = &d.outcome else {
        panic!("not proxied")
    };
    assert_eq!(plan.headers.get("x-auth-user-id"), None);
    let bearer = format!("Bearer {}", token(json!({})));
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/blog/hello",
        &[("authorization", &bearer)],
    );
    let Outcome::Proxy(plan) = &d.outcome else {
        panic!("not proxied")
    };
    assert_eq!(plan.headers.get("x-auth-user-id"), Some("user_123"));
}

#[test]
fn encoded_slash_is_refused_with_400() {
    let mut gw = gateway(&[]);
    let d = run(&mut gw, "GET", "https://app.example.com/admin%2Fusers", &[]);
    let (status, _, _) = respond(&d);
    assert_eq!(status, 400);
}

#[test]
fn cors_preflight_goes_to_origin_without_identity_or_body() {
    let mut gw = gateway(&[]);
    let bearer = format!("Bearer {}", token(json!({})));
    let d = run(
        &mut gw,
        "OPTIONS",
        "https://app.example.com/api/items",
        &[
            ("origin", "https://other.example"),
            ("access-control-request-method", "POST"),
            ("authorization", &bearer),
            ("x-auth-user-id", "spoofed"),
        ],
    );
    let Outcome::Proxy(plan) = &d.outcome else {
        panic!("preflight not proxied")
    };
    assert!(!plan.forward_body);
    assert_eq!(plan.headers.get("x-auth-user-id"), None);
}

#[test]
fn gateway_paths_health_session_and_assets() {
    let mut gw = gateway(&[]);
    let (status, _, body) = respond(&run(
        &mut gw,
        "GET",
        "https://app.example.com/__edgegate/health",
        &[],
    ));
    assert_eq!(status, 200);
    assert_eq!(body["valid"], json!(true));

    let (status, _, _) = respond(&run(
        &mut gw,
        "GET",
        "https://app.example.com/__edgegate/session",
        &[],
    ));
    assert_eq!(status, 401);

    let bearer = format!("Bearer {}", token(json!({})));
    let (status, _, body) = respond(&run(
        &mut gw,
        "GET",
        "https://app.example.com/__edgegate/session",
        &[("authorization", &bearer)],
    ));
    assert_eq!(status, 200);
    assert_eq!(body["user_id"], json!("user_123"));
    assert_eq!(body["expires_at"], json!(NOW_MS / 1000 + 60));

    let d = run(&mut gw, "GET", "https://app.example.com/__edgegate/", &[]);
    assert!(
        matches!(&d.outcome, Outcome::Asset { url } if url == "https://app.example.com/index.html")
    );
    let (status, _, _) = respond(&run(
        &mut gw,
        "POST",
        "https://app.example.com/__edgegate/health",
        &[],
    ));
    assert_eq!(status, 405);
}

#[test]
fn a_cached_token_is_still_checked_for_expiry_and_policy() {
    let mut gw = gateway(&[]);
    let bearer = format!("Bearer {}", token(json!({})));
    let first = run(
        &mut gw,
        "GET",
        "https://app.example.com/api",
        &[("authorization", &bearer)],
    );
    assert!(matches!(first.outcome, Outcome::Proxy(_)));
    assert_eq!(gw.pipeline.cache_stats().0, 1);
    // Same token, same cache, but a role rule: the cache never remembers a decision.
    let second = run(
        &mut gw,
        "GET",
        "https://app.example.com/admin",
        &[("authorization", &bearer)],
    );
    assert_eq!(respond(&second).0, 403);
    assert_eq!(gw.pipeline.cache_stats().1 .0, 1);
}

#[test]
fn invalid_settings_give_503_on_health_naming_settings_and_503_elsewhere() {
    let s = settings(&[("CLOCK_SKEW_MS", "999999")]);
    let problems = match Settings::from_settings(&|n: &str| s.get(n).cloned()) {
        Ok(_) => panic!("accepted"),
        Err(p) => p,
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].setting, "CLOCK_SKEW_MS");
    assert!(!problems[0].to_string().contains("999999"));
    let names: Vec<String> = problems.iter().map(|p| p.setting.to_owned()).collect();
    let answer = |url: &str, headers: &HeaderList| {
        let d = misconfigured(
            &Inbound {
                method: "GET",
                url,
                headers,
            },
            &names,
            "ray-1".to_owned(),
        );
        match d.outcome {
            edgegate::pipeline::decision::Outcome::Respond(plan) => (plan, d.log),
            _ => panic!("misconfigured gave no response"),
        }
    };
    let headers = HeaderList::new();
    let (health, log) = answer("https://app.example.com/__edgegate/health", &headers);
    assert_eq!(health.status, 503);
    assert_eq!(
        serde_json::from_str::<Value>(&health.body).unwrap_or(Value::Null),
        json!({"valid": false, "problems": ["CLOCK_SKEW_MS"]})
    );
    assert_eq!(log.path, "/__edgegate/health");
    let (other, log) = answer("https://app.example.com/x/y?q=1", &headers);
    assert_eq!(other.status, 503);
    assert_eq!(
        other.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert!(!other.body.contains("CLOCK_SKEW_MS"));
    assert!(other.body.contains("/__edgegate/health"));
    // The log line names the request like any other: its id and canonical path.
    let line: Value = serde_json::from_str(&log.to_json(other.status, 0)).unwrap_or(Value::Null);
    assert_eq!(line["request_id"], "ray-1");
    assert_eq!(line["path"], "/x/y");
    assert_eq!(line["reason"], "misconfigured");
    assert_eq!(line["fault"], "config");
    // A page load gets the page; a refused path is logged as `-`.
    let page: HeaderList = [("sec-fetch-dest", "document"), ("accept", "text/html")]
        .into_iter()
        .collect();
    let (html, _) = answer("https://app.example.com/__edgegate/", &page);
    assert_eq!(html.status, 503);
    assert_eq!(
        html.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(!html.body.contains("CLOCK_SKEW_MS"));
    let (_, log) = answer("https://app.example.com/a%2fb", &headers);
    assert_eq!(log.path, "-");
}

#[test]
fn missing_required_settings_are_all_named() {
    let problems = match Settings::from_settings(&|_: &str| None) {
        Ok(_) => panic!("accepted"),
        Err(p) => p,
    };
    let names: Vec<&str> = problems.iter().map(|p| p.setting).collect();
    assert!(names.contains(&"CLERK_JWT_KEY"));
    assert!(names.contains(&"AUTHORIZED_PARTIES"));
    assert!(names.contains(&"ORIGIN_URL"));
}

#[test]
fn non_ascii_hosts_in_settings_are_refused_with_the_punycode_hint() {
    // The build has no IDNA back end: a Unicode host is a named problem, its xn-- form works.
    let s = settings(&[
        ("AUTHORIZED_PARTIES", "https://bücher.example"),
        ("ORIGIN_URL", "https://münchen.example"),
    ]);
    let problems = match Settings::from_settings(&|n: &str| s.get(n).cloned()) {
        Ok(_) => panic!("accepted"),
        Err(p) => p,
    };
    let mut named: Vec<&str> = problems.iter().map(|p| p.setting).collect();
    named.sort_unstable();
    assert_eq!(named, ["AUTHORIZED_PARTIES", "ORIGIN_URL"]);
    for p in &problems {
        assert!(p.to_string().contains("xn--"), "{p}");
    }
    gateway(&[
        ("AUTHORIZED_PARTIES", "https://xn--bcher-kva.example"),
        ("ORIGIN_URL", "https://xn--mnchen-3ya.example"),
    ]);
}

fn proxied(d: &Done) -> &OriginRequest {
    match &d.outcome {
        Outcome::Proxy(plan) => plan,
        other => panic!("expected a proxy plan, got {other:?}"),
    }
}

#[test]
fn override_and_internal_headers_never_reach_the_origin_and_users_add_their_own() {
    let mut gw = gateway(&[("STRIP_REQUEST_HEADERS", "X-Internal-Secret, x-tenant-*")]);
    let bearer = format!("Bearer {}", token(json!({})));
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/blog/x",
        &[
            ("authorization", &bearer),
            ("X-Original-URL", "/admin"),
            ("x_rewrite_url", "/admin"),
            ("X-HTTP-Method-Override", "DELETE"),
            ("X-Forwarded-Prefix", "/admin"),
            ("x-middleware-subrequest", "middleware"),
            ("X-Clerk-Auth-Status", "signed-in"),
            ("x_clerk_whatever", "1"),
            ("x-internal-secret", "s"),
            ("X_Tenant_Id", "t"),
            ("x-tenantless", "kept"),
            ("x-custom", "kept"),
        ],
    );
    let plan = proxied(&d);
    let names: Vec<String> = plan
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    for gone in [
        "x-original-url",
        "x_rewrite_url",
        "x-http-method-override",
        "x-forwarded-prefix",
        "x-middleware-subrequest",
        "x-clerk-auth-status",
        "x_clerk_whatever",
        "x-internal-secret",
        "x_tenant_id",
    ] {
        assert!(
            !names.contains(&gone.to_owned()),
            "{gone} reached the origin"
        );
    }
    assert_eq!(plan.headers.get("x-tenantless"), Some("kept"));
    assert_eq!(plan.headers.get("x-custom"), Some("kept"));
    assert_eq!(plan.headers.get("x-auth-user-id"), Some("user_123"));
}

#[test]
fn strip_request_headers_entries_are_validated() {
    let s = settings(&[("STRIP_REQUEST_HEADERS", "x-ok, bad header")]);
    let Err(problems) = Settings::from_settings(&|name: &str| s.get(name).cloned()) else {
        panic!("accepted an invalid entry");
    };
    assert!(problems
        .iter()
        .any(|p| p.setting == "STRIP_REQUEST_HEADERS"));
    for bad in ["*", "x-a*b", "x-é"] {
        let s = settings(&[("STRIP_REQUEST_HEADERS", bad)]);
        assert!(
            Settings::from_settings(&|name: &str| s.get(name).cloned()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn machine_tokens_are_never_sessions_whatever_azp_missing_says() {
    let mut gw = gateway(&[("AZP_MISSING", "allow")]);
    let m2m = token(json!({"sub": "mch_2vYV", "sid": null, "azp": null, "scopes": "mch_1"}));
    let sessionless = token(json!({"sid": null}));
    for t in [&m2m, &sessionless] {
        let bearer = format!("Bearer {t}");
        let d = run(
            &mut gw,
            "GET",
            "https://app.example.com/api/x",
            &[("authorization", &bearer)],
        );
        let (status, headers, body) = respond(&d);
        assert_eq!(status, 401);
        assert_eq!(body["reason"], "token-type-mismatch");
        assert_eq!(
            header(headers, "x-edgegate-auth-reason"),
            Some("token-type-mismatch")
        );
        // On a public route the origin sees a signed-out request, never the machine as a user.
        let d = run(
            &mut gw,
            "GET",
            "https://app.example.com/blog/x",
            &[("authorization", &bearer)],
        );
        assert_eq!(proxied(&d).headers.get("x-auth-user-id"), None);
    }
    let mut gw = gateway(&[("AZP_MISSING", "allow"), ("SID_MISSING", "allow")]);
    let bearer = format!("Bearer {m2m}");
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/api/x",
        &[("authorization", &bearer)],
    );
    assert_eq!(respond(&d).2["reason"], "token-type-mismatch");
    let bearer = format!("Bearer {sessionless}");
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/api/x",
        &[("authorization", &bearer)],
    );
    assert_eq!(proxied(&d).headers.get("x-auth-user-id"), Some("user_123"));
}

#[test]
fn double_encoded_paths_are_400_and_overlong_canonical_paths_414() {
    let mut gw = gateway(&[]);
    for path in ["/public/%252e%252e/admin", "/x%252Fadmin", "/x/%255Cadmin"] {
        let d = run(
            &mut gw,
            "GET",
            &format!("https://app.example.com{path}"),
            &[],
        );
        let (status, _, body) = respond(&d);
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["reason"], "path-double-encoded");
    }
    let fits = format!("https://app.example.com/blog/{}", "é".repeat(2000));
    assert!(matches!(
        run(&mut gw, "GET", &fits, &[]).outcome,
        Outcome::Proxy(_)
    ));
    let expanding = format!("https://app.example.com/{}", "é".repeat(5000));
    let (status, _, body) = respond(&run(&mut gw, "GET", &expanding, &[]));
    assert_eq!(status, 414);
    assert_eq!(body["reason"], "path-too-long");
}

#[test]
fn clerk_names_are_aliases_and_a_setting_given_twice_is_a_problem() {
    let pk = "pk_live_Y2xlcmsuZWRnZWdhdGUudGVzdCQ";
    let gw = gateway(&[
        ("CLERK_PUBLISHABLE_KEY", pk),
        ("CLERK_SIGN_IN_URL", "/sign-in"),
    ]);
    let _ = gw;
    let s = settings(&[("CLERK_PUBLISHABLE_KEY", pk)]);
    let parsed = Settings::from_settings(&|n: &str| s.get(n).cloned()).expect("alias accepted");
    assert!(parsed.clerk.publishable.is_some());
    let s = settings(&[("CLERK_FRONTEND_API", "clerk.edgegate.test")]);
    let parsed = Settings::from_settings(&|n: &str| s.get(n).cloned()).expect("host alias");
    assert_eq!(
        parsed.clerk.fapi_base.as_deref(),
        Some("https://clerk.edgegate.test")
    );
    let s = settings(&[("PUBLISHABLE_KEY", pk), ("CLERK_PUBLISHABLE_KEY", pk)]);
    let Err(problems) = Settings::from_settings(&|n: &str| s.get(n).cloned()) else {
        panic!("a setting given twice was accepted");
    };
    assert!(problems.iter().any(|p| p.setting == "PUBLISHABLE_KEY"
        && p.problem
            .contains("PUBLISHABLE_KEY and CLERK_PUBLISHABLE_KEY")));
}

#[test]
fn names_that_look_like_misspelt_settings_are_warned_about_with_the_closest_name() {
    let warnings = edgegate::config::unknown_setting_warnings([
        "AUTHORISED_PARTIES",
        "ORIGIN_URL",
        "PUBLIC_ROUTE",
        "CLERK_SECRET_KEY",
        "MY_APP_FLAG",
        "lowercase_name",
    ]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings[0].contains("AUTHORISED_PARTIES")
            && warnings[0].contains("did you mean AUTHORIZED_PARTIES?")
    );
    assert!(warnings[1].contains("did you mean PUBLIC_ROUTES?"));
    assert!(warnings[2].starts_with("CLERK_SECRET_KEY is not a setting"));
    // Warnings are listed by health, and never make the settings invalid.
    let s = settings(&[]);
    let mut names: Vec<String> = s.keys().cloned().collect();
    names.push("AUTHORISED_PARTIES".into());
    let ((mut p, problems), warned) =
        Pipeline::from_named_settings(&|n: &str| s.get(n).cloned(), &names);
    assert!(problems.is_empty());
    assert_eq!(warned.len(), 1);
    let (_, step) = p.start(
        Request {
            method: "GET".into(),
            url: "https://app.example.com/__edgegate/health".into(),
            headers: HeaderList::new(),
        },
        NOW_MS,
        [1; 32],
    );
    let Step::Respond { plan, .. } = step else {
        panic!()
    };
    let body: Value = serde_json::from_str(&plan.body).unwrap();
    assert_eq!(body["valid"], json!(true));
    assert!(body["warnings"][0]
        .as_str()
        .unwrap()
        .contains("AUTHORIZED_PARTIES"));
}

#[test]
fn a_refused_azp_is_named_in_the_log_detail_with_the_allowed_parties() {
    let mut gw = gateway(&[]);
    let bearer = format!("Bearer {}", token(json!({"azp": "http://app.example.com"})));
    let d = run(
        &mut gw,
        "GET",
        "https://app.example.com/api/x",
        &[("authorization", &bearer)],
    );
    assert_eq!(respond(&d).2["reason"], "token-invalid-authorized-parties");
    let line = d.log.to_json(401, 0);
    assert!(
        line.contains(r#"azp \"http://app.example.com\" is not one of"#) && line.contains(ORIGIN),
        "{line}"
    );
}
