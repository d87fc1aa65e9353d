//! Token sources, cookie parsing and publishable-key helpers.

use edgegate::http::HeaderList;
use edgegate::session::{
    bearer_token, cookie_suffix, find_session_token, frontend_api_from_publishable_key,
    instance_type, ClerkCookies, CookieJar, InstanceType, TokenSource,
};
use proptest::prelude::*;

fn hl(pairs: &[(&str, &str)]) -> HeaderList {
    pairs.iter().copied().collect()
}

const LIVE: &str = "pk_live_Y2xlcmsuY2xlcmsuZGV2JA";
const TEST: &str = "pk_test_Y2xlcmsuY2xlcmsuZGV2JA";

#[test]
fn clerk_cookie_suffix_vectors() {
    assert_eq!(cookie_suffix(LIVE).as_deref(), Some("1Z8AzTQD"));
    assert_eq!(cookie_suffix(TEST).as_deref(), Some("QvfNY2dr"));
}

#[test]
fn cookie_suffix_of_invalid_key_is_none() {
    assert_eq!(cookie_suffix(""), None);
    assert_eq!(cookie_suffix("sk_live_Y2xlcmsuY2xlcmsuZGV2JA"), None);
    assert_eq!(cookie_suffix("pk_live_!!!"), None);
}

#[test]
fn frontend_api_host_from_publishable_key() {
    assert_eq!(
        frontend_api_from_publishable_key(LIVE).as_deref(),
        Some("clerk.clerk.dev")
    );
    assert_eq!(
        frontend_api_from_publishable_key(TEST).as_deref(),
        Some("clerk.clerk.dev")
    );
    // Padded base64 is accepted too.
    assert_eq!(
        frontend_api_from_publishable_key("pk_test_Y2xlcmsuY2xlcmsuZGV2JA==").as_deref(),
        Some("clerk.clerk.dev")
    );
}

#[test]
fn publishable_key_without_dollar_or_with_bad_host_is_refused() {
    use base64::Engine;
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_test_{}", enc("clerk.dev"))),
        None
    );
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_test_{}", enc("evil.com/x$"))),
        None
    );
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_test_{}", enc("a\r\nb$"))),
        None
    );
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_test_{}", enc("bücher.de$"))),
        None
    );
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_live_{}", enc("$"))),
        None
    );
    assert_eq!(frontend_api_from_publishable_key("pk_test_"), None);
    assert_eq!(
        frontend_api_from_publishable_key("pk_prod_Y2xlcmsuY2xlcmsuZGV2JA"),
        None
    );
    assert_eq!(
        frontend_api_from_publishable_key(&format!("pk_test_{}", enc("localhost:3000$")))
            .as_deref(),
        Some("localhost:3000")
    );
}

#[test]
fn instance_types() {
    assert_eq!(instance_type(TEST), Some(InstanceType::Development));
    assert_eq!(instance_type(LIVE), Some(InstanceType::Production));
    assert_eq!(instance_type("pk_x"), None);
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
    assert_eq!(bearer_token("Bearerabc"), None);
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

#[test]
fn client_uat_cookies_are_read_with_and_without_suffix() {
    let jar = CookieJar::parse("__client_uat=0; __client_uat_QvfNY2dr=1700000000; __session=s");
    let c = ClerkCookies::read(&jar, Some("QvfNY2dr"));
    assert_eq!(c.client_uat.as_deref(), Some("0"));
    assert_eq!(c.client_uat_suffixed.as_deref(), Some("1700000000"));
    assert_eq!(c.session.as_deref(), Some("s"));
    assert_eq!(c.session_suffixed, None);
    let plain = ClerkCookies::read(&jar, None);
    assert_eq!(plain.client_uat_suffixed, None);
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
        let _ = frontend_api_from_publishable_key(&s);
        let _ = frontend_api_from_publishable_key(&format!("pk_test_{s}"));
    }

    #[test]
    fn bearer_roundtrip(tok in "[A-Za-z0-9._-]{1,64}") {
        let h = format!("Bearer {tok}");
        prop_assert_eq!(bearer_token(&h), Some(tok.as_str()));
    }
}
