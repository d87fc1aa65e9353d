//! Lower-case hex, for request ids and key fingerprints (a module of its own so that `keys` and
//! `crypto` need not import each other).

/// Lower-case hex of `bytes` (request ids, signature question ids, key fingerprints), written
/// from a table: `format!` per byte costs an allocation each, and this runs on every request.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}
