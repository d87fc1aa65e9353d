//! Development keys and tokens: `edgegate keygen` and `edgegate mint`, the dev command and the
//! tests. Native only: the worker never signs anything with these.

use crate::keys::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Map, Value};
use sha2::Sha256;

/// A private key that can sign development tokens.
#[derive(Clone)]
pub enum SigningKey {
    /// An RSA private key (RS256).
    Rsa(Box<rsa::RsaPrivateKey>),
    /// A P-256 private key (ES256).
    Ec(p256::SecretKey),
}

impl SigningKey {
    /// The algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        match self {
            SigningKey::Rsa(_) => Alg::Rs256,
            SigningKey::Ec(_) => Alg::Es256,
        }
    }

    /// Generates a fresh key: RSA 2048 (e = 65537) or P-256.
    pub fn generate(alg: Alg) -> Result<SigningKey, String> {
        let mut rng = rand_core::OsRng;
        match alg {
            Alg::Rs256 => rsa::RsaPrivateKey::new(&mut rng, 2048)
                .map(|k| SigningKey::Rsa(Box::new(k)))
                .map_err(|e| format!("RSA key generation failed: {e}")),
            Alg::Es256 => Ok(SigningKey::Ec(p256::SecretKey::random(&mut rng))),
        }
    }

    /// Reads a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`), RSA or P-256.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, String> {
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::Ec(k));
        }
        Err("not a PKCS#8 RSA or P-256 private key".to_owned())
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn private_pem(&self) -> Result<String, String> {
        let pem = match self {
            SigningKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::Ec(k) => k.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map(|p| p.to_string()).map_err(|e| e.to_string())
    }

    /// The public half as SPKI PEM: what goes into `CLERK_JWT_KEY`.
    pub fn public_pem(&self) -> Result<String, String> {
        match self {
            SigningKey::Rsa(k) => k.to_public_key().to_public_key_pem(LineEnding::LF),
            SigningKey::Ec(k) => k.public_key().to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| e.to_string())
    }

    /// Signs `message` with this key's algorithm (ES256 in the raw 64-byte JWS form).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Rsa(k) => rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone())
                .sign(message)
                .to_vec(),
            SigningKey::Ec(k) => {
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

fn b64_json(value: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(Value::Object(value.clone()).to_string())
}

/// A compact JWS over `claims` with header `{"alg", "typ":"JWT", ...extra_header}`.
pub fn mint_token(
    key: &SigningKey,
    extra_header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), Value::String(key.alg().as_str().into()));
    header.insert("typ".into(), Value::String("JWT".into()));
    for (k, v) in extra_header {
        header.insert(k.clone(), v.clone());
    }
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(claims));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// Clerk-shaped session claims for development: `sub`, `sid`, `azp`, `iat`, `nbf`, `exp`,
/// `iss`, `v: 2`, `sts: "active"`.
pub fn session_claims(sub: &str, azp: Option<&str>, now_s: i64, ttl_s: i64) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), sub.into());
    c.insert("sid".into(), format!("sess_dev_{now_s}").into());
    if let Some(azp) = azp {
        c.insert("azp".into(), azp.into());
    }
    c.insert("iss".into(), "https://clerk.edgegate.dev".into());
    c.insert("iat".into(), now_s.into());
    c.insert("nbf".into(), (now_s - 5).into());
    c.insert("exp".into(), (now_s + ttl_s).into());
    c.insert("v".into(), 2.into());
    c.insert("sts".into(), "active".into());
    c
}
