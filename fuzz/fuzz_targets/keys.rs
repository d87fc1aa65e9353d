//! `CLERK_JWT_KEY` parsing never panics, whatever is pasted.
#![no_main]
use edgegate::keys::parse_key_set;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = parse_key_set(&text) {
        assert!(!set.is_empty());
        let _ = format!("{set:?}");
    }
});
