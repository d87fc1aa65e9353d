//! Satellite domains (`IS_SATELLITE`, `DOMAIN`, `SIGN_IN_URL`, `SATELLITE_AUTO_SYNC`, and a
//! primary's `SATELLITE_DOMAINS`) through the request pipeline, natively: Clerk's multi-domain
//! sync on a production and a development satellite, the `__clerk_synced` loop guard, the
//! redirect counter, the development primary's answer (never to an unlisted origin), the
//! primary's cross-origin handshake, and the settings' problems. End to end (two Frontend API
//! stub domains, Chromium): tests/e2e/satellite.test.mjs.

mod common;

use common::drive::{gateway, param, problems, query_pairs, run, set_cookies, Done, Gw};
use common::{claims_with, mint, public_pem, rsa, NOW_S};
use serde_json::{json, Value};
use std::collections::HashMap;

const SATELLITE: &str = "https://satellite.example.net";
const PRIMARY: &str = "https://primary.example.com";
const PRIMARY_SIGN_IN: &str = "https://primary.example.com/sign-in";

fn key(prefix: &str, frontend_api: &str) -> String {
    use base64::Engine;
    let host = base64::engine::general_purpose::STANDARD.encode(format!("{frontend_api}$"));
    format!("{prefix}{host}")
}

/// `pk_live_` for `clerk.primary.example.com`.
fn live_key() -> String {
    key("pk_live_", "clerk.primary.example.com")
}

/// `pk_test_` for `happy-hen-1.clerk.accounts.dev`.
fn test_key() -> String {
    key("pk_test_", "happy-hen-1.clerk.accounts.dev")
}

fn base(party: &str) -> HashMap<String, String> {
    [
        ("CLERK_JWT_KEY", public_pem(rsa())),
        ("AUTHORIZED_PARTIES", party.to_owned()),
        ("ORIGIN_URL", "http://127.0.0.1:9000".to_owned()),
        ("PUBLIC_ROUTES", "/, /pub(.*)".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn with(mut s: HashMap<String, String>, extra: &[(&str, &str)]) -> HashMap<String, String> {
    for (k, v) in extra {
        if v.is_empty() {
            s.remove(*k);
        } else {
            s.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    s
}

/// A production satellite: `satellite.example.net`, signing in on the primary.
fn live_satellite(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let s = with(
        base(SATELLITE),
        &[
            ("PUBLISHABLE_KEY", &live_key()),
            ("IS_SATELLITE", "true"),
            ("DOMAIN", "satellite.example.net"),
            ("SIGN_IN_URL", PRIMARY_SIGN_IN),
        ],
    );
    with(s, extra)
}

/// A development satellite.
fn dev_satellite(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let s = with(live_satellite(&[]), &[("PUBLISHABLE_KEY", &test_key())]);
    with(s, extra)
}

/// A primary that lists the satellite.
fn primary(pk: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let s = with(
        base(PRIMARY),
        &[
            ("PUBLISHABLE_KEY", pk),
            ("SIGN_IN_URL", "/sign-in"),
            ("SATELLITE_DOMAINS", SATELLITE),
        ],
    );
    with(s, extra)
}

const LIVE_ISSUER: &str = "https://clerk.primary.example.com";
const TEST_ISSUER: &str = "https://happy-hen-1.clerk.accounts.dev";

/// A session of the instance: the live one, or the development one for `*_dev` cookies.
fn session_for(party: &str, issuer: &str) -> String {
    let claims = claims_with(json!({ "azp": party, "iss": issuer }));
    mint(rsa(), json!({}), &claims)
}

fn signed_in_cookie(party: &str, redirect_count: u32) -> String {
    cookie_of(party, LIVE_ISSUER, redirect_count)
}

fn dev_signed_in_cookie(party: &str, redirect_count: u32) -> String {
    cookie_of(party, TEST_ISSUER, redirect_count)
}

fn cookie_of(party: &str, issuer: &str, redirect_count: u32) -> String {
    let uat = NOW_S - 100;
    let token = session_for(party, issuer);
    format!("__session={token}; __client_uat={uat}; __clerk_redirect_count={redirect_count}")
}

fn page_load(gw: &mut Gw, url: &str, cookie: &str) -> Done {
    let headers = [
        ("cookie", cookie),
        ("sec-fetch-dest", "document"),
        ("accept", "text/html"),
    ];
    run(gw, "GET", url, &headers)
}

fn page_load_from(gw: &mut Gw, url: &str, cookie: &str, referer: &str) -> Done {
    let headers = [
        ("cookie", cookie),
        ("sec-fetch-dest", "document"),
        ("accept", "text/html"),
        ("referer", referer),
    ];
    run(gw, "GET", url, &headers)
}

fn location(done: &Done) -> String {
    let p = done.plan();
    assert_eq!(p.status, 307, "{p:?}");
    p.header("location").expect("location").to_owned()
}

fn reason(done: &Done) -> Option<&'static str> {
    done.log.reason.map(|r| r.code())
}

/// The handshake's query, after checking it goes to `frontend_api`'s handshake endpoint.
fn handshake_at(done: &Done, frontend_api: &str) -> Vec<(String, String)> {
    let location = location(done);
    let expected = format!("{frontend_api}/v1/client/handshake?");
    assert!(location.starts_with(&expected), "{location}");
    query_pairs(&location)
}

fn refusal(done: &Done) -> (u16, String) {
    let p = done.plan();
    let body: Value = serde_json::from_str(&p.body).unwrap_or(Value::Null);
    let reason = body["reason"].as_str().unwrap_or_default().to_owned();
    (p.status, reason)
}

#[test]
fn first_visit_without_cookies_is_signed_out_without_a_sync_as_clerk_core_3() {
    let mut gw = gateway(&live_satellite(&[]));
    let done = page_load(&mut gw, &format!("{SATELLITE}/dashboard?tab=1"), "");
    let to = location(&done);
    assert!(
        to.starts_with(PRIMARY_SIGN_IN),
        "the primary's sign-in: {to}"
    );
    let back = param(&query_pairs(&to), "redirect_url")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        back,
        format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=false"),
        "back from signing in, the satellite syncs (Clerk's createRedirect)"
    );
    assert_eq!(reason(&done), Some("session-token-and-uat-missing"));
    // A public page is simply signed out.
    let public = page_load(&mut gw, &format!("{SATELLITE}/"), "__client_uat=0");
    let h = public.proxied();
    assert_eq!(h.get("x-auth-status"), Some("signed-out"));
}

#[test]
fn a_development_sign_in_on_another_origin_carries_the_dev_browser_token() {
    // Clerk's createRedirect: cross-origin on a development instance, the dev-browser token
    // goes along (from the query, else the cookie); never on production or on the same origin.
    let mut dev = gateway(&dev_satellite(&[]));
    let done = page_load(
        &mut dev,
        &format!("{SATELLITE}/dashboard"),
        "__clerk_db_jwt=dvb_sat",
    );
    let q = query_pairs(&location(&done));
    assert_eq!(param(&q, "__clerk_db_jwt"), Some("dvb_sat"), "{q:?}");
    assert_eq!(
        param(&q, "redirect_url"),
        Some(format!("{SATELLITE}/dashboard?__clerk_synced=false").as_str())
    );
    let mut live = gateway(&live_satellite(&[]));
    let done = page_load(
        &mut live,
        &format!("{SATELLITE}/dashboard"),
        "__clerk_db_jwt=dvb_sat",
    );
    assert_eq!(
        param(&query_pairs(&location(&done)), "__clerk_db_jwt"),
        None
    );
    let same_origin = with(
        base(PRIMARY),
        &[
            ("PUBLISHABLE_KEY", &test_key()),
            ("SIGN_IN_URL", "/sign-in"),
        ],
    );
    let mut own = gateway(&same_origin);
    let done = page_load(
        &mut own,
        &format!("{PRIMARY}/dashboard"),
        "__clerk_db_jwt=dvb_p",
    );
    let to = location(&done);
    assert!(to.starts_with(&format!("{PRIMARY}/sign-in?")), "{to}");
    assert_eq!(param(&query_pairs(&to), "__clerk_db_jwt"), None);
}

#[test]
fn back_from_the_primary_a_production_satellite_syncs_through_its_frontend_api() {
    let mut gw = gateway(&live_satellite(&[]));
    let url = format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=false");
    let done = page_load(&mut gw, &url, "__client_uat=0");
    let q = handshake_at(&done, "https://clerk.satellite.example.net");
    assert_eq!(
        param(&q, "__clerk_hs_reason"),
        Some("satellite-needs-syncing")
    );
    let back = param(&q, "redirect_url").unwrap_or_default();
    assert!(
        back.starts_with(&format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=true")),
        "the way back never starts another sync: {back}"
    );
    let p = done.plan();
    assert_eq!(p.header("cache-control"), Some("no-store"));
    let cookies = set_cookies(p);
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__clerk_redirect_count=1;")));
    assert_eq!(done.log.outcome.code(), "handshake");
    assert_eq!(reason(&done), Some("satellite-needs-syncing"));
}

#[test]
fn a_sync_just_completed_never_starts_another() {
    let mut gw = gateway(&live_satellite(&[("SATELLITE_AUTO_SYNC", "true")]));
    let url = format!("{SATELLITE}/pub/page?__clerk_synced=true");
    let done = page_load(&mut gw, &url, "__client_uat=0");
    assert_eq!(done.proxied().get("x-auth-status"), Some("signed-out"));
    // On a protected page the browser goes to sign in, marked to sync on its way back.
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=true");
    let to = location(&page_load(&mut gw, &url, ""));
    assert!(to.starts_with(PRIMARY_SIGN_IN), "{to}");
    let back = param(&query_pairs(&to), "redirect_url")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(back, format!("{SATELLITE}/dashboard?__clerk_synced=false"));
}

#[test]
fn auto_sync_syncs_every_cookieless_page_load_of_a_protected_route() {
    let mut gw = gateway(&live_satellite(&[("CLERK_SATELLITE_AUTO_SYNC", "true")]));
    let done = page_load(&mut gw, &format!("{SATELLITE}/dashboard"), "");
    let q = handshake_at(&done, "https://clerk.satellite.example.net");
    assert_eq!(
        param(&q, "__clerk_hs_reason"),
        Some("satellite-needs-syncing")
    );
    // A public route never starts a sync by itself.
    let public = page_load(&mut gw, &format!("{SATELLITE}/pub/x"), "");
    assert_eq!(public.proxied().get("x-auth-status"), Some("signed-out"));
    // But does when the URL asks for it.
    let asked = page_load(
        &mut gw,
        &format!("{SATELLITE}/pub/x?__clerk_synced=false"),
        "",
    );
    handshake_at(&asked, "https://clerk.satellite.example.net");
}

#[test]
fn api_calls_posts_and_iframes_are_never_redirected_to_sync() {
    let mut gw = gateway(&live_satellite(&[("SATELLITE_AUTO_SYNC", "true")]));
    let url = format!("{SATELLITE}/api/items?__clerk_synced=false");
    let api = run(
        &mut gw,
        "GET",
        &url,
        &[("sec-fetch-dest", "empty"), ("accept", "application/json")],
    );
    assert_eq!(refusal(&api).0, 401);
    let post = run(
        &mut gw,
        "POST",
        &url,
        &[("sec-fetch-dest", "document"), ("accept", "text/html")],
    );
    assert_ne!(post.plan().status, 307);
    let iframe = run(
        &mut gw,
        "GET",
        &format!("{SATELLITE}/pub/x?__clerk_synced=false"),
        &[("sec-fetch-dest", "iframe"), ("accept", "text/html")],
    );
    assert_eq!(iframe.proxied().get("x-auth-status"), Some("signed-out"));
}

#[test]
fn a_satellite_with_a_session_is_signed_in_and_syncs_only_when_asked() {
    let mut gw = gateway(&live_satellite(&[]));
    let cookie = signed_in_cookie(SATELLITE, 0);
    let done = page_load(&mut gw, &format!("{SATELLITE}/dashboard"), &cookie);
    assert_eq!(done.proxied().get("x-auth-user-id"), Some("user_123"));
    let asked = page_load(
        &mut gw,
        &format!("{SATELLITE}/dashboard?__clerk_synced=false"),
        &cookie,
    );
    let q = handshake_at(&asked, "https://clerk.satellite.example.net");
    assert!(param(&q, "__session").is_some(), "the session goes along");
}

#[test]
fn a_session_issued_by_the_satellites_own_frontend_api_is_this_instances() {
    // Clerk's `originalFrontendApi` on a production satellite is `clerk.<DOMAIN>`: its session
    // cookie is read unsuffixed, not taken for another instance's.
    let mut gw = gateway(&live_satellite(&[]));
    let cookie = cookie_of(SATELLITE, "https://clerk.satellite.example.net", 0);
    let done = page_load(&mut gw, &format!("{SATELLITE}/dashboard"), &cookie);
    assert_eq!(done.proxied().get("x-auth-user-id"), Some("user_123"));
}

#[test]
fn a_production_satellite_without_a_sign_in_url_signs_in_on_the_account_portal() {
    // A satellite has no sign-in of its own: Clerk's `redirectToSignIn` falls back to the
    // instance's Account Portal, with the way back marked for a sync.
    let mut gw = gateway(&live_satellite(&[("SIGN_IN_URL", "")]));
    let done = page_load(&mut gw, &format!("{SATELLITE}/dashboard"), "");
    let to = location(&done);
    assert!(
        to.starts_with("https://accounts.primary.example.com/sign-in?"),
        "{to}"
    );
    let back = param(&query_pairs(&to), "redirect_url")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(back, format!("{SATELLITE}/dashboard?__clerk_synced=false"));
}

#[test]
fn the_fourth_sync_in_a_row_is_refused_as_a_redirect_loop() {
    let mut gw = gateway(&live_satellite(&[]));
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=false");
    let third = page_load(&mut gw, &url, "__clerk_redirect_count=2");
    handshake_at(&third, "https://clerk.satellite.example.net");
    let fourth = page_load(&mut gw, &url, "__clerk_redirect_count=3");
    let p = fourth.plan();
    assert_eq!(p.header("x-edgegate-auth-reason"), Some("redirect-loop"));
    let to = location(&fourth);
    assert!(to.starts_with(PRIMARY_SIGN_IN));
    assert_eq!(reason(&fourth), Some("redirect-loop"));
    assert_eq!(fourth.log.detail.as_deref(), Some("satellite-sync-loop"));
    // Back from that sign-in, nothing asks for another sync: the guard stays stopped.
    let back = param(&query_pairs(&to), "redirect_url")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(back, format!("{SATELLITE}/dashboard"));
}

#[test]
fn a_refused_handshake_never_rides_along_to_sign_in_and_back() {
    // A stale or planted `__clerk_handshake` is refused; the sign-in's return URL drops it
    // (and the state), so the browser back from signing in syncs instead of being refused again.
    let mut gw = gateway(&live_satellite(&[]));
    let url = format!("{SATELLITE}/dashboard?tab=1&__clerk_handshake=x&__edgegate_hs_state=y");
    let refused = page_load(&mut gw, &url, "");
    let to = location(&refused);
    assert!(to.starts_with(PRIMARY_SIGN_IN), "{to}");
    let back = param(&query_pairs(&to), "redirect_url")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        back,
        format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=false")
    );
    let again = page_load(&mut gw, &back, "");
    assert_eq!(reason(&again), Some("satellite-needs-syncing"));
    handshake_at(&again, "https://clerk.satellite.example.net");
}

#[test]
fn a_proxy_url_is_the_satellites_frontend_api() {
    let proxy = "https://satellite.example.net/__clerk";
    let s = live_satellite(&[("DOMAIN", ""), ("CLERK_PROXY_URL", proxy)]);
    let mut gw = gateway(&s);
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=false");
    handshake_at(&page_load(&mut gw, &url, ""), proxy);
}

#[test]
fn a_development_satellite_syncs_through_the_primarys_sign_in() {
    let mut gw = gateway(&dev_satellite(&[]));
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=false");
    let done = page_load(&mut gw, &url, "__clerk_db_jwt=dvb_sat");
    let to = location(&done);
    let expected_back = format!("{SATELLITE}/dashboard?__clerk_synced=false");
    assert_eq!(
        query_pairs(&to),
        [("__clerk_redirect_url".to_owned(), expected_back)],
        "{to}"
    );
    assert!(to.starts_with(&format!("{PRIMARY_SIGN_IN}?")));
    assert_eq!(reason(&done), Some("satellite-needs-syncing"));
    let cookies = set_cookies(done.plan());
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__clerk_redirect_count=1;")));
    // Without cookies and without the trigger: signed out, no redirect to sync.
    let first = page_load(&mut gw, &format!("{SATELLITE}/pub/x"), "");
    assert_eq!(first.proxied().get("x-auth-status"), Some("signed-out"));
}

#[test]
fn a_development_satellite_back_from_the_primary_takes_its_dev_browser() {
    let mut gw = gateway(&dev_satellite(&[]));
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=true&__clerk_db_jwt=dvb_primary");
    let done = page_load(&mut gw, &url, "");
    let q = handshake_at(&done, "https://happy-hen-1.clerk.accounts.dev");
    assert_eq!(param(&q, "__clerk_hs_reason"), Some("dev-browser-sync"));
    assert_eq!(param(&q, "__clerk_db_jwt"), Some("dvb_primary"));
}

#[test]
fn a_development_primary_sends_the_browser_back_with_its_dev_browser() {
    let mut gw = gateway(&primary(&test_key(), &[]));
    let back = format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=false");
    let url = format!(
        "{PRIMARY}/sign-in?__clerk_redirect_url={}",
        urlencoding(&back)
    );
    let cookie = format!(
        "{}; __clerk_db_jwt=dvb_primary",
        dev_signed_in_cookie(PRIMARY, 0)
    );
    let done = page_load(&mut gw, &url, &cookie);
    let to = location(&done);
    assert_eq!(
        to,
        format!("{SATELLITE}/dashboard?tab=1&__clerk_synced=true&__clerk_db_jwt=dvb_primary")
    );
    assert_eq!(reason(&done), Some("primary-responds-to-syncing"));
    assert_eq!(done.plan().header("cache-control"), Some("no-store"));
    // The primary's sign-in page itself is the primary's.
    let signed_out = page_load(&mut gw, &url, "__clerk_db_jwt=dvb_primary");
    assert!(location(&signed_out).starts_with(SATELLITE));
}

#[test]
fn a_primary_never_sends_a_browser_to_an_origin_it_does_not_list() {
    let mut gw = gateway(&primary(&test_key(), &[]));
    let hostile = [
        "https://evil.example/steal",
        "https://satellite.example.net.evil.example/x",
        "https://satellite.example.net:8443/x",
        "http://satellite.example.net/x",
        "https://user:pw@satellite.example.net/x",
        "//satellite.example.net/x",
        "/x",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://satellite.example.net%2F@evil.example/",
        "https://evil.example#https://satellite.example.net/",
        // A backslash is a slash, as browsers read it: this one stays on the satellite.
        "https://satellite.example.net\\@evil.example/",
        "",
    ];
    let cookie = format!(
        "{}; __clerk_db_jwt=dvb_primary",
        dev_signed_in_cookie(PRIMARY, 0)
    );
    for raw in hostile {
        let url = format!("{PRIMARY}/pub/x?__clerk_redirect_url={}", urlencoding(raw));
        let done = page_load(&mut gw, &url, &cookie);
        match &done.outcome {
            common::drive::Outcome::Proxy(origin) => {
                assert_eq!(origin.headers.get("x-auth-status"), Some("signed-in"))
            }
            common::drive::Outcome::Respond(p) => {
                let to = p.header("location").unwrap_or_default();
                let ours = to.starts_with("https://happy-hen-1.clerk.accounts.dev/")
                    || to.starts_with(&format!("{SATELLITE}/"));
                assert!(ours, "{raw} sent the browser to {to}");
            }
            common::drive::Outcome::Asset { url } => panic!("{raw}: served the asset {url}"),
        }
    }
    // The listed origin with a long URL is refused past the cap.
    let long = format!("{SATELLITE}/{}", "a".repeat(5000));
    let url = format!(
        "{PRIMARY}/pub/x?__clerk_redirect_url={}",
        urlencoding(&long)
    );
    let done = page_load(&mut gw, &url, &cookie);
    assert_ne!(reason(&done), Some("primary-responds-to-syncing"));
}

#[test]
fn a_primary_without_satellites_or_in_production_ignores_the_redirect_url() {
    let back = urlencoding(&format!("{SATELLITE}/x"));
    let url = format!("{PRIMARY}/pub/x?__clerk_redirect_url={back}");
    let cookie = dev_signed_in_cookie(PRIMARY, 0);
    let mut unlisted = gateway(&primary(&test_key(), &[("SATELLITE_DOMAINS", "")]));
    let done = page_load(&mut unlisted, &url, &format!("{cookie}; __clerk_db_jwt=d"));
    assert_ne!(reason(&done), Some("primary-responds-to-syncing"));
    let mut live = gateway(&primary(&live_key(), &[]));
    let done = page_load(&mut live, &url, &signed_in_cookie(PRIMARY, 0));
    assert_eq!(done.proxied().get("x-auth-status"), Some("signed-in"));
}

#[test]
fn a_navigation_from_a_listed_satellite_refreshes_the_primarys_session_once() {
    let mut gw = gateway(&primary(&live_key(), &[]));
    let url = format!("{PRIMARY}/dashboard");
    let from = format!("{SATELLITE}/somewhere");
    let done = page_load_from(&mut gw, &url, &signed_in_cookie(PRIMARY, 0), &from);
    let q = handshake_at(&done, "https://clerk.primary.example.com");
    assert_eq!(
        param(&q, "__clerk_hs_reason"),
        Some("primary-domain-cross-origin-sync")
    );
    // Not again while the counter runs, not from elsewhere, not on a public route, not an API.
    let again = page_load_from(&mut gw, &url, &signed_in_cookie(PRIMARY, 1), &from);
    assert_eq!(again.proxied().get("x-auth-status"), Some("signed-in"));
    let elsewhere = "https://search.example.org/?q=primary";
    let other = page_load_from(&mut gw, &url, &signed_in_cookie(PRIMARY, 0), elsewhere);
    assert_eq!(other.proxied().get("x-auth-status"), Some("signed-in"));
    let own = page_load_from(&mut gw, &url, &signed_in_cookie(PRIMARY, 0), PRIMARY);
    own.proxied();
    let public = format!("{PRIMARY}/pub/x");
    let p = page_load_from(&mut gw, &public, &signed_in_cookie(PRIMARY, 0), &from);
    p.proxied();
    let api = run(
        &mut gw,
        "GET",
        &url,
        &[
            ("cookie", &signed_in_cookie(PRIMARY, 0)),
            ("sec-fetch-dest", "empty"),
            ("referer", &from),
        ],
    );
    api.proxied();
}

#[test]
fn satellite_settings_are_checked_as_clerk_checks_them() {
    let cases: Vec<(HashMap<String, String>, &str)> = vec![
        (live_satellite(&[("DOMAIN", "")]), "DOMAIN"),
        (
            live_satellite(&[("DOMAIN", "https://sat.example.net")]),
            "DOMAIN",
        ),
        (live_satellite(&[("DOMAIN", "sat.example.net/x")]), "DOMAIN"),
        (dev_satellite(&[("SIGN_IN_URL", "")]), "SIGN_IN_URL"),
        (
            live_satellite(&[("SIGN_IN_URL", "/sign-in")]),
            "SIGN_IN_URL",
        ),
        (
            live_satellite(&[("SIGN_IN_URL", "https://satellite.example.net/sign-in")]),
            "SIGN_IN_URL",
        ),
        (live_satellite(&[("PUBLISHABLE_KEY", "")]), "IS_SATELLITE"),
        (
            live_satellite(&[("SATELLITE_DOMAINS", "https://other.example.org")]),
            "SATELLITE_DOMAINS",
        ),
        (
            live_satellite(&[("IS_SATELLITE", "yes please")]),
            "IS_SATELLITE",
        ),
        (
            primary(&live_key(), &[("SATELLITE_AUTO_SYNC", "true")]),
            "SATELLITE_AUTO_SYNC",
        ),
        (
            primary(
                &live_key(),
                &[("SATELLITE_DOMAINS", "http://satellite.example.net")],
            ),
            "SATELLITE_DOMAINS",
        ),
        (
            primary(
                &live_key(),
                &[("SATELLITE_DOMAINS", "https://sat.example.net/path")],
            ),
            "SATELLITE_DOMAINS",
        ),
        (
            primary(&live_key(), &[("PUBLISHABLE_KEY", "")]),
            "SATELLITE_DOMAINS",
        ),
    ];
    for (settings, setting) in cases {
        let found = problems(&settings);
        assert!(
            found.iter().any(|(s, _)| s == setting),
            "expected a {setting} problem, got {found:?}"
        );
    }
    // A production satellite needs no SIGN_IN_URL; Clerk's names work as well as edgegate's.
    assert!(problems(&live_satellite(&[("SIGN_IN_URL", "")])).is_empty());
    let clerk_names = with(
        base(SATELLITE),
        &[
            ("CLERK_PUBLISHABLE_KEY", &live_key()),
            ("CLERK_IS_SATELLITE", "true"),
            ("CLERK_DOMAIN", "satellite.example.net"),
            ("CLERK_SIGN_IN_URL", PRIMARY_SIGN_IN),
        ],
    );
    let mut gw = gateway(&clerk_names);
    let url = format!("{SATELLITE}/dashboard?__clerk_synced=false");
    handshake_at(
        &page_load(&mut gw, &url, ""),
        "https://clerk.satellite.example.net",
    );
    assert!(problems(&primary(&live_key(), &[])).is_empty());
}

#[test]
fn hostile_sync_parameters_never_fail_the_gateway() {
    let mut sat = gateway(&dev_satellite(&[("SATELLITE_AUTO_SYNC", "true")]));
    let mut prim = gateway(&primary(&test_key(), &[]));
    let values = [
        "false",
        "true",
        "",
        "%00",
        "false%0d%0aSet-Cookie:x=1",
        "FALSE",
        "\u{1F600}",
        "https://satellite.example.net/%0d%0a",
        "%zz",
        "a&__clerk_synced=false",
    ];
    for v in values {
        for (name, gw, origin) in [
            ("__clerk_synced", &mut sat, SATELLITE),
            ("__clerk_redirect_url", &mut prim, PRIMARY),
        ] {
            let url = format!("{origin}/dashboard?{name}={v}&{name}=false");
            for cookie in [
                "",
                "__client_uat=0; __clerk_redirect_count=x",
                "__session=a.b.c",
            ] {
                let done = page_load(gw, &url, cookie);
                if let common::drive::Outcome::Respond(p) = &done.outcome {
                    assert!(p.status < 500, "{url} {cookie}: {p:?}");
                    let to = p.header("location").unwrap_or_default();
                    assert!(!to.contains('\r') && !to.contains('\n'), "{to}");
                }
            }
        }
    }
}

/// `encodeURIComponent`.
fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
