//! Rejection rendering, page-load and preflight classification, sign-in redirects.

use edgegate::http::HeaderList;
use edgegate::response::RefusalReason;
use edgegate::response::{
    is_cors_preflight, is_page_load, render, sign_in_location, AuthStatus, Fault, Rejection,
};
use edgegate::routes::{Forbidden, PathError};
use edgegate::token::TokenError;
use proptest::prelude::*;
use serde_json::{json, Value};

fn hl(pairs: &[(&str, &str)]) -> HeaderList {
    pairs.iter().copied().collect()
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).expect("json body")
}

fn assert_refusal_headers(plan: &edgegate::response::ResponsePlan, status: &str, reason: &str) {
    assert_eq!(plan.header("Cache-Control"), Some("private, no-store"));
    assert_eq!(plan.header("X-Edgegate-Auth-Status"), Some(status));
    assert_eq!(plan.header("X-Edgegate-Auth-Reason"), Some(reason));
}

#[test]
fn api_request_signed_out_gets_401_json_with_www_authenticate() {
    let p = render(&Rejection::Unauthenticated {
        reason: TokenError::Expired.into(),
        page_load: false,
        sign_in: Some("https://accounts.example.com/sign-in?redirect_url=x".into()),
    });
    assert_eq!(p.status, 401);
    assert_eq!(
        body_json(&p.body),
        json!({"error": "unauthenticated", "reason": "token-expired"})
    );
    assert_eq!(
        p.header("WWW-Authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(
        p.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert!(p.header("Location").is_none());
    assert_refusal_headers(&p, "signed-out", "token-expired");
}

#[test]
fn page_load_without_sign_in_url_gets_401_html() {
    let p = render(&Rejection::Unauthenticated {
        reason: TokenError::Missing.into(),
        page_load: true,
        sign_in: None,
    });
    assert_eq!(p.status, 401);
    assert!(p
        .header("Content-Type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(p.body.contains("<title>Sign in required</title>"));
    assert!(p.body.contains("token-missing"));
    assert!(p.header("WWW-Authenticate").is_some());
    assert_refusal_headers(&p, "signed-out", "token-missing");
}

#[test]
fn page_load_with_sign_in_url_gets_307() {
    let loc = sign_in_location(
        "https://accounts.example.com/sign-in",
        "https://app.example.com/dash?tab=1&x=a b",
    );
    assert_eq!(
        loc,
        "https://accounts.example.com/sign-in?redirect_url=https%3A%2F%2Fapp.example.com%2Fdash%3Ftab%3D1%26x%3Da%20b"
    );
    let p = render(&Rejection::Unauthenticated {
        reason: TokenError::Missing.into(),
        page_load: true,
        sign_in: Some(loc.clone()),
    });
    assert_eq!(p.status, 307);
    assert_eq!(p.header("Location"), Some(loc.as_str()));
    assert!(p.body.is_empty());
    assert_refusal_headers(&p, "signed-out", "token-missing");
}

#[test]
fn sign_in_location_keeps_existing_query_and_fragment() {
    assert_eq!(
        sign_in_location("https://a.example/s?lang=en#f", "https://b/"),
        "https://a.example/s?lang=en&redirect_url=https%3A%2F%2Fb%2F#f"
    );
    assert_eq!(
        sign_in_location("/sign-in?", "/x"),
        "/sign-in?redirect_url=%2Fx"
    );
}

#[test]
fn forbidden_is_403_json_signed_in() {
    let p = render(&Rejection::Forbidden {
        reason: RefusalReason::Forbidden(Forbidden::MissingRole),
        page_load: false,
    });
    assert_eq!(p.status, 403);
    assert_eq!(
        body_json(&p.body),
        json!({"error": "forbidden", "reason": "missing-role"})
    );
    assert!(p.header("WWW-Authenticate").is_none());
    assert_refusal_headers(&p, "signed-in", "missing-role");
}

#[test]
fn forbidden_page_load_is_a_403_page() {
    let p = render(&Rejection::Forbidden {
        reason: RefusalReason::OrganizationMismatch,
        page_load: true,
    });
    assert_eq!(p.status, 403);
    assert_eq!(p.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(
        p.body.contains("<code>organization-mismatch</code>"),
        "{}",
        p.body
    );
    assert!(p.header("Content-Security-Policy").is_some());
    assert_refusal_headers(&p, "signed-in", "organization-mismatch");
}

#[test]
fn bad_request_is_400() {
    let p = render(&Rejection::BadRequest {
        reason: RefusalReason::Path(PathError::EncodedSlash),
    });
    assert_eq!(p.status, 400);
    assert_eq!(
        body_json(&p.body),
        json!({"error": "bad-request", "reason": "path-encoded-slash"})
    );
    assert_refusal_headers(&p, "signed-out", "path-encoded-slash");
}

#[test]
fn origin_failures_are_502_and_504_without_detail() {
    let p = render(&Rejection::OriginUnreachable {
        auth: AuthStatus::SignedIn,
    });
    assert_eq!(p.status, 502);
    assert_eq!(body_json(&p.body), json!({"error": "origin-unreachable"}));
    assert_refusal_headers(&p, "signed-in", "origin-unreachable");
    let p = render(&Rejection::OriginTimeout {
        auth: AuthStatus::Grace,
    });
    assert_eq!(p.status, 504);
    assert_eq!(body_json(&p.body), json!({"error": "origin-timeout"}));
    assert_refusal_headers(&p, "grace", "origin-timeout");
}

#[test]
fn misconfiguration_is_a_deliberate_503_pointing_at_health() {
    let p = render(&Rejection::Misconfigured { page_load: false });
    assert_eq!(p.status, 503);
    assert_eq!(
        body_json(&p.body),
        json!({"error": "misconfigured", "health": "/__edgegate/health"})
    );
    assert_refusal_headers(&p, "signed-out", "misconfigured");
}

#[test]
fn misconfiguration_is_a_readable_page_for_a_page_load() {
    let p = render(&Rejection::Misconfigured { page_load: true });
    assert_eq!(p.status, 503);
    assert_eq!(p.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        p.header("Content-Security-Policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'")
    );
    assert_refusal_headers(&p, "signed-out", "misconfigured");
    assert!(p.body.contains("<title>Gateway not configured</title>"));
    assert!(p.body.contains("<a href=\"/__edgegate/health\">"));
    assert!(p.body.contains("README"));
}

#[test]
fn health_with_invalid_settings_is_503_naming_settings() {
    let p = render(&Rejection::HealthInvalid {
        problems: vec!["CLERK_JWT_KEY".into(), "ORIGIN_URL".into()],
    });
    assert_eq!(p.status, 503);
    assert_eq!(
        body_json(&p.body),
        json!({"valid": false, "problems": ["CLERK_JWT_KEY", "ORIGIN_URL"]})
    );
    assert_eq!(p.header("Cache-Control"), Some("private, no-store"));
}

#[test]
fn whose_fault() {
    assert_eq!(
        Rejection::Forbidden {
            reason: RefusalReason::Forbidden(Forbidden::MissingRole),
            page_load: false,
        }
        .fault(),
        Fault::Client
    );
    assert_eq!(
        Rejection::OriginTimeout {
            auth: AuthStatus::SignedOut
        }
        .fault(),
        Fault::Origin
    );
    assert_eq!(
        Rejection::Misconfigured { page_load: false }.fault(),
        Fault::Config
    );
    assert_eq!(Fault::Origin.as_str(), "origin");
}

#[test]
fn every_rejection_carries_the_common_headers() {
    let all = [
        Rejection::Unauthenticated {
            reason: TokenError::Missing.into(),
            page_load: false,
            sign_in: None,
        },
        Rejection::Unauthenticated {
            reason: TokenError::Missing.into(),
            page_load: true,
            sign_in: None,
        },
        Rejection::Unauthenticated {
            reason: TokenError::Missing.into(),
            page_load: true,
            sign_in: Some("/s".into()),
        },
        Rejection::Forbidden {
            reason: TokenError::Missing.into(),
            page_load: false,
        },
        Rejection::Forbidden {
            reason: TokenError::Missing.into(),
            page_load: true,
        },
        Rejection::BadRequest {
            reason: TokenError::Missing.into(),
        },
        Rejection::OriginUnreachable {
            auth: AuthStatus::SignedOut,
        },
        Rejection::OriginTimeout {
            auth: AuthStatus::SignedOut,
        },
        Rejection::Misconfigured { page_load: false },
        Rejection::Misconfigured { page_load: true },
        Rejection::HealthInvalid { problems: vec![] },
    ];
    for r in &all {
        let p = render(r);
        assert!(p.header("Cache-Control").is_some(), "{r:?}");
        assert!(p.header("X-Edgegate-Auth-Status").is_some(), "{r:?}");
        assert!(p.header("X-Edgegate-Auth-Reason").is_some(), "{r:?}");
        assert!(p.status >= 300, "{r:?}");
    }
}

#[test]
fn html_page_reflects_nothing_but_the_code() {
    // Reasons are enums: the page can only ever show a code.
    let p = render(&Rejection::Unauthenticated {
        reason: TokenError::Expired.into(),
        page_load: true,
        sign_in: None,
    });
    assert!(p.body.contains("<code>token-expired</code>"));
    assert!(!p.body.contains("<script>"));
}

#[test]
fn document_navigation_is_a_page_load() {
    assert!(is_page_load("GET", &hl(&[("Sec-Fetch-Dest", "document")])));
    assert!(is_page_load("HEAD", &hl(&[("sec-fetch-dest", "IFRAME")])));
    assert!(is_page_load(
        "GET",
        &hl(&[("Accept", "text/html,application/xhtml+xml")])
    ));
    assert!(is_page_load("GET", &hl(&[("Accept", "  TEXT/HTML")])));
}

#[test]
fn api_calls_and_form_posts_are_not_page_loads() {
    assert!(!is_page_load(
        "POST",
        &hl(&[("Sec-Fetch-Dest", "document")])
    ));
    assert!(!is_page_load(
        "GET",
        &hl(&[("Sec-Fetch-Dest", "empty"), ("Accept", "text/html")])
    ));
    assert!(!is_page_load("GET", &hl(&[("Accept", "application/json")])));
    assert!(!is_page_load("GET", &hl(&[("Accept", "*/*")])));
    assert!(!is_page_load("GET", &HeaderList::new()));
    assert!(!is_page_load("get", &hl(&[("Sec-Fetch-Dest", "document")])));
    assert!(!is_page_load("GET", &hl(&[("Accept", "text/htm")])));
}

#[test]
fn cors_preflight_detection() {
    let h = hl(&[
        ("Origin", "https://app.example.com"),
        ("Access-Control-Request-Method", "POST"),
    ]);
    assert!(is_cors_preflight("OPTIONS", &h));
    assert!(!is_cors_preflight("GET", &h));
    assert!(!is_cors_preflight(
        "OPTIONS",
        &hl(&[("Origin", "https://a")])
    ));
    assert!(!is_cors_preflight(
        "OPTIONS",
        &hl(&[("Access-Control-Request-Method", "GET")])
    ));
}

proptest! {
    #[test]
    fn classifiers_never_panic(m in ".{0,8}", v in ".{0,64}") {
        let h = hl(&[("Sec-Fetch-Dest", v.as_str()), ("Accept", v.as_str()), ("Origin", v.as_str())]);
        let _ = is_page_load(&m, &h);
        let _ = is_cors_preflight(&m, &h);
        let _ = sign_in_location(&v, &v);
    }

    #[test]
    fn sign_in_redirect_url_is_fully_encoded(s in ".{0,64}") {
        let loc = sign_in_location("https://a.example/s", &s);
        let tail = loc.strip_prefix("https://a.example/s?redirect_url=").expect("prefix");
        prop_assert!(tail.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
    }
}
