//! `parse_key_set`: `CLERK_JWT_KEY` as users paste it (quotes, literal `\n`, CRLF, a lone PEM
//! header line) read as PEM blocks, a bare PEM body, a JWK or a JWKS.

use super::jwk::parse_json_keys;
use super::key_error::KeyError;
use super::key_set::KeySet;
use super::pem::{parse_bare_body, parse_pem_blocks};

/// Parses `CLERK_JWT_KEY` as users paste it: PEM (with real or literal `\n`, CRLF, surrounding
/// quotes), several PEM blocks, a bare PEM body, a JWK or a JWKS.
pub fn parse_key_set(input: &str) -> Result<KeySet, KeyError> {
    let text = normalise(input);
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if is_pem_header_only(&text) {
        return Err(KeyError::PemHeaderOnly);
    }
    let keys = if text.starts_with('{') {
        parse_json_keys(&text)?
    } else if text.contains("-----BEGIN") {
        parse_pem_blocks(&text)?
    } else {
        vec![parse_bare_body(&text)?]
    };
    if keys.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(KeySet {
        keys,
        fetched_from: None,
    })
}

/// A lone `-----BEGIN ...-----` line and nothing else.
fn is_pem_header_only(text: &str) -> bool {
    !text.contains('\n')
        && text.starts_with("-----BEGIN ")
        && text.ends_with("-----")
        && !text.contains("-----END")
        && text.matches("-----").count() == 2
}

fn normalise(input: &str) -> String {
    let mut text = input.trim();
    for quote in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            text = text.get(1..text.len() - 1).unwrap_or(text).trim();
        }
    }
    text.replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}
