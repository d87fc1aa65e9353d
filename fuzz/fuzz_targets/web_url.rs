//! The URL reader never panics, and what it accepts reads back the same from its own output:
//! the host is syntax it accepts again, and nothing a browser would rewrite is written out.
#![no_main]
use edgegate::web_url::WebUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(mut url) = WebUrl::parse(&text) else {
        return;
    };
    let written = url.to_string();
    assert!(written.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\'));
    let again = WebUrl::parse(&written).expect("its own output parses");
    assert_eq!(again.to_string(), written);
    assert_eq!(again.origin(), url.origin());
    url.append_pair(&text, &text);
    let with_pair = WebUrl::parse(&url.to_string()).expect("a form-encoded pair keeps it a URL");
    assert!(with_pair.query_pairs().any(|(name, value)| name == value));
});
