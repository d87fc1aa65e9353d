//! Lower-case hex, for request ids and key fingerprints (a module of its own so that `keys` and
//! `crypto` need not import each other).

/// Lower-case hex of `bytes` (request ids, signature question ids, key fingerprints), written
/// from a table: `format!` per byte costs an allocation each, and this runs on every request.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digits: Vec<u8> = bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .collect();
    // ASCII digits only, so never the empty fallback.
    String::from_utf8(digits).unwrap_or_default()
}
