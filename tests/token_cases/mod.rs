// Session-token cases shared by `token_rs256.rs` and `token_es256.rs` (included with `include!`).
// The including file defines `signer()`, `signer_b()` (a second key of the same algorithm) and
// `other_alg()` (a key of the other algorithm).

use common::{claims, claims_with, jwks_set, mint, pem_set, public_pem, reject_code, verify};
use edgegate::keys::parse_key_set;
use edgegate::token::{verify_token, TokenError};
use serde_json::json;

#[test]
fn happy_path_pem_key() {
    let token = mint(signer(), json!({}), &claims());
    let auth = verify(&token, &pem_set(signer())).expect("valid token");
    assert_eq!(auth.user_id, "user_123");
    assert_eq!(auth.session_id.as_deref(), Some("sess_123"));
    assert_eq!(auth.session_status.as_deref(), Some("active"));
    assert_eq!(auth.org_id, None);
    assert_eq!(auth.org_role, None);
    assert_eq!(auth.org_slug, None);
    assert!(auth.org_permissions.is_empty());
    assert_eq!(auth.actor, None);
    assert_eq!(auth.factor_verification_age, None);
    assert_eq!(auth.expires_at, common::NOW_S + 60);
    assert_eq!(auth.issued_at, Some(common::NOW_S - 10));
    assert_eq!(auth.claims["iss"], "https://clerk.example.com");
}

#[test]
fn happy_path_with_clerk_header() {
    // Clerk's session tokens carry kid, typ and cat.
    let token = mint(
        signer(),
        json!({"kid": "ins_abc", "cat": "cl_B7d4PD111AAA"}),
        &claims(),
    );
    assert!(verify(&token, &pem_set(signer())).is_ok());
    let set = jwks_set(&[(signer(), "ins_abc")]);
    assert!(verify(&token, &set).is_ok());
}

#[test]
fn minimal_claims_are_enough() {
    let c = common::obj(json!({"sub": "user_1", "sid": "sess_1", "exp": common::NOW_S + 5, "azp": common::ORIGIN}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("minimal");
    assert_eq!(auth.user_id, "user_1");
    assert_eq!(auth.session_id.as_deref(), Some("sess_1"));
    assert_eq!(auth.session_status, None);
}

#[test]
fn a_token_without_sid_is_no_session_unless_allowed() {
    let c = common::obj(json!({"sub": "user_1", "exp": common::NOW_S + 5, "azp": common::ORIGIN}));
    let token = mint(signer(), json!({}), &c);
    let keys = pem_set(signer());
    assert_eq!(verify(&token, &keys), Err(TokenError::TypeMismatch));
    let mut allow = common::validation();
    allow.allow_missing_sid = true;
    let auth = verify_token(&token, &keys, &allow, common::NOW_MS).expect("allowed");
    assert_eq!(auth.session_id, None);
}

#[test]
fn machine_tokens_are_refused_even_when_sid_may_be_missing() {
    let keys = pem_set(signer());
    let mut allow = common::validation();
    allow.allow_missing_sid = true;
    let m2m = common::obj(json!({
        "sub": "mch_2vYVtestTESTtestTESTtestTESTtest", "aud": ["mch_1xxxxx"],
        "exp": common::NOW_S + 300, "iat": common::NOW_S, "nbf": common::NOW_S - 10,
        "jti": "mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE", "scopes": "mch_1xxxxx mch_2xxxxx",
    }));
    let oauth = common::obj(json!({
        "sub": "user_2vYVtestTESTtestTESTtestTESTtest", "client_id": "client_2VTWUzvGC5UhdJCNx6xG1D98edc",
        "scope": "read:foo write:bar", "jti": "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE",
        "exp": common::NOW_S + 300, "iat": common::NOW_S, "azp": common::ORIGIN,
    }));
    let cases = [
        ("m2m", mint(signer(), json!({}), &m2m)),
        ("m2m with cat", mint(signer(), json!({"cat": "cl_B7d4PD333AAA"}), &m2m)),
        ("m2m subject, sid and azp", mint(signer(), json!({}), &common::claims_with(json!({"sub": "mch_1"})))),
        ("m2m token id", mint(signer(), json!({}), &common::claims_with(json!({"jti": "mt_1"})))),
        ("oauth", mint(signer(), json!({}), &oauth)),
        ("oauth typ", mint(signer(), json!({"typ": "at+jwt"}), &common::claims())),
        ("oauth media typ", mint(signer(), json!({"typ": "application/at+jwt"}), &common::claims())),
        ("oauth token id", mint(signer(), json!({}), &common::claims_with(json!({"jti": "oat_1"})))),
        ("client_id without sid", mint(signer(), json!({}), &common::claims_with(json!({"sid": null, "client_id": "c"})))),
    ];
    for (name, token) in cases {
        assert_eq!(verify(&token, &keys), Err(TokenError::TypeMismatch), "{name}");
        assert_eq!(
            verify_token(&token, &keys, &allow, common::NOW_MS),
            Err(TokenError::TypeMismatch),
            "{name}, SID_MISSING=allow"
        );
    }
}

#[test]
fn jwt_template_tokens_pass_only_when_sid_may_be_missing() {
    let keys = pem_set(signer());
    let template = mint(
        signer(),
        json!({"cat": "cl_B7d4PD222AAA"}),
        &common::claims_with(json!({"sid": null})),
    );
    assert_eq!(verify(&template, &keys), Err(TokenError::TypeMismatch));
    let mut allow = common::validation();
    allow.allow_missing_sid = true;
    assert!(verify_token(&template, &keys, &allow, common::NOW_MS).is_ok());
}

#[test]
fn kid_selects_the_jwks_key() {
    let set = jwks_set(&[(signer(), "a"), (signer_b(), "b")]);
    let from_b = mint(signer_b(), json!({"kid": "b"}), &claims());
    assert!(verify(&from_b, &set).is_ok());
    let from_a = mint(signer(), json!({"kid": "a"}), &claims());
    assert!(verify(&from_a, &set).is_ok());
    // Signed by b but naming a: only a is tried.
    let lying = mint(signer_b(), json!({"kid": "a"}), &claims());
    assert_eq!(reject_code(&lying, &set), "token-invalid-signature");
}

#[test]
fn token_without_kid_tries_every_fitting_key() {
    let set = jwks_set(&[(signer(), "a"), (signer_b(), "b"), (other_alg(), "c")]);
    let token = mint(signer_b(), json!({}), &claims());
    assert!(verify(&token, &set).is_ok());
}

#[test]
fn pem_without_kid_serves_any_kid() {
    let token = mint(signer(), json!({"kid": "ins_whatever"}), &claims());
    assert!(verify(&token, &pem_set(signer())).is_ok());
}

#[test]
fn unknown_kid_when_every_key_has_a_kid() {
    let set = jwks_set(&[(signer(), "a"), (signer_b(), "b")]);
    let token = mint(signer(), json!({"kid": "zzz"}), &claims());
    assert_eq!(reject_code(&token, &set), "token-unknown-kid");
}

#[test]
fn unknown_kid_falls_back_to_a_kidless_key() {
    let jwk = common::public_jwk(signer_b(), Some("b"));
    let text = format!("{}", json!({"keys": [jwk]}));
    let mut set = parse_key_set(&text).expect("jwks");
    set.keys.extend(pem_set(signer()).keys);
    let token = mint(signer(), json!({"kid": "zzz"}), &claims());
    assert!(verify(&token, &set).is_ok());
}

#[test]
fn kid_naming_a_key_of_the_other_algorithm() {
    let set = jwks_set(&[(other_alg(), "a")]);
    let token = mint(signer(), json!({"kid": "a"}), &claims());
    assert_eq!(reject_code(&token, &set), "token-invalid-algorithm");
}

#[test]
fn rotation_two_pem_keys() {
    let set = parse_key_set(&format!(
        "{}\n{}",
        public_pem(signer()),
        public_pem(signer_b())
    ))
    .expect("two keys");
    for key in [signer(), signer_b()] {
        let token = mint(key, json!({"kid": "ins_x"}), &claims());
        assert!(verify(&token, &set).is_ok());
    }
    // A third key is not trusted.
    let token = mint(other_alg(), json!({}), &claims());
    assert_ne!(reject_code(&token, &set), "");
}

#[test]
fn rotation_jwks() {
    let set = jwks_set(&[(signer(), "old"), (signer_b(), "new")]);
    assert!(verify(&mint(signer(), json!({"kid": "old"}), &claims()), &set).is_ok());
    assert!(verify(&mint(signer_b(), json!({"kid": "new"}), &claims()), &set).is_ok());
}

#[test]
fn v1_org_claims() {
    let c = claims_with(json!({
        "v": null,
        "org_id": "org_1",
        "org_role": "org:admin",
        "org_slug": "acme",
        "org_permissions": ["org:sys_memberships:manage", "org:billing:read"],
    }));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("v1");
    assert_eq!(auth.org_id.as_deref(), Some("org_1"));
    assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
    assert_eq!(auth.org_slug.as_deref(), Some("acme"));
    assert_eq!(
        auth.org_permissions,
        vec!["org:sys_memberships:manage", "org:billing:read"]
    );
}

#[test]
fn v1_malformed_permissions_are_empty() {
    let c = claims_with(json!({"v": null, "org_id": "org_1", "org_permissions": ["a", 5]}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("v1");
    assert!(auth.org_permissions.is_empty());
    assert_eq!(auth.org_id.as_deref(), Some("org_1"));
}

fn v2(
    fea: serde_json::Value,
    per: serde_json::Value,
    fpm: serde_json::Value,
) -> edgegate::auth::Auth {
    let c = claims_with(json!({
        "v": 2,
        "fea": fea,
        "o": {"id": "org_2", "rol": "admin", "slg": "acme", "per": per, "fpm": fpm},
    }));
    verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("v2 token")
}

#[test]
fn v2_org_claims_and_permission_bitmasks() {
    // Org features (scope containing `o`): dashboard, reports, teams; `u:billing` is a user
    // feature and takes no fpm entry. fpm "3,2,0": dashboard -> bits 0,1; reports -> bit 1.
    let auth = v2(
        json!("o:dashboard,u:billing,uo:reports,o:teams"),
        json!("read,manage,delete"),
        json!("3,2,0"),
    );
    assert_eq!(auth.org_id.as_deref(), Some("org_2"));
    assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
    assert_eq!(auth.org_slug.as_deref(), Some("acme"));
    assert_eq!(
        auth.org_permissions,
        vec![
            "org:dashboard:read",
            "org:dashboard:manage",
            "org:reports:manage"
        ]
    );
}

#[test]
fn v2_bitmask_is_least_significant_bit_first() {
    // 4 = 0b100 selects the third permission, 5 = 0b101 the first and third.
    let auth = v2(json!("o:a,o:b"), json!("p0,p1,p2"), json!("4,5"));
    assert_eq!(
        auth.org_permissions,
        vec!["org:a:p2", "org:b:p0", "org:b:p2"]
    );
}

#[test]
fn v2_malformed_fea_per_fpm_give_no_permissions() {
    let cases = [
        (json!("dashboard"), json!("read"), json!("1")), // fea element without a colon
        (json!("o:a:b"), json!("read"), json!("1")),     // two colons
        (json!("o:a"), json!("read,,x"), json!("1")),    // empty permission
        (json!("o:a"), json!("read"), json!("x")),       // fpm not decimal
        (json!("o:a"), json!("read"), json!("-1")),      // negative
        (json!("o:a"), json!("read"), json!("1.5")),     // fraction
        (json!(5), json!("read"), json!("1")),           // fea not a string
        (json!("o:a"), json!(["read"]), json!("1")),     // per not a string
        (json!("o:a"), json!("read"), json!(1)),         // fpm not a string
        (
            json!("o:a"),
            json!("read"),
            json!("99999999999999999999999"),
        ), // overflow
        (json!(null), json!("read"), json!("1")),        // fea absent
    ];
    for (fea, per, fpm) in cases {
        let auth = v2(fea.clone(), per.clone(), fpm.clone());
        assert!(
            auth.org_permissions.is_empty(),
            "fea={fea} per={per} fpm={fpm}: {:?}",
            auth.org_permissions
        );
        // The rest of the org data survives.
        assert_eq!(auth.org_id.as_deref(), Some("org_2"), "fea={fea}");
        assert_eq!(auth.org_role.as_deref(), Some("org:admin"));
    }
}

#[test]
fn v2_without_o_has_no_org() {
    let c = claims_with(json!({"v": 2, "fea": "o:a", "org_id": "org_v1_ignored"}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("v2");
    assert_eq!(auth.org_id, None);
    assert_eq!(auth.org_role, None);
    assert!(auth.org_permissions.is_empty());
}

#[test]
fn actor_claim() {
    let act = json!({"sub": "user_admin", "iss": "https://dashboard.clerk.com", "sid": "sess_a"});
    let c = claims_with(json!({"act": act.clone()}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("act");
    assert_eq!(auth.actor.as_ref(), Some(&act));
    assert_eq!(auth.actor_id(), Some("user_admin"));
}

#[test]
fn factor_verification_age() {
    let c = claims_with(json!({"fva": [12, -1]}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("fva");
    assert_eq!(auth.factor_verification_age, Some([12, -1]));
    for bad in [
        json!([1]),
        json!([1, 2, 3]),
        json!(["1", 2]),
        json!("12,-1"),
        json!([1.5, 2]),
    ] {
        let c = claims_with(json!({"fva": bad.clone()}));
        let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("fva");
        assert_eq!(auth.factor_verification_age, None, "{bad}");
    }
}

#[test]
fn auth_serialises_with_the_cli_field_names() {
    let c = claims_with(json!({"act": {"sub": "user_admin"}, "fva": [1, 2]}));
    let auth = verify(&mint(signer(), json!({}), &c), &pem_set(signer())).expect("token");
    let value = serde_json::to_value(&auth).expect("json");
    let mut names: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "actor",
            "factor_verification_age",
            "org_id",
            "org_permissions",
            "org_role",
            "org_slug",
            "session_id",
            "session_status",
            "user_id"
        ]
    );
}
