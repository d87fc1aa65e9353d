//! Forwarded / X-Forwarded-* / Host parsing and validation, the public URL, redirect hosts.

use edgegate::forwarded::{
    default_allowed_hosts, forwarded_elements, parse_host, public_url, redirect_allowed,
    redirect_target, redirect_url_allowed, ForwardedError, HostKind, PublicUrl, Scheme,
};
use edgegate::http::HeaderList;
use proptest::prelude::*;

fn hl(pairs: &[(&str, &str)]) -> HeaderList {
    pairs.iter().copied().collect()
}

fn own() -> PublicUrl {
    PublicUrl::from_request_url("https://gw.example.com/dash?tab=1").expect("own url")
}

/// A request that reached the edge over plain http (a forwarded scheme may then go up or stay).
fn own_http() -> PublicUrl {
    PublicUrl::from_request_url("http://gw.example.com/dash?tab=1").expect("own url")
}

fn trusted(pairs: &[(&str, &str)]) -> (String, Vec<(&'static str, &'static str)>) {
    trusted_from(&own(), pairs)
}

fn trusted_from(
    own: &PublicUrl,
    pairs: &[(&str, &str)],
) -> (String, Vec<(&'static str, &'static str)>) {
    let d = public_url(own, &hl(pairs), true);
    (
        d.url.to_string(),
        d.issues
            .iter()
            .map(|i| (i.source, i.error.code()))
            .collect(),
    )
}

// ---- hosts ----

#[test]
fn valid_hosts_parse() {
    let h = parse_host("Example.COM").expect("name");
    assert_eq!(
        (h.name.as_str(), h.port, h.kind),
        ("example.com", None, HostKind::Name)
    );
    let h = parse_host("example.com:8443").expect("port");
    assert_eq!(h.port, Some(8443));
    let h = parse_host("10.0.0.1:80").expect("ipv4");
    assert_eq!(h.kind, HostKind::Ipv4);
    let h = parse_host("[::1]:8080").expect("ipv6");
    assert_eq!(
        (h.name.as_str(), h.port, h.kind),
        ("[::1]", Some(8080), HostKind::Ipv6)
    );
    let h = parse_host("[2001:DB8::1]").expect("ipv6");
    assert_eq!(h.name, "[2001:db8::1]");
    assert_eq!(
        parse_host("localhost").expect("single label").kind,
        HostKind::Name
    );
    assert_eq!(
        parse_host("xn--bcher-kva.example").expect("punycode").name,
        "xn--bcher-kva.example"
    );
}

#[test]
fn bracket_junk_in_host_is_refused() {
    assert_eq!(
        parse_host("example.com[invalid]"),
        Err(ForwardedError::InvalidHost)
    );
    assert_eq!(parse_host("[::1]x"), Err(ForwardedError::InvalidHost));
    assert_eq!(parse_host("[::1]:"), Err(ForwardedError::InvalidPort));
}

#[test]
fn unterminated_ipv6_is_refused() {
    assert_eq!(parse_host("[::1"), Err(ForwardedError::Ipv6Unterminated));
    assert_eq!(parse_host("["), Err(ForwardedError::Ipv6Unterminated));
    assert_eq!(parse_host("[not-an-ip]"), Err(ForwardedError::InvalidIpv6));
    assert_eq!(
        parse_host("[fe80::1%eth0]"),
        Err(ForwardedError::InvalidIpv6)
    );
    assert_eq!(parse_host("::1"), Err(ForwardedError::InvalidHost));
}

#[test]
fn ports_out_of_range_are_refused() {
    assert_eq!(
        parse_host("example.com:99999"),
        Err(ForwardedError::PortOutOfRange)
    );
    assert_eq!(
        parse_host("example.com:0"),
        Err(ForwardedError::PortOutOfRange)
    );
    assert_eq!(
        parse_host("example.com:65536"),
        Err(ForwardedError::PortOutOfRange)
    );
    assert_eq!(
        parse_host("example.com:00000000080"),
        Err(ForwardedError::PortOutOfRange)
    );
    assert_eq!(
        parse_host("example.com:-1"),
        Err(ForwardedError::InvalidPort)
    );
    assert_eq!(
        parse_host("example.com:8a"),
        Err(ForwardedError::InvalidPort)
    );
    assert_eq!(parse_host("example.com:"), Err(ForwardedError::InvalidPort));
    assert_eq!(
        parse_host("example.com:65535").expect("max").port,
        Some(65535)
    );
    assert_eq!(parse_host("example.com:1").expect("min").port, Some(1));
}

#[test]
fn cr_lf_and_controls_in_host_are_refused() {
    assert_eq!(
        parse_host("example.com\r\nX-Evil: 1"),
        Err(ForwardedError::ControlCharacter)
    );
    assert_eq!(
        parse_host("exa\0mple.com"),
        Err(ForwardedError::ControlCharacter)
    );
    assert_eq!(
        parse_host("example.com\t"),
        Err(ForwardedError::ControlCharacter)
    );
}

#[test]
fn unicode_hosts_are_refused_not_punycoded() {
    assert_eq!(
        parse_host("bücher.example"),
        Err(ForwardedError::NonAsciiHost)
    );
    assert_eq!(
        parse_host("ｅｘａｍｐｌｅ.com"),
        Err(ForwardedError::NonAsciiHost)
    );
}

#[test]
fn malformed_names_and_ipv4_are_refused() {
    for bad in [
        "-a.com",
        "a-.com",
        "a..com",
        ".a.com",
        "a.com.",
        "a_b.com",
        "a b.com",
        "a/b",
        "a@b.com",
        "user:pass@host",
        "a.123",
    ] {
        assert!(parse_host(bad).is_err(), "{bad}");
    }
    for bad in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.0400"] {
        assert_eq!(parse_host(bad), Err(ForwardedError::InvalidIpv4), "{bad}");
    }
    assert_eq!(
        parse_host(&"a".repeat(64)),
        Err(ForwardedError::InvalidHost)
    );
    assert_eq!(
        parse_host(&format!("{}.com", "a.".repeat(130))),
        Err(ForwardedError::TooLong)
    );
    assert_eq!(parse_host(""), Err(ForwardedError::Empty));
}

// ---- Forwarded ----

#[test]
fn forwarded_elements_with_quotes_in_order() {
    let p = forwarded_elements(
        r#"for=192.0.2.60;proto=https;host="app.example.com:8443", , for=198.51.100.17;host=real.example.com"#,
    )
    .expect("parse");
    let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        p,
        vec![
            vec![
                pair("for", "192.0.2.60"),
                pair("proto", "https"),
                pair("host", "app.example.com:8443"),
            ],
            vec![
                pair("for", "198.51.100.17"),
                pair("host", "real.example.com")
            ],
        ]
    );
}

#[test]
fn forwarded_quoted_string_may_hold_commas_and_escapes() {
    let p = forwarded_elements(r#"for="[2001:db8::1]:4711, x";Host="a\"b""#).expect("parse");
    assert_eq!(p.len(), 1, "{p:?}");
    let element = p.concat();
    assert_eq!(element[0].1, "[2001:db8::1]:4711, x");
    assert_eq!(element[1], ("host".to_string(), "a\"b".to_string()));
}

#[test]
fn forwarded_syntax_errors() {
    assert_eq!(
        forwarded_elements(r#"host="unterminated"#),
        Err(ForwardedError::UnterminatedQuote)
    );
    assert_eq!(
        forwarded_elements(r#"host="x\"#),
        Err(ForwardedError::UnterminatedQuote)
    );
    assert_eq!(
        forwarded_elements("host"),
        Err(ForwardedError::ForwardedSyntax)
    );
    assert_eq!(
        forwarded_elements("host="),
        Err(ForwardedError::ForwardedSyntax)
    );
    assert_eq!(
        forwarded_elements("=x"),
        Err(ForwardedError::ForwardedSyntax)
    );
    assert_eq!(
        forwarded_elements("host=a b"),
        Err(ForwardedError::ForwardedSyntax)
    );
    assert_eq!(
        forwarded_elements("host=a;host=b"),
        Err(ForwardedError::DuplicateParameter)
    );
    assert_eq!(forwarded_elements(""), Err(ForwardedError::Empty));
    assert_eq!(forwarded_elements(" , ,"), Err(ForwardedError::Empty));
    assert_eq!(
        forwarded_elements("host=a\r\n"),
        Err(ForwardedError::ControlCharacter)
    );
}

#[test]
fn forwarded_and_x_forwarded_are_used_when_they_agree() {
    let (url, issues) = trusted_from(
        &own_http(),
        &[
            ("Forwarded", "proto=https;host=public.example.com"),
            ("X-Forwarded-Host", "PUBLIC.example.com"),
            ("X-Forwarded-Proto", "https"),
            ("Host", "gw.example.com"),
        ],
    );
    assert_eq!(url, "https://public.example.com/dash?tab=1");
    assert!(issues.is_empty());
    let (url, _) = trusted_from(
        &own_http(),
        &[("Forwarded", "proto=https;host=f.example.com")],
    );
    assert_eq!(url, "https://f.example.com/dash?tab=1");
}

#[test]
fn forwarded_and_x_forwarded_that_disagree_are_both_ignored() {
    // One of them came from the client: neither decides the public URL.
    let (url, issues) = trusted_from(
        &own_http(),
        &[
            ("Forwarded", "proto=https;host=app.example.com"),
            ("X-Forwarded-Host", "real.example.com"),
            ("X-Forwarded-Proto", "http"),
            ("Host", "gw.example.com"),
        ],
    );
    assert_eq!(url, "http://gw.example.com/dash?tab=1");
    assert_eq!(
        issues,
        vec![
            ("x-forwarded-host", "forwarded-conflict"),
            ("x-forwarded-proto", "forwarded-conflict")
        ]
    );
}

#[test]
fn only_the_last_item_the_trusted_proxy_added_is_used() {
    // A proxy that appends leaves the client's items in front.
    let (url, issues) = trusted_from(
        &own_http(),
        &[
            ("X-Forwarded-Host", "app.example.com, real.example.com"),
            ("X-Forwarded-Proto", "https, HTTP"),
        ],
    );
    assert_eq!(url, "http://real.example.com/dash?tab=1");
    assert!(issues.is_empty());
    let (url, _) = trusted(&[(
        "Forwarded",
        "host=app.example.com;proto=http, for=192.0.2.1;host=real.example.com",
    )]);
    assert_eq!(url, "https://real.example.com/dash?tab=1");
    // Of repeated header lines, the last.
    let (url, _) = trusted(&[
        ("X-Forwarded-Host", "app.example.com"),
        ("X-Forwarded-Host", "real.example.com"),
    ]);
    assert_eq!(url, "https://real.example.com/dash?tab=1");
    // A malformed client prefix makes the whole Forwarded value unusable, never shifts it.
    let (url, issues) = trusted(&[("Forwarded", "host=\"app.example.com, host=real.example.com")]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    assert_eq!(issues, vec![("forwarded", "forwarded-unterminated-quote")]);
}

#[test]
fn a_forwarded_scheme_never_downgrades_an_https_request() {
    let (url, issues) = trusted(&[
        ("X-Forwarded-Host", "app.example.com:4444"),
        ("X-Forwarded-Proto", "http"),
    ]);
    assert_eq!(url, "https://app.example.com:4444/dash?tab=1");
    assert!(issues.is_empty());
    let (url, _) = trusted(&[("Forwarded", "proto=http")]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    // Up is fine: TLS ended at a proxy in front.
    let (url, _) = trusted_from(&own_http(), &[("X-Forwarded-Proto", "https")]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
}

#[test]
fn an_invalid_forwarded_host_voids_x_forwarded_host_too() {
    // One family unusable while the other is sent: one of them is the client's.
    let (url, issues) = trusted(&[
        ("Forwarded", "host=\"example.com[invalid]\";proto=https"),
        ("X-Forwarded-Host", "app.example.com:8443"),
    ]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    assert_eq!(
        issues,
        vec![
            ("forwarded", "forwarded-invalid-host"),
            ("x-forwarded-host", "forwarded-conflict")
        ]
    );
    // Alone, an invalid Forwarded host falls back to Host.
    let (url, issues) = trusted(&[
        ("Forwarded", "host=\"example.com[invalid]\""),
        ("Host", "host.example.com"),
    ]);
    assert_eq!(url, "https://host.example.com/dash?tab=1");
    assert_eq!(issues, vec![("forwarded", "forwarded-invalid-host")]);
}

#[test]
fn a_client_cannot_void_the_proxys_header_and_supply_the_other_family() {
    // The proxy appends to Forwarded and leaves X-Forwarded-Host alone; the client sends a
    // malformed Forwarded prefix (or one element without host=) and its own X-Forwarded-Host.
    for forwarded in [
        "x=\", for=192.0.2.1;host=real.example.com",
        "host=a;host=b, for=192.0.2.1;host=real.example.com",
        "for=192.0.2.1",
    ] {
        let (url, issues) = trusted(&[
            ("Forwarded", forwarded),
            ("X-Forwarded-Host", "evil.example.net"),
        ]);
        assert_eq!(url, "https://gw.example.com/dash?tab=1", "{forwarded}");
        assert!(
            issues.contains(&("x-forwarded-host", "forwarded-conflict")),
            "{forwarded}: {issues:?}"
        );
    }
    // The other way round: an X-Forwarded-Host made unusable cannot hand over to Forwarded.
    let long = format!("{},real.example.com", "a".repeat(9000));
    let (url, _) = trusted(&[
        ("X-Forwarded-Host", &long),
        ("Forwarded", "host=evil.example.net"),
    ]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
}

#[test]
fn malformed_x_forwarded_host_falls_back_to_host_header() {
    for bad in [
        "example.com[invalid]",
        "[::1",
        "example.com:99999",
        "example.com\r\nx: y",
        "bücher.example",
        "",
        " , ",
    ] {
        let d = public_url(
            &own(),
            &hl(&[("X-Forwarded-Host", bad), ("Host", "host.example.com")]),
            true,
        );
        assert_eq!(d.url.host, "host.example.com", "{bad:?}");
        assert_eq!(d.issues.len(), 1, "{bad:?}");
        assert_eq!(d.issues[0].source, "x-forwarded-host");
    }
}

#[test]
fn everything_invalid_falls_back_to_the_request_url() {
    let (url, issues) = trusted(&[
        ("Forwarded", "host=[::1"),
        ("X-Forwarded-Host", "[::1"),
        ("X-Forwarded-Proto", "gopher"),
        ("Host", "a b"),
    ]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    let codes: Vec<_> = issues.iter().map(|i| i.1).collect();
    assert_eq!(
        codes,
        vec![
            "forwarded-syntax",
            "forwarded-ipv6-unterminated",
            "forwarded-invalid-scheme",
            "forwarded-conflict",
            "forwarded-invalid-host",
            "forwarded-conflict"
        ]
    );
}

#[test]
fn untrusted_forwarded_headers_are_ignored() {
    let d = public_url(
        &own(),
        &hl(&[
            ("Forwarded", "host=evil.com;proto=http"),
            ("X-Forwarded-Host", "evil.com"),
            ("Host", "evil.com"),
        ]),
        false,
    );
    assert_eq!(d.url, own());
    assert!(d.issues.is_empty());
}

#[test]
fn a_thousand_comma_values_are_handled() {
    // 1000 values under the 8 KiB cap: the last one is used.
    let many = vec!["a.io"; 1000].join(",");
    let (url, issues) = trusted(&[("X-Forwarded-Host", &many)]);
    assert_eq!(url, "https://a.io/dash?tab=1");
    assert!(issues.is_empty());
    // Beside a malformed Forwarded it is not: one of the two is the client's.
    let (url, issues) = trusted(&[("X-Forwarded-Host", &many), ("Forwarded", &many)]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    assert_eq!(
        issues,
        vec![
            ("forwarded", "forwarded-syntax"),
            ("x-forwarded-host", "forwarded-conflict")
        ]
    );
    let elems = vec!["host=f.io"; 700].join(",");
    let (url, _) = trusted(&[("Forwarded", &elems)]);
    assert_eq!(url, "https://f.io/dash?tab=1");
    // 1000 longer values exceed the cap: ignored whole, with a reason.
    let long = vec!["a.example.com"; 1000].join(",");
    let (url, issues) = trusted(&[("X-Forwarded-Host", &long)]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    assert_eq!(issues, vec![("x-forwarded-host", "forwarded-too-long")]);
}

#[test]
fn hundred_kilobyte_values_are_ignored_whole() {
    let huge = "a".repeat(100 * 1024);
    let (url, issues) = trusted(&[
        ("Forwarded", &huge),
        ("X-Forwarded-Host", &huge),
        ("X-Forwarded-Proto", &huge),
        ("Host", &huge),
    ]);
    assert_eq!(url, "https://gw.example.com/dash?tab=1");
    let count = |code: &str| issues.iter().filter(|i| i.1 == code).count();
    assert_eq!(count("forwarded-too-long"), 4, "{issues:?}");
    assert_eq!(count("forwarded-conflict"), 2, "{issues:?}");
    assert_eq!(issues.len(), 6);
}

#[test]
fn default_port_is_dropped() {
    let (url, _) = trusted(&[("X-Forwarded-Host", "a.example.com:443")]);
    assert_eq!(url, "https://a.example.com/dash?tab=1");
    let (url, _) = trusted_from(
        &own_http(),
        &[
            ("X-Forwarded-Host", "a.example.com:80"),
            ("X-Forwarded-Proto", "http"),
        ],
    );
    assert_eq!(url, "http://a.example.com/dash?tab=1");
}

#[test]
fn request_url_parsing() {
    let u = PublicUrl::from_request_url("http://LOCALHOST:8787/a/b?x=1#frag").expect("url");
    assert_eq!(u.scheme, Scheme::Http);
    assert_eq!(u.authority(), "localhost:8787");
    assert_eq!(u.to_string(), "http://localhost:8787/a/b?x=1");
    assert!(PublicUrl::from_request_url("ftp://x/").is_none());
    assert!(PublicUrl::from_request_url("not a url").is_none());
    let v6 = PublicUrl::from_request_url("https://[::1]:443/").expect("v6");
    assert_eq!(v6.to_string(), "https://[::1]/");
}

// ---- redirect hosts ----

#[test]
fn spoofed_host_is_not_an_allowed_redirect() {
    let allowed = default_allowed_hosts("gw.example.com", &["https://app.example.com".to_string()]);
    assert_eq!(allowed, vec!["gw.example.com", "app.example.com"]);
    assert!(redirect_url_allowed("https://gw.example.com/", &allowed));
    assert!(redirect_url_allowed("https://APP.example.com/", &allowed));
    assert!(!redirect_url_allowed("https://evil.com/", &allowed));
    assert!(!redirect_url_allowed(
        "https://gw.example.com.evil.com/",
        &allowed
    ));
    assert!(!redirect_url_allowed("https://evil.com\r\n/", &allowed));
    assert!(!redirect_url_allowed("", &allowed));
}

#[test]
fn an_allowed_host_allows_its_port_only_and_a_portless_one_the_default() {
    let url = |s: &str| PublicUrl::from_request_url(s).expect(s);
    let allowed = vec!["localhost:8787".to_string(), "example.com".to_string()];
    assert!(redirect_allowed(&url("http://localhost:8787/"), &allowed));
    assert!(!redirect_allowed(&url("http://localhost:9999/"), &allowed));
    assert!(!redirect_allowed(&url("http://localhost/"), &allowed));
    assert!(redirect_allowed(&url("https://example.com/"), &allowed));
    assert!(redirect_allowed(&url("http://example.com:80/"), &allowed));
    assert!(!redirect_allowed(
        &url("https://example.com:8443/"),
        &allowed
    ));
    assert!(!redirect_allowed(
        &url("http://example.com:4444/"),
        &allowed
    ));
    // An entry with the default port is the portless entry, for that scheme only.
    let allowed = vec!["example.com:443".to_string()];
    assert!(redirect_allowed(&url("https://example.com/"), &allowed));
    assert!(!redirect_allowed(&url("http://example.com/"), &allowed));
}

#[test]
fn redirect_urls_are_checked_by_host() {
    let allowed = vec!["gw.example.com".to_string()];
    assert!(redirect_url_allowed("https://gw.example.com/x", &allowed));
    assert!(!redirect_url_allowed("https://evil.com/x", &allowed));
    assert!(!redirect_url_allowed(
        "https://gw.example.com@evil.com/",
        &allowed
    ));
    assert!(!redirect_url_allowed("javascript:alert(1)", &allowed));
    assert!(!redirect_url_allowed("//evil.com", &allowed));
}

#[test]
fn redirect_target_falls_back_to_own_url_for_disallowed_host() {
    let d = public_url(&own(), &hl(&[("X-Forwarded-Host", "evil.com")]), true);
    let allowed = default_allowed_hosts(&own().authority(), &[]);
    assert_eq!(redirect_target(&d.url, &own(), || allowed.clone()), own());
    let d = public_url(&own(), &hl(&[("X-Forwarded-Host", "gw.example.com")]), true);
    assert_eq!(
        redirect_target(&d.url, &own(), || allowed.clone()).host,
        "gw.example.com"
    );
}

#[test]
fn forwarded_error_codes_are_stable() {
    assert_eq!(
        ForwardedError::PortOutOfRange.code(),
        "forwarded-port-out-of-range"
    );
    assert_eq!(
        ForwardedError::Ipv6Unterminated.code(),
        "forwarded-ipv6-unterminated"
    );
}

proptest! {
    #[test]
    fn host_parser_never_panics(s in ".{0,300}") {
        let _ = parse_host(&s);
    }

    #[test]
    fn forwarded_parser_never_panics(s in ".{0,512}") {
        let _ = forwarded_elements(&s);
        let pairs = [("Forwarded", s.as_str()), ("X-Forwarded-Host", s.as_str()),
                     ("X-Forwarded-Proto", s.as_str()), ("Host", s.as_str())];
        let d = public_url(&own(), &hl(&pairs), true);
        // Whatever came in, the public host is valid.
        prop_assert!(parse_host(&d.url.authority()).is_ok());
        let _ = redirect_url_allowed(&s, std::slice::from_ref(&s));
    }

    #[test]
    fn structured_forwarded_never_panics(parts in proptest::collection::vec(
        prop_oneof![Just("host="), Just("proto="), Just("\""), Just("\\"), Just(";"), Just(","),
                    Just("["), Just("]"), Just(":"), Just("a"), Just("1"), Just(" ")], 0..40)) {
        let s = parts.concat();
        let _ = forwarded_elements(&s);
        let _ = public_url(&own(), &hl(&[("Forwarded", &s)]), true);
    }

    #[test]
    fn valid_hosts_roundtrip(name in "[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,10}){0,3}", port in 1u16..) {
        let s = format!("{name}:{port}");
        let h = parse_host(&s).expect("valid");
        prop_assert_eq!(h.to_string(), s);
    }
}
