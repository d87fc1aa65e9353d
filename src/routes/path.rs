//! Path canonicalisation: the one form a request path is matched and forwarded in. See
//! [`canonical_path`] and the `routes` module documentation for the rules.

use std::fmt;

/// Longest raw path accepted.
pub const MAX_PATH_LEN: usize = 16 * 1024;

/// Why a request path is refused (400, or 414 for `path-too-long`). Stable reason codes via
/// [`PathError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// `path-not-absolute`: the path does not start with `/`.
    NotAbsolute,
    /// `path-too-long`: over 16 KiB, raw or canonical.
    TooLong,
    /// `path-control-character`: a raw or percent-encoded control character.
    ControlCharacter,
    /// `path-backslash`: a raw backslash.
    Backslash,
    /// `path-encoded-slash`: `%2F`.
    EncodedSlash,
    /// `path-encoded-backslash`: `%5C`.
    EncodedBackslash,
    /// `path-parameter`: a raw `;` (path parameters).
    PathParameter,
    /// `path-bad-percent-encoding`: a `%` not followed by two hex digits.
    BadPercentEncoding,
    /// `path-invalid-utf8`: percent-encoded bytes that are not UTF-8.
    InvalidUtf8,
    /// `path-escapes-root`: a `..` that would climb above the root.
    EscapesRoot,
    /// `path-double-encoded`: a segment that, decoded again, hides a refused byte or a dot segment
    /// (`%252e`, `%252f`).
    DoubleEncoded,
}

impl PathError {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PathError::NotAbsolute => "path-not-absolute",
            PathError::TooLong => "path-too-long",
            PathError::ControlCharacter => "path-control-character",
            PathError::Backslash => "path-backslash",
            PathError::EncodedSlash => "path-encoded-slash",
            PathError::EncodedBackslash => "path-encoded-backslash",
            PathError::PathParameter => "path-parameter",
            PathError::BadPercentEncoding => "path-bad-percent-encoding",
            PathError::InvalidUtf8 => "path-invalid-utf8",
            PathError::EscapesRoot => "path-escapes-root",
            PathError::DoubleEncoded => "path-double-encoded",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

pub(super) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` minus `%` (handled apart) and `;` (refused).
fn is_plain_pchar(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
        )
}

pub(super) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_escaped(out: &mut String, b: u8) {
    let hex = |n: u8| {
        char::from_digit(u32::from(n), 16)
            .unwrap_or('0')
            .to_ascii_uppercase()
    };
    out.push('%');
    out.push(hex(b >> 4));
    out.push(hex(b & 0x0F));
}

/// Canonicalises one raw segment (no `/` inside). Returns the canonical text and the fully
/// decoded bytes (for the UTF-8 check).
fn canonical_segment(seg: &str, decoded: &mut Vec<u8>) -> Result<String, PathError> {
    let bytes = seg.as_bytes();
    let mut out = String::with_capacity(seg.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(PathError::BadPercentEncoding);
                };
                let v = (hi << 4) | lo;
                match v {
                    b'/' => return Err(PathError::EncodedSlash),
                    b'\\' => return Err(PathError::EncodedBackslash),
                    0x00..=0x1F | 0x7F => return Err(PathError::ControlCharacter),
                    _ => {}
                }
                decoded.push(v);
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    push_escaped(&mut out, v);
                }
                i += 3;
            }
            b'\\' => return Err(PathError::Backslash),
            b';' => return Err(PathError::PathParameter),
            0x00..=0x1F | 0x7F => return Err(PathError::ControlCharacter),
            _ if is_plain_pchar(b) => {
                decoded.push(b);
                out.push(char::from(b));
                i += 1;
            }
            _ => {
                // Other ASCII and every byte of a non-ASCII character: percent-encode.
                decoded.push(b);
                push_escaped(&mut out, b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// True when a canonical segment is double-encoded into something edgegate would refuse or
/// resolve: an encoded `%` followed (through any further layers of `25`) by the hex of a dot, a
/// slash or a backslash (`%252e`, `%252F`, `%25255c`, any case), or a segment that, decoded two
/// to four times (as a server that decodes more than once would), holds a `/`, `\`, `;`, a
/// control character or bytes that are not UTF-8, or is `.` or `..` (`%2525%2532%2565`,
/// `%25c0%25ae`, `%253b`, `%2500`).
fn is_double_encoded(canonical_segment: &str) -> bool {
    let escaped_separator = canonical_segment.match_indices("%25").any(|(at, _)| {
        let mut rest = canonical_segment.get(at + 3..).unwrap_or("");
        while rest.starts_with("25") {
            rest = rest.get(2..).unwrap_or("");
        }
        rest.get(..2).is_some_and(|hex| {
            ["2e", "2f", "5c"]
                .iter()
                .any(|bad| bad.eq_ignore_ascii_case(hex))
        })
    });
    escaped_separator || hides_something_when_decoded_again(canonical_segment)
}

fn hides_something_when_decoded_again(canonical_segment: &str) -> bool {
    // Layer 1 is what every origin sees (the canonical rules cover it); layers 2 to 4 are what a
    // server that decodes again would see.
    let mut layer: Vec<u8> =
        percent_encoding::percent_decode(canonical_segment.as_bytes()).collect();
    for _ in 0..3 {
        if !layer.contains(&b'%') {
            return false;
        }
        let next: Vec<u8> = percent_encoding::percent_decode(&layer).collect();
        if next == layer {
            return false;
        }
        let bad_byte = next
            .iter()
            .any(|b| matches!(b, b'/' | b'\\' | b';') || b.is_ascii_control());
        if bad_byte || next == b"." || next == b".." || std::str::from_utf8(&next).is_err() {
            return true;
        }
        layer = next;
    }
    false
}

/// The canonical form of a raw request path (without query), or why it is refused. See the
/// module documentation for the rules.
pub fn canonical_path(raw_path: &str) -> Result<String, PathError> {
    if is_canonical_already(raw_path) {
        return Ok(raw_path.to_owned());
    }
    canonical_path_by_segments(raw_path)
}

/// True for the paths most requests have, which are their own canonical form: absolute, within
/// the limit, plain characters only (nothing to decode or escape), no empty, `.` or `..`
/// segment but a trailing `/`. Checked in one pass over the bytes instead of a segment walk.
fn is_canonical_already(raw_path: &str) -> bool {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return false;
    };
    let segments = rest.strip_suffix('/').unwrap_or(rest);
    if raw_path.len() > MAX_PATH_LEN || segments.is_empty() {
        return rest.is_empty();
    }
    segments
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.bytes().all(is_plain_pchar))
}

fn canonical_path_by_segments(raw_path: &str) -> Result<String, PathError> {
    if raw_path.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    if raw_path.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Err(PathError::NotAbsolute);
    };
    let mut stack: Vec<String> = Vec::new();
    let mut trailing_slash = false;
    let mut decoded: Vec<u8> = Vec::with_capacity(raw_path.len());
    let mut segments = rest.split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        let canon = canonical_segment(seg, &mut decoded)?;
        if is_double_encoded(&canon) {
            return Err(PathError::DoubleEncoded);
        }
        decoded.push(b'/');
        match canon.as_str() {
            "" | "." => trailing_slash = last,
            ".." => {
                if stack.pop().is_none() {
                    return Err(PathError::EscapesRoot);
                }
                trailing_slash = last;
            }
            _ => {
                stack.push(canon);
                trailing_slash = false;
            }
        }
    }
    if std::str::from_utf8(&decoded).is_err() {
        return Err(PathError::InvalidUtf8);
    }
    let mut out = String::with_capacity(raw_path.len() + 1);
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    // The limit holds for the canonical form too (escapes expand a path up to threefold), so a
    // canonical path always canonicalises to itself.
    if out.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{canonical_path_by_segments, is_canonical_already};
    use proptest::prelude::*;

    proptest! {
        // The shortcut never disagrees with the segment walk.
        #[test]
        fn a_path_taken_as_canonical_is_what_the_walk_gives(raw in "/?[a-z./%;~@:()-]{0,12}") {
            if is_canonical_already(&raw) {
                prop_assert_eq!(canonical_path_by_segments(&raw), Ok(raw.clone()));
            }
        }
    }

    #[test]
    fn plain_paths_are_taken_as_they_are_and_others_walked() {
        for plain in ["/", "/a", "/a/", "/api/v1/items.json", "/~user/a-b_c/x@y:z"] {
            assert!(is_canonical_already(plain), "{plain}");
        }
        for walked in [
            "", "a", "//", "/a//b", "/a/./b", "/a/../b", "/..", "/a%20b", "/a b", "/a;b",
        ] {
            assert!(!is_canonical_already(walked), "{walked}");
        }
    }
}
