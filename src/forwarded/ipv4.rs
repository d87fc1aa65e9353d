//! Dotted-quad IPv4 hosts, byte by byte: all-numeric labels, the four-part check, and its
//! tests against the plain `split` definitions.

use super::issue::ForwardedError;

pub(super) fn all_numeric_labels(host: &str) -> bool {
    // Bytes, not `split`: this runs for the host of every request.
    let bytes = host.as_bytes();
    !bytes.is_empty()
        && bytes.first() != Some(&b'.')
        && bytes.last() != Some(&b'.')
        && !host.contains("..")
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.')
}

/// `host` as a dotted-quad IPv4 address: four decimal labels, each at most 255 with no leading
/// zero. Byte by byte, in one pass (this runs for the host of every request).
pub(super) fn parse_ipv4(host: &str) -> Result<(), ForwardedError> {
    let invalid = Err(ForwardedError::InvalidIpv4);
    let (mut labels, mut value, mut digits, mut leading_zero) = (0u8, 0u16, 0u8, false);
    // A final '.' closes the last label.
    for &b in host.as_bytes().iter().chain(b".") {
        if b == b'.' {
            if digits == 0 || value > 255 || (digits > 1 && leading_zero) {
                return invalid;
            }
            labels += 1;
            if labels > 4 {
                return invalid;
            }
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() {
            if digits == 0 {
                leading_zero = b == b'0';
            }
            digits += 1;
            if digits > 3 {
                return invalid;
            }
            value = value * 10 + u16::from(b - b'0');
        } else {
            return invalid;
        }
    }
    if labels == 4 {
        Ok(())
    } else {
        invalid
    }
}

/// Four decimal labels that [`parse_ipv4`] accepts (no leading zeros, each at most 255).
pub(super) fn is_dotted_quad(host: &str) -> bool {
    // parse_ipv4 itself refuses any byte but digits and dots, and empty labels.
    parse_ipv4(host).is_ok()
}

#[cfg(test)]
mod ipv4_tests {
    use super::{all_numeric_labels, parse_ipv4};
    use proptest::prelude::*;

    /// The plain definitions the byte-wise versions must agree with.
    fn numeric_by_split(host: &str) -> bool {
        host.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    }

    fn ipv4_by_split(host: &str) -> bool {
        let parts: Vec<&str> = host.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && !(p.len() > 1 && p.starts_with('0'))
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    }

    proptest! {
        #[test]
        fn byte_wise_ipv4_checks_agree_with_split(host in "[0-9.]{0,18}|[0-9a-z.+-]{0,10}|(25[0-9]|[0-9]{1,3})(\\.(25[0-9]|0[0-9]?|[0-9]{1,3})){2,4}") {
            prop_assert_eq!(all_numeric_labels(&host), numeric_by_split(&host));
            prop_assert_eq!(parse_ipv4(&host).is_ok(), ipv4_by_split(&host), "{}", host);
        }
    }

    #[test]
    fn dotted_quads() {
        for ok in ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.20.30.40"] {
            assert!(parse_ipv4(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.4.5",
            "1.2.3.1000",
            "+1.2.3.4",
            "1.2.3.a",
        ] {
            assert!(parse_ipv4(bad).is_err(), "{bad}");
        }
    }
}
