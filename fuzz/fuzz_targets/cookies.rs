//! Cookie parsing and token-source selection never panic on any header bytes.
#![no_main]
use edgegate::http::HeaderList;
use edgegate::token_source::{find_session_token, CookieJar};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = CookieJar::parse_bytes(&[data]);
    let text = String::from_utf8_lossy(data);
    let jar = CookieJar::parse(&text);
    let _ = jar.get("__session");
    let headers: HeaderList = [("cookie", text.as_ref()), ("authorization", text.as_ref())]
        .into_iter()
        .collect();
    let source = find_session_token(&headers, Some("QvfNY2dr"));
    if let Some(token) = source.token() {
        assert!(!token.is_empty());
    }
});
