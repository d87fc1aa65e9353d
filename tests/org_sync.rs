//! Organisation sync (`ORGANIZATION_PATTERNS`, `PERSONAL_ACCOUNT_PATTERNS`) through the request
//! pipeline, natively: the activation handshake for page loads, 403 `organization-mismatch` for
//! what cannot be redirected, Clerk's loop guard, and the settings' problems. End to end (the
//! Frontend API stub and Chromium): tests/e2e/org-sync.test.mjs.

mod common;

use common::drive::{self, Done, Gw};
use common::{claims_with, mint, public_pem, rsa, NOW_S, ORIGIN};
use edgegate::config::Settings;
use edgegate::http::HeaderList;
use edgegate::response::ResponsePlan;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `pk_live_` for `clerk.example.com`.
fn publishable_key() -> String {
    use base64::Engine;
    let host = base64::engine::general_purpose::STANDARD.encode("clerk.example.com$");
    format!("pk_live_{host}")
}

fn settings(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut s: HashMap<String, String> = [
        ("CLERK_JWT_KEY", public_pem(rsa())),
        ("AUTHORIZED_PARTIES", ORIGIN.to_owned()),
        ("ORIGIN_URL", "http://127.0.0.1:9000".to_owned()),
        ("PUBLIC_ROUTES", "/, /orgs/:slug/public(.*)".to_owned()),
        ("PUBLISHABLE_KEY", publishable_key()),
        (
            "ORGANIZATION_PATTERNS",
            "/orgs/:slug, /orgs/:slug/(.*), /by-id/:id/(.*)".to_owned(),
        ),
        ("PERSONAL_ACCOUNT_PATTERNS", "/me, /me/(.*)".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        s.insert((*k).to_owned(), (*v).to_owned());
    }
    s
}

fn gateway(extra: &[(&str, &str)]) -> Gw {
    drive::gateway(&settings(extra))
}

fn request(gw: &mut Gw, method: &str, path: &str, headers: &[(&str, &str)]) -> Done {
    drive::run(gw, method, &format!("{ORIGIN}{path}"), headers)
}

/// A session token whose active organisation is `org` (`(id, slug)`), v2 `o` claim.
fn session(org: Option<(&str, &str)>) -> String {
    let o = org.map_or(
        Value::Null,
        |(id, slg)| json!({"id": id, "slg": slg, "rol": "admin"}),
    );
    mint(rsa(), json!({}), &claims_with(json!({ "o": o })))
}

fn cookie(token: &str, redirect_count: u32) -> String {
    let uat = NOW_S - 100;
    format!("__session={token}; __client_uat={uat}; __clerk_redirect_count={redirect_count}")
}

fn page_load(gw: &mut Gw, path: &str, cookie: &str) -> Done {
    let headers = [
        ("cookie", cookie),
        ("sec-fetch-dest", "document"),
        ("accept", "text/html"),
    ];
    request(gw, "GET", path, &headers)
}

fn api_call(gw: &mut Gw, method: &str, path: &str, cookie: &str) -> Done {
    let headers = [
        ("cookie", cookie),
        ("sec-fetch-dest", "empty"),
        ("accept", "application/json"),
    ];
    request(gw, method, path, &headers)
}

fn plan(done: &Done) -> &ResponsePlan {
    done.plan()
}

fn proxied(done: &Done) -> &HeaderList {
    done.proxied()
}

/// The handshake redirect's query pairs, in order.
fn handshake_query(done: &Done) -> Vec<(String, String)> {
    let p = plan(done);
    assert_eq!(p.status, 307, "{p:?}");
    let location = url::Url::parse(p.header("location").expect("location")).expect("url");
    assert_eq!(location.path(), "/v1/client/handshake");
    location.query_pairs().into_owned().collect()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The reason of a 403: JSON for API calls, the 403 page (naming it) for page loads.
fn forbidden_reason(done: &Done) -> String {
    let p = plan(done);
    assert_eq!(p.status, 403, "{p:?}");
    let reason = p.header("x-edgegate-auth-reason").unwrap_or_default();
    if p.header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        assert!(p.body.contains(&format!("<code>{reason}</code>")), "{p:?}");
    } else {
        let body: Value = serde_json::from_str(&p.body).expect("json");
        assert_eq!(
            body["reason"].as_str(),
            Some(reason),
            "header and body agree"
        );
    }
    reason.to_owned()
}

#[test]
fn page_load_for_another_organisation_starts_the_activation_handshake() {
    let mut gw = gateway(&[]);
    let beta = session(Some(("org_beta", "beta")));
    let done = page_load(&mut gw, "/orgs/acme/x?tab=2", &cookie(&beta, 0));
    let q = handshake_query(&done);
    let names: Vec<&str> = q.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "redirect_url",
            "__clerk_api_version",
            "suffixed_cookies",
            "__clerk_hs_reason",
            "__session",
            "organization_id"
        ],
        "Clerk's order, organization_id last"
    );
    assert_eq!(param(&q, "organization_id"), Some("acme"));
    assert_eq!(
        param(&q, "__clerk_hs_reason"),
        Some("active-organization-mismatch")
    );
    assert_eq!(param(&q, "__session"), Some(beta.as_str()));
    let back = param(&q, "redirect_url").unwrap_or_default();
    assert!(back.starts_with(&format!("{ORIGIN}/orgs/acme/x?tab=2&__edgegate_hs_state=")));
    let p = plan(&done);
    assert_eq!(p.header("x-edgegate-auth-status"), Some("handshake"));
    assert_eq!(p.header("cache-control"), Some("no-store"));
    let cookies: Vec<&str> = p
        .headers
        .iter()
        .filter(|(n, _)| n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__clerk_redirect_count=1;")));
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__edgegate_hs_state=")));
    assert_eq!(done.log.outcome.code(), "handshake");
    assert_eq!(
        done.log.reason.map(|r| r.code()),
        Some("organization-mismatch")
    );
}

#[test]
fn the_active_organisation_passes_and_reaches_the_origin() {
    let mut gw = gateway(&[]);
    let acme = session(Some(("org_acme", "acme")));
    let done = page_load(&mut gw, "/orgs/acme/x", &cookie(&acme, 0));
    assert_eq!(proxied(&done).get("x-auth-org-slug"), Some("acme"));
    let done = page_load(&mut gw, "/orgs/acme", &cookie(&acme, 0));
    assert_eq!(proxied(&done).get("x-auth-org-id"), Some("org_acme"));
    let done = page_load(&mut gw, "/elsewhere", &cookie(&acme, 0));
    proxied(&done);
}

#[test]
fn org_id_patterns_compare_the_id() {
    let mut gw = gateway(&[]);
    let acme = session(Some(("org_acme", "acme")));
    proxied(&page_load(&mut gw, "/by-id/org_acme/x", &cookie(&acme, 0)));
    let q = handshake_query(&page_load(&mut gw, "/by-id/org_beta/x", &cookie(&acme, 0)));
    assert_eq!(param(&q, "organization_id"), Some("org_beta"));
}

#[test]
fn no_active_organisation_on_an_organisation_page_asks_for_it() {
    let mut gw = gateway(&[]);
    let personal = session(None);
    let q = handshake_query(&page_load(&mut gw, "/orgs/acme", &cookie(&personal, 0)));
    assert_eq!(param(&q, "organization_id"), Some("acme"));
}

#[test]
fn personal_account_pages_deactivate_the_organisation() {
    let mut gw = gateway(&[]);
    let beta = session(Some(("org_beta", "beta")));
    let q = handshake_query(&page_load(&mut gw, "/me/settings", &cookie(&beta, 0)));
    assert_eq!(
        param(&q, "organization_id"),
        Some(""),
        "empty: the personal account"
    );
    assert_eq!(q.last().map(|(n, _)| n.as_str()), Some("organization_id"));
    let personal = session(None);
    let done = page_load(&mut gw, "/me", &cookie(&personal, 0));
    assert_eq!(proxied(&done).get("x-auth-org-id"), None);
    assert_eq!(
        forbidden_reason(&api_call(&mut gw, "GET", "/me/api", &cookie(&beta, 0))),
        "organization-mismatch"
    );
}

#[test]
fn api_calls_posts_and_bearer_tokens_get_403_never_a_redirect() {
    let mut gw = gateway(&[]);
    let beta = session(Some(("org_beta", "beta")));
    let api = api_call(&mut gw, "GET", "/orgs/acme/api/items", &cookie(&beta, 0));
    assert_eq!(forbidden_reason(&api), "organization-mismatch");
    assert_eq!(
        plan(&api).header("x-edgegate-auth-status"),
        Some("signed-in")
    );
    assert_eq!(api.log.outcome.code(), "refused");
    assert_eq!(api.log.fault.map(|f| f.as_str()), Some("client"));
    // A form submission also says `Sec-Fetch-Dest: document`: not a GET, never redirected.
    let post = request(
        &mut gw,
        "POST",
        "/orgs/acme/x",
        &[
            ("cookie", &cookie(&beta, 0)),
            ("sec-fetch-dest", "document"),
            ("accept", "text/html"),
        ],
    );
    assert_eq!(forbidden_reason(&post), "organization-mismatch");
    let bearer = format!("Bearer {beta}");
    let header = request(
        &mut gw,
        "GET",
        "/orgs/acme/x",
        &[("authorization", &bearer), ("accept", "text/html")],
    );
    assert_eq!(forbidden_reason(&header), "organization-mismatch");
}

#[test]
fn after_three_handshakes_a_page_load_gets_a_403_page_never_the_other_organisation() {
    let mut gw = gateway(&[]);
    let beta = session(Some(("org_beta", "beta")));
    handshake_query(&page_load(&mut gw, "/orgs/nope/x", &cookie(&beta, 2)));
    // The counter is a cookie the client sets: it stops redirects, it never grants access.
    for count in [3, 4, 99] {
        let done = page_load(&mut gw, "/orgs/nope/x", &cookie(&beta, count));
        assert_eq!(forbidden_reason(&done), "organization-mismatch");
        let page = plan(&done).header("content-type").unwrap_or_default();
        assert!(
            page.starts_with("text/html"),
            "a page load gets the 403 page: {page}"
        );
        assert_eq!(
            plan(&done).header("x-edgegate-auth-status"),
            Some("signed-in")
        );
        assert_eq!(done.log.detail.as_deref(), Some("organization-sync-loop"));
    }
    let api = api_call(&mut gw, "GET", "/orgs/nope/x", &cookie(&beta, 3));
    assert_eq!(forbidden_reason(&api), "organization-mismatch");
}

#[test]
fn public_routes_are_never_synced() {
    let mut gw = gateway(&[]);
    let beta = session(Some(("org_beta", "beta")));
    proxied(&page_load(
        &mut gw,
        "/orgs/acme/public/page",
        &cookie(&beta, 0),
    ));
    proxied(&api_call(
        &mut gw,
        "GET",
        "/orgs/acme/public/api",
        &cookie(&beta, 0),
    ));
}

#[test]
fn signed_out_requests_are_left_to_the_session_rules() {
    let mut gw = gateway(&[]);
    let done = api_call(&mut gw, "GET", "/orgs/acme/api", "");
    let p = plan(&done);
    assert_eq!(p.status, 401, "{p:?}");
}

#[test]
fn without_a_publishable_key_every_mismatch_is_refused() {
    let mut s = settings(&[]);
    s.remove("PUBLISHABLE_KEY");
    let mut gw = drive::gateway(&s);
    let beta = session(Some(("org_beta", "beta")));
    let done = page_load(&mut gw, "/orgs/acme/x", &format!("__session={beta}"));
    assert_eq!(forbidden_reason(&done), "organization-mismatch");
}

#[test]
fn with_outage_grace_the_handshake_waits_for_the_outage_check() {
    let mut gw = gateway(&[("OUTAGE_GRACE_SECONDS", "60")]);
    let beta = session(Some(("org_beta", "beta")));
    let done = page_load(&mut gw, "/orgs/acme/x", &cookie(&beta, 0));
    assert!(done.probed, "the Frontend API was checked first");
    let q = handshake_query(&done);
    assert_eq!(param(&q, "organization_id"), Some("acme"));
}

#[test]
fn without_the_settings_nothing_changes() {
    let mut gw = gateway(&[
        ("ORGANIZATION_PATTERNS", ""),
        ("PERSONAL_ACCOUNT_PATTERNS", ""),
    ]);
    let beta = session(Some(("org_beta", "beta")));
    proxied(&page_load(&mut gw, "/orgs/acme/x", &cookie(&beta, 0)));
    proxied(&api_call(&mut gw, "GET", "/me", &cookie(&beta, 0)));
}

#[test]
fn invalid_patterns_are_setting_problems_naming_the_fragment() {
    let s = settings(&[
        ("ORGANIZATION_PATTERNS", "/orgs/:slug, /teams/:team"),
        ("PERSONAL_ACCOUNT_PATTERNS", "/me*"),
    ]);
    let problems = match Settings::from_settings(&|name: &str| s.get(name).cloned()) {
        Ok(_) => panic!("accepted"),
        Err(p) => p,
    };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter().any(|t| t.contains("ORGANIZATION_PATTERNS")
            && t.contains("entry 2")
            && t.contains("org-pattern-no-parameter")
            && t.contains("/teams/:team")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.contains("PERSONAL_ACCOUNT_PATTERNS")
            && t.contains("pattern-unsupported-syntax")
            && t.contains("`*`")),
        "{text:?}"
    );
}

mod no_panic {
    use edgegate::clerk::{OrgSync, OrgSyncTarget};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_settings_and_paths_never_panic(
            org in "[/:a-z(.)*?+{}, _-]{0,40}",
            personal in "[/:a-z(.)*?, -]{0,30}",
            path in "/[a-zA-Z0-9/_%.-]{0,60}",
        ) {
            if let Ok(sync) = OrgSync::from_settings(Some(&org), Some(&personal)) {
                if let Some(OrgSyncTarget::Organization(_)) = sync.target(&path) {
                    // A captured value is a non-empty segment of the path.
                    let target = sync.target(&path);
                    let value = target.as_ref().map(|t| t.organization_id_param()).unwrap_or("");
                    prop_assert!(!value.is_empty() && !value.contains('/'));
                    prop_assert!(path.split('/').any(|seg| seg == value));
                }
            }
        }
    }
}
