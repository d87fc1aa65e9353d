//! The outbound header plan, the origin assertion, the origin URL join and the response pass.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgegate::auth::Auth;
use edgegate::forwarded::PublicUrl;
use edgegate::http::{apply_edits, HeaderList};
use edgegate::proxy::{
    assertion, claim_header_value, header_value, is_identity_header, is_websocket_upgrade,
    request_edits, request_edits_kept, request_id, response_edits, rewrite_location,
    strip_token_params, valid_claim_name, HeaderPattern, Origin, OriginError, ProxySettings,
    RequestFacts, DEFAULT_STRIPPED_HEADERS,
};
use edgegate::response::AuthStatus;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sha2::Sha256;

fn hl(pairs: &[(&str, &str)]) -> HeaderList {
    pairs.iter().copied().collect()
}

fn auth() -> Auth {
    let mut claims = Map::new();
    claims.insert("email".into(), json!("ada@example.com"));
    claims.insert("name".into(), json!("Adá\r\nX-Auth-User-Id: admin"));
    claims.insert("tier".into(), json!({"level": 3}));
    claims.insert("beta".into(), json!(true));
    claims.insert("quoted".into(), json!("\"hi\""));
    Auth {
        user_id: "user_123".into(),
        session_id: Some("sess_456".into()),
        session_status: Some("active".into()),
        org_id: Some("org_789".into()),
        org_role: Some("org:admin".into()),
        org_slug: Some("acme".into()),
        org_permissions: vec!["org:billing:manage".into(), "org:sys:read".into()],
        actor: Some(json!({"sub": "user_impersonator", "iss": "https://x"})),
        factor_verification_age: None,
        expires_at: 1_700_000_060,
        issued_at: Some(1_700_000_000),
        claims,
        machine: None,
    }
}

fn public() -> PublicUrl {
    PublicUrl::from_request_url("https://app.example.com/x").expect("public")
}

fn settings() -> ProxySettings {
    ProxySettings {
        forward_token: true,
        strip_request_headers: vec![],
        forward_claims: vec![],
        assertion_secret: None,
        assertion_audience: "https://origin.internal".into(),
    }
}

fn plan(headers: &HeaderList, auth: Option<&Auth>, s: &ProxySettings) -> HeaderList {
    plan_as(headers, auth, s, false)
}

/// The headers the origin gets; `preflight` as the pipeline found it.
fn plan_as(
    headers: &HeaderList,
    auth: Option<&Auth>,
    s: &ProxySettings,
    preflight: bool,
) -> HeaderList {
    let public = public();
    let facts = RequestFacts {
        method: "GET",
        headers,
        auth,
        public_url: &public,
        client_ip: Some("203.0.113.7"),
        request_id: "8f1c2a3b4c5d6e7f-AMS",
        path_and_query: "/x?y=1",
        grace: false,
        signed_out_reason: None,
        now: 1_700_000_010,
    };
    apply_edits(facts.headers, &request_edits(&facts, s, preflight))
}

#[test]
fn identity_headers_kept_with_the_token_are_the_ones_rendered_afresh() {
    // The cache entry renders them on the first request and every later request copies them:
    // both must give exactly what rendering each time gives, claims and odd values included.
    let inbound = hl(&[("accept", "*/*"), ("cookie", "a=1")]);
    let mut s = settings();
    s.forward_claims = vec!["email".into(), "name".into(), "tier".into(), "beta".into()];
    let a = auth();
    let public = public();
    let facts = RequestFacts {
        method: "GET",
        headers: &inbound,
        auth: Some(&a),
        public_url: &public,
        client_ip: Some("203.0.113.7"),
        request_id: "8f1c2a3b4c5d6e7f-AMS",
        path_and_query: "/x",
        grace: true,
        signed_out_reason: None,
        now: 1_700_000_010,
    };
    let fresh = request_edits(&facts, &s, false);
    let kept = edgegate::http::RenderedHeaders::default();
    for _ in 0..2 {
        assert_eq!(request_edits_kept(&facts, &s, false, Some(&kept)), fresh);
    }
    assert!(fresh.len() > 10, "{fresh:?}");
}

fn names(h: &HeaderList) -> Vec<String> {
    h.iter().map(|(n, _)| n.to_ascii_lowercase()).collect()
}

#[test]
fn spoofed_identity_header_is_stripped_in_any_spelling() {
    let inbound = hl(&[
        ("X-Auth-User-Id", "user_admin"),
        ("x-auth-org-role", "org:admin"),
        ("X_AUTH_USER_ID", "user_admin"),
        ("x_Auth-Org_Id", "org_evil"),
        ("X-Edgegate-Assertion", "forged"),
        ("x_edgegate_auth_status", "signed-in"),
        ("X-AUTH-CLAIM-email", "root@x"),
        ("X-Auth-Grace", "1"),
        ("Accept", "text/html"),
    ]);
    for auth in [None, Some(&auth())] {
        let out = plan(&inbound, auth, &settings());
        for (n, v) in out.iter() {
            assert!(
                v != "user_admin" && v != "org_evil" && v != "forged" && v != "root@x",
                "{n}: {v}"
            );
        }
        assert_eq!(out.get("accept"), Some("text/html"));
    }
    // Signed out: no identity at all, only the gateway's own X-Auth-Status.
    let out = plan(&inbound, None, &settings());
    let auth_names: Vec<String> = names(&out)
        .into_iter()
        .filter(|n| n.starts_with("x-auth-"))
        .collect();
    assert_eq!(auth_names, vec!["x-auth-status".to_owned()]);
    assert_eq!(out.get("x-auth-status"), Some("signed-out"));
}

#[test]
fn auth_status_and_the_signed_out_reason_reach_the_origin_and_the_assertion() {
    let public = public();
    let headers = HeaderList::new();
    let mut facts = RequestFacts {
        method: "GET",
        headers: &headers,
        auth: None,
        public_url: &public,
        client_ip: None,
        request_id: "r",
        path_and_query: "/",
        grace: false,
        signed_out_reason: Some(edgegate::token::TokenError::Expired.into()),
        now: 0,
    };
    let out = apply_edits(facts.headers, &request_edits(&facts, &settings(), false));
    assert_eq!(out.get("x-auth-status"), Some("signed-out"));
    assert_eq!(out.get("x-auth-reason"), Some("token-expired"));
    let claims = edgegate::proxy::assertion_claims(&facts, "https://origin.internal");
    assert_eq!(claims["auth_status"], "signed-out");
    assert_eq!(claims["auth_reason"], "token-expired");
    let mut a = auth();
    a.factor_verification_age = Some([3, -1]);
    a.claims.insert("fea".into(), json!("o:dashboard"));
    a.claims.insert("pla".into(), json!("u:pro"));
    facts.auth = Some(&a);
    facts.grace = true;
    let out = apply_edits(facts.headers, &request_edits(&facts, &settings(), false));
    assert_eq!(out.get("x-auth-status"), Some("grace"));
    assert_eq!(out.get("x-auth-reason"), None);
    let claims = edgegate::proxy::assertion_claims(&facts, "https://origin.internal");
    assert_eq!(claims["auth_status"], "grace");
    assert_eq!(
        claims["org_permissions"],
        json!(["org:billing:manage", "org:sys:read"])
    );
    assert_eq!(claims["fva"], json!([3, -1]));
    assert_eq!(claims["fea"], "o:dashboard");
    assert_eq!(claims["pla"], "u:pro");
    assert!(claims.get("auth_reason").is_none());
}

#[test]
fn identity_headers_are_added_for_a_session() {
    let out = plan(&HeaderList::new(), Some(&auth()), &settings());
    assert_eq!(out.get("X-Auth-User-Id"), Some("user_123"));
    assert_eq!(out.get("X-Auth-Session-Id"), Some("sess_456"));
    assert_eq!(out.get("X-Auth-Org-Id"), Some("org_789"));
    assert_eq!(out.get("X-Auth-Org-Role"), Some("org:admin"));
    assert_eq!(out.get("X-Auth-Org-Slug"), Some("acme"));
    assert_eq!(
        out.get("X-Auth-Org-Permissions"),
        Some("org:billing:manage,org:sys:read")
    );
    assert_eq!(out.get("X-Auth-Actor"), Some("user_impersonator"));
    assert_eq!(out.get("X-Request-Id"), Some("8f1c2a3b4c5d6e7f-AMS"));
    assert_eq!(out.get("X-Auth-Grace"), None);
    assert_eq!(out.get_all("X-Auth-User-Id").count(), 1);
}

#[test]
fn absent_optional_identity_is_not_sent() {
    let mut a = auth();
    a.org_id = None;
    a.org_role = None;
    a.org_slug = None;
    a.org_permissions.clear();
    a.actor = None;
    let out = plan(&HeaderList::new(), Some(&a), &settings());
    for n in [
        "x-auth-org-id",
        "x-auth-org-role",
        "x-auth-org-slug",
        "x-auth-org-permissions",
        "x-auth-actor",
    ] {
        assert!(!out.contains(n), "{n}");
    }
}

#[test]
fn forwarded_headers_are_replaced_not_appended() {
    let inbound = hl(&[
        ("X-Forwarded-For", "1.2.3.4"),
        ("X-Forwarded-Host", "evil.com"),
        ("x-forwarded-proto", "http"),
        ("Forwarded", "for=1.2.3.4;host=evil.com"),
        ("X-Real-IP", "1.2.3.4"),
        ("X-Request-Id", "client-chosen"),
        ("Host", "evil.com"),
    ]);
    let out = plan(&inbound, None, &settings());
    assert_eq!(
        out.get_all("x-forwarded-for").collect::<Vec<_>>(),
        vec!["203.0.113.7"]
    );
    assert_eq!(
        out.get_all("x-forwarded-host").collect::<Vec<_>>(),
        vec!["app.example.com"]
    );
    assert_eq!(
        out.get_all("x-forwarded-proto").collect::<Vec<_>>(),
        vec!["https"]
    );
    assert_eq!(
        out.get_all("x-request-id").collect::<Vec<_>>(),
        vec!["8f1c2a3b4c5d6e7f-AMS"]
    );
    assert!(!out.contains("forwarded"));
    assert!(!out.contains("x-real-ip"));
    assert!(!out.contains("host"));
}

#[test]
fn garbage_client_ip_is_not_forwarded() {
    let public = public();
    let h = HeaderList::new();
    let facts = RequestFacts {
        method: "GET",
        headers: &h,
        auth: None,
        public_url: &public,
        client_ip: Some("1.2.3.4\r\nX-Auth-User-Id: x"),
        request_id: "r",
        path_and_query: "/",
        grace: false,
        signed_out_reason: None,
        now: 0,
    };
    let out = apply_edits(facts.headers, &request_edits(&facts, &settings(), false));
    assert!(!out.contains("x-forwarded-for"));
}

#[test]
fn hop_by_hop_and_connection_named_headers_are_removed() {
    let inbound = hl(&[
        ("Connection", "keep-alive, X-Secret-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Authorization", "Basic x"),
        ("Proxy-Connection", "keep-alive"),
        ("TE", "trailers"),
        ("Trailer", "Expires"),
        ("Transfer-Encoding", "chunked"),
        ("Upgrade", "h2c"),
        ("X-Secret-Hop", "1"),
        ("Content-Type", "application/json"),
    ]);
    let out = plan(&inbound, None, &settings());
    for n in [
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "x-secret-hop",
    ] {
        assert!(!out.contains(n), "{n}");
    }
    assert_eq!(out.get("content-type"), Some("application/json"));
}

#[test]
fn websocket_upgrade_keeps_upgrade_and_connection() {
    let inbound = hl(&[
        ("Connection", "keep-alive, Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]);
    assert!(is_websocket_upgrade(&inbound));
    let out = plan(&inbound, None, &settings());
    assert_eq!(out.get("upgrade"), Some("websocket"));
    assert_eq!(
        out.get_all("connection").collect::<Vec<_>>(),
        vec!["Upgrade"]
    );
    assert_eq!(
        out.get("sec-websocket-key"),
        Some("dGhlIHNhbXBsZSBub25jZQ==")
    );
    assert!(!is_websocket_upgrade(&hl(&[("Upgrade", "websocket")])));
    // A preflight is never sent as an upgrade, whatever it carries.
    let out = plan_as(&inbound, None, &settings(), true);
    assert_eq!(out.get("upgrade"), None);
    assert_eq!(out.get("connection"), None);
    assert_eq!(out.get("sec-websocket-version"), Some("13"));
}

#[test]
fn forward_token_false_strips_authorization_and_session_cookies() {
    let inbound = hl(&[
        ("Authorization", "Bearer tok"),
        (
            "Cookie",
            "__session=tok; theme=dark; __session_1Z8AzTQD=tok2",
        ),
        ("Cookie", "__session=x"),
        ("Cookie", "__client_uat=17; a=b"),
    ]);
    let s = ProxySettings {
        forward_token: false,
        ..settings()
    };
    let out = plan(&inbound, Some(&auth()), &s);
    assert!(!out.contains("authorization"));
    let cookies: Vec<_> = out.get_all("cookie").collect();
    assert_eq!(cookies, vec!["theme=dark", "__client_uat=17; a=b"]);
    for (n, v) in out.iter() {
        // `X-Auth-Token-Type: session_token` names the type, not the token.
        assert!(n == "X-Auth-Token-Type" || !v.contains("tok"), "{v}");
    }
}

#[test]
fn forward_token_false_strips_every_token_bearing_clerk_cookie() {
    let inbound = hl(&[(
        "Cookie",
        "__clerk_handshake=hs; __refresh_1Z8AzTQD=r; __clerk_db_jwt=d; __clerk_db_jwt_x=d2; \
         __client=c; __client_uat=17; __client_uat_x=18; __edgegate_hs_state=s; theme=dark",
    )]);
    let s = ProxySettings {
        forward_token: false,
        ..settings()
    };
    let out = plan(&inbound, None, &s);
    assert_eq!(
        out.get("cookie"),
        Some("__client_uat=17; __client_uat_x=18; __edgegate_hs_state=s; theme=dark")
    );
    // The page a request came from can carry a ticket or a handshake: its Referer loses them.
    let with_referer = hl(&[(
        "Referer",
        "https://app.example.com/sign-in?__clerk_ticket=t&next=%2F&__clerk_handshake=h",
    )]);
    let out = plan(&with_referer, None, &s);
    assert_eq!(
        out.get("referer"),
        Some("https://app.example.com/sign-in?next=%2F")
    );
    // With FORWARD_TOKEN=true the origin gets the cookies as sent.
    let out = plan(&inbound, None, &settings());
    assert!(out
        .get("cookie")
        .is_some_and(|c| c.contains("__clerk_handshake=hs")));
}

#[test]
fn token_bearing_query_parameters_are_stripped_others_kept_byte_for_byte() {
    assert_eq!(
        strip_token_params(Some(
            "a=1&__clerk_handshake=eyJ&%5F%5Fclerk_db_jwt=x&__CLERK_HANDSHAKE_NONCE=n&b=%20&__dev_session=d&__session=s"
        ))
        .as_deref(),
        Some("a=1&b=%20")
    );
    assert_eq!(strip_token_params(Some("__clerk_handshake=x")), None);
    assert_eq!(
        strip_token_params(Some("__clerk_ticket=t&__clerk_invitation_token=i&k=v")).as_deref(),
        Some("k=v")
    );
    assert_eq!(strip_token_params(None), None);
    assert_eq!(
        strip_token_params(Some("__clerk_handshakes=1&x")).as_deref(),
        Some("__clerk_handshakes=1&x")
    );
}

#[test]
fn default_stripped_headers_go_in_every_spelling_and_user_patterns_add_to_them() {
    let inbound = hl(&[
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-Url", "/admin"),
        ("x-http-method-override", "DELETE"),
        ("X_HTTP_METHOD", "DELETE"),
        ("X-Method-Override", "DELETE"),
        ("X-Forwarded-Prefix", "/admin"),
        ("X-Forwarded-Uri", "/admin"),
        ("x_forwarded_path", "/admin"),
        ("X-Envoy-Original-Path", "/admin"),
        (
            "X-Middleware-Subrequest",
            "middleware:middleware:middleware",
        ),
        ("x-clerk-auth-status", "signed-in"),
        ("X-Clerk-Auth-Reason", "r"),
        ("x-clerk-auth-message", "m"),
        ("x-clerk-auth-token", "t"),
        ("x-clerk-auth-signature", "s"),
        ("x-clerk-request-data", "d"),
        ("X_CLERK_REDIRECT_TO", "/"),
        ("x-clerk-anything-else", "1"),
        ("x-mine", "1"),
        ("x-team-a", "1"),
        ("x-kept", "1"),
    ]);
    let s = ProxySettings {
        strip_request_headers: vec![
            HeaderPattern::parse("X_Mine").expect("name"),
            HeaderPattern::parse("x-team-*").expect("prefix"),
        ],
        ..settings()
    };
    let out = plan(&inbound, None, &s);
    let names: Vec<String> = out.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    assert!(names.contains(&"x-kept".to_owned()));
    for (n, _) in inbound.iter() {
        if n != "x-kept" {
            assert!(!names.contains(&n.to_ascii_lowercase()), "{n}");
        }
    }
    assert!(DEFAULT_STRIPPED_HEADERS.contains(&"x-clerk-*"));
    assert_eq!(HeaderPattern::parse("*"), None);
    assert_eq!(HeaderPattern::parse("a b"), None);
}

#[test]
fn comma_joined_cookie_headers_do_not_smuggle_a_session_cookie() {
    // What a runtime's Headers object makes of two Cookie headers.
    let inbound = hl(&[("Cookie", "theme=dark, __session=tok; a=b")]);
    let s = ProxySettings {
        forward_token: false,
        ..settings()
    };
    let out = plan(&inbound, None, &s);
    assert_eq!(out.get("cookie"), Some("a=b"));
}

#[test]
fn forward_token_true_keeps_only_the_first_authorization() {
    let inbound = hl(&[
        ("Authorization", "Bearer first"),
        ("authorization", "Bearer second"),
        ("Cookie", "__session=c"),
    ]);
    let out = plan(&inbound, Some(&auth()), &settings());
    assert_eq!(
        out.get_all("authorization").collect::<Vec<_>>(),
        vec!["Bearer first"]
    );
    assert_eq!(out.get("cookie"), Some("__session=c"));
}

#[test]
fn forward_claims_strings_as_is_others_as_json_and_never_crlf() {
    let s = ProxySettings {
        forward_claims: vec![
            "email".into(),
            "name".into(),
            "tier".into(),
            "beta".into(),
            "quoted".into(),
            "missing".into(),
            "bad name".into(),
        ],
        ..settings()
    };
    let out = plan(&HeaderList::new(), Some(&auth()), &s);
    assert_eq!(out.get("X-Auth-Claim-email"), Some("ada@example.com"));
    assert_eq!(
        out.get("X-Auth-Claim-name"),
        Some(r#""Ad\u00e1\r\nX-Auth-User-Id: admin""#)
    );
    assert_eq!(out.get("X-Auth-Claim-tier"), Some(r#"{"level":3}"#));
    assert_eq!(out.get("X-Auth-Claim-beta"), Some("true"));
    assert_eq!(out.get("X-Auth-Claim-quoted"), Some(r#""\"hi\"""#));
    assert!(!out.contains("X-Auth-Claim-missing"));
    assert!(!names(&out).iter().any(|n| n.contains(' ')));
    for (n, v) in out.iter() {
        assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{n}: {v:?}");
    }
    // Claims are never forwarded without a session.
    let out = plan(&HeaderList::new(), None, &s);
    assert!(!out.contains("X-Auth-Claim-email"));
}

#[test]
fn header_values_are_ascii_and_lossless() {
    assert_eq!(header_value("plain value"), "plain value");
    assert_eq!(header_value("a\nb"), r#""a\nb""#);
    assert_eq!(header_value("😀"), r#""\ud83d\ude00""#);
    assert_eq!(header_value("\u{7f}"), r#""\u007f""#);
    let back: Value = serde_json::from_str(&header_value("é\r\n😀")).expect("json");
    assert_eq!(back, json!("é\r\n😀"));
    assert_eq!(claim_header_value(&json!(null)), "null");
    assert_eq!(claim_header_value(&json!(["a", 1])), r#"["a",1]"#);
}

#[test]
fn claim_names_must_be_header_tokens() {
    assert!(valid_claim_name("email"));
    assert!(valid_claim_name("org.tier"));
    assert!(!valid_claim_name(""));
    assert!(!valid_claim_name("a b"));
    assert!(!valid_claim_name("a:b"));
    assert!(!valid_claim_name("a\r\nb"));
}

#[test]
fn grace_flag_reaches_the_origin() {
    let public = public();
    let h = HeaderList::new();
    let a = auth();
    let facts = RequestFacts {
        method: "GET",
        headers: &h,
        auth: Some(&a),
        public_url: &public,
        client_ip: None,
        request_id: "r",
        path_and_query: "/",
        grace: true,
        signed_out_reason: None,
        now: 0,
    };
    let out = apply_edits(facts.headers, &request_edits(&facts, &settings(), false));
    assert_eq!(out.get("X-Auth-Grace"), Some("1"));
}

#[test]
fn identity_header_names() {
    for n in [
        "X-Auth-User-Id",
        "x_auth_user_id",
        "X-EDGEGATE-X",
        "x_edgegate_assertion",
        " X-Auth-A",
    ] {
        assert!(is_identity_header(n), "{n}");
    }
    for n in ["X-Author", "Authorization", "X-Authz", "X-Edge"] {
        assert!(!is_identity_header(n), "{n}");
    }
}

#[test]
fn request_id_uses_cf_ray_or_random() {
    let r = || [0xabu8; 16];
    // A usable CF-Ray names the request without drawing any random bytes.
    assert_eq!(
        request_id(Some("8f1c2a3b4c5d6e7f-AMS"), || unreachable!("no draw")),
        "8f1c2a3b4c5d6e7f-AMS"
    );
    assert_eq!(request_id(None, r), "ab".repeat(16));
    assert_eq!(request_id(Some("evil\r\nx"), r), "ab".repeat(16));
    assert_eq!(request_id(Some(""), r), "ab".repeat(16));
    assert_eq!(request_id(Some(&"a".repeat(65)), r), "ab".repeat(16));
}

fn decode_part(p: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("b64")).expect("json")
}

#[test]
fn origin_assertion_is_a_verifiable_hs256_jwt() {
    let secret = b"0123456789abcdef0123456789abcdef".to_vec();
    let s = ProxySettings {
        assertion_secret: Some(secret.clone()),
        ..settings()
    };
    let out = plan(
        &hl(&[("X-Edgegate-Assertion", "forged")]),
        Some(&auth()),
        &s,
    );
    let all: Vec<_> = out.get_all("x-edgegate-assertion").collect();
    assert_eq!(all.len(), 1);
    let jwt = all[0];
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(decode_part(parts[0]), json!({"alg": "HS256", "typ": "JWT"}));
    let claims = decode_part(parts[1]);
    assert_eq!(claims["iss"], "edgegate");
    assert_eq!(claims["aud"], "https://origin.internal");
    assert_eq!(claims["sub"], "user_123");
    assert_eq!(claims["sid"], "sess_456");
    assert_eq!(claims["org_id"], "org_789");
    assert_eq!(claims["org_role"], "org:admin");
    assert_eq!(claims["org_slug"], "acme");
    assert_eq!(claims["act"], "user_impersonator");
    assert_eq!(claims["iat"], 1_700_000_010);
    assert_eq!(claims["exp"], 1_700_000_070);
    assert_eq!(claims["jti"], "8f1c2a3b4c5d6e7f-AMS");
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], "/x?y=1");
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("key");
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
        .expect("signature verifies");
    let mut wrong = Hmac::<Sha256>::new_from_slice(b"other").expect("key");
    wrong.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    assert!(wrong
        .verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
        .is_err());
}

#[test]
fn signed_out_public_request_gets_an_assertion_without_subject() {
    let public = public();
    let h = HeaderList::new();
    let facts = RequestFacts {
        method: "POST",
        headers: &h,
        auth: None,
        public_url: &public,
        client_ip: None,
        request_id: "r1",
        path_and_query: "/public",
        grace: false,
        signed_out_reason: None,
        now: 100,
    };
    let jwt = assertion(&facts, "https://o", b"k").expect("jwt");
    let claims = decode_part(jwt.split('.').nth(1).expect("payload"));
    assert!(claims.get("sub").is_none());
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["exp"], 160);
}

#[test]
fn settings_debug_redacts_the_secret() {
    let s = ProxySettings {
        assertion_secret: Some(b"super-secret".to_vec()),
        ..settings()
    };
    let d = format!("{s:?}");
    assert!(!d.contains("super-secret"));
    assert!(d.contains("redacted"));
}

// ---- origin URL ----

#[test]
fn origin_url_join() {
    let o = Origin::parse("https://origin.example.com").expect("origin");
    assert_eq!(o.join("/a/b", None), "https://origin.example.com/a/b");
    assert_eq!(
        o.join("/a", Some("x=1&y=%20")),
        "https://origin.example.com/a?x=1&y=%20"
    );
    assert_eq!(o.join("/", Some("")), "https://origin.example.com/?");
    let p = Origin::parse("http://10.0.0.5:8080/app/").expect("prefix");
    assert_eq!(p.base_path, "/app");
    assert_eq!(p.join("/x", None), "http://10.0.0.5:8080/app/x");
    assert_eq!(p.origin(), "http://10.0.0.5:8080");
    assert_eq!(
        o.join("/a", Some("q=a b#frag\"é")),
        "https://origin.example.com/a?q=a%20b%23frag%22%C3%A9"
    );
}

#[test]
fn bad_origin_urls_are_refused() {
    assert_eq!(Origin::parse("ftp://x"), Err(OriginError::Scheme));
    assert_eq!(Origin::parse("https://u:p@x"), Err(OriginError::Userinfo));
    assert_eq!(
        Origin::parse("https://x/?a=1"),
        Err(OriginError::QueryOrFragment)
    );
    assert_eq!(
        Origin::parse("https://x/#f"),
        Err(OriginError::QueryOrFragment)
    );
    assert_eq!(Origin::parse("not a url"), Err(OriginError::Invalid));
    assert_eq!(OriginError::Scheme.code(), "origin-url-scheme");
}

// ---- response side ----

#[test]
fn location_on_origin_host_is_rewritten_to_public_host() {
    let o = Origin::parse("http://origin.internal:8080").expect("origin");
    let p = public();
    assert_eq!(
        rewrite_location("http://origin.internal:8080/login?next=%2Fx#top", &o, &p).as_deref(),
        Some("https://app.example.com/login?next=%2Fx#top")
    );
    assert_eq!(
        rewrite_location("//ORIGIN.internal:8080/a", &o, &p).as_deref(),
        Some("https://app.example.com/a")
    );
    assert_eq!(
        rewrite_location("http://origin.internal:9090/a", &o, &p),
        None
    );
    assert_eq!(rewrite_location("https://elsewhere.com/a", &o, &p), None);
    assert_eq!(rewrite_location("/relative", &o, &p), None);
    assert_eq!(rewrite_location("", &o, &p), None);
    let prefixed = Origin::parse("https://origin.internal/app").expect("origin");
    assert_eq!(
        rewrite_location("https://origin.internal/app/dash", &prefixed, &p).as_deref(),
        Some("https://app.example.com/dash")
    );
    assert_eq!(
        rewrite_location("https://origin.internal/apple", &prefixed, &p).as_deref(),
        Some("https://app.example.com/apple")
    );
    assert_eq!(
        rewrite_location("https://origin.internal:443/app", &prefixed, &p).as_deref(),
        Some("https://app.example.com/")
    );
    // A path or query a browser would still encode never leaves the origin's host in the header.
    let plain = Origin::parse("https://origin.internal").expect("origin");
    for (location, rewritten) in [
        ("https://origin.internal/a b", "https://app.example.com/a b"),
        (
            "https://origin.internal/?q=it's",
            "https://app.example.com/?q=it's",
        ),
        (
            "https://origin.internal/caf\u{e9}",
            "https://app.example.com/caf\u{e9}",
        ),
        (
            "https://origin.internal/a/./b",
            "https://app.example.com/a/./b",
        ),
        (
            "https://origin.internal?x=1",
            "https://app.example.com/?x=1",
        ),
        (
            "https://origin.internal\\evil.example/",
            "https://app.example.com\\evil.example/",
        ),
    ] {
        assert_eq!(
            rewrite_location(location, &plain, &p).as_deref(),
            Some(rewritten),
            "{location}"
        );
    }
    assert_eq!(
        rewrite_location("https://origin.internal@evil.example/", &plain, &p),
        None
    );
}

#[test]
fn response_headers_strip_hop_by_hop_keep_set_cookies_and_rewrite_location() {
    let o = Origin::parse("https://origin.internal").expect("origin");
    let origin_headers = hl(&[
        ("Connection", "close, X-Hop"),
        ("X-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Location", "https://origin.internal/next"),
        ("X-Edgegate-Auth-Status", "signed-in"),
        ("Content-Type", "text/html"),
    ]);
    let edits = response_edits(
        &origin_headers,
        302,
        &o,
        &public(),
        AuthStatus::SignedOut,
        true,
    );
    let out = apply_edits(&origin_headers, &edits);
    for n in ["connection", "x-hop", "keep-alive", "transfer-encoding"] {
        assert!(!out.contains(n), "{n}");
    }
    assert_eq!(
        out.get_all("set-cookie").collect::<Vec<_>>(),
        vec!["a=1; Path=/", "b=2; Path=/"]
    );
    assert_eq!(out.get("location"), Some("https://app.example.com/next"));
    assert_eq!(
        out.get_all("x-edgegate-auth-status").collect::<Vec<_>>(),
        vec!["signed-out"]
    );
    assert_eq!(out.get("content-type"), Some("text/html"));
}

#[test]
fn authenticated_responses_vary_on_authorization_and_cookie_unless_private() {
    let o = Origin::parse("https://origin.internal").expect("origin");
    let vary = |headers: &[(&str, &str)], status: AuthStatus| {
        let headers = hl(headers);
        let edits = response_edits(&headers, 200, &o, &public(), status, true);
        let out = apply_edits(&headers, &edits);
        out.get_all("vary").map(str::to_owned).collect::<Vec<_>>()
    };
    let public_cache = [("Cache-Control", "public, max-age=600")];
    assert_eq!(
        vary(&public_cache, AuthStatus::SignedIn),
        vec!["Authorization, Cookie"]
    );
    assert_eq!(
        vary(&public_cache, AuthStatus::Grace),
        vec!["Authorization, Cookie"]
    );
    assert_eq!(
        vary(&[], AuthStatus::SignedIn),
        vec!["Authorization, Cookie"]
    );
    assert_eq!(
        vary(
            &[("Vary", "Accept-Encoding"), ("vary", "cookie")],
            AuthStatus::SignedIn
        ),
        vec!["Accept-Encoding, cookie, Authorization"]
    );
    assert_eq!(vary(&[("Vary", "*")], AuthStatus::SignedIn), vec!["*"]);
    // `private="field"` keeps only that field out of a shared cache: the body is still shared.
    assert_eq!(
        vary(
            &[("Cache-Control", "public, private=\"set-cookie\"")],
            AuthStatus::SignedIn
        ),
        vec!["Authorization, Cookie"]
    );
    for private in ["private", "no-store", "max-age=0, Private", "NO-STORE"] {
        assert_eq!(
            vary(
                &[("Cache-Control", private), ("Vary", "Origin")],
                AuthStatus::SignedIn
            ),
            vec!["Origin"],
            "{private}"
        );
    }
    assert!(vary(&public_cache, AuthStatus::SignedOut).is_empty());
}

#[test]
fn switching_protocols_keeps_upgrade_headers() {
    let o = Origin::parse("https://origin.internal").expect("origin");
    let h = hl(&[
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Accept", "x"),
    ]);
    let out = apply_edits(
        &h,
        &response_edits(&h, 101, &o, &public(), AuthStatus::SignedIn, true),
    );
    assert_eq!(out.get("upgrade"), Some("websocket"));
    assert_eq!(out.get("connection"), Some("Upgrade"));
}

proptest! {
    #[test]
    fn plan_never_panics_and_never_leaks_inbound_identity(
        name in "[xX][-_][aAeE][a-zA-Z_-]{0,20}",
        value in ".{0,64}",
        other in ".{0,256}",
    ) {
        let inbound = hl(&[(name.as_str(), value.as_str()), ("Connection", other.as_str()),
                           ("Cookie", other.as_str()), ("Upgrade", other.as_str())]);
        for ft in [true, false] {
            let s = ProxySettings { forward_token: ft, ..settings() };
            let out = plan(&inbound, Some(&auth()), &s);
            if is_identity_header(&name) {
                prop_assert!(out.iter().all(|(n, _)| n != name));
            }
        }
    }

    #[test]
    fn location_rewrite_never_panics(loc in ".{0,200}") {
        let o = Origin::parse("https://origin.internal/app").expect("origin");
        let _ = rewrite_location(&loc, &o, &public());
        let _ = o.join("/", Some(&loc));
    }

    #[test]
    fn header_value_is_always_printable_ascii(s in ".{0,64}") {
        let v = header_value(&s);
        prop_assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)));
    }
}
