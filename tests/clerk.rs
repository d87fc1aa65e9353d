//! Native tests of the `clerk` module (Clerk's browser protocol): publishable keys and cookie suffixes, Clerk's
//! suffixed-cookie choice, every cookie rule and reason, eligibility, the handshake redirect and
//! its loop guard, the login-CSRF state, handshake-token verification, and outage grace.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use edgegate::clerk::*;
use edgegate::keys::{parse_key_set, Alg, KeySet};
use edgegate::mint::{mint_token, session_claims, SigningKey};
use edgegate::token::{verify_signed_claims, SessionClaims, TokenError, Validation};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use url::Url;

const NOW_S: i64 = 1_800_000_000;
const NOW_MS: i64 = NOW_S * 1000;
const PK_LIVE: &str = "pk_live_Y2xlcmsuY2xlcmsuZGV2JA";
const PK_TEST: &str = "pk_test_Y2xlcmsuY2xlcmsuZGV2JA";

struct Fixture {
    key: SigningKey,
    other: SigningKey,
    keys: KeySet,
}

fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SigningKey::generate(Alg::Es256).expect("key");
        let other = SigningKey::generate(Alg::Es256).expect("key");
        let keys = parse_key_set(&key.public_pem().expect("pem")).expect("keys");
        Fixture { key, other, keys }
    })
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn pk(s: &str) -> PublishableKey {
    PublishableKey::parse(s).expect("publishable key")
}

/// An unsigned-looking JWT for the suffix rules (they never verify).
fn peek_token(claims: Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{p}.c2ln")
}

fn validation() -> &'static Validation {
    static V: OnceLock<Validation> = OnceLock::new();
    V.get_or_init(|| Validation::default().with_authorized_parties(["https://app.example.com"]))
}

fn session(iat: i64, exp: i64) -> SessionClaims {
    session_with(iat, exp, json!({}))
}

/// A verified session token's claims, `extra` merged over Clerk-shaped claims (null removes).
fn session_with(iat: i64, exp: i64, extra: Value) -> SessionClaims {
    let mut c = session_claims("user_1", Some("https://app.example.com"), iat, exp - iat);
    c.insert("nbf".into(), iat.into());
    for (k, v) in obj(extra) {
        if v.is_null() {
            c.remove(&k);
        } else {
            c.insert(k, v);
        }
    }
    let token = mint_token(&fx().key, &Map::new(), &c);
    verify_signed_claims(&token, &fx().keys, 8192).expect("claims")
}

// ---------------------------------------------------------------------------------------------
// Publishable key
// ---------------------------------------------------------------------------------------------

#[test]
fn clerk_suffix_vectors() {
    assert_eq!(cookie_suffix(PK_LIVE), "1Z8AzTQD");
    assert_eq!(cookie_suffix(PK_TEST), "QvfNY2dr");
    let live = pk(PK_LIVE);
    assert_eq!(live.instance, Instance::Production);
    assert_eq!(live.frontend_api, "clerk.clerk.dev");
    assert_eq!(live.cookie_suffix, "1Z8AzTQD");
    let test = pk(PK_TEST);
    assert_eq!(test.instance, Instance::Development);
    assert_eq!(test.cookie_suffix, "QvfNY2dr");
    assert_eq!(test.default_frontend_api_url(), "https://clerk.clerk.dev");
}

#[test]
fn publishable_key_good_and_bad() {
    let dev = format!(
        "pk_test_{}",
        STANDARD.encode("foo-bar-13.clerk.accounts.dev$")
    );
    assert_eq!(pk(&dev).frontend_api, "foo-bar-13.clerk.accounts.dev");
    // padded base64 is accepted too
    let padded = format!("pk_live_{}", STANDARD.encode("clerk.example.io$"));
    assert!(padded.ends_with('='));
    assert_eq!(pk(&padded).frontend_api, "clerk.example.io");

    let bad = [
        "".to_owned(),
        "pk_live_".to_owned(),
        "sk_live_Y2xlcmsuY2xlcmsuZGV2JA".to_owned(),
        "pk_prod_Y2xlcmsuY2xlcmsuZGV2JA".to_owned(),
        "Y2xlcmsuY2xlcmsuZGV2JA".to_owned(),
        "pk_live_Y2xlcmsuY2xlcmsuZGV2JA_extra".to_owned(),
        "pk_live_!!!notbase64".to_owned(),
        format!("pk_live_{}", STANDARD.encode("clerk.example.com")), // no $
        format!("pk_live_{}", STANDARD.encode("evil.com/path$")),
        format!("pk_live_{}", STANDARD.encode("evil.com:8443$")),
        format!("pk_live_{}", STANDARD.encode("user@evil.com$")),
        format!("pk_live_{}", STANDARD.encode("exa mple.com$")),
        format!("pk_live_{}", STANDARD.encode("localhost$")),
        format!("pk_live_{}", STANDARD.encode("127.0.0.1$")),
        format!("pk_live_{}", STANDARD.encode("-bad.example.com$")),
        format!("pk_live_{}", STANDARD.encode("a..example.com$")),
        format!("pk_live_{}", STANDARD.encode("clerk.example.com\r\n$")),
        format!("pk_live_{}", STANDARD.encode([0xff, 0xfe, b'$'])),
        format!("pk_live_{}", "A".repeat(5000)),
    ];
    for b in &bad {
        assert_eq!(PublishableKey::parse(b), None, "{b:?}");
    }
}

#[test]
fn frontend_api_base_and_probe_url() {
    let p = pk(PK_LIVE);
    assert_eq!(
        frontend_api_base(None, Some(&p)).as_deref(),
        Some("https://clerk.clerk.dev")
    );
    assert_eq!(frontend_api_base(None, None), None);
    let stub = edgegate::web_url::WebUrl::parse("http://127.0.0.1:8788/").unwrap();
    assert_eq!(
        frontend_api_base(Some(&stub), Some(&p)).as_deref(),
        Some("http://127.0.0.1:8788")
    );
    assert_eq!(
        frontend_api_base(Some(&stub), None).as_deref(),
        Some("http://127.0.0.1:8788")
    );
    let proxy = edgegate::web_url::WebUrl::parse("https://app.example.com/__clerk/?x=1#f").unwrap();
    assert_eq!(
        frontend_api_base(Some(&proxy), Some(&p)).as_deref(),
        Some("https://app.example.com/__clerk")
    );
    assert_eq!(
        probe_url("https://app.example.com/__clerk"),
        "https://app.example.com/__clerk/v1/environment"
    );
    assert_eq!(
        probe_url("https://clerk.clerk.dev/"),
        "https://clerk.clerk.dev/v1/environment"
    );
}

// ---------------------------------------------------------------------------------------------
// Cookies and the suffix choice
// ---------------------------------------------------------------------------------------------

const SFX_LIVE_SESSION: &str = "__session_1Z8AzTQD";
const SFX_LIVE_UAT: &str = "__client_uat_1Z8AzTQD";
const SFX_TEST_SESSION: &str = "__session_QvfNY2dr";
const SFX_TEST_UAT: &str = "__client_uat_QvfNY2dr";

fn own(iat: i64) -> String {
    peek_token(json!({"iss": "https://clerk.clerk.dev", "iat": iat, "exp": iat + 60}))
}

#[test]
fn suffix_rules() {
    let live = pk(PK_LIVE);
    let test = pk(PK_TEST);
    let suffixed = |list: &[(&str, &str)], p: &PublishableKey| {
        uses_suffixed_cookies(&pairs(list), Some(p), NOW_MS)
    };
    let s_old = own(NOW_S - 100);
    let s_new = own(NOW_S - 10);

    // no publishable key: never suffixed
    assert!(!uses_suffixed_cookies(
        &pairs(&[(SFX_LIVE_SESSION, &s_new), (SFX_LIVE_UAT, "1")]),
        None,
        NOW_MS
    ));
    // unsuffixed session without iss (or undecodable) → unsuffixed
    let no_iss = peek_token(json!({"iat": 1}));
    assert!(!suffixed(
        &[
            ("__session", &no_iss),
            (SFX_LIVE_SESSION, &s_new),
            (SFX_LIVE_UAT, "5")
        ],
        &live
    ));
    assert!(!suffixed(
        &[
            ("__session", "garbage"),
            (SFX_LIVE_SESSION, &s_new),
            (SFX_LIVE_UAT, "5")
        ],
        &live
    ));
    // Clerk's decoder reads the signature too: non-canonical trailing bits make the token
    // undecodable, as a bad header or payload does, so the choice is garbage's, not the token's
    let with_unsuffixed = |session: &str| {
        suffixed(
            &[
                ("__session", session),
                (SFX_LIVE_SESSION, &s_new),
                (SFX_LIVE_UAT, "5"),
            ],
            &live,
        )
    };
    let foreign = peek_token(json!({"iss": "https://clerk.other.dev", "iat": NOW_S}));
    let (signed, _) = foreign.rsplit_once('.').unwrap_or_default();
    assert!(
        with_unsuffixed(&foreign),
        "another instance's session: suffixed"
    );
    assert!(!with_unsuffixed(&format!("{signed}.c2l")), "undecodable");
    assert!(with_unsuffixed(&format!("{signed}.c2k")), "canonical");
    // an `iss` that is there but not a string (Clerk: truthy, so it has an issuer, and it belongs
    // to no instance) → suffixed, as Clerk falls back to the suffixed cookies
    for iss in [json!(5), json!({"a": 1}), json!(["x"]), json!(true)] {
        let odd = peek_token(json!({"iss": iss, "iat": NOW_S}));
        assert!(
            suffixed(
                &[
                    ("__session", &odd),
                    (SFX_LIVE_SESSION, &s_new),
                    (SFX_LIVE_UAT, "5")
                ],
                &live
            ),
            "{iss}"
        );
    }
    for falsy in [json!(0), json!(""), json!(null), json!(false)] {
        let odd = peek_token(json!({"iss": falsy, "iat": NOW_S}));
        assert!(
            !suffixed(
                &[
                    ("__session", &odd),
                    (SFX_LIVE_SESSION, &s_new),
                    (SFX_LIVE_UAT, "5")
                ],
                &live
            ),
            "{falsy}"
        );
    }
    // unsuffixed session from another instance → suffixed (even with no suffixed cookies)
    let foreign = peek_token(json!({"iss": "https://clerk.other.dev", "iat": NOW_S}));
    assert!(suffixed(&[("__session", &foreign)], &live));
    // no suffixed cookies → unsuffixed
    assert!(!suffixed(
        &[("__session", &s_new), ("__client_uat", "5")],
        &live
    ));
    assert!(!suffixed(&[], &live));
    // both signed in, unsuffixed newer → unsuffixed
    assert!(!suffixed(
        &[
            ("__session", &s_new),
            ("__client_uat", "5"),
            (SFX_LIVE_SESSION, &s_old),
            (SFX_LIVE_UAT, "5")
        ],
        &live
    ));
    // both signed in, suffixed newer → suffixed
    assert!(suffixed(
        &[
            ("__session", &s_old),
            ("__client_uat", "5"),
            (SFX_LIVE_SESSION, &s_new),
            (SFX_LIVE_UAT, "5")
        ],
        &live
    ));
    // suffixed uat 0 but unsuffixed not → unsuffixed
    assert!(!suffixed(
        &[("__client_uat", "5"), (SFX_LIVE_UAT, "0")],
        &live
    ));
    // suffixed signed in, unsuffixed signed out: production trusts suffixed
    let expired = own(NOW_S - 1000);
    let list = [
        ("__client_uat", "0"),
        (SFX_LIVE_UAT, "5"),
        (SFX_LIVE_SESSION, expired.as_str()),
    ];
    assert!(suffixed(&list, &live));
    // ... development falls back to unsuffixed when the suffixed session expired
    let list_dev = [
        ("__client_uat", "0"),
        (SFX_TEST_UAT, "5"),
        (SFX_TEST_SESSION, expired.as_str()),
    ];
    assert!(!suffixed(&list_dev, &test));
    let fresh = own(NOW_S);
    let list_dev_fresh = [
        ("__client_uat", "0"),
        (SFX_TEST_UAT, "5"),
        (SFX_TEST_SESSION, fresh.as_str()),
    ];
    assert!(suffixed(&list_dev_fresh, &test));
    // suffixed session without suffixed uat → unsuffixed
    assert!(!suffixed(&[(SFX_LIVE_SESSION, &s_new)], &live));
    // suffixed uat alone → suffixed
    assert!(suffixed(&[(SFX_LIVE_UAT, "5")], &live));
    assert!(suffixed(
        &[(SFX_LIVE_UAT, "5"), (SFX_LIVE_SESSION, &s_new)],
        &live
    ));
}

#[test]
fn clerk_cookies_read() {
    let live = pk(PK_LIVE);
    let s = own(NOW_S);
    // first occurrence wins; empty values are absent
    let list = pairs(&[
        ("__session", s.as_str()),
        ("__session", "second"),
        ("__client_uat", "1700000000abc"),
        ("__clerk_redirect_count", "2"),
        ("__clerk_handshake", "hs"),
        ("__edgegate_hs_state", "st"),
        ("__clerk_db_jwt", "db"),
    ]);
    let c = ClerkCookies::read(&list, Some(&live), NOW_MS);
    assert!(!c.suffixed);
    assert_eq!(c.session.as_deref(), Some(s.as_str()));
    assert_eq!(c.client_uat, 1_700_000_000);
    assert_eq!(c.redirect_count, 2);
    assert_eq!(c.handshake.as_deref(), Some("hs"));
    assert_eq!(c.state.as_deref(), Some("st"));
    assert_eq!(c.dev_browser.as_deref(), Some("db"));

    // suffixed chosen: the suffixed session and uat are read, the unsuffixed ignored
    let older = own(NOW_S - 30);
    let list = pairs(&[
        ("__session", older.as_str()),
        (SFX_LIVE_UAT, "42"),
        (SFX_LIVE_SESSION, s.as_str()),
        ("__clerk_redirect_count", "junk"),
    ]);
    let c = ClerkCookies::read(&list, Some(&live), NOW_MS);
    assert!(c.suffixed);
    assert_eq!(c.session.as_deref(), Some(s.as_str()));
    assert_eq!(c.client_uat, 42);
    assert_eq!(c.redirect_count, 0);

    // an empty first occurrence hides later ones (first wins, empty = absent, as in Clerk)
    let list = pairs(&[("__session", ""), ("__session", s.as_str())]);
    assert_eq!(ClerkCookies::read(&list, None, NOW_MS).session, None);

    for (raw, want) in [
        (None, 0),
        (Some(""), 0),
        (Some("0"), 0),
        (Some("-5"), -5),
        (Some("-1"), -1),
        (Some("-0"), 0),
        (Some("-"), 0),
        (Some("abc"), 0),
        (Some(" 17"), 17),
        (Some("+17"), 17),
        (Some("17.9e3"), 17),
        (Some("0x1A"), 26),
        (Some("0xg"), 0),
        (Some("99999999999999999999999"), i64::MAX),
        (Some("-99999999999999999999999"), -i64::MAX),
    ] {
        assert_eq!(parse_client_uat(raw), want, "{raw:?}");
    }
}

#[test]
fn query_parameters() {
    let q = Some("a=1&__clerk_handshake=tok%2Ben&__clerk_db_jwt=db&__edgegate%5Fhs_state=st&x");
    let p = HandshakeParams::from_query(q);
    assert_eq!(p.handshake.as_deref(), Some("tok+en"));
    assert_eq!(p.dev_browser.as_deref(), Some("db"));
    assert_eq!(p.state.as_deref(), Some("st"));
    assert_eq!(
        HandshakeParams::from_query(None),
        HandshakeParams::default()
    );
    assert_eq!(query_param(Some("a=&a=2"), "a"), None);
    assert_eq!(query_param(Some("a=1&a=2"), "a").as_deref(), Some("1"));
    assert_eq!(query_param(Some("&&=&a"), "a"), None);
}

// ---------------------------------------------------------------------------------------------
// Eligibility and the cookie rules
// ---------------------------------------------------------------------------------------------

#[test]
fn eligibility() {
    assert!(is_eligible("GET", Some("document"), None));
    assert!(is_eligible("GET", Some("iframe"), Some("application/json")));
    assert!(is_eligible(
        "GET",
        None,
        Some("text/html,application/xhtml+xml")
    ));
    assert!(is_eligible("GET", Some(""), Some("text/html")));
    assert!(!is_eligible("GET", Some("empty"), Some("text/html")));
    assert!(!is_eligible("GET", Some("script"), None));
    assert!(!is_eligible("GET", None, Some("application/json")));
    assert!(!is_eligible("GET", None, Some("*/*, text/html")));
    assert!(!is_eligible("GET", None, None));
    assert!(!is_eligible("POST", Some("document"), Some("text/html")));
    assert!(!is_eligible("HEAD", Some("document"), Some("text/html")));
    assert!(!is_eligible("get", Some("document"), None));
}

fn page<'a>(session: SessionOutcome<'a>, client_uat: i64) -> BrowserRequest<'a> {
    BrowserRequest {
        method: "GET",
        sec_fetch_dest: Some("document"),
        accept: Some("text/html"),
        is_public: false,
        instance: Some(Instance::Production),
        client_uat,
        dev_browser_present: false,
        dev_browser_in_query: false,
        redirect_count: 0,
        session,
        validation: validation(),
        outage_grace_seconds: 0,
        fapi_status: FapiStatus::Unknown,
        now_ms: NOW_MS,
    }
}

fn api(mut r: BrowserRequest<'_>) -> BrowserRequest<'_> {
    r.sec_fetch_dest = Some("empty");
    r.accept = Some("application/json");
    r
}

fn hs(reason: Reason) -> BrowserDecision {
    BrowserDecision::Handshake { reason }
}
fn out(reason: Reason) -> BrowserDecision {
    BrowserDecision::SignedOut { reason }
}

#[test]
fn cookie_rules_and_reasons() {
    let v = validation();
    let fresh = session(NOW_S - 10, NOW_S + 50);
    let expired = session(NOW_S - 100, NOW_S - 40);
    let future = session(NOW_S + 100, NOW_S + 160);
    let future_iat = session_with(NOW_S + 100, NOW_S + 160, json!({"nbf": null}));
    let wrong_azp = session_with(
        NOW_S - 10,
        NOW_S + 50,
        json!({"azp": "https://evil.example.com"}),
    );
    assert_eq!(fresh.check(v, NOW_MS), Ok(()));
    assert_eq!(expired.check(v, NOW_MS), Err(TokenError::Expired));
    assert_eq!(future.check(v, NOW_MS), Err(TokenError::NotActiveYet));
    assert_eq!(future_iat.check(v, NOW_MS), Err(TokenError::IatInFuture));
    let ok = SessionOutcome::Verified(&fresh);
    let exp = SessionOutcome::Verified(&expired);
    let nbf = SessionOutcome::Verified(&future);
    let iat_future = SessionOutcome::Verified(&future_iat);
    let azp = SessionOutcome::Verified(&wrong_azp);
    let forged = SessionOutcome::Unverified(TokenError::InvalidSignature);
    let uat = NOW_S - 1000;

    // signed out: no uat, no session → never a handshake, not even for a page load
    assert_eq!(
        browser_decision(&page(SessionOutcome::Missing, 0)),
        out(Reason::SessionTokenAndUatMissing)
    );
    // uat > 0 without a session
    assert_eq!(
        browser_decision(&page(SessionOutcome::Missing, uat)),
        hs(Reason::ClientUatWithoutSessionToken)
    );
    // a session without uat
    assert_eq!(
        browser_decision(&page(ok, 0)),
        hs(Reason::SessionTokenWithoutClientUat)
    );
    // session iat older than client_uat (signed out or switched elsewhere)
    assert_eq!(
        browser_decision(&page(ok, NOW_S - 5)),
        hs(Reason::SessionTokenIatBeforeClientUat)
    );
    // iat == client_uat is fine
    assert_eq!(
        browser_decision(&page(ok, NOW_S - 10)),
        BrowserDecision::SignedIn
    );
    assert_eq!(browser_decision(&page(ok, uat)), BrowserDecision::SignedIn);
    // expired / not yet valid / iat in the future
    assert_eq!(
        browser_decision(&page(exp, uat)),
        hs(Reason::SessionTokenExpired)
    );
    assert_eq!(
        browser_decision(&page(nbf, uat)),
        hs(Reason::SessionTokenNbf)
    );
    assert_eq!(
        browser_decision(&page(iat_future, uat)),
        hs(Reason::SessionTokenIatInTheFuture)
    );
    // failures no handshake can fix: signed out with the token's reason
    assert_eq!(
        browser_decision(&page(azp, uat)),
        out(Reason::Token(TokenError::InvalidAuthorizedParties))
    );
    assert_eq!(
        browser_decision(&page(forged, uat)),
        out(Reason::Token(TokenError::InvalidSignature))
    );

    // the same handshake cases, not eligible → signed out with the same reason
    for (session, uat, reason) in [
        (
            SessionOutcome::Missing,
            uat,
            Reason::ClientUatWithoutSessionToken,
        ),
        (ok, 0, Reason::SessionTokenWithoutClientUat),
        (ok, NOW_S - 5, Reason::SessionTokenIatBeforeClientUat),
        (exp, uat, Reason::SessionTokenExpired),
        (nbf, uat, Reason::SessionTokenNbf),
    ] {
        assert_eq!(browser_decision(&api(page(session, uat))), out(reason));
        let mut post = page(session, uat);
        post.method = "POST";
        assert_eq!(browser_decision(&post), out(reason));
        let mut public = page(session, uat);
        public.is_public = true;
        assert_eq!(browser_decision(&public), out(reason));
        let mut no_pk = page(session, uat);
        no_pk.instance = None;
        assert_eq!(browser_decision(&no_pk), out(reason));
    }
    // pending sessions are signed out (PENDING_SESSIONS=signed-out)
    let pending = session_with(NOW_S - 10, NOW_S + 50, json!({"sts": "pending"}));
    assert_eq!(
        browser_decision(&page(SessionOutcome::Verified(&pending), uat)),
        out(Reason::Token(TokenError::SessionPending))
    );
    // a valid session on an API call or a public route is signed in
    assert_eq!(
        browser_decision(&api(page(ok, uat))),
        BrowserDecision::SignedIn
    );
}

#[test]
fn redirect_loop_guard_in_decision() {
    let mut r = page(SessionOutcome::Missing, NOW_S);
    for count in 0..3 {
        r.redirect_count = count;
        assert_eq!(
            browser_decision(&r),
            hs(Reason::ClientUatWithoutSessionToken)
        );
    }
    r.redirect_count = 3;
    assert_eq!(browser_decision(&r), out(Reason::RedirectLoop));
    r.redirect_count = u32::MAX;
    assert_eq!(browser_decision(&r), out(Reason::RedirectLoop));
    assert_eq!(Reason::RedirectLoop.code(), "redirect-loop");
}

#[test]
fn a_template_is_refused_before_the_client_uat_comparison_as_in_clerk() {
    let mut template = session(NOW_S - 100, NOW_S + 50);
    template.template = true;
    let r = page(SessionOutcome::Verified(&template), NOW_S - 10);
    assert_eq!(
        browser_decision(&r),
        out(Reason::Token(TokenError::TypeMismatch)),
        "iat before __client_uat, but the category decides first"
    );
}

#[test]
fn a_negative_client_uat_is_a_client_as_clerks_parse_int_reads_it() {
    let fresh = session(NOW_S - 10, NOW_S + 50);
    let r = page(SessionOutcome::Verified(&fresh), -1);
    assert_eq!(browser_decision(&r), BrowserDecision::SignedIn);
    let r = page(SessionOutcome::Missing, -1);
    assert_eq!(
        browser_decision(&r),
        hs(Reason::ClientUatWithoutSessionToken)
    );
}

#[test]
fn development_instance_reasons() {
    let mut r = page(SessionOutcome::Missing, NOW_S);
    r.instance = Some(Instance::Development);
    // a handshake without a dev-browser token says so
    assert_eq!(browser_decision(&r), hs(Reason::DevBrowserMissing));
    r.dev_browser_present = true;
    assert_eq!(
        browser_decision(&r),
        hs(Reason::ClientUatWithoutSessionToken)
    );
    // without a dev-browser token, even a visitor with no cookies is handshaken (as Clerk), and
    // a verified session does not count: the dev browser is checked first
    let mut anon = page(SessionOutcome::Missing, 0);
    anon.instance = Some(Instance::Development);
    assert_eq!(browser_decision(&anon), hs(Reason::DevBrowserMissing));
    let claims = session(NOW_S - 10, NOW_S + 50);
    let mut signed_in = page(SessionOutcome::Verified(&claims), NOW_S - 100);
    signed_in.instance = Some(Instance::Development);
    assert_eq!(browser_decision(&signed_in), hs(Reason::DevBrowserMissing));
    signed_in.method = "POST";
    assert_eq!(browser_decision(&signed_in), out(Reason::DevBrowserMissing));
    signed_in.dev_browser_present = true;
    assert_eq!(browser_decision(&signed_in), BrowserDecision::SignedIn);
    // with one, a visitor with no cookies stays signed out
    anon.dev_browser_present = true;
    assert_eq!(
        browser_decision(&anon),
        out(Reason::SessionTokenAndUatMissing)
    );
    anon.dev_browser_present = false;
    // a dev-browser token in the query (back from the Account Portal) syncs
    anon.dev_browser_in_query = true;
    anon.dev_browser_present = true;
    assert_eq!(browser_decision(&anon), hs(Reason::DevBrowserSync));
    // ... but not on production instances
    anon.instance = Some(Instance::Production);
    assert_eq!(
        browser_decision(&anon),
        out(Reason::SessionTokenAndUatMissing)
    );
    assert_eq!(
        dev_browser_for_handshake(Instance::Development, Some("q"), Some("c")),
        Some("q")
    );
    assert_eq!(
        dev_browser_for_handshake(Instance::Development, None, Some("c")),
        Some("c")
    );
    assert_eq!(
        dev_browser_for_handshake(Instance::Production, Some("q"), Some("c")),
        None
    );
}

#[test]
fn reason_codes_are_clerks() {
    for (r, code) in [
        (
            Reason::SessionTokenAndUatMissing,
            "session-token-and-uat-missing",
        ),
        (
            Reason::ClientUatWithoutSessionToken,
            "client-uat-but-no-session-token",
        ),
        (
            Reason::SessionTokenWithoutClientUat,
            "session-token-but-no-client-uat",
        ),
        (
            Reason::SessionTokenIatBeforeClientUat,
            "session-token-iat-before-client-uat",
        ),
        (Reason::SessionTokenExpired, "session-token-expired"),
        (Reason::SessionTokenNbf, "session-token-nbf"),
        (
            Reason::SessionTokenIatInTheFuture,
            "session-token-iat-in-the-future",
        ),
        (Reason::DevBrowserMissing, "dev-browser-missing"),
        (Reason::DevBrowserSync, "dev-browser-sync"),
        (Reason::HandshakeStateMismatch, "handshake-state-mismatch"),
        (Reason::Token(TokenError::Expired), "token-expired"),
    ] {
        assert_eq!(r.code(), code);
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake redirect
// ---------------------------------------------------------------------------------------------

const RANDOM: [u8; 32] = [7u8; 32];

fn query_of(location: &str) -> Vec<(String, String)> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn handshake_redirect_plan() {
    let public = "https://app.example.com/dash/x?b=%20c&__clerk_db_jwt=old&__dev_session=legacy&__clerk_handshake=zz&a=1#frag";
    let plan = handshake_redirect(
        "https://clerk.example.com",
        public,
        true,
        Reason::SessionTokenExpired,
        None,
        Some("sess.tok.en"),
        &RANDOM,
        0,
    )
    .unwrap();
    assert_eq!(plan.status, 307);
    assert!(plan
        .location
        .starts_with("https://clerk.example.com/v1/client/handshake?"));
    let state = state_value(&RANDOM);
    let q = query_of(&plan.location);
    let want_redirect =
        format!("https://app.example.com/dash/x?b=%20c&a=1&__edgegate_hs_state={state}");
    assert_eq!(
        q,
        vec![
            ("redirect_url".to_owned(), want_redirect),
            (
                "__clerk_api_version".to_owned(),
                CLERK_API_VERSION.to_owned()
            ),
            ("suffixed_cookies".to_owned(), "true".to_owned()),
            (
                "__clerk_hs_reason".to_owned(),
                "session-token-expired".to_owned()
            ),
            ("__session".to_owned(), "sess.tok.en".to_owned()),
        ]
    );
    assert!(!plan.location.contains("format"));
    assert!(!plan.location.contains("nonce"));
    assert!(plan
        .headers
        .contains(&("Cache-Control", "no-store".to_owned())));
    assert!(plan
        .headers
        .contains(&("X-Edgegate-Auth-Status", "handshake".to_owned())));
    assert_eq!(
        plan.set_cookies,
        vec![
            format!(
                "__edgegate_hs_state={state}; Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Lax"
            ),
            "__clerk_redirect_count=1; Path=/; Max-Age=3; HttpOnly; Secure; SameSite=Lax"
                .to_owned(),
        ]
    );
    assert_eq!(state.len(), 43);
}

#[test]
fn handshake_redirect_dev_and_proxy() {
    let plan = handshake_redirect(
        "http://127.0.0.1:8788/__clerk/",
        "http://localhost:8787/",
        false,
        Reason::DevBrowserMissing,
        Some("dvb_123"),
        None,
        &[1u8; 32],
        2,
    )
    .unwrap();
    assert!(plan
        .location
        .starts_with("http://127.0.0.1:8788/__clerk/v1/client/handshake?"));
    let q = query_of(&plan.location);
    assert!(q.contains(&("__clerk_db_jwt".to_owned(), "dvb_123".to_owned())));
    assert!(q.contains(&("suffixed_cookies".to_owned(), "false".to_owned())));
    assert!(q.contains(&(
        "redirect_url".to_owned(),
        format!(
            "http://localhost:8787/?__edgegate_hs_state={}",
            state_value(&[1u8; 32])
        )
    )));
    assert!(plan
        .set_cookies
        .iter()
        .any(|c| c.starts_with("__clerk_redirect_count=3;")));
}

#[test]
fn handshake_redirect_guard_and_bad_urls() {
    let go = |count, fapi: &str, public: &str| {
        handshake_redirect(
            fapi,
            public,
            false,
            Reason::SessionTokenExpired,
            None,
            None,
            &RANDOM,
            count,
        )
    };
    assert!(go(2, "https://f.example.com", "https://a.example.com/").is_ok());
    assert_eq!(
        go(3, "https://f.example.com", "https://a.example.com/"),
        Err(RedirectError::RedirectLoop)
    );
    assert_eq!(
        go(0, "https://f.example.com", "/relative"),
        Err(RedirectError::BadUrl)
    );
    assert_eq!(
        go(0, "javascript:alert(1)", "https://a.example.com/"),
        Err(RedirectError::BadUrl)
    );
    assert_eq!(go(0, "", ""), Err(RedirectError::BadUrl));
}

// ---------------------------------------------------------------------------------------------
// State and handshake resolution
// ---------------------------------------------------------------------------------------------

#[test]
fn state_check() {
    assert!(state_matches(Some("abc"), Some("abc")));
    assert!(!state_matches(Some("abc"), Some("abd")));
    assert!(!state_matches(Some("abc"), Some("abcd")));
    assert!(!state_matches(None, Some("abc")));
    assert!(!state_matches(Some("abc"), None));
    assert!(!state_matches(None, None));
    assert!(!state_matches(Some(""), Some("")));
    assert!(constant_time_eq(b"", b""));
    assert!(!constant_time_eq(b"a", b"b"));
}

fn handshake_token(key: &SigningKey, header: Value, claims: Value) -> String {
    mint_token(key, &obj(header), &obj(claims))
}

fn good_claims() -> Value {
    json!({
        "iat": NOW_S - 2,
        "handshake": [
            "__session=eyJ.new.token; Path=/; Secure; SameSite=Lax",
            "__client_uat=1800000000; Path=/; Max-Age=315360000; SameSite=Lax",
            "__session_1Z8AzTQD=eyJ.new.token; Path=/",
            "__clerk_db_jwt=dvb; Path=/",
            "__refresh_abc=r; Path=/; HttpOnly",
        ]
    })
}

const PUBLIC: &str =
    "https://app.example.com/dash?x=1&__clerk_handshake=T&__clerk_help=1&__clerk_db_jwt=d&__edgegate_hs_state=S";

fn resolve_with(req: &HandshakeRequest<'_>) -> HandshakeResolution {
    let keys = &fx().keys;
    // The pipeline's sequence, with RustCrypto checking each candidate.
    let (mut candidates, public) = match begin_handshake(req, keys, 8192) {
        Ok(started) => started,
        Err(refused) => return refused,
    };
    loop {
        let check = candidates.check();
        let ok = keys.get(check.key_index).is_some_and(|k| {
            edgegate::crypto::verify_signature(
                &k.material,
                check.alg,
                check.message,
                check.signature,
            )
        });
        if ok {
            return finish_handshake(candidates.into_prepared(), &public, 5000, NOW_MS);
        }
        match candidates.next(keys) {
            Some(next) => candidates = next,
            None => {
                return handshake_refusal(Reason::HandshakeInvalid(HandshakeError::Token(
                    TokenError::InvalidSignature,
                )))
            }
        }
    }
}

fn resolve(token: &str, cookie: Option<&str>, param: Option<&str>) -> HandshakeResolution {
    resolve_with(&HandshakeRequest {
        public_url: PUBLIC,
        token,
        state_cookie: cookie,
        state_param: param,
    })
}

fn refused(r: &HandshakeResolution) -> &'static str {
    match r {
        HandshakeResolution::Refused {
            reason,
            clear_cookies,
        } => {
            assert!(clear_cookies
                .iter()
                .any(|c| c.starts_with("__clerk_handshake=; ")));
            assert!(clear_cookies
                .iter()
                .any(|c| c.starts_with("__edgegate_hs_state=; ")));
            assert!(clear_cookies.iter().all(|c| c.contains("Max-Age=0")));
            reason.code()
        }
        HandshakeResolution::Redirect { .. } => panic!("expected a refusal"),
    }
}

#[test]
fn handshake_resolution_good() {
    let token = handshake_token(&fx().key, json!({}), good_claims());
    let r = resolve(&token, Some("S"), Some("S"));
    let HandshakeResolution::Redirect { plan, dropped } = r else {
        panic!("expected a redirect: {r:?}");
    };
    assert!(dropped.is_empty());
    assert_eq!(plan.status, 307);
    assert_eq!(plan.location, "https://app.example.com/dash?x=1");
    assert!(plan
        .headers
        .contains(&("Cache-Control", "no-store".to_owned())));
    assert_eq!(plan.set_cookies.len(), 7);
    assert_eq!(
        plan.set_cookies.first().map(String::as_str),
        Some("__session=eyJ.new.token; Path=/; Secure; SameSite=Lax")
    );
    assert!(plan.set_cookies[5].starts_with("__clerk_handshake=; Path=/; Max-Age=0"));
    assert!(plan.set_cookies[6].starts_with("__edgegate_hs_state=; Path=/; Max-Age=0"));
    // session category headers are fine
    let token = handshake_token(
        &fx().key,
        json!({"cat": "cl_B7d4PD111AAA", "kid": "ins_1"}),
        good_claims(),
    );
    assert!(matches!(
        resolve(&token, Some("S"), Some("S")),
        HandshakeResolution::Redirect { .. }
    ));
}

#[test]
fn handshake_state_missing_or_mismatched() {
    let token = handshake_token(&fx().key, json!({}), good_claims());
    for (cookie, param) in [
        (None, Some("S")),
        (Some("S"), None),
        (None, None),
        (Some("S"), Some("T")),
        (Some(""), Some("")),
    ] {
        assert_eq!(
            refused(&resolve(&token, cookie, param)),
            "handshake-state-mismatch",
            "{cookie:?} {param:?}"
        );
    }
    // the state is checked before the token: even garbage is a state mismatch
    assert_eq!(
        refused(&resolve("garbage", Some("S"), None)),
        "handshake-state-mismatch"
    );
}

#[test]
fn handshake_token_refusals() {
    let wrong_key = handshake_token(&fx().other, json!({}), good_claims());
    assert_eq!(
        refused(&resolve(&wrong_key, Some("S"), Some("S"))),
        "handshake-token-invalid-signature"
    );
    let template = handshake_token(&fx().key, json!({"cat": "cl_B7d4PD222AAA"}), good_claims());
    assert_eq!(
        refused(&resolve(&template, Some("S"), Some("S"))),
        "handshake-token-type-mismatch"
    );
    let machine = handshake_token(&fx().key, json!({"cat": "cl_B7d4PD333AAA"}), good_claims());
    assert_eq!(
        refused(&resolve(&machine, Some("S"), Some("S"))),
        "handshake-token-type-mismatch"
    );
    let bad_typ = handshake_token(&fx().key, json!({"typ": "at+jwt"}), good_claims());
    assert_eq!(
        refused(&resolve(&bad_typ, Some("S"), Some("S"))),
        "handshake-token-type-mismatch"
    );
    assert_eq!(
        refused(&resolve("a.b.c", Some("S"), Some("S"))),
        "handshake-token-invalid"
    );

    let mut stale = good_claims();
    stale["iat"] = json!(NOW_S - 301);
    let stale = handshake_token(&fx().key, json!({}), stale);
    assert_eq!(
        refused(&resolve(&stale, Some("S"), Some("S"))),
        "handshake-token-stale"
    );
    let mut edge = good_claims();
    edge["iat"] = json!(NOW_S - 300);
    let edge = handshake_token(&fx().key, json!({}), edge);
    assert!(matches!(
        resolve(&edge, Some("S"), Some("S")),
        HandshakeResolution::Redirect { .. }
    ));
    let mut future = good_claims();
    future["iat"] = json!(NOW_S + 60);
    let future = handshake_token(&fx().key, json!({}), future);
    assert_eq!(
        refused(&resolve(&future, Some("S"), Some("S"))),
        "handshake-token-iat-in-the-future"
    );
    let mut expired = good_claims();
    expired["exp"] = json!(NOW_S - 60);
    let expired = handshake_token(&fx().key, json!({}), expired);
    assert_eq!(
        refused(&resolve(&expired, Some("S"), Some("S"))),
        "handshake-token-expired"
    );
    for claims in [
        json!({"iat": NOW_S}),
        json!({"iat": NOW_S, "handshake": "__session=x"}),
        json!({"iat": NOW_S, "handshake": [1, 2]}),
        json!({"iat": "soon", "handshake": []}),
        json!({"iat": 1.5, "handshake": []}),
    ] {
        let t = handshake_token(&fx().key, json!({}), claims.clone());
        assert_eq!(
            refused(&resolve(&t, Some("S"), Some("S"))),
            "handshake-token-invalid-claims",
            "{claims}"
        );
    }
    // no iat at all is accepted (Clerk's handshake tokens need not carry one)
    let no_iat = handshake_token(&fx().key, json!({}), json!({"handshake": ["__session=x"]}));
    assert!(matches!(
        resolve(&no_iat, Some("S"), Some("S")),
        HandshakeResolution::Redirect { .. }
    ));
}

#[test]
fn handshake_foreign_cookies_dropped() {
    let claims = json!({
        "iat": NOW_S,
        "handshake": [
            "__session=ok; Path=/",
            "sessionid=attacker; Path=/",
            "__Host-app=x; Path=/; Secure",
            "_session=x",
            "__clerk=x",
            "__client_uat=1\r\nSet-Cookie: evil=1",
            "no equals sign",
            "=empty-name",
            format!("__session=x{}", "a".repeat(5000)),
            "__clerk_db_jwt=dvb; Path=/",
        ]
    });
    let t = handshake_token(&fx().key, json!({}), claims);
    let HandshakeResolution::Redirect { plan, dropped } = resolve(&t, Some("S"), Some("S")) else {
        panic!("expected a redirect");
    };
    let kept: Vec<&str> = plan
        .set_cookies
        .iter()
        .map(String::as_str)
        .filter(|c| !c.contains("Max-Age=0"))
        .collect();
    assert_eq!(
        kept,
        vec!["__session=ok; Path=/", "__clerk_db_jwt=dvb; Path=/"]
    );
    let reasons: Vec<(Option<&str>, &str)> = dropped
        .iter()
        .map(|d| (d.name.as_deref(), d.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (Some("sessionid"), "foreign-cookie"),
            (Some("__Host-app"), "foreign-cookie"),
            (Some("_session"), "foreign-cookie"),
            (Some("__clerk"), "foreign-cookie"),
            (Some("__client_uat"), "control-characters"),
            (None, "malformed"),
            (None, "malformed"),
            (Some("__session"), "too-long"),
        ]
    );
    assert!(is_clerk_cookie_name("__session_1Z8AzTQD"));
    assert!(is_clerk_cookie_name("__client_uat_QvfNY2dr"));
    assert!(is_clerk_cookie_name("__clerk_redirect_count"));
    assert!(is_clerk_cookie_name("__refresh_x"));
    assert!(!is_clerk_cookie_name("__Secure-session"));
}

#[test]
fn handshake_cookie_count_capped() {
    let many: Vec<String> = (0..40).map(|i| format!("__clerk_c{i}=v")).collect();
    let t = handshake_token(
        &fx().key,
        json!({}),
        json!({"iat": NOW_S, "handshake": many}),
    );
    let HandshakeResolution::Redirect { plan, dropped } = resolve(&t, Some("S"), Some("S")) else {
        panic!("expected a redirect");
    };
    assert_eq!(plan.set_cookies.len(), MAX_HANDSHAKE_COOKIES + 2);
    assert_eq!(dropped.len(), 8);
    assert!(dropped.iter().all(|d| d.reason == "too-many"));
}

// ---------------------------------------------------------------------------------------------
// Outage grace
// ---------------------------------------------------------------------------------------------

#[test]
fn grace_decisions() {
    let v = validation();
    let expired = session(NOW_S - 100, NOW_S - 40);
    assert!(expired.only_expired(v, NOW_MS));
    let uat = Some(NOW_S - 1000);
    let g = |grace, uat, now, fapi| grace_applies(&expired, v, grace, uat, now, fapi);
    let until = (NOW_S - 40 + 300) * 1000;

    assert_eq!(
        g(300, uat, NOW_MS, FapiStatus::Unknown),
        GraceDecision::NeedOutageCheck
    );
    assert_eq!(
        g(300, uat, NOW_MS, FapiStatus::Down),
        GraceDecision::Accept { until_ms: until }
    );
    assert_eq!(g(300, uat, NOW_MS, FapiStatus::Up), GraceDecision::No);
    // off
    assert_eq!(g(0, uat, NOW_MS, FapiStatus::Down), GraceDecision::No);
    // beyond exp + grace
    assert_eq!(g(300, uat, until, FapiStatus::Down), GraceDecision::No);
    assert_eq!(g(30, uat, NOW_MS, FapiStatus::Down), GraceDecision::No);
    // header tokens: no client_uat to consult
    assert_eq!(
        g(300, None, NOW_MS, FapiStatus::Down),
        GraceDecision::Accept { until_ms: until }
    );
    // cookie sessions: signed out (uat 0) or a later sign-in/out (uat after iat) → no grace
    assert_eq!(g(300, Some(0), NOW_MS, FapiStatus::Down), GraceDecision::No);
    assert_eq!(
        g(300, Some(NOW_S - 50), NOW_MS, FapiStatus::Down),
        GraceDecision::No
    );
    // expired AND failing another check (checked after expiry by `check`) → no grace
    let mut pinned = v.clone();
    pinned.issuer = Some("https://clerk.other.dev".into());
    pinned.audience = Some(vec!["api".into()]);
    for (claims, validation) in [
        (
            session_with(
                NOW_S - 100,
                NOW_S - 40,
                json!({"azp": "https://evil.example.com"}),
            ),
            v,
        ),
        (
            session_with(NOW_S - 100, NOW_S - 40, json!({"sts": "pending"})),
            v,
        ),
        (session(NOW_S - 100, NOW_S - 40), &pinned),
        // nbf after exp: never valid
        (
            session_with(NOW_S - 100, NOW_S - 40, json!({"nbf": NOW_S - 30})),
            v,
        ),
    ] {
        assert!(!claims.only_expired(validation, NOW_MS));
        assert_eq!(
            grace_applies(&claims, validation, 300, uat, NOW_MS, FapiStatus::Down),
            GraceDecision::No
        );
    }
    // a valid or not-yet-valid token gets no grace
    let fresh = session(NOW_S - 10, NOW_S + 50);
    assert_eq!(
        grace_applies(&fresh, v, 300, uat, NOW_MS, FapiStatus::Down),
        GraceDecision::No
    );
    let future = session(NOW_S + 100, NOW_S + 160);
    assert_eq!(
        grace_applies(&future, v, 300, uat, NOW_MS, FapiStatus::Down),
        GraceDecision::No
    );
}

#[test]
fn grace_in_the_decision() {
    let expired = session(NOW_S - 100, NOW_S - 40);
    let outcome = SessionOutcome::Verified(&expired);
    let mut r = page(outcome, NOW_S - 1000);
    r.outage_grace_seconds = 300;
    assert_eq!(browser_decision(&r), BrowserDecision::NeedOutageCheck);
    r.fapi_status = FapiStatus::Down;
    assert_eq!(
        browser_decision(&r),
        BrowserDecision::Grace {
            until_ms: (NOW_S + 260) * 1000
        }
    );
    // API calls get grace too (they would otherwise be signed out)
    assert_eq!(
        browser_decision(&api(r)),
        BrowserDecision::Grace {
            until_ms: (NOW_S + 260) * 1000
        }
    );
    r.fapi_status = FapiStatus::Up;
    assert_eq!(browser_decision(&r), hs(Reason::SessionTokenExpired));
    assert_eq!(browser_decision(&api(r)), out(Reason::SessionTokenExpired));
    // a later sign-out wins over grace
    r.fapi_status = FapiStatus::Down;
    r.client_uat = NOW_S - 50;
    assert_eq!(
        browser_decision(&r),
        hs(Reason::SessionTokenIatBeforeClientUat)
    );
}

#[test]
fn outage_probe() {
    assert_eq!(classify_probe(ProbeResult::ConnectFailed), FapiStatus::Down);
    assert_eq!(classify_probe(ProbeResult::TimedOut), FapiStatus::Down);
    for s in [500, 502, 503, 504, 599] {
        assert_eq!(classify_probe(ProbeResult::Status(s)), FapiStatus::Down);
    }
    for s in [200, 204, 301, 401, 404, 429, 499, 600] {
        assert_eq!(classify_probe(ProbeResult::Status(s)), FapiStatus::Up);
    }
    let mut p = OutageProbe::new();
    assert_eq!(p.status(NOW_MS), FapiStatus::Unknown);
    assert_eq!(p.record(ProbeResult::Status(503), NOW_MS), FapiStatus::Down);
    assert_eq!(p.status(NOW_MS), FapiStatus::Down);
    assert_eq!(p.status(NOW_MS + 29_999), FapiStatus::Down);
    assert_eq!(p.status(NOW_MS + 30_000), FapiStatus::Unknown);
    assert_eq!(p.status(NOW_MS - 1), FapiStatus::Unknown);
    assert_eq!(
        p.record(ProbeResult::Status(200), NOW_MS + 40_000),
        FapiStatus::Up
    );
    assert_eq!(p.status(NOW_MS + 40_001), FapiStatus::Up);
    assert_eq!(PROBE_TIMEOUT_MS, 1500);
}

#[test]
fn hostile_inputs_never_panic() {
    let live = pk(PK_LIVE);
    let junk = [
        "", ".", "..", "...", "a.b.c.d", "\u{0}", "é.é.é", "%%%", "=", "&&&", "a=b=c",
    ];
    for j in junk {
        let list = pairs(&[
            ("__session", j),
            ("__client_uat", j),
            (SFX_LIVE_SESSION, j),
            (SFX_LIVE_UAT, j),
            ("__clerk_redirect_count", j),
        ]);
        let _ = ClerkCookies::read(&list, Some(&live), NOW_MS);
        let _ = HandshakeParams::from_query(Some(j));
        let _ = PublishableKey::parse(j);
        let _ = handshake_redirect(
            j,
            j,
            true,
            Reason::SessionTokenExpired,
            Some(j),
            Some(j),
            &RANDOM,
            0,
        );
        let _ = resolve(j, Some(j), Some(j));
    }
    let _ = ClerkCookies::read::<&str, &str>(&[], Some(&live), i64::MIN);
    let _ = ClerkCookies::read::<&str, &str>(&[], Some(&live), i64::MAX);
    let expired = session(NOW_S - 100, NOW_S - 40);
    let _ = grace_applies(
        &expired,
        validation(),
        i64::MAX,
        Some(i64::MAX),
        i64::MIN,
        FapiStatus::Down,
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_inputs_never_panic(a in ".{0,200}", b in ".{0,200}", c in "[ -~]{0,300}") {
            let live = pk(PK_LIVE);
            let _ = PublishableKey::parse(&a);
            let _ = PublishableKey::parse(&format!("pk_test_{a}"));
            let list = vec![
                ("__session".to_owned(), a.clone()),
                ("__client_uat".to_owned(), b.clone()),
                (SFX_LIVE_SESSION.to_owned(), c.clone()),
                (SFX_LIVE_UAT.to_owned(), b.clone()),
                ("__clerk_redirect_count".to_owned(), a.clone()),
            ];
            let _ = ClerkCookies::read(&list, Some(&live), NOW_MS);
            let _ = HandshakeParams::from_query(Some(&c));
            let _ = handshake_redirect(&a, &format!("https://a.example.com/?{c}"), true,
                Reason::SessionTokenExpired, Some(&b), Some(&c), &RANDOM, 0);
            let _ = resolve(&c, Some("S"), Some("S"));
            let _ = resolve_with(
                &HandshakeRequest { public_url: &a, token: &c, state_cookie: Some(&b), state_param: Some(&b) });
        }

        #[test]
        fn arbitrary_handshake_claims_never_panic(items in proptest::collection::vec(".{0,80}", 0..40), iat in any::<i64>()) {
            let payload = obj(json!({"iat": iat, "handshake": items}));
            if let Ok((keep, _)) = handshake_cookies(&payload, 5000, NOW_MS) {
                for k in keep {
                    prop_assert!(!k.bytes().any(|b| b.is_ascii_control()));
                    prop_assert!(is_clerk_cookie_name(k.split('=').next().unwrap_or("").trim()));
                }
            }
        }
    }
}

#[test]
fn reads_the_gateway_cookie_jar() {
    let jar = edgegate::token_source::CookieJar::parse("__client_uat=5; __session=x; __session=y");
    let list: Vec<(&str, &str)> = jar.iter().collect();
    let c = ClerkCookies::read(&list, None, NOW_MS);
    assert_eq!(c.client_uat, 5);
    assert_eq!(c.session.as_deref(), Some("x"));
}
