//! Forwarded-header parsing never panics, and whatever host it settles on is valid syntax.
#![no_main]
use edgegate::forwarded::{forwarded_elements, parse_host, public_url, PublicUrl};
use edgegate::http::HeaderList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_host(&text);
    let _ = forwarded_elements(&text);
    let Some(own) = PublicUrl::from_request_url("https://app.example.com/a?b=c") else {
        return;
    };
    let headers: HeaderList = [
        ("forwarded", text.as_ref()),
        ("x-forwarded-host", text.as_ref()),
        ("x-forwarded-proto", text.as_ref()),
        ("host", text.as_ref()),
    ]
    .into_iter()
    .collect();
    let derived = public_url(&own, &headers, true);
    assert!(parse_host(&derived.url.authority()).is_ok());
    assert!(!derived.url.to_string().bytes().any(|b| b.is_ascii_control()));
});
