//! Path canonicalisation, route patterns, PUBLIC_ROUTES / ROUTE_RULES and authorisation.

use edgegate::auth::Auth;
use edgegate::routes::{
    authorize, authorize_all, canonical_path, parse_public_routes, parse_route_rules, Access,
    Forbidden, PathError, Pattern, PatternError, Requirement, RouteTable,
};
use proptest::prelude::*;
use serde_json::Map;

fn auth(org: Option<(&str, &str, &[&str])>) -> Auth {
    Auth {
        user_id: "user_1".into(),
        session_id: Some("sess_1".into()),
        session_status: Some("active".into()),
        org_id: org.map(|(id, _, _)| id.to_string()),
        org_role: org.map(|(_, r, _)| r.to_string()),
        org_slug: org.map(|_| "acme".to_string()),
        org_permissions: org
            .map(|(_, _, p)| p.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
        actor: None,
        factor_verification_age: None,
        expires_at: 2_000_000_000,
        issued_at: Some(1_999_999_940),
        claims: Map::new(),
        machine: None,
    }
}

fn canon(p: &str) -> Result<String, PathError> {
    canonical_path(p)
}

// ---- canonical paths ----

#[test]
fn plain_paths_are_unchanged() {
    for p in [
        "/",
        "/a",
        "/a/b",
        "/a/b/",
        "/api/v1/users/123",
        "/a:b@c!$&'()*+,=",
    ] {
        assert_eq!(canon(p).as_deref(), Ok(p), "{p}");
    }
}

#[test]
fn encoded_slash_is_refused() {
    assert_eq!(canon("/admin%2Fusers"), Err(PathError::EncodedSlash));
    assert_eq!(canon("/admin%2fusers"), Err(PathError::EncodedSlash));
}

#[test]
fn encoded_backslash_and_raw_backslash_are_refused() {
    assert_eq!(canon("/a%5Cb"), Err(PathError::EncodedBackslash));
    assert_eq!(canon("/a%5cb"), Err(PathError::EncodedBackslash));
    assert_eq!(canon("/a\\b"), Err(PathError::Backslash));
    assert_eq!(canon("/public\\..\\admin"), Err(PathError::Backslash));
}

#[test]
fn nul_and_control_characters_are_refused() {
    assert_eq!(canon("/a%00b"), Err(PathError::ControlCharacter));
    assert_eq!(canon("/a\0b"), Err(PathError::ControlCharacter));
    assert_eq!(
        canon("/a%0d%0aSet-Cookie:x"),
        Err(PathError::ControlCharacter)
    );
    assert_eq!(canon("/a\r\nb"), Err(PathError::ControlCharacter));
    assert_eq!(canon("/a%7F"), Err(PathError::ControlCharacter));
    assert_eq!(canon("/a\u{85}"), Err(PathError::ControlCharacter));
}

#[test]
fn semicolon_path_parameters_are_refused() {
    assert_eq!(canon("/admin;jsessionid=1"), Err(PathError::PathParameter));
    assert_eq!(canon("/public;/../admin"), Err(PathError::PathParameter));
    // Encoded, it is just data and stays encoded.
    assert_eq!(canon("/a%3bb").as_deref(), Ok("/a%3Bb"));
}

#[test]
fn dot_segments_are_resolved() {
    assert_eq!(canon("/a/./b").as_deref(), Ok("/a/b"));
    assert_eq!(canon("/a/../b").as_deref(), Ok("/b"));
    assert_eq!(canon("/public/../admin").as_deref(), Ok("/admin"));
    assert_eq!(canon("/a/b/..").as_deref(), Ok("/a/"));
    assert_eq!(canon("/a/.").as_deref(), Ok("/a/"));
    assert_eq!(canon("/.").as_deref(), Ok("/"));
    assert_eq!(canon("/a/...").as_deref(), Ok("/a/..."));
    assert_eq!(canon("/a/..b").as_deref(), Ok("/a/..b"));
}

#[test]
fn encoded_dots_are_decoded_then_resolved() {
    assert_eq!(canon("/public/%2e%2e/admin").as_deref(), Ok("/admin"));
    assert_eq!(canon("/public/.%2E/admin").as_deref(), Ok("/admin"));
    assert_eq!(canon("/a/%2e/b").as_deref(), Ok("/a/b"));
}

#[test]
fn dot_dot_escaping_root_is_refused() {
    assert_eq!(canon("/.."), Err(PathError::EscapesRoot));
    assert_eq!(canon("/a/../../etc/passwd"), Err(PathError::EscapesRoot));
    assert_eq!(canon("/%2e%2e/x"), Err(PathError::EscapesRoot));
}

#[test]
fn double_slashes_collapse() {
    assert_eq!(canon("//admin").as_deref(), Ok("/admin"));
    assert_eq!(canon("/a//b///c").as_deref(), Ok("/a/b/c"));
    assert_eq!(canon("//evil.example/x").as_deref(), Ok("/evil.example/x"));
    assert_eq!(canon("///").as_deref(), Ok("/"));
}

#[test]
fn unreserved_escapes_are_decoded_and_others_uppercased() {
    assert_eq!(canon("/%61dmin").as_deref(), Ok("/admin"));
    assert_eq!(canon("/%7euser").as_deref(), Ok("/~user"));
    assert_eq!(canon("/a%20b").as_deref(), Ok("/a%20b"));
    assert_eq!(canon("/a%2ab").as_deref(), Ok("/a%2Ab"));
    assert_eq!(canon("/a%2520b").as_deref(), Ok("/a%2520b"));
}

#[test]
fn double_encoded_dots_slashes_and_backslashes_are_refused() {
    for path in [
        "/a%252Fb",
        "/a%252fb",
        "/%252e%252e/admin",
        "/public/%252E%252E/admin",
        "/x/%255c..%255cadmin",
        "/x%255C",
        "/%25252e%25252e/admin",
        // Decoded once by edgegate itself ('2' and 'e' are unreserved), so still double-encoded.
        "/%25%32%65%25%32%65/admin",
        "/%25%32%66",
        // Three layers, overlong dots, and a double-encoded `;` and NUL.
        "/blog/%2525%2532%2565%2525%2532%2565/admin",
        "/blog/%25c0%25ae%25c0%25ae/admin",
        "/x%253bjsessionid=1",
        "/x%2500",
    ] {
        assert_eq!(canon(path), Err(PathError::DoubleEncoded), "{path}");
    }
    assert_eq!(PathError::DoubleEncoded.code(), "path-double-encoded");
    // Other double-encoded bytes, and a lone encoded percent, are no traversal.
    assert_eq!(canon("/100%25").as_deref(), Ok("/100%25"));
    assert_eq!(canon("/a%252").as_deref(), Ok("/a%252"));
    assert_eq!(canon("/%2541").as_deref(), Ok("/%2541"));
}

#[test]
fn the_length_limit_holds_for_the_canonical_form() {
    use edgegate::routes::MAX_PATH_LEN;
    // Each raw 2-byte character becomes a 6-byte escape: short raw, too long canonical.
    let expanding = format!("/{}", "é".repeat(MAX_PATH_LEN / 4));
    assert!(expanding.len() <= MAX_PATH_LEN);
    assert_eq!(canon(&expanding), Err(PathError::TooLong));
    let fits = format!("/{}", "é".repeat((MAX_PATH_LEN - 1) / 6));
    let c = canon(&fits).expect("fits");
    assert!(c.len() <= MAX_PATH_LEN);
    assert_eq!(canon(&c).as_deref(), Ok(c.as_str()));
}

#[test]
fn raw_unsafe_and_unicode_characters_are_encoded() {
    assert_eq!(canon("/a b").as_deref(), Ok("/a%20b"));
    assert_eq!(canon("/café").as_deref(), Ok("/caf%C3%A9"));
    assert_eq!(
        canon("/a\"<>`{}|^[]").as_deref(),
        Ok("/a%22%3C%3E%60%7B%7D%7C%5E%5B%5D")
    );
    assert_eq!(canon("/a#b?c").as_deref(), Ok("/a%23b%3Fc"));
}

#[test]
fn bad_percent_encoding_is_refused() {
    assert_eq!(canon("/a%"), Err(PathError::BadPercentEncoding));
    assert_eq!(canon("/a%2"), Err(PathError::BadPercentEncoding));
    assert_eq!(canon("/a%zz"), Err(PathError::BadPercentEncoding));
}

#[test]
fn overlong_utf8_escapes_are_refused() {
    assert_eq!(canon("/a%C0%AFb"), Err(PathError::InvalidUtf8));
    assert_eq!(canon("/%E9t%E9"), Err(PathError::InvalidUtf8));
    assert_eq!(canon("/caf%C3%A9").as_deref(), Ok("/caf%C3%A9"));
}

#[test]
fn relative_and_huge_paths_are_refused() {
    assert_eq!(canon(""), Err(PathError::NotAbsolute));
    assert_eq!(canon("admin"), Err(PathError::NotAbsolute));
    assert_eq!(canon("*"), Err(PathError::NotAbsolute));
    assert_eq!(
        canon(&format!("/{}", "a".repeat(20_000))),
        Err(PathError::TooLong)
    );
}

#[test]
fn case_is_preserved_for_forwarding() {
    assert_eq!(canon("/ADMIN/Users").as_deref(), Ok("/ADMIN/Users"));
}

#[test]
fn path_error_codes_are_stable() {
    assert_eq!(PathError::EncodedSlash.code(), "path-encoded-slash");
    assert_eq!(PathError::EscapesRoot.code(), "path-escapes-root");
    assert_eq!(PathError::PathParameter.code(), "path-parameter");
}

// ---- patterns ----

fn pat(s: &str) -> Pattern {
    Pattern::parse(s).expect("pattern")
}

#[test]
fn literal_pattern_matches_exactly_and_tolerates_one_trailing_slash() {
    let p = pat("/about");
    assert!(p.matches("/about"));
    assert!(p.matches("/about/"));
    assert!(!p.matches("/about//"));
    assert!(!p.matches("/about/x"));
    assert!(!p.matches("/aboutx"));
    assert!(!p.matches("/About"));
}

#[test]
fn wildcard_suffix_matches_like_clerk_including_longer_words() {
    let p = pat("/admin(.*)");
    assert!(p.matches("/admin"));
    assert!(p.matches("/admin/"));
    assert!(p.matches("/admin/users/1"));
    // path-to-regexp behaviour: `(.*)` is not a segment boundary.
    assert!(p.matches("/administrator"));
    assert!(!p.matches("/adm"));
    assert!(!p.matches("/x/admin"));
}

#[test]
fn wildcard_after_slash_needs_the_slash() {
    let p = pat("/api/(.*)");
    assert!(p.matches("/api/"));
    assert!(p.matches("/api/x/y"));
    assert!(!p.matches("/api"));
    assert!(!p.matches("/apix"));
}

#[test]
fn param_segments_match_one_segment() {
    let p = pat("/users/:id");
    assert!(p.matches("/users/42"));
    assert!(p.matches("/users/42/"));
    assert!(!p.matches("/users/"));
    assert!(!p.matches("/users/42/edit"));
    let q = pat("/users/:id/edit");
    assert!(q.matches("/users/abc/edit"));
    assert!(!q.matches("/users//edit"));
    let r = pat("/files/:name.json");
    assert!(r.matches("/files/a.b.json"));
    assert!(!r.matches("/files/.json"));
    // path-to-regexp reads `:slug(.*)` as one parameter with its own regex (which also matches
    // `/org/`); edgegate refuses it rather than read it as `:slug` then `(.*)`.
    assert!(Pattern::parse("/org/:slug(.*)").is_err());
    let s = pat("/org/:slug/(.*)");
    assert!(s.matches("/org/acme/settings"));
}

#[test]
fn case_insensitive_matching_for_rules() {
    let p = pat("/admin(.*)");
    assert!(p.matches_ignore_case("/ADMIN/x"));
    assert!(p.matches_ignore_case("/AdMiN"));
    assert!(!p.matches("/ADMIN"));
}

#[test]
fn unsupported_pattern_syntax_is_a_config_error() {
    assert_eq!(Pattern::parse("/a*"), Err(PatternError::UnsupportedSyntax));
    assert_eq!(Pattern::parse("/a?"), Err(PatternError::UnsupportedSyntax));
    assert_eq!(Pattern::parse("/a+"), Err(PatternError::UnsupportedSyntax));
    assert_eq!(
        Pattern::parse("/:id??"),
        Err(PatternError::UnsupportedSyntax)
    );
    assert_eq!(Pattern::parse("/{a}"), Err(PatternError::UnsupportedSyntax));
    assert_eq!(
        Pattern::parse("/a(\\d+)"),
        Err(PatternError::UnsupportedSyntax)
    );
    assert_eq!(
        Pattern::parse("/a(.*)/b"),
        Err(PatternError::WildcardNotLast)
    );
    assert_eq!(Pattern::parse("admin"), Err(PatternError::NotAbsolute));
    assert_eq!(Pattern::parse("  "), Err(PatternError::Empty));
    assert_eq!(Pattern::parse("/a/:"), Err(PatternError::EmptyParamName));
    assert_eq!(Pattern::parse("/:a:b"), Err(PatternError::AdjacentParams));
    assert_eq!(Pattern::parse("/a//b"), Err(PatternError::NotCanonical));
    assert_eq!(Pattern::parse("/a/../b"), Err(PatternError::NotCanonical));
    assert_eq!(Pattern::parse("/%61"), Err(PatternError::NotCanonical));
    assert_eq!(Pattern::parse("/%2f"), Err(PatternError::NotCanonical));
    assert_eq!(Pattern::parse("/a b"), Err(PatternError::InvalidCharacter));
    assert_eq!(Pattern::parse("/é"), Err(PatternError::InvalidCharacter));
    assert!(Pattern::parse("/caf%C3%A9").is_ok());
}

// ---- settings ----

#[test]
fn public_routes_parse_comma_and_newline_separated() {
    let p = parse_public_routes(" /, /sign-in(.*) ,\n/blog/:slug ,").expect("parse");
    assert_eq!(p.len(), 3);
    assert_eq!(p[1].as_str(), "/sign-in(.*)");
    assert_eq!(parse_public_routes("").expect("empty").len(), 0);
}

#[test]
fn public_routes_error_names_the_setting_and_entry() {
    let e = parse_public_routes("/ok, /bad*").unwrap_err();
    assert_eq!(e.setting, "PUBLIC_ROUTES");
    assert_eq!(e.entry, 2);
    assert_eq!(
        e.to_string(),
        "PUBLIC_ROUTES: entry 2 (`/bad*`): pattern-unsupported-syntax `*`: write a wildcard as \
         `(.*)` (`/admin(.*)`) or `/:path*` (whole segments), a segment as `:name`; `*`, `+` and \
         `?` only follow a `:name`"
    );
    assert_eq!(e.code(), "pattern-unsupported-syntax");
}

#[test]
fn route_rules_format_parses() {
    let rules = parse_route_rules(
        "/admin(.*)=role:org:admin; /billing(.*)=org,permission:org:billing:manage\n/team(.*)=org;\
         /ops(.*)=role:org:admin|org:ops",
    )
    .expect("parse");
    assert_eq!(rules.len(), 4);
    assert_eq!(
        rules[0].requirements,
        vec![Requirement::Role(vec!["org:admin".into()])]
    );
    assert_eq!(
        rules[1].requirements,
        vec![
            Requirement::Organization,
            Requirement::Permission(vec!["org:billing:manage".into()])
        ]
    );
    assert_eq!(rules[2].requirements, vec![Requirement::Organization]);
    assert_eq!(
        rules[3].requirements,
        vec![Requirement::Role(vec![
            "org:admin".into(),
            "org:ops".into()
        ])]
    );
}

#[test]
fn route_rule_errors_name_the_setting() {
    let cases = [
        ("/admin(.*)", PatternError::MissingRequirements, None),
        ("/admin(.*)=", PatternError::MissingRequirements, None),
        (
            "/admin(.*)=superuser",
            PatternError::UnknownRequirement,
            Some("superuser"),
        ),
        (
            "/admin(.*)=role:",
            PatternError::EmptyRequirementValue,
            Some("role:"),
        ),
        (
            "/admin(.*)=role:a||b",
            PatternError::EmptyRequirementValue,
            Some("role:a||b"),
        ),
        (
            "/admin(.*)=permission:a b",
            PatternError::EmptyRequirementValue,
            Some("permission:a b"),
        ),
        ("admin=org", PatternError::NotAbsolute, None),
    ];
    for (raw, want, fragment) in cases {
        let e = parse_route_rules(raw).unwrap_err();
        assert_eq!(e.setting, "ROUTE_RULES", "{raw}");
        assert_eq!(e.error, want, "{raw}");
        let message = e.to_string();
        let pattern = raw.split('=').next().unwrap_or(raw);
        assert!(
            message.starts_with(&format!(
                "ROUTE_RULES: entry 1 (`{pattern}`): {}",
                want.code()
            )),
            "{message}"
        );
        assert_eq!(e.fragment.as_deref(), fragment, "{raw}");
        if let Some(f) = fragment {
            assert!(message.contains(&format!("`{f}`")), "{message}");
        }
        assert!(message.contains(want.hint()), "{message}");
    }
}

// ---- classification ----

fn table() -> RouteTable {
    RouteTable::from_settings(
        "/, /sign-in(.*), /blog/:slug, /admin/public",
        "/admin(.*)=role:org:admin; /billing(.*)=permission:org:billing:manage; /team(.*)=org",
    )
    .expect("settings")
}

#[test]
fn public_requires_exact_case_sensitive_match() {
    let t = table();
    assert_eq!(t.classify("/"), Access::Public);
    assert_eq!(t.classify("/blog/hello"), Access::Public);
    assert_eq!(
        t.classify("/Blog/hello"),
        Access::Protected { rules: vec![] }
    );
    assert_eq!(
        t.classify("/blog/hello/more"),
        Access::Protected { rules: vec![] }
    );
    assert_eq!(t.classify("/anything"), Access::Protected { rules: vec![] });
}

#[test]
fn uppercase_path_cannot_dodge_a_rule() {
    let t = table();
    match t.classify("/ADMIN/users") {
        Access::Protected { rules } => assert_eq!(rules.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rule_wins_over_public_pattern() {
    let t = table();
    match t.classify("/admin/public") {
        Access::Protected { rules } => assert_eq!(rules.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sign_in_path_beats_a_catch_all_rule() {
    for broad in ["/(.*)=org", "/:path+=org", "/:locale/(.*)=org"] {
        let mut t = RouteTable::from_settings("", broad).expect("settings");
        t.add_always_public("/sign-in").expect("path");
        t.add_always_public("/en/sign-in").expect("path");
        assert_eq!(t.classify("/sign-in"), Access::Public, "{broad}");
        assert_eq!(t.classify("/en/sign-in"), Access::Public, "{broad}");
    }
    let mut t = RouteTable::from_settings("", "/(.*)=org").expect("settings");
    t.add_always_public("/sign-in").expect("path");
    assert_eq!(t.classify("/sign-in"), Access::Public);
    assert!(matches!(t.classify("/other"), Access::Protected { .. }));
    assert_eq!(t.add_always_public("/a%2Fb"), Err(PathError::EncodedSlash));
}

#[test]
fn a_rule_that_names_the_sign_in_path_outranks_its_exemption() {
    let mut t =
        RouteTable::from_settings("", "/(.*)=org; /login(.*)=role:admin").expect("settings");
    t.add_always_public("/login").expect("path");
    match t.classify("/login") {
        Access::Protected { rules } => assert_eq!(rules.len(), 2, "every matching rule applies"),
        other => panic!("{other:?}"),
    }
    match t.classify("/LOGIN/x") {
        Access::Protected { rules } => assert_eq!(rules.len(), 2),
        other => panic!("{other:?}"),
    }
    // A locale-prefixed rule that names the page by its literal segment names it too.
    let mut t = RouteTable::from_settings("", "/:locale/sign-in(.*)=role:admin").expect("s");
    t.add_always_public("/en/sign-in").expect("path");
    assert!(matches!(
        t.classify("/en/sign-in"),
        Access::Protected { .. }
    ));
}

#[test]
fn all_matching_rules_apply_in_order() {
    let t = RouteTable::from_settings("", "/(.*)=org; /admin(.*)=role:org:admin").expect("s");
    let Access::Protected { rules } = t.classify("/admin/x") else {
        panic!("protected");
    };
    assert_eq!(rules.len(), 2);
    let member = auth(Some(("org_1", "org:member", &[])));
    assert_eq!(authorize_all(&rules, &member), Err(Forbidden::MissingRole));
    let no_org = auth(None);
    assert_eq!(
        authorize_all(&rules, &no_org),
        Err(Forbidden::MissingOrganization)
    );
    let admin = auth(Some(("org_1", "org:admin", &[])));
    assert_eq!(authorize_all(&rules, &admin), Ok(()));
}

#[test]
fn encoded_traversal_reaches_the_rule_it_resolves_to() {
    let t = table();
    let path = canonical_path("/blog/%2e%2e/admin/settings").expect("canonical");
    assert_eq!(path, "/admin/settings");
    assert!(matches!(t.classify(&path), Access::Protected { rules } if rules.len() == 1));
}

// ---- authorisation ----

#[test]
fn missing_role_is_forbidden() {
    let rules = parse_route_rules("/admin(.*)=role:org:admin").expect("p");
    let a = auth(Some(("org_1", "org:member", &[])));
    assert_eq!(authorize(&rules[0], &a), Err(Forbidden::MissingRole));
    assert_eq!(Forbidden::MissingRole.code(), "missing-role");
}

#[test]
fn role_any_of_and_unprefixed_role_match() {
    let rules = parse_route_rules("/a=role:admin|org:ops").expect("p");
    assert_eq!(
        authorize(&rules[0], &auth(Some(("o", "org:admin", &[])))),
        Ok(())
    );
    assert_eq!(
        authorize(&rules[0], &auth(Some(("o", "org:ops", &[])))),
        Ok(())
    );
    assert_eq!(
        authorize(&rules[0], &auth(Some(("o", "org:administrator", &[])))),
        Err(Forbidden::MissingRole)
    );
}

#[test]
fn role_comparison_is_case_sensitive() {
    let rules = parse_route_rules("/a=role:org:admin").expect("p");
    assert_eq!(
        authorize(&rules[0], &auth(Some(("o", "org:Admin", &[])))),
        Err(Forbidden::MissingRole)
    );
}

#[test]
fn missing_permission_is_forbidden() {
    let rules = parse_route_rules("/billing(.*)=permission:org:billing:manage").expect("p");
    let a = auth(Some(("org_1", "org:member", &["org:billing:read"])));
    assert_eq!(authorize(&rules[0], &a), Err(Forbidden::MissingPermission));
    assert_eq!(Forbidden::MissingPermission.code(), "missing-permission");
    let ok = auth(Some(("org_1", "org:member", &["org:billing:manage"])));
    assert_eq!(authorize(&rules[0], &ok), Ok(()));
}

#[test]
fn missing_organization_is_forbidden_for_every_requirement() {
    for raw in ["/a=org", "/a=role:org:admin", "/a=permission:org:x:y"] {
        let rules = parse_route_rules(raw).expect("p");
        assert_eq!(
            authorize(&rules[0], &auth(None)),
            Err(Forbidden::MissingOrganization),
            "{raw}"
        );
    }
    let mut empty_org = auth(Some(("", "org:admin", &[])));
    empty_org.org_id = Some(String::new());
    let rules = parse_route_rules("/a=org").expect("p");
    assert_eq!(
        authorize(&rules[0], &empty_org),
        Err(Forbidden::MissingOrganization)
    );
    assert_eq!(
        Forbidden::MissingOrganization.code(),
        "missing-organization"
    );
}

proptest! {
    #[test]
    fn canonical_path_is_idempotent(s in "/[a-zA-Z0-9%./\\\\;:@!$&'()*+,= ~_é-]{0,64}") {
        if let Ok(c) = canonical_path(&s) {
            prop_assert_eq!(canonical_path(&c), Ok(c.clone()));
            prop_assert!(c.starts_with('/'));
            prop_assert!(!c.contains("//"));
            prop_assert!(!c.contains("%2F") && !c.contains("%5C"));
            prop_assert!(!c.split('/').any(|seg| seg == "." || seg == ".."));
        }
    }

    #[test]
    fn canonical_path_never_panics(s in ".{0,256}") {
        let _ = canonical_path(&s);
    }

    #[test]
    fn canonical_path_with_escapes_is_idempotent(parts in proptest::collection::vec(
        prop_oneof![Just("%2e".to_string()), Just("%2E".to_string()), Just("..".to_string()),
                    Just(".".to_string()), Just("/".to_string()), Just("%41".to_string()),
                    Just("%c3%a9".to_string()), Just("a".to_string()), Just("%25".to_string())],
        0..24)) {
        let s = format!("/{}", parts.concat());
        if let Ok(c) = canonical_path(&s) {
            prop_assert_eq!(canonical_path(&c), Ok(c.clone()));
        }
    }

    #[test]
    fn pattern_and_rule_parsers_never_panic(s in ".{0,128}") {
        let _ = Pattern::parse(&s);
        let _ = parse_public_routes(&s);
        let _ = parse_route_rules(&s);
    }

    #[test]
    fn matching_never_panics(p in "/[a-z:()./*]{0,16}", path in ".{0,128}") {
        if let Ok(pattern) = Pattern::parse(&p) {
            let _ = pattern.matches(&path);
            let _ = pattern.matches_ignore_case(&path);
        }
    }
}

#[test]
fn asked_roles_are_normalised_like_clerk_has() {
    let rules =
        parse_route_rules("/a=role:org:org:admin; /b=permission:billing:manage").expect("p");
    let admin = auth(Some(("o", "org:admin", &["org:billing:manage"])));
    assert_eq!(authorize(&rules[0], &admin), Ok(()));
    assert_eq!(authorize(&rules[1], &admin), Ok(()));
    // A session role without the prefix does not satisfy a prefixed ask.
    let raw = auth(Some(("o", "admin", &[])));
    assert_eq!(authorize(&rules[0], &raw), Err(Forbidden::MissingRole));
}

#[test]
fn worst_case_paths_and_patterns_stay_linear_enough() {
    let long = "/a".repeat(8_000);
    assert_eq!(canonical_path(&long).as_deref(), Ok(long.as_str()));
    let dots = "/a/..".repeat(3_000);
    assert_eq!(canonical_path(&dots).as_deref(), Ok("/"));
    let seg = format!("/{}", "x".repeat(16_000));
    let p = pat("/:a-:b-:c-:d/(.*)");
    let started = std::time::Instant::now();
    assert!(!p.matches(&seg));
    assert!(!p.matches_ignore_case(&long));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
