//! `host[:port]` validation: [`Host`], [`HostKind`], [`parse_host`], and the port and DNS
//! name rules (IPv4 is in `ipv4.rs`).

use super::ipv4::{all_numeric_labels, parse_ipv4};
use super::issue::ForwardedError;
use super::limits::has_control;
use std::fmt;
use std::net::Ipv6Addr;

const MAX_HOST_LEN: usize = 253;

/// What a [`Host`]'s name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A DNS name.
    Name,
    /// A dotted-quad IPv4 address.
    Ipv4,
    /// A bracketed IPv6 address.
    Ipv6,
}

/// A validated `host[:port]`. `name` is lowercased; IPv6 keeps its brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The host: a lowercased name, an IPv4 address or a bracketed IPv6 address.
    pub name: String,
    /// The port, when one was given.
    pub port: Option<u16>,
    /// Which kind of host `name` is.
    pub kind: HostKind,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{}", self.name, p),
            None => f.write_str(&self.name),
        }
    }
}

/// Validates `host[:port]` (the `Host` header syntax).
pub fn parse_host(s: &str) -> Result<Host, ForwardedError> {
    if s.is_empty() {
        return Err(ForwardedError::Empty);
    }
    if s.len() > MAX_HOST_LEN + 2 + 6 + 40 {
        return Err(ForwardedError::TooLong);
    }
    if has_control(s) {
        return Err(ForwardedError::ControlCharacter);
    }
    if !s.is_ascii() {
        return Err(ForwardedError::NonAsciiHost);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(ForwardedError::Ipv6Unterminated);
        };
        let inner = rest.get(..close).ok_or(ForwardedError::InvalidIpv6)?;
        let after = rest.get(close + 1..).ok_or(ForwardedError::InvalidHost)?;
        if inner.contains('%') {
            return Err(ForwardedError::InvalidIpv6);
        }
        let addr: Ipv6Addr = inner.parse().map_err(|_| ForwardedError::InvalidIpv6)?;
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None => return Err(ForwardedError::InvalidHost),
            },
        };
        return Ok(Host {
            name: format!("[{addr}]"),
            port,
            kind: HostKind::Ipv6,
        });
    }
    let (name, port) = match s.split_once(':') {
        Some((n, p)) => {
            if p.contains(':') {
                return Err(ForwardedError::InvalidHost);
            }
            (n, Some(parse_port(p)?))
        }
        None => (s, None),
    };
    let (name, kind) = parse_name(name)?;
    Ok(Host { name, port, kind })
}

pub(super) fn parse_port(p: &str) -> Result<u16, ForwardedError> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ForwardedError::InvalidPort);
    }
    if p.len() > 5 {
        return Err(ForwardedError::PortOutOfRange);
    }
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => {
            u16::try_from(n).map_err(|_| ForwardedError::PortOutOfRange)
        }
        Ok(_) => Err(ForwardedError::PortOutOfRange),
        Err(_) => Err(ForwardedError::InvalidPort),
    }
}

fn parse_name(name: &str) -> Result<(String, HostKind), ForwardedError> {
    if name.is_empty() {
        return Err(ForwardedError::Empty);
    }
    if name.len() > MAX_HOST_LEN {
        return Err(ForwardedError::TooLong);
    }
    // Labels are walked with `split` rather than collected: this runs for the host of every
    // request.
    let lower = name.to_ascii_lowercase();
    if all_numeric_labels(&lower) {
        return parse_ipv4(&lower).map(|()| (lower, HostKind::Ipv4));
    }
    for label in lower.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(ForwardedError::InvalidHost);
        }
    }
    // A numeric last label would be read as an IPv4 address by URL parsers.
    if lower
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ForwardedError::InvalidHost);
    }
    Ok((lower, HostKind::Name))
}
