//! Token sources, cookie parsing and publishable-key helpers.

use edgegate::clerk::{cookie_suffix, Instance, PublishableKey};
use edgegate::http::HeaderList;
use edgegate::token_source::{bearer_token, find_session_token, CookieJar, TokenSource};
use proptest::prelude::*;

fn hl(pairs: &[(&str, &str)]) -> HeaderList {
    pairs.iter().copied().collect()
}

const LIVE: &str = "pk_live_Y2xlcmsuY2xlcmsuZGV2JA";
const TEST: &str = "pk_test_Y2xlcmsuY2xlcmsuZGV2JA";

fn pk_host(pk: &str) -> Option<String> {
    PublishableKey::parse(pk).map(|k| k.frontend_api)
}

#[test]
fn clerk_cookie_suffix_vectors() {
    assert_eq!(cookie_suffix(LIVE), "1Z8AzTQD");
    assert_eq!(cookie_suffix(TEST), "QvfNY2dr");
    assert_eq!(
        PublishableKey::parse(LIVE)
            .map(|k| k.cookie_suffix)
            .as_deref(),
        Some("1Z8AzTQD")
    );
}

#[test]
fn frontend_api_host_from_publishable_key() {
    assert_eq!(pk_host(LIVE).as_deref(), Some("clerk.clerk.dev"));
    assert_eq!(pk_host(TEST).as_deref(), Some("clerk.clerk.dev"));
}

#[test]
fn publishable_key_without_dollar_or_with_bad_host_is_refused() {
    use base64::Engine;
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for bad in [
        format!("pk_test_{}", enc("clerk.dev")),
        format!("pk_test_{}", enc("evil.com/x$")),
        format!("pk_test_{}", enc("a\r\nb$")),
        format!("pk_test_{}", enc("bücher.de$")),
        format!("pk_live_{}", enc("$")),
        "pk_test_".to_owned(),
        "pk_prod_Y2xlcmsuY2xlcmsuZGV2JA".to_owned(),
        "sk_live_Y2xlcmsuY2xlcmsuZGV2JA".to_owned(),
    ] {
        assert_eq!(pk_host(&bad), None, "{bad}");
    }
}

#[test]
fn instance_types() {
    assert_eq!(
        PublishableKey::parse(TEST).map(|k| k.instance),
        Some(Instance::Development)
    );
    assert_eq!(
        PublishableKey::parse(LIVE).map(|k| k.instance),
        Some(Instance::Production)
    );
    assert!(PublishableKey::parse("pk_x").is_none());
}

#[test]
fn bearer_scheme_is_case_insensitive() {
    assert_eq!(bearer_token("Bearer abc"), Some("abc"));
    assert_eq!(bearer_token("bearer abc"), Some("abc"));
    assert_eq!(bearer_token("BEARER   abc  "), Some("abc"));
    assert_eq!(bearer_token("Bearer\tabc"), Some("abc"));
}

#[test]
fn non_bearer_or_empty_authorization_is_no_token() {
    assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
    assert_eq!(bearer_token("Bearer"), None);
    assert_eq!(bearer_token("Bearer    "), None);
    assert_eq!(bearer_token(""), None);
    assert_eq!(bearer_token("Token abc"), None);
}

#[test]
fn a_bare_authorization_value_is_the_token_as_in_clerk() {
    assert_eq!(
        bearer_token("eyJhbGciOi.e30.sig"),
        Some("eyJhbGciOi.e30.sig")
    );
    assert_eq!(bearer_token("  eyJ.e30.sig  "), Some("eyJ.e30.sig"));
    assert_eq!(bearer_token("Bearerabc"), Some("Bearerabc"));
    assert_eq!(bearer_token("bearer"), None);
}

#[test]
fn header_token_wins_over_cookies() {
    let h = hl(&[
        ("Cookie", "__session=cookie-token"),
        ("authorization", "Bearer header-token"),
    ]);
    assert_eq!(
        find_session_token(&h, None),
        TokenSource::Bearer("header-token".into())
    );
}

#[test]
fn basic_authorization_falls_back_to_cookie() {
    let h = hl(&[("Authorization", "Basic x"), ("Cookie", "__session=c")]);
    assert_eq!(
        find_session_token(&h, None),
        TokenSource::Cookie {
            name: "__session".into(),
            value: "c".into()
        }
    );
}

#[test]
fn suffixed_session_cookie_preferred_over_unsuffixed() {
    let h = hl(&[("Cookie", "__session=plain; __session_1Z8AzTQD=suffixed")]);
    assert_eq!(
        find_session_token(&h, Some("1Z8AzTQD")),
        TokenSource::Cookie {
            name: "__session_1Z8AzTQD".into(),
            value: "suffixed".into()
        }
    );
    // Without a configured suffix the suffixed cookie is not read.
    assert_eq!(
        find_session_token(&h, None),
        TokenSource::Cookie {
            name: "__session".into(),
            value: "plain".into()
        }
    );
}

#[test]
fn other_suffix_is_ignored() {
    let h = hl(&[("Cookie", "__session_OTHERSFX=x")]);
    assert_eq!(find_session_token(&h, Some("1Z8AzTQD")), TokenSource::None);
}

#[test]
fn empty_session_cookie_counts_as_absent() {
    let h = hl(&[("Cookie", "__session_1Z8AzTQD=; __session=plain")]);
    assert_eq!(
        find_session_token(&h, Some("1Z8AzTQD")).token(),
        Some("plain")
    );
    assert_eq!(
        find_session_token(&hl(&[("Cookie", "__session=")]), None),
        TokenSource::None
    );
}

#[test]
fn no_token_anywhere() {
    assert_eq!(
        find_session_token(&HeaderList::new(), None),
        TokenSource::None
    );
    assert_eq!(TokenSource::None.kind(), "none");
}

#[test]
fn several_cookie_headers_are_all_read_and_first_name_wins() {
    let h = hl(&[
        ("Cookie", "a=1"),
        ("cookie", "__session=first; __session=second"),
        ("COOKIE", "__session=third"),
    ]);
    let jar = CookieJar::from_headers(&h);
    assert_eq!(jar.get("a"), Some("1"));
    assert_eq!(jar.get("__session"), Some("first"));
    assert_eq!(find_session_token(&h, None).token(), Some("first"));
}

#[test]
fn malformed_cookie_pairs_are_skipped() {
    let jar = CookieJar::parse(";;; junk ; =noname; __session=ok; also junk;x=");
    assert_eq!(jar.get("__session"), Some("ok"));
    assert_eq!(jar.get("x"), Some(""));
    assert_eq!(jar.get("junk"), None);
    assert_eq!(jar.len(), 2);
}

#[test]
fn quoted_cookie_values_are_unquoted() {
    let jar = CookieJar::parse("__session=\"abc.def\"; q=\"unterminated");
    assert_eq!(jar.get("__session"), Some("abc.def"));
    assert_eq!(jar.get("q"), Some("\"unterminated"));
}

#[test]
fn cookie_values_are_percent_decoded_when_utf8() {
    let jar = CookieJar::parse("a=hello%20world; b=%FF%FE; c=%zz");
    assert_eq!(jar.get("a"), Some("hello world"));
    assert_eq!(jar.get("b"), Some("%FF%FE"));
    assert_eq!(jar.get("c"), Some("%zz"));
}

#[test]
fn cookie_names_are_case_sensitive() {
    let jar = CookieJar::parse("__SESSION=x");
    assert_eq!(jar.get("__session"), None);
}

#[test]
fn non_utf8_cookie_bytes_are_tolerated() {
    let raw: &[u8] = b"bad=\xff\xfe; __session=tok";
    let jar = CookieJar::parse_bytes(&[raw]);
    assert_eq!(jar.get("__session"), Some("tok"));
    assert!(jar.get("bad").is_some());
}

#[test]
fn huge_cookie_header_is_parsed_without_failing() {
    let mut big = String::new();
    for i in 0..20_000 {
        big.push_str(&format!("c{i}=v; "));
    }
    big.push_str("__session=tok");
    let h = hl(&[("Cookie", &big)]);
    assert_eq!(find_session_token(&h, None).token(), Some("tok"));
}

proptest! {
    #[test]
    fn cookie_parser_never_panics(s in ".{0,512}") {
        let jar = CookieJar::parse(&s);
        let _ = jar.get("__session");
        let h = hl(&[("Cookie", &s), ("Authorization", &s)]);
        let _ = find_session_token(&h, Some("QvfNY2dr"));
    }

    #[test]
    fn cookie_bytes_parser_never_panics(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CookieJar::parse_bytes(&[&b]);
    }

    #[test]
    fn publishable_key_helpers_never_panic(s in ".{0,128}") {
        let _ = cookie_suffix(&s);
        let _ = PublishableKey::parse(&s);
        let _ = PublishableKey::parse(&format!("pk_test_{s}"));
    }

    #[test]
    fn bearer_roundtrip(tok in "[A-Za-z0-9._-]{1,64}") {
        let h = format!("Bearer {tok}");
        prop_assert_eq!(bearer_token(&h), Some(tok.as_str()));
    }
}
