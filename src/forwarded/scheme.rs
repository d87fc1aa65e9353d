//! The URL scheme: [`Scheme`] (`http` or `https`) and its default port.

use super::issue::ForwardedError;
use super::limits::has_control;

/// A URL scheme the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// Parses `http` or `https`, in any case.
    pub fn parse(s: &str) -> Result<Scheme, ForwardedError> {
        if has_control(s) {
            Err(ForwardedError::ControlCharacter)
        } else if s.eq_ignore_ascii_case("https") {
            Ok(Scheme::Https)
        } else if s.eq_ignore_ascii_case("http") {
            Ok(Scheme::Http)
        } else {
            Err(ForwardedError::InvalidScheme)
        }
    }

    /// The scheme in lower case.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 for http, 443 for https.
    pub fn default_port(&self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}
