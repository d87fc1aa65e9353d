//! What every forwarded value is checked against first, shared by the parsers: the 8 KiB
//! length limit and the control-character check.

use super::issue::ForwardedError;

/// Header values longer than this are ignored whole.
pub const MAX_FORWARDED_VALUE: usize = 8192;

pub(super) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

pub(super) fn guard_len(value: &str) -> Result<&str, ForwardedError> {
    if value.len() > MAX_FORWARDED_VALUE {
        Err(ForwardedError::TooLong)
    } else {
        Ok(value)
    }
}
