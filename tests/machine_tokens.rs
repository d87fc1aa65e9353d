//! Machine tokens (Clerk's `acceptsToken`): M2M and OAuth access-token JWTs, in Clerk's formats
//! and signed by the instance key, accepted only on routes whose rules name their type
//! (`token:m2m`, `token:oauth`), refused as `token-type-mismatch` everywhere else, opaque
//! tokens refused as `token-needs-backend-api`. Through the whole pipeline, natively.

mod common;

use common::drive::{self, Gw, Outcome};
use common::{b64u_decode, claims_with, mint, obj, public_pem, rsa, NOW_S, ORIGIN};
use edgegate::config::Settings;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const RULES: &str = "/m2m(.*)=token:m2m; /oauth(.*)=token:oauth; \
     /both(.*)=token:session|m2m|oauth; /scoped(.*)=token:m2m|oauth,scope:read:foo|mch_1xxxxx; \
     /mixed(.*)=token:session|m2m,scope:jobs; /m2m-org(.*)=token:m2m,org; \
     /m2m-feature(.*)=token:m2m,feature:reports; /narrow(.*)=token:m2m; /narrow/x=token:oauth; \
     /pair(.*)=token:m2m,token:oauth";

fn settings(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut s: HashMap<String, String> = [
        ("CLERK_JWT_KEY", public_pem(rsa()).as_str()),
        ("AUTHORIZED_PARTIES", ORIGIN),
        ("ORIGIN_URL", "http://127.0.0.1:9000"),
        ("PUBLIC_ROUTES", "/public(.*)"),
        ("ROUTE_RULES", RULES),
        (
            "ORIGIN_ASSERTION_SECRET",
            "0123456789abcdef0123456789abcdef",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        s.insert(k.to_string(), v.to_string());
    }
    s
}

fn gateway(extra: &[(&str, &str)]) -> Gw {
    drive::gateway(&settings(extra))
}

/// What became of a request: the headers the origin gets, or the gateway's answer.
#[derive(Debug)]
enum Seen {
    Proxied(Vec<(String, String)>),
    Refused(u16, Vec<(String, String)>, Value),
}

impl Gw {
    /// Runs a GET of `path` through the pipeline; counts the signature checks asked.
    fn run(&mut self, path: &str, headers: &[(&str, &str)]) -> (Seen, usize) {
        let url = format!("https://app.example.com{path}");
        let done = drive::run(self, "GET", &url, headers);
        let seen = match done.outcome {
            Outcome::Proxy(origin) => Seen::Proxied(
                origin
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect(),
            ),
            Outcome::Respond(plan) => {
                let body = serde_json::from_str(&plan.body).unwrap_or(Value::Null);
                Seen::Refused(plan.status, plan.headers, body)
            }
            other => panic!("unexpected outcome {other:?}"),
        };
        (seen, done.checks)
    }

    fn bearer(&mut self, path: &str, token: &str) -> Seen {
        let auth = format!("Bearer {token}");
        self.run(path, &[("authorization", &auth)]).0
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn proxied(seen: Seen) -> Vec<(String, String)> {
    match seen {
        Seen::Proxied(h) => h,
        other => panic!("not proxied: {other:?}"),
    }
}

/// The refusal's status and reason code (header and body agree).
fn refused(seen: &Seen) -> (u16, String) {
    match seen {
        Seen::Refused(status, headers, body) => {
            let reason = header(headers, "x-edgegate-auth-reason").unwrap_or_default();
            if let Some(in_body) = body["reason"].as_str() {
                assert_eq!(in_body, reason);
            }
            (*status, reason.to_owned())
        }
        other => panic!("not refused: {other:?}"),
    }
}

/// The assertion's claims (its signature is tested in tests/proxy_plan.rs).
fn assertion(headers: &[(String, String)]) -> Map<String, Value> {
    let jwt = header(headers, "x-edgegate-assertion").expect("assertion");
    let payload = jwt.split('.').nth(1).expect("payload");
    obj(serde_json::from_slice(&b64u_decode(payload)).expect("json"))
}

/// Clerk's M2M JWT (`M2MToken.fromJwtPayload`'s fixture shape): `mch_` subject, `mt_` id,
/// machine ids in `aud` and `scopes`, no `sid` or `azp`.
fn m2m_claims(changes: Value) -> Map<String, Value> {
    let mut c = obj(json!({
        "iss": "https://clerk.example.com",
        "sub": "mch_2vYVtestTESTtestTESTtestTESTtest",
        "aud": ["mch_1xxxxx", "mch_2xxxxx"],
        "exp": NOW_S + 300,
        "iat": NOW_S,
        "nbf": NOW_S - 10,
        "jti": "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        "scopes": "mch_1xxxxx mch_2xxxxx",
    }));
    apply(&mut c, changes);
    c
}

/// Clerk's OAuth access token (`IdPOAuthAccessToken.fromJwtPayload`'s fixture shape).
fn oauth_claims(changes: Value) -> Map<String, Value> {
    let mut c = obj(json!({
        "iss": "https://clerk.example.com",
        "sub": "user_2vYVtestTESTtestTESTtestTESTtest",
        "client_id": "client_2VTWUzvGC5UhdJCNx6xG1D98edc",
        "scope": "read:foo write:bar",
        "jti": "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        "exp": NOW_S + 300,
        "iat": NOW_S,
        "nbf": NOW_S - 10,
    }));
    apply(&mut c, changes);
    c
}

fn apply(c: &mut Map<String, Value>, changes: Value) {
    for (k, v) in obj(changes) {
        if v.is_null() {
            c.remove(&k);
        } else {
            c.insert(k, v);
        }
    }
}

fn m2m(changes: Value) -> String {
    mint(
        rsa(),
        json!({"kid": "ins_test", "cat": "cl_B7d4PD333AAA"}),
        &m2m_claims(changes),
    )
}

fn oauth(changes: Value) -> String {
    mint(
        rsa(),
        json!({"kid": "ins_test", "typ": "at+jwt"}),
        &oauth_claims(changes),
    )
}

fn session() -> String {
    mint(rsa(), json!({"kid": "ins_test"}), &claims_with(json!({})))
}

#[test]
fn an_m2m_token_is_accepted_on_its_route_with_its_identity() {
    let mut gw = gateway(&[]);
    let h = proxied(gw.bearer("/m2m/jobs", &m2m(json!({}))));
    assert_eq!(header(&h, "x-auth-status"), Some("signed-in"));
    assert_eq!(header(&h, "x-auth-token-type"), Some("m2m_token"));
    assert_eq!(
        header(&h, "x-auth-machine-id"),
        Some("mch_2vYVtestTESTtestTESTtestTESTtest")
    );
    assert_eq!(header(&h, "x-auth-scopes"), Some("mch_1xxxxx mch_2xxxxx"));
    // A machine is no user and has no session.
    for absent in ["x-auth-user-id", "x-auth-session-id", "x-auth-client-id"] {
        assert_eq!(header(&h, absent), None, "{absent}");
    }
    let a = assertion(&h);
    assert_eq!(a["token_type"], "m2m_token");
    assert_eq!(a["machine_id"], "mch_2vYVtestTESTtestTESTtestTESTtest");
    assert_eq!(a["scopes"], json!(["mch_1xxxxx", "mch_2xxxxx"]));
    assert!(a.get("sub").is_none() && a.get("sid").is_none());
    // Without the M2M `cat` (tokens minted before Clerk's categories) too.
    let no_cat = mint(rsa(), json!({}), &m2m_claims(json!({})));
    let h = proxied(gw.bearer("/m2m/jobs", &no_cat));
    assert_eq!(header(&h, "x-auth-token-type"), Some("m2m_token"));
}

#[test]
fn an_oauth_token_is_accepted_on_its_route_with_its_identity() {
    let mut gw = gateway(&[]);
    let h = proxied(gw.bearer("/oauth/me", &oauth(json!({}))));
    assert_eq!(header(&h, "x-auth-token-type"), Some("oauth_token"));
    assert_eq!(
        header(&h, "x-auth-user-id"),
        Some("user_2vYVtestTESTtestTESTtestTESTtest")
    );
    assert_eq!(
        header(&h, "x-auth-client-id"),
        Some("client_2VTWUzvGC5UhdJCNx6xG1D98edc")
    );
    assert_eq!(header(&h, "x-auth-scopes"), Some("read:foo write:bar"));
    assert_eq!(header(&h, "x-auth-machine-id"), None);
    let a = assertion(&h);
    assert_eq!(a["token_type"], "oauth_token");
    assert_eq!(a["sub"], "user_2vYVtestTESTtestTESTtestTESTtest");
    assert_eq!(a["client_id"], "client_2VTWUzvGC5UhdJCNx6xG1D98edc");
    assert_eq!(a["scopes"], json!(["read:foo", "write:bar"]));
    // `application/at+jwt` and an `scp` array, as RFC 9068 and Clerk allow.
    let scp = mint(
        rsa(),
        json!({"typ": "application/at+jwt"}),
        &oauth_claims(json!({"scope": null, "scp": ["read:foo", "admin"]})),
    );
    let h = proxied(gw.bearer("/oauth/me", &scp));
    assert_eq!(header(&h, "x-auth-scopes"), Some("read:foo admin"));
}

#[test]
fn a_session_gets_its_token_type_too_and_keeps_its_identity() {
    let mut gw = gateway(&[]);
    for path in ["/api/x", "/both/x"] {
        let h = proxied(gw.bearer(path, &session()));
        assert_eq!(header(&h, "x-auth-token-type"), Some("session_token"));
        assert_eq!(header(&h, "x-auth-user-id"), Some("user_123"));
        assert_eq!(assertion(&h)["token_type"], "session_token");
        assert_eq!(assertion(&h)["sub"], "user_123");
    }
    for (path, token) in [("/both/x", m2m(json!({}))), ("/both/x", oauth(json!({})))] {
        assert!(matches!(gw.bearer(path, &token), Seen::Proxied(_)));
    }
}

#[test]
fn machine_tokens_are_refused_everywhere_else_before_any_key_is_tried() {
    let mut gw = gateway(&[]);
    let cases = [
        ("/api/x", m2m(json!({}))),
        ("/api/x", oauth(json!({}))),
        ("/oauth/x", m2m(json!({}))),
        ("/m2m/x", oauth(json!({}))),
        // Both `/narrow(.*)` (m2m) and `/narrow/x` (oauth) apply: no type satisfies both.
        ("/narrow/x", m2m(json!({}))),
        ("/narrow/x", oauth(json!({}))),
    ];
    for (path, token) in &cases {
        let auth = format!("Bearer {token}");
        let (seen, checks) = gw.run(path, &[("authorization", &auth)]);
        assert_eq!(
            refused(&seen),
            (401, "token-type-mismatch".into()),
            "{path}"
        );
        assert_eq!(checks, 0, "{path}: a key was tried");
    }
    // On a public route the origin sees a signed-out request, never the machine.
    let h = proxied(gw.bearer("/public/x", &m2m(json!({}))));
    assert_eq!(header(&h, "x-auth-status"), Some("signed-out"));
    assert_eq!(header(&h, "x-auth-reason"), Some("token-type-mismatch"));
    assert_eq!(header(&h, "x-auth-machine-id"), None);
    assert_eq!(header(&h, "x-auth-token-type"), None);
}

#[test]
fn a_session_on_a_machine_only_route_is_a_type_mismatch() {
    let mut gw = gateway(&[]);
    for path in ["/m2m/x", "/oauth/x", "/scoped/x"] {
        let (seen, checks) = gw.run(path, &[("authorization", &format!("Bearer {}", session()))]);
        assert_eq!(
            refused(&seen),
            (401, "token-type-mismatch".into()),
            "{path}"
        );
        assert_eq!(checks, 0);
    }
    // From the cookie too (a signed-in browser), with no sign-in redirect.
    let cookie = format!("__session={}", session());
    let (seen, _) = gw.run(
        "/m2m/x",
        &[("cookie", &cookie), ("sec-fetch-dest", "document")],
    );
    assert_eq!(refused(&seen).1, "token-type-mismatch");
}

#[test]
fn machine_tokens_that_are_not_of_a_known_shape_stay_refused() {
    let mut gw = gateway(&[]);
    let cases = [
        // An M2M subject under a session's, template's or the ignore category.
        mint(
            rsa(),
            json!({"cat": "cl_B7d4PD111AAA"}),
            &m2m_claims(json!({})),
        ),
        mint(
            rsa(),
            json!({"cat": "cl_B7d4PD222AAA"}),
            &m2m_claims(json!({})),
        ),
        mint(
            rsa(),
            json!({"cat": "cl_I7d4PD111III"}),
            &m2m_claims(json!({})),
        ),
        // An OAuth token without its `typ`, or under the M2M category.
        mint(rsa(), json!({}), &oauth_claims(json!({}))),
        mint(
            rsa(),
            json!({"typ": "at+jwt", "cat": "cl_B7d4PD333AAA"}),
            &oauth_claims(json!({})),
        ),
        // Both marks at once.
        mint(rsa(), json!({"typ": "at+jwt"}), &m2m_claims(json!({}))),
        // The M2M category on a user's token.
        mint(
            rsa(),
            json!({"cat": "cl_B7d4PD333AAA"}),
            &oauth_claims(json!({})),
        ),
    ];
    for (i, token) in cases.iter().enumerate() {
        assert_eq!(
            refused(&gw.bearer("/both/x", token)),
            (401, "token-type-mismatch".into()),
            "case {i}"
        );
    }
    // Claims of the wrong type are malformed.
    for bad in [
        json!({"scopes": ["a"]}),
        json!({"scopes": 5, "aud": null}),
        json!({"scopes": null, "aud": ["mch_1 mch_2"]}),
        // Only spaces separate scopes: other whitespace would split differently at the origin.
        json!({"scopes": "read:foo\tadmin"}),
        json!({"scopes": "read:foo\u{a0}admin"}),
    ] {
        assert_eq!(refused(&gw.bearer("/m2m/x", &m2m(bad))).1, "token-invalid");
    }
    // The access-token `typ` is compared exactly, as Clerk's `assertHeaderType`.
    for typ in ["AT+JWT", "Application/At+Jwt", "at+JWT"] {
        let token = mint(rsa(), json!({ "typ": typ }), &oauth_claims(json!({})));
        assert_eq!(
            refused(&gw.bearer("/oauth/x", &token)).1,
            "token-invalid",
            "{typ}"
        );
    }
    for bad in [
        json!({"scp": "a b"}),
        json!({"client_id": 7}),
        // One item per scope: `X-Auth-Scopes` joins them with spaces.
        json!({"scp": ["read:foo admin"]}),
        json!({"scp": ["read:foo", ""]}),
        json!({"scope": "read:foo\nadmin"}),
    ] {
        assert_eq!(
            refused(&gw.bearer("/oauth/x", &oauth(bad))).1,
            "token-invalid"
        );
    }
}

#[test]
fn opaque_machine_tokens_need_the_backend_api_and_no_call_is_made() {
    let mut gw = gateway(&[]);
    for token in [
        "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        "ak_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
    ] {
        for path in ["/m2m/x", "/oauth/x", "/api/x"] {
            let auth = format!("Bearer {token}");
            let (seen, checks) = gw.run(path, &[("authorization", &auth)]);
            assert_eq!(
                refused(&seen),
                (401, "token-needs-backend-api".into()),
                "{token} {path}"
            );
            assert_eq!(checks, 0);
            let Seen::Refused(_, headers, _) = &seen else {
                unreachable!()
            };
            assert!(header(headers, "www-authenticate").is_some());
        }
    }
    // The same prefix on a token with a JWT's shape is read as a JWT.
    assert_eq!(refused(&gw.bearer("/m2m/x", "mt_a.b.c")).1, "token-invalid");
}

#[test]
fn scopes_are_required_where_the_rule_says() {
    let mut gw = gateway(&[]);
    // M2M: `scopes` split on spaces; without it, `aud`.
    assert!(matches!(
        gw.bearer("/scoped/x", &m2m(json!({}))),
        Seen::Proxied(_)
    ));
    let from_aud = m2m(json!({"scopes": null, "aud": ["mch_1xxxxx"]}));
    assert!(matches!(
        gw.bearer("/scoped/x", &from_aud),
        Seen::Proxied(_)
    ));
    let without = m2m(json!({"scopes": "mch_9", "aud": ["mch_1xxxxx"]}));
    assert_eq!(
        refused(&gw.bearer("/scoped/x", &without)),
        (403, "missing-scope".into())
    );
    // OAuth: `scope` split on spaces, or `scp`.
    assert!(matches!(
        gw.bearer("/scoped/x", &oauth(json!({}))),
        Seen::Proxied(_)
    ));
    let other = oauth(json!({"scope": "write:bar"}));
    assert_eq!(
        refused(&gw.bearer("/scoped/x", &other)),
        (403, "missing-scope".into())
    );
    // A session never holds a scope, even with a claim of that name.
    let s = mint(
        rsa(),
        json!({}),
        &claims_with(json!({"scopes": "jobs", "scope": "jobs", "scp": ["jobs"]})),
    );
    assert_eq!(
        refused(&gw.bearer("/mixed/x", &s)),
        (403, "missing-scope".into())
    );
    let jobs = m2m(json!({"scopes": "jobs"}));
    assert!(matches!(gw.bearer("/mixed/x", &jobs), Seen::Proxied(_)));
}

#[test]
fn a_machine_token_has_no_organisation_or_entitlements_whatever_its_claims_say() {
    let mut gw = gateway(&[]);
    let posing = m2m(json!({
        "org_id": "org_1", "org_role": "org:admin", "fea": "o:reports,u:reports",
        "o": {"id": "org_1", "rol": "admin"}, "v": 2,
    }));
    assert_eq!(
        refused(&gw.bearer("/m2m-org/x", &posing)),
        (403, "missing-organization".into())
    );
    assert_eq!(
        refused(&gw.bearer("/m2m-feature/x", &posing)),
        (403, "missing-feature".into())
    );
    let h = proxied(gw.bearer("/m2m/x", &posing));
    assert_eq!(header(&h, "x-auth-org-id"), None);
    let a = assertion(&h);
    assert!(a.get("org_id").is_none() && a.get("fea").is_none());
}

#[test]
fn machine_tokens_are_held_to_time_and_pins() {
    let mut gw = gateway(&[]);
    let cases = [
        (m2m(json!({"exp": NOW_S - 60})), "token-expired"),
        (oauth(json!({"exp": NOW_S - 60})), "token-expired"),
        (m2m(json!({"nbf": NOW_S + 60})), "token-not-active-yet"),
        (
            oauth(json!({"iat": NOW_S + 60, "nbf": null})),
            "token-iat-in-the-future",
        ),
        (m2m(json!({"exp": null})), "token-invalid"),
    ];
    for (token, code) in &cases {
        let path = if token == &cases[1].0 || token == &cases[3].0 {
            "/oauth/x"
        } else {
            "/m2m/x"
        };
        assert_eq!(refused(&gw.bearer(path, token)), (401, (*code).into()));
    }
    // Within the clock skew it still holds.
    assert!(matches!(
        gw.bearer("/m2m/x", &m2m(json!({"exp": NOW_S - 2}))),
        Seen::Proxied(_)
    ));
    // No outage grace for a machine token.
    let mut gw = gateway(&[
        ("OUTAGE_GRACE_SECONDS", "300"),
        ("CLERK_PUBLISHABLE_KEY", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"),
    ]);
    assert_eq!(
        refused(&gw.bearer("/m2m/x", &m2m(json!({"exp": NOW_S - 60})))).1,
        "token-expired"
    );
    // ISSUER and AUDIENCE pins apply as they do to sessions.
    let mut gw = gateway(&[("ISSUER", "https://clerk.example.com")]);
    assert!(matches!(
        gw.bearer("/m2m/x", &m2m(json!({}))),
        Seen::Proxied(_)
    ));
    let other = m2m(json!({"iss": "https://evil.example"}));
    assert_eq!(
        refused(&gw.bearer("/m2m/x", &other)).1,
        "token-invalid-issuer"
    );
    let other = oauth(json!({"iss": null}));
    assert_eq!(
        refused(&gw.bearer("/oauth/x", &other)).1,
        "token-invalid-issuer"
    );
    let mut gw = gateway(&[("AUDIENCE", "mch_2xxxxx")]);
    assert!(matches!(
        gw.bearer("/m2m/x", &m2m(json!({}))),
        Seen::Proxied(_)
    ));
    assert_eq!(
        refused(&gw.bearer("/oauth/x", &oauth(json!({})))).1,
        "token-invalid-audience"
    );
}

#[test]
fn a_bad_signature_or_an_unknown_key_is_refused() {
    let mut gw = gateway(&[]);
    let forged = mint(
        &common::keys().rsa_b,
        json!({"cat": "cl_B7d4PD333AAA"}),
        &m2m_claims(json!({})),
    );
    assert_eq!(
        refused(&gw.bearer("/m2m/x", &forged)),
        (401, "token-invalid-signature".into())
    );
    let es = mint(
        common::ec(),
        json!({"typ": "at+jwt"}),
        &oauth_claims(json!({})),
    );
    assert_eq!(
        refused(&gw.bearer("/oauth/x", &es)).1,
        "token-invalid-algorithm"
    );
    let big = m2m(json!({"pad": "x".repeat(9000)}));
    assert_eq!(refused(&gw.bearer("/m2m/x", &big)).1, "token-too-large");
}

#[test]
fn a_cached_machine_token_is_never_served_as_a_session() {
    let mut gw = gateway(&[]);
    let token = m2m(json!({}));
    let auth = format!("Bearer {token}");
    let (seen, checks) = gw.run("/m2m/x", &[("authorization", &auth)]);
    assert!(matches!(seen, Seen::Proxied(_)));
    assert_eq!(checks, 1);
    // Cached now: the same token again needs no check on its route...
    let (seen, checks) = gw.run("/m2m/x", &[("authorization", &auth)]);
    assert!(matches!(seen, Seen::Proxied(_)));
    assert_eq!(checks, 0);
    // ...and is a type mismatch everywhere a session is needed, from the header or a cookie.
    let (seen, _) = gw.run("/api/x", &[("authorization", &auth)]);
    assert_eq!(refused(&seen).1, "token-type-mismatch");
    let (seen, _) = gw.run("/oauth/x", &[("authorization", &auth)]);
    assert_eq!(refused(&seen).1, "token-type-mismatch");
    let cookie = format!("__session={token}");
    for path in ["/api/x", "/m2m/x"] {
        let (seen, _) = gw.run(path, &[("cookie", &cookie)]);
        assert_eq!(refused(&seen).1, "token-type-mismatch", "{path}");
    }
    let h = proxied(gw.run("/public/x", &[("cookie", &cookie)]).0);
    assert_eq!(header(&h, "x-auth-status"), Some("signed-out"));
    // And a cached session is no machine token.
    let s = format!("Bearer {}", session());
    assert!(matches!(
        gw.run("/api/x", &[("authorization", &s)]).0,
        Seen::Proxied(_)
    ));
    let (seen, _) = gw.run("/m2m/x", &[("authorization", &s)]);
    assert_eq!(refused(&seen).1, "token-type-mismatch");
}

#[test]
fn spoofed_machine_identity_headers_never_reach_the_origin() {
    let mut gw = gateway(&[]);
    let spoof = [
        ("x-auth-token-type", "m2m_token"),
        ("X-Auth-Machine-Id", "mch_root"),
        ("x_auth_client_id", "client_root"),
        ("X-AUTH-SCOPES", "admin"),
    ];
    let auth = format!("Bearer {}", session());
    let mut headers: Vec<(&str, &str)> = spoof.to_vec();
    headers.push(("authorization", &auth));
    let h = proxied(gw.run("/api/x", &headers).0);
    assert_eq!(header(&h, "x-auth-token-type"), Some("session_token"));
    for name in [
        "x-auth-machine-id",
        "x_auth_client_id",
        "x-auth-scopes",
        "x-auth-client-id",
    ] {
        assert_eq!(header(&h, name), None, "{name}");
    }
    let h = proxied(gw.run("/public/x", &spoof).0);
    for (name, _) in spoof {
        assert_eq!(header(&h, name), None, "{name}");
    }
}

#[test]
fn token_rules_are_validated_as_settings() {
    for (rule, code) in [
        ("/x=token:api_key", "rule-unknown-token-type"),
        ("/x=token:m2m|any", "rule-unknown-token-type"),
        ("/x=token:", "rule-empty-requirement-value"),
        ("/x=scope:", "rule-empty-requirement-value"),
        ("/x=scope:a b", "rule-empty-requirement-value"),
        // Sessions hold no scopes: a scope beside only `token:session`, or with no rule
        // anywhere letting a machine token in, is a route nothing could pass.
        (
            "/x=token:session,scope:jobs",
            "rule-scope-without-machine-token",
        ),
        ("/x=scope:jobs", "rule-scope-without-machine-token"),
        ("/x=scope:jobs; /y=org", "rule-scope-without-machine-token"),
    ] {
        let s = settings(&[("ROUTE_RULES", rule)]);
        let Err(problems) = Settings::from_settings(&|name: &str| s.get(name).cloned()) else {
            panic!("{rule} accepted");
        };
        let text = format!("{problems:?}");
        assert!(text.contains(code), "{rule}: {text}");
    }
    // Clerk's names are accepted too.
    let s = settings(&[(
        "ROUTE_RULES",
        "/x=token:m2m_token|oauth_token|session_token",
    )]);
    assert!(Settings::from_settings(&|name: &str| s.get(name).cloned()).is_ok());
    // A scope rule without `token:` of its own is fine where another rule lets machines in.
    let s = settings(&[(
        "ROUTE_RULES",
        "/api(.*)=token:m2m; /api/jobs(.*)=scope:jobs",
    )]);
    assert!(Settings::from_settings(&|name: &str| s.get(name).cloned()).is_ok());
}

#[test]
fn several_token_requirements_in_one_rule_are_any_of() {
    let mut gw = gateway(&[]);
    // `token:m2m,token:oauth` is `token:m2m|oauth`, as Clerk's `acceptsToken` array.
    assert!(matches!(
        gw.bearer("/pair/x", &m2m(json!({}))),
        Seen::Proxied(_)
    ));
    assert!(matches!(
        gw.bearer("/pair/x", &oauth(json!({}))),
        Seen::Proxied(_)
    ));
    assert_eq!(
        refused(&gw.bearer("/pair/x", &session())),
        (401, "token-type-mismatch".into())
    );
}

#[test]
fn a_scope_rule_without_its_own_token_type_takes_the_types_other_rules_allow() {
    let rules = "/api(.*)=token:m2m; /api/jobs(.*)=scope:jobs";
    let mut gw = gateway(&[("ROUTE_RULES", rules)]);
    let jobs = m2m(json!({"scopes": "jobs"}));
    assert!(matches!(gw.bearer("/api/jobs/1", &jobs), Seen::Proxied(_)));
    let other = m2m(json!({"scopes": "reports"}));
    assert_eq!(
        refused(&gw.bearer("/api/jobs/1", &other)),
        (403, "missing-scope".into())
    );
}

impl Gw {
    /// The `token_type` of the log line of a bearer request to `path` (`Null` when absent).
    fn logged_token_type(&mut self, path: &str, token: Option<&str>) -> Value {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let url = format!("https://app.example.com{path}");
        let log = drive::run(self, "GET", &url, &headers).log;
        let line: Value = serde_json::from_str(&log.to_json(200, 0)).unwrap_or(Value::Null);
        line.get("token_type").cloned().unwrap_or(Value::Null)
    }
}

#[test]
fn the_log_line_names_the_accepted_token_type() {
    let mut gw = gateway(&[]);
    let m2m_token = m2m(json!({}));
    let oauth_token = oauth(json!({}));
    let session_token = session();
    assert_eq!(
        gw.logged_token_type("/m2m/jobs", Some(&m2m_token)),
        "m2m_token"
    );
    assert_eq!(
        gw.logged_token_type("/oauth/me", Some(&oauth_token)),
        "oauth_token"
    );
    assert_eq!(
        gw.logged_token_type("/api/x", Some(&session_token)),
        "session_token"
    );
    // No token accepted: a refused machine token, and a signed-out public route.
    assert_eq!(
        gw.logged_token_type("/api/x", Some(&m2m_token)),
        Value::Null
    );
    assert_eq!(gw.logged_token_type("/public/x", None), Value::Null);
}
