//! The publishable key: instance type, Frontend API host, cookie suffix.

use super::names::PROBE_PATH;

use crate::web_url::WebUrl as Url;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// Clerk instance type, from the publishable key's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// `pk_test_`
    Development,
    /// `pk_live_`
    Production,
}

/// A parsed `PUBLISHABLE_KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    /// Development or production, from the key's prefix.
    pub instance: Instance,
    /// The Frontend API host named by the key (validated host syntax, lower-cased).
    pub frontend_api: String,
    /// First 8 characters of base64url(SHA-1(key)): `__session_<suffix>`.
    pub cookie_suffix: String,
    /// On a production satellite, its own Frontend API host (`clerk.<DOMAIN>`, Clerk's
    /// `originalFrontendApi` there): sessions it issues are this instance's too.
    pub satellite_frontend_api: Option<String>,
}

/// Standard alphabet, padding optional (as `atob`).
pub(crate) const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl PublishableKey {
    /// `pk_test_` or `pk_live_` followed by the base64 of `<frontend api host>$`. Anything else
    /// (other prefix, extra `_` segments, bad base64, no `$`, not a host name) is `None`.
    pub fn parse(pk: &str) -> Option<PublishableKey> {
        let pk = pk.trim();
        let (instance, rest) = if let Some(rest) = pk.strip_prefix("pk_test_") {
            (Instance::Development, rest)
        } else if let Some(rest) = pk.strip_prefix("pk_live_") {
            (Instance::Production, rest)
        } else {
            return None;
        };
        if rest.is_empty() || rest.len() > 512 || rest.contains('_') {
            return None;
        }
        let decoded = STANDARD_LENIENT.decode(rest).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let host = decoded.strip_suffix('$')?;
        if !is_dns_host(host) {
            return None;
        }
        Some(PublishableKey {
            instance,
            frontend_api: host.to_ascii_lowercase(),
            cookie_suffix: cookie_suffix(pk),
            satellite_frontend_api: None,
        })
    }

    /// `https://<frontend api>`: the Frontend API base when `FRONTEND_API_URL` is not set.
    pub fn default_frontend_api_url(&self) -> String {
        format!("https://{}", self.frontend_api)
    }
}

/// Clerk's cookie suffix: the first 8 characters of base64url(SHA-1(publishable key)).
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = sha1(publishable_key.as_bytes());
    URL_SAFE_NO_PAD.encode(digest).chars().take(8).collect()
}

/// SHA-1 (FIPS 180-4), written small: it hashes one short string once per isolate, and the
/// `sha1` crate's unrolled rounds were 5.5 KB of the gzipped wasm. Checked against that crate
/// in the tests. Never used for anything that needs collision resistance.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64).wrapping_mul(8).to_be_bytes());
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    for block in message.chunks_exact(64) {
        sha1_block(&mut state, block);
    }
    let mut out = [0u8; 20];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn sha1_block(state: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = bytes.iter().fold(0, |v, &b| v << 8 | u32::from(b));
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (i, word) in w.iter().enumerate() {
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5a82_7999),
            1 => (b ^ c ^ d, 0x6ed9_eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
            _ => (b ^ c ^ d, 0xca62_c1d6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*word);
        (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

/// A DNS host name: dot-separated labels of ASCII letters, digits and `-` (not at a label's
/// ends), each 1-63 bytes, 253 bytes in all, at least two labels, the last not all digits.
pub fn is_dns_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    let mut last_all_digits = false;
    for label in host.split('.') {
        labels += 1;
        let bytes = label.as_bytes();
        if bytes.is_empty() || bytes.len() > 63 {
            return false;
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return false;
        }
        if bytes.first() == Some(&b'-') || bytes.last() == Some(&b'-') {
            return false;
        }
        last_all_digits = bytes.iter().all(u8::is_ascii_digit);
    }
    labels >= 2 && !last_all_digits
}

/// The Frontend API base URL: `FRONTEND_API_URL` when set (a Clerk proxy or a local stub; its
/// query and fragment are dropped, a trailing `/` removed), else `https://<key's host>`; `None`
/// when neither is configured (then no handshake and no outage check: grace never applies).
pub fn frontend_api_base(
    frontend_api_url: Option<&Url>,
    pk: Option<&PublishableKey>,
) -> Option<String> {
    match (frontend_api_url, pk) {
        (Some(u), _) => {
            let mut u = u.clone();
            u.set_query(None);
            u.set_fragment(None);
            Some(u.to_string().trim_end_matches('/').to_owned())
        }
        (None, Some(pk)) => Some(pk.default_frontend_api_url()),
        (None, None) => None,
    }
}

/// The outage-check URL: `<Frontend API base>/v1/environment`. Any non-5xx answer means up.
pub fn probe_url(frontend_api_base: &str) -> String {
    format!("{}{PROBE_PATH}", frontend_api_base.trim_end_matches('/'))
}

#[cfg(test)]
mod sha1_tests {
    use super::sha1;
    use proptest::prelude::*;
    use sha1::Digest;

    #[test]
    fn fips_vectors() {
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            hex(sha1(two_blocks)),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    proptest! {
        #[test]
        fn agrees_with_the_sha1_crate(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(sha1(&data).to_vec(), sha1::Sha1::digest(&data).to_vec());
        }
    }
}
