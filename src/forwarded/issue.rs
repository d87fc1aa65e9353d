//! Why a forwarded value was ignored: [`ForwardedError`] (with its stable reason codes) and
//! [`Issue`], the header it came from.

use std::fmt;

/// Why a forwarded value was ignored. Stable reason codes via [`ForwardedError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedError {
    /// `forwarded-empty`: an empty value, host or `Forwarded` element.
    Empty,
    /// `forwarded-too-long`: a header value over 8 KiB, or a host name over 253 characters.
    TooLong,
    /// `forwarded-control-character`: a control character in the value.
    ControlCharacter,
    /// `forwarded-non-ascii-host`: a host that is not ASCII (refused, not punycoded).
    NonAsciiHost,
    /// `forwarded-invalid-host`: not a valid DNS name, or a malformed `host:port`.
    InvalidHost,
    /// `forwarded-invalid-ipv4`: numeric labels that are not a dotted-quad IPv4 address.
    InvalidIpv4,
    /// `forwarded-ipv6-unterminated`: a `[` without its closing `]`.
    Ipv6Unterminated,
    /// `forwarded-invalid-ipv6`: a bracketed host that is not an IPv6 address, or has a zone.
    InvalidIpv6,
    /// `forwarded-invalid-port`: a port that is empty or not all decimal digits.
    InvalidPort,
    /// `forwarded-port-out-of-range`: a port outside 1-65535.
    PortOutOfRange,
    /// `forwarded-invalid-scheme`: a scheme other than `http` or `https`.
    InvalidScheme,
    /// `forwarded-syntax`: a `Forwarded` element that is not `name=value` pairs separated by `;`.
    ForwardedSyntax,
    /// `forwarded-unterminated-quote`: a quoted `Forwarded` value without its closing quote.
    UnterminatedQuote,
    /// `forwarded-duplicate-parameter`: a parameter named twice in a `Forwarded` element.
    DuplicateParameter,
    /// `forwarded-conflict`: `Forwarded` and `X-Forwarded-*` name different hosts or schemes.
    Conflict,
}

impl ForwardedError {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ForwardedError::Empty => "forwarded-empty",
            ForwardedError::TooLong => "forwarded-too-long",
            ForwardedError::ControlCharacter => "forwarded-control-character",
            ForwardedError::NonAsciiHost => "forwarded-non-ascii-host",
            ForwardedError::InvalidHost => "forwarded-invalid-host",
            ForwardedError::InvalidIpv4 => "forwarded-invalid-ipv4",
            ForwardedError::Ipv6Unterminated => "forwarded-ipv6-unterminated",
            ForwardedError::InvalidIpv6 => "forwarded-invalid-ipv6",
            ForwardedError::InvalidPort => "forwarded-invalid-port",
            ForwardedError::PortOutOfRange => "forwarded-port-out-of-range",
            ForwardedError::InvalidScheme => "forwarded-invalid-scheme",
            ForwardedError::ForwardedSyntax => "forwarded-syntax",
            ForwardedError::UnterminatedQuote => "forwarded-unterminated-quote",
            ForwardedError::Conflict => "forwarded-conflict",
            ForwardedError::DuplicateParameter => "forwarded-duplicate-parameter",
        }
    }
}

impl fmt::Display for ForwardedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One ignored value: which header (`forwarded`, `x-forwarded-host`, `x-forwarded-proto`,
/// `host`) and why. Carries no value, so it is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    /// The header the value came from.
    pub source: &'static str,
    /// Why the value was ignored.
    pub error: ForwardedError,
}
