//! The publishable key: instance type, Frontend API host, cookie suffix.

use super::names::PROBE_PATH;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha1::{Digest, Sha1};
use url::Url;

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
    let digest = Sha1::digest(publishable_key.as_bytes());
    URL_SAFE_NO_PAD.encode(digest).chars().take(8).collect()
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
            Some(u.as_str().trim_end_matches('/').to_owned())
        }
        (None, Some(pk)) => Some(pk.default_frontend_api_url()),
        (None, None) => None,
    }
}

/// The outage-check URL: `<Frontend API base>/v1/environment`. Any non-5xx answer means up.
pub fn probe_url(frontend_api_base: &str) -> String {
    format!("{}{PROBE_PATH}", frontend_api_base.trim_end_matches('/'))
}
