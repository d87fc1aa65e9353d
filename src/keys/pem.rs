//! PEM: blocks by label (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`; private keys and
//! certificates refused) and a bare base64 body without its BEGIN/END lines.

use super::key_error::KeyError;
use super::key_material::KeyMaterial;
use super::key_set::Key;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub(super) fn parse_pem_blocks(text: &str) -> Result<Vec<Key>, KeyError> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + "-----BEGIN ".len()..).unwrap_or("");
        let label_end = after
            .find("-----")
            .ok_or(KeyError::Malformed("PEM BEGIN line is not closed"))?;
        let label = after.get(..label_end).unwrap_or("").trim();
        let body_start = label_end + "-----".len();
        let body_and_rest = after.get(body_start..).unwrap_or("");
        let end_marker = format!("-----END {label}-----");
        let body_end = body_and_rest
            .find(&end_marker)
            .ok_or(KeyError::Malformed("PEM block has no matching END line"))?;
        let body = body_and_rest.get(..body_end).unwrap_or("");
        keys.push(parse_pem_block(label, body)?);
        rest = body_and_rest
            .get(body_end + end_marker.len()..)
            .unwrap_or("");
    }
    Ok(keys)
}

fn decode_pem_body(body: &str) -> Result<Vec<u8>, KeyError> {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(KeyError::Malformed("empty PEM body"));
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::Malformed("PEM body is not base64"))
}

fn parse_pem_block(label: &str, body: &str) -> Result<Key, KeyError> {
    if label.contains("PRIVATE KEY") {
        return Err(KeyError::PrivateKey);
    }
    if label.contains("CERTIFICATE") {
        return Err(KeyError::Certificate);
    }
    let der = decode_pem_body(body)?;
    let material = match label {
        "PUBLIC KEY" => KeyMaterial::from_spki_der(&der)?,
        "RSA PUBLIC KEY" => KeyMaterial::from_pkcs1_der(&der)
            .ok_or(KeyError::Malformed("invalid PKCS#1 RSA public key"))?,
        _ => return Err(KeyError::Malformed("unknown PEM label")),
    };
    Key::new(material, None)
}

pub(super) fn parse_bare_body(text: &str) -> Result<Key, KeyError> {
    let der = decode_pem_body(text)?;
    if looks_like_private_key(&der) {
        return Err(KeyError::PrivateKey);
    }
    let material = match KeyMaterial::from_spki_der(&der) {
        Ok(m) => m,
        Err(KeyError::Malformed(_)) => KeyMaterial::from_pkcs1_der(&der)
            .ok_or(KeyError::Malformed("not a public key (SPKI or PKCS#1)"))?,
        Err(other) => return Err(other),
    };
    Key::new(material, None)
}

/// A PKCS#8, PKCS#1 or SEC1 private key body pasted without its PEM lines. Checked by structure
/// only: building the private key (as a parser would) costs code size in the worker and time.
fn looks_like_private_key(der: &[u8]) -> bool {
    use rsa::pkcs8::PrivateKeyInfo;
    if PrivateKeyInfo::try_from(der).is_ok() || rsa::pkcs1::RsaPrivateKey::try_from(der).is_ok() {
        return true;
    }
    // SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING privateKey, ... }.
    let body = match der {
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, 0x81, _, rest @ ..] => rest,
        _ => return false,
    };
    body.starts_with(&[0x02, 0x01, 0x01, 0x04])
}
