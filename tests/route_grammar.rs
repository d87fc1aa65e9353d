//! The route grammar Clerk users write (`:path*`, `:path+`, `:param?`), setting messages that
//! name the fragment and the fix, `PROTECTED_ROUTES`, and the `feature:`, `plan:` and
//! `reverification:` requirements.

use edgegate::auth::Auth;
use edgegate::config::Settings;
use edgegate::response::{render, Rejection};
use edgegate::routes::{
    authorize, authorize_all, parse_protected_routes, parse_public_routes, parse_route_rules,
    Access, Entitlement, Forbidden, Level, Pattern, PatternError, Requirement, Reverification,
    RouteTable, Scope, KNOWN_REQUIREMENTS,
};
use serde_json::{json, Map, Value};

fn p(s: &str) -> Pattern {
    Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn session(claims: Value, fva: Option<[i64; 2]>) -> Auth {
    let claims: Map<String, Value> = claims.as_object().cloned().unwrap_or_default();
    Auth {
        user_id: "user_1".into(),
        session_id: Some("sess_1".into()),
        session_status: Some("active".into()),
        org_id: None,
        org_role: None,
        org_slug: None,
        org_permissions: Vec::new(),
        actor: None,
        factor_verification_age: fva,
        expires_at: 2_000_000_000,
        issued_at: Some(1_999_999_940),
        claims,
        machine: None,
    }
}

fn check(rule: &str, auth: &Auth) -> Result<(), Forbidden> {
    let rules = parse_route_rules(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    let refs: Vec<_> = rules.iter().collect();
    authorize_all(&refs, auth)
}

// ---- item 2: path-to-regexp v6 modifiers ----

#[test]
fn zero_or_more_segments() {
    let pat = p("/files/:path*");
    for ok in ["/files", "/files/", "/files/a", "/files/a/b", "/files/a/b/"] {
        assert!(pat.matches(ok), "{ok}");
    }
    for no in ["/filesx", "/file", "/other/files", "/files//"] {
        assert!(!pat.matches(no), "{no}");
    }
    let root = p("/:path*");
    for ok in ["/", "/a", "/a/b/c"] {
        assert!(root.matches(ok), "{ok}");
    }
}

#[test]
fn one_or_more_segments() {
    let pat = p("/files/:path+");
    assert!(!pat.matches("/files"));
    assert!(!pat.matches("/files/"));
    for ok in ["/files/a", "/files/a/b", "/files/a/b/"] {
        assert!(pat.matches(ok), "{ok}");
    }
    assert!(!pat.matches("/filesa"));
}

#[test]
fn optional_segment() {
    let pat = p("/user/:id?");
    for ok in ["/user", "/user/", "/user/1", "/user/1/"] {
        assert!(pat.matches(ok), "{ok}");
    }
    for no in ["/user/1/2", "/users", "/user1"] {
        assert!(!pat.matches(no), "{no}");
    }
    let mid = p("/user/:id?/edit");
    assert!(mid.matches("/user/edit"));
    assert!(mid.matches("/user/1/edit"));
    assert!(!mid.matches("/user/1/2/edit"));
}

#[test]
fn modifiers_in_the_middle_and_with_a_dot_prefix() {
    let pat = p("/docs/:path*/edit");
    for ok in ["/docs/edit", "/docs/a/edit", "/docs/a/b/edit"] {
        assert!(pat.matches(ok), "{ok}");
    }
    assert!(!pat.matches("/docs/a/b"));
    let ext = p("/file.:ext?");
    assert!(ext.matches("/file"));
    assert!(ext.matches("/file.json"));
    assert!(!ext.matches("/file.json/x"));
    let two = p("/:a?/:b?");
    for ok in ["/", "/x", "/x/y"] {
        assert!(two.matches(ok), "{ok}");
    }
    assert!(!two.matches("/x/y/z"));
}

#[test]
fn modifiers_keep_the_case_rules() {
    let pat = p("/Admin/:path*");
    assert!(!pat.matches("/admin/x"));
    assert!(pat.matches_ignore_case("/ADMIN/x"));
    assert!(pat.matches_ignore_case("/admin"));
}

#[test]
fn long_paths_match_in_linear_time() {
    let long = "/a".repeat(8000);
    let pat = p("/:path+/z");
    assert!(!pat.matches(&long));
    assert!(pat.matches(&format!("{long}/z")));
}

#[test]
fn modifiers_need_a_parameter() {
    for bad in ["/a*", "/a?", "/a+", "/:id**", "/:a:b?"] {
        assert!(Pattern::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Pattern::parse("/:a:b?"), Err(PatternError::AdjacentParams));
    assert!(Pattern::parse("/:a/:b+").is_ok());
}

// ---- item 1: messages ----

#[test]
fn unsupported_syntax_names_the_character_and_the_fix() {
    let e = parse_route_rules("/admin*=role:admin").unwrap_err();
    let m = e.to_string();
    assert!(
        m.starts_with("ROUTE_RULES: entry 1 (`/admin*`): pattern-unsupported-syntax `*`: "),
        "{m}"
    );
    assert!(m.contains("write a wildcard as `(.*)`"), "{m}");
    assert_eq!(e.code(), "pattern-unsupported-syntax");
}

#[test]
fn unknown_requirement_names_the_word_and_the_known_ones() {
    let e = parse_route_rules("/ok=org; /admin(.*)=rol:admin").unwrap_err();
    let m = e.to_string();
    assert_eq!(
        m,
        format!(
            "ROUTE_RULES: entry 2 (`/admin(.*)`): rule-unknown-requirement `rol:admin`: \
             {KNOWN_REQUIREMENTS}"
        )
    );
    for word in [
        "org",
        "role:",
        "permission:",
        "feature:",
        "plan:",
        "reverification:",
        "token:",
        "scope:",
    ] {
        assert!(KNOWN_REQUIREMENTS.contains(word), "{word}");
    }
}

#[test]
fn every_pattern_error_has_a_hint_in_its_message() {
    let cases = [
        ("/a(.*)/b", PatternError::WildcardNotLast, Some("(.*)")),
        ("/a/:", PatternError::EmptyParamName, Some(":")),
        ("/a b", PatternError::InvalidCharacter, Some(" ")),
        ("/a//b", PatternError::NotCanonical, None),
        ("a", PatternError::NotAbsolute, None),
    ];
    for (raw, error, fragment) in cases {
        let e = parse_public_routes(raw).unwrap_err();
        assert_eq!((e.error, e.fragment.as_deref()), (error, fragment), "{raw}");
        assert!(e.to_string().ends_with(error.hint()), "{e}");
        assert!(e.to_string().contains(&format!("(`{raw}`)")), "{e}");
    }
}

#[test]
fn long_or_odd_fragments_are_cut_and_cleaned() {
    let long = format!("/{}*", "a".repeat(200));
    let m = parse_public_routes(&long).unwrap_err().to_string();
    assert!(m.contains("..."), "{m}");
    assert!(m.len() < 500, "{m}");
}

// ---- item 3: PROTECTED_ROUTES ----

#[test]
fn protected_routes_make_everything_else_public() {
    let mut t = RouteTable::from_settings("", "/admin(.*)=role:admin").expect("table");
    t.set_protected_routes(parse_protected_routes("/dashboard/:path*, /api/:path+").expect("p"));
    assert!(
        matches!(t.classify("/dashboard"), Access::Protected { ref rules } if rules.is_empty())
    );
    assert!(matches!(
        t.classify("/DASHBOARD/x"),
        Access::Protected { .. }
    ));
    assert!(matches!(t.classify("/api/items"), Access::Protected { .. }));
    assert_eq!(t.classify("/api"), Access::Public);
    assert_eq!(t.classify("/"), Access::Public);
    assert_eq!(t.classify("/pricing"), Access::Public);
    // A rule's route needs a session whichever mode.
    assert!(matches!(t.classify("/admin/x"), Access::Protected { ref rules } if rules.len() == 1));
}

#[test]
fn protected_routes_errors_name_the_setting() {
    let e = parse_protected_routes("/ok, /bad*").unwrap_err();
    assert_eq!((e.setting, e.entry), ("PROTECTED_ROUTES", 2));
    assert!(e
        .to_string()
        .starts_with("PROTECTED_ROUTES: entry 2 (`/bad*`)"));
}

fn base_settings(extra: &[(&'static str, &'static str)]) -> Result<Settings, Vec<String>> {
    let mut all = vec![
        ("CLERK_JWT_KEY", "{\"kty\":\"oct\"}"),
        ("AUTHORIZED_PARTIES", "https://app.example.com"),
        ("ORIGIN_URL", "https://origin.example.com"),
    ];
    all.extend_from_slice(extra);
    let lookup = |name: &str| {
        all.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    Settings::from_settings(&lookup).map_err(|ps| ps.iter().map(|p| p.to_string()).collect())
}

#[test]
fn public_and_protected_routes_together_are_a_setting_problem() {
    let problems = base_settings(&[("PUBLIC_ROUTES", "/"), ("PROTECTED_ROUTES", "/app(.*)")])
        .err()
        .unwrap_or_default();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("PROTECTED_ROUTES: set together with PUBLIC_ROUTES")),
        "{problems:?}"
    );
    let problems = base_settings(&[("PROTECTED_ROUTES", "/app*")])
        .err()
        .unwrap_or_default();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("PROTECTED_ROUTES: entry 1 (`/app*`)")),
        "{problems:?}"
    );
}

#[test]
fn protected_routes_is_a_known_setting() {
    assert!(edgegate::config::SETTING_NAMES.contains(&"PROTECTED_ROUTES"));
    assert!(edgegate::config::unknown_setting_warnings(["PROTECTED_ROUTES"]).is_empty());
    let w = edgegate::config::unknown_setting_warnings(["PROTECTED_ROUTE"]);
    assert!(
        w.iter()
            .any(|m| m.contains("did you mean PROTECTED_ROUTES")),
        "{w:?}"
    );
}

// ---- item 4: feature: and plan: ----

#[test]
fn feature_and_plan_requirements_parse_with_scopes() {
    let rules = parse_route_rules(
        "/r=feature:reports|org:export|user:beta|o:x|u:y|organization:z; /p=plan:pro",
    )
    .expect("parse");
    let Requirement::Feature(f) = &rules[0].requirements[0] else {
        panic!("{:?}", rules[0].requirements)
    };
    let scopes: Vec<Scope> = f.iter().map(|e| e.scope).collect();
    assert_eq!(
        scopes,
        [
            Scope::Any,
            Scope::Organization,
            Scope::User,
            Scope::Organization,
            Scope::User,
            Scope::Organization
        ]
    );
    assert_eq!(
        rules[1].requirements,
        vec![Requirement::Plan(vec![Entitlement {
            scope: Scope::Any,
            name: "pro".into()
        }])]
    );
    let e = parse_route_rules("/r=feature:team:reports").unwrap_err();
    assert_eq!(e.code(), "rule-unknown-scope");
    assert!(e.to_string().contains("`feature:team:reports`"), "{e}");
    for bad in [
        "/r=feature:",
        "/r=plan:org:",
        "/r=feature:org:a:b",
        "/r=feature:a b",
    ] {
        assert_eq!(
            parse_route_rules(bad).unwrap_err().error,
            PatternError::EmptyRequirementValue,
            "{bad}"
        );
    }
}

#[test]
fn features_match_either_scope_unless_one_is_named() {
    let a = session(json!({"fea": "o:reports,u:beta", "pla": "o:pro"}), None);
    assert_eq!(check("/r=feature:reports", &a), Ok(()));
    assert_eq!(check("/r=feature:beta", &a), Ok(()));
    assert_eq!(check("/r=feature:org:reports", &a), Ok(()));
    assert_eq!(
        check("/r=feature:user:reports", &a),
        Err(Forbidden::MissingFeature)
    );
    assert_eq!(
        check("/r=feature:org:beta", &a),
        Err(Forbidden::MissingFeature)
    );
    assert_eq!(check("/r=feature:nope|beta", &a), Ok(()));
    assert_eq!(check("/r=plan:pro", &a), Ok(()));
    assert_eq!(check("/r=plan:user:pro", &a), Err(Forbidden::MissingPlan));
    assert_eq!(check("/r=plan:free", &a), Err(Forbidden::MissingPlan));
    // Features and plans need no active organisation of their own.
    assert_eq!(check("/r=feature:reports,plan:pro", &a), Ok(()));
    assert_eq!(Forbidden::MissingFeature.code(), "missing-feature");
    assert_eq!(Forbidden::MissingPlan.code(), "missing-plan");
}

#[test]
fn feature_claims_fail_closed() {
    for claims in [
        json!({}),
        json!({"fea": ""}),
        json!({"fea": 7}),
        json!({"fea": "reports"}),
        json!({"fea": "o:reports,broken"}),
        json!({"fea": "x:reports"}),
    ] {
        let a = session(claims.clone(), None);
        assert_eq!(
            check("/r=feature:reports", &a),
            Err(Forbidden::MissingFeature),
            "{claims}"
        );
    }
    let both = session(json!({"fea": "ou:reports"}), None);
    assert_eq!(check("/r=feature:user:reports", &both), Ok(()));
    assert_eq!(check("/r=feature:org:reports", &both), Ok(()));
}

#[test]
fn rights_fail_before_organisation_and_reverification() {
    let a = session(json!({"fea": "u:beta"}), Some([100, 100]));
    assert_eq!(
        check("/r=org,feature:beta", &a),
        Err(Forbidden::MissingOrganization)
    );
    let rules = parse_route_rules("/r(.*)=reverification:strict; /r(.*)=feature:nope").expect("p");
    let refs: Vec<_> = rules.iter().collect();
    assert_eq!(authorize_all(&refs, &a), Err(Forbidden::MissingFeature));
}

// ---- item 5: reverification ----

fn need(after_minutes: u32, level: Level) -> Reverification {
    Reverification {
        level,
        after_minutes,
    }
}

#[test]
fn reverification_presets_are_clerks() {
    let cases = [
        ("strict", need(10, Level::SecondFactor)),
        ("strict_mfa", need(10, Level::MultiFactor)),
        ("moderate", need(60, Level::SecondFactor)),
        ("lax", need(1_440, Level::SecondFactor)),
        ("10m:multi_factor", need(10, Level::MultiFactor)),
        ("5m:first_factor", need(5, Level::FirstFactor)),
        ("30:second_factor", need(30, Level::SecondFactor)),
    ];
    for (raw, want) in cases {
        assert_eq!(Reverification::parse(raw), Ok(want), "{raw}");
    }
    for bad in [
        "",
        "STRICT",
        "0m:first_factor",
        "10m",
        "10m:third_factor",
        "-1m:first_factor",
        "+5m:first_factor",
        "xm:first_factor",
    ] {
        assert_eq!(
            Reverification::parse(bad),
            Err(PatternError::InvalidReverification),
            "{bad}"
        );
    }
    let e = parse_route_rules("/a=reverification:sometimes").unwrap_err();
    assert!(
        e.to_string()
            .contains("rule-invalid-reverification `reverification:sometimes`"),
        "{e}"
    );
}

#[test]
fn reverification_follows_clerks_fva_semantics() {
    let met = |level, fva: Option<[i64; 2]>| need(10, level).met_by(&session(json!({}), fva));
    use Level::*;
    // Fresh enough means strictly younger than the limit.
    assert!(met(FirstFactor, Some([9, -1])));
    assert!(!met(FirstFactor, Some([10, 0])));
    assert!(!met(FirstFactor, Some([-1, 0])));
    assert!(met(SecondFactor, Some([100, 3])));
    assert!(!met(SecondFactor, Some([3, 100])));
    // No second factor enabled: the first stands in; no first factor: the second alone.
    assert!(met(SecondFactor, Some([3, -1])));
    assert!(!met(SecondFactor, Some([30, -1])));
    assert!(met(SecondFactor, Some([-1, 3])));
    assert!(met(MultiFactor, Some([3, 3])));
    assert!(!met(MultiFactor, Some([3, 30])));
    assert!(!met(MultiFactor, Some([30, 3])));
    assert!(met(MultiFactor, Some([3, -1])));
    assert!(!met(MultiFactor, Some([-1, 3])));
    // Fail closed: no fva, neither factor, nonsense ages.
    for fva in [None, Some([-1, -1]), Some([-2, 3]), Some([3, -5])] {
        for level in [FirstFactor, SecondFactor, MultiFactor] {
            assert!(!met(level, fva), "{level:?} {fva:?}");
        }
    }
}

#[test]
fn reverification_refusal_carries_the_requirement() {
    let a = session(json!({}), Some([30, 30]));
    let rules = parse_route_rules("/a=reverification:strict_mfa").expect("p");
    let e = authorize(&rules[0], &a).unwrap_err();
    assert_eq!(
        e,
        Forbidden::ReverificationRequired(need(10, Level::MultiFactor))
    );
    assert_eq!(e.code(), "reverification-required");
    assert_eq!(check("/a=reverification:lax", &a), Ok(()));
}

#[test]
fn reverification_api_refusal_is_clerks_error_body() {
    let plan = render(&Rejection::ReverificationRequired {
        need: need(10, Level::SecondFactor),
        page_load: false,
    });
    assert_eq!(plan.status, 403);
    let body: Value = serde_json::from_str(&plan.body).expect("json");
    assert_eq!(
        body,
        json!({"clerk_error": {"type": "forbidden", "reason": "reverification-error",
            "metadata": {"reverification": {"level": "second_factor", "afterMinutes": 10}}}})
    );
    assert_eq!(
        plan.header("x-edgegate-auth-reason"),
        Some("reverification-required")
    );
    assert_eq!(plan.header("x-edgegate-auth-status"), Some("signed-in"));
    assert_eq!(
        plan.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn reverification_page_load_is_a_403_page() {
    let plan = render(&Rejection::ReverificationRequired {
        need: need(60, Level::MultiFactor),
        page_load: true,
    });
    assert_eq!(plan.status, 403);
    assert_eq!(
        plan.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        plan.body.contains("multi_factor, within 60 minutes"),
        "{}",
        plan.body
    );
    assert!(plan.header("content-security-policy").is_some());
}
