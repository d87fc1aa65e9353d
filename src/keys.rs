//! `CLERK_JWT_KEY` → [`KeySet`]: SPKI PEM (RSA, EC P-256), PKCS#1 RSA PEM, a PEM body without its
//! BEGIN/END lines, several PEM blocks (rotation), a single JWK or a JWKS. Applies the key policy
//! (RSA ≥ 2048 bits with e = 65537, EC only on P-256, no private keys) and selects keys by `kid`.
//! Key material never appears in `Debug` output or errors.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// The JWS algorithms edgegate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ES256: ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// Exact, case-sensitive JWS name; anything else (`none`, `HS256`, `rs256`) is `None`.
    pub fn from_jws_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
    /// The JWS name: `RS256` or `ES256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// Why `CLERK_JWT_KEY` was refused. The message names the problem, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// `key-empty`: no key in the setting.
    Empty,
    /// `key-private`: a private key instead of a public one.
    PrivateKey,
    /// `key-rsa-too-small`: an RSA key under 2048 bits (its size in bits).
    RsaTooSmall(usize),
    /// `key-rsa-exponent`: an RSA public exponent other than 65537.
    RsaExponent,
    /// `key-unsupported-curve`: an EC curve other than P-256 (its name).
    UnsupportedCurve(String),
    /// `key-unsupported-type`: neither RSA nor EC (the JWK `kty` or the SPKI algorithm OID).
    UnsupportedKeyType(String),
    /// `key-unsupported-algorithm`: a JWK `alg` that is not RS256/ES256 or does not fit the key.
    UnsupportedAlgorithm(String),
    /// `key-not-for-signing`: a JWK whose `use` is not `sig` or whose `key_ops` lack `verify`.
    NotForSigning,
    /// `key-certificate`: a certificate instead of a public key.
    Certificate,
    /// `key-malformed`: unreadable key data (what was wrong).
    Malformed(&'static str),
    /// `key-pem-header-only`: the PEM's first line alone, as `wrangler secret put` stores a PEM
    /// pasted at its prompt (it submits at the first newline).
    PemHeaderOnly,
}

impl KeyError {
    /// Stable reason code for logs and the health endpoint.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Empty => "key-empty",
            KeyError::PrivateKey => "key-private",
            KeyError::RsaTooSmall(_) => "key-rsa-too-small",
            KeyError::RsaExponent => "key-rsa-exponent",
            KeyError::UnsupportedCurve(_) => "key-unsupported-curve",
            KeyError::UnsupportedKeyType(_) => "key-unsupported-type",
            KeyError::UnsupportedAlgorithm(_) => "key-unsupported-algorithm",
            KeyError::NotForSigning => "key-not-for-signing",
            KeyError::Certificate => "key-certificate",
            KeyError::Malformed(_) => "key-malformed",
            KeyError::PemHeaderOnly => "key-pem-header-only",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => write!(f, "no key found"),
            KeyError::PemHeaderOnly => write!(
                f,
                "only the PEM's first line (-----BEGIN ...-----) arrived: `wrangler secret put` \
                 submits a pasted PEM at its first newline; pipe the file in instead: \
                 npx wrangler secret put CLERK_JWT_KEY < clerk-public.pem"
            ),
            KeyError::PrivateKey => write!(
                f,
                "this is a PRIVATE key: paste the instance's PUBLIC key (PEM or JWKS) instead, and rotate the private key if it was shared"
            ),
            KeyError::RsaTooSmall(bits) => {
                write!(f, "RSA key of {bits} bits: at least 2048 bits are required")
            }
            KeyError::RsaExponent => write!(f, "RSA public exponent must be 65537"),
            KeyError::UnsupportedCurve(c) => {
                write!(f, "EC curve {c} is not supported: only P-256 (ES256)")
            }
            KeyError::UnsupportedKeyType(t) => {
                write!(f, "key type {t} is not supported: only RSA and EC P-256")
            }
            KeyError::UnsupportedAlgorithm(a) => {
                write!(f, "key algorithm {a} is not supported: only RS256 and ES256")
            }
            KeyError::NotForSigning => {
                write!(f, "JWK `use` is not \"sig\" or its `key_ops` lack \"verify\"")
            }
            KeyError::Certificate => write!(
                f,
                "a certificate was given: paste the public key (BEGIN PUBLIC KEY) instead"
            ),
            KeyError::Malformed(what) => write!(f, "malformed key: {what}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Public key material with its verifier built once, so a request pays for no key set-up.
#[derive(Clone)]
pub enum KeyMaterial {
    /// An RSA public key (RS256).
    Rsa {
        /// The modulus, big-endian, without leading zero bytes.
        modulus: Box<[u8]>,
        /// The public exponent, big-endian, without leading zero bytes.
        exponent: Box<[u8]>,
        /// Its RSASSA-PKCS1-v1_5 SHA-256 verifier (native only: at the edge WebCrypto verifies).
        verifier: RsaVerifier,
    },
    /// A P-256 public key (ES256).
    Ec {
        /// The uncompressed SEC1 point (`04 || x || y`), checked to lie on P-256.
        point: Box<[u8; 65]>,
        /// Its ECDSA verifier (native only: at the edge WebCrypto verifies).
        verifier: EcVerifier,
    },
}

/// The RSA verifier natively (CLI, tests). The worker verifies with WebCrypto and reads an RSA
/// key as its two numbers only, which keeps the `rsa` crate's big-integer code out of it.
#[cfg(not(target_arch = "wasm32"))]
pub type RsaVerifier = rsa::pkcs1v15::VerifyingKey<Sha256>;
/// The RSA verifier natively (CLI, tests); in the worker, WebCrypto verifies.
#[cfg(target_arch = "wasm32")]
pub type RsaVerifier = ();

/// The largest RSA modulus accepted, in bits (the `rsa` crate's limit, so that the worker and
/// the CLI agree on every key).
const RSA_MAX_BITS: usize = 4096;

/// The ECDSA verifier natively (CLI, tests). The worker verifies with WebCrypto and never
/// builds one, which keeps p256's field arithmetic (about 20 KB of the gzipped wasm) out of it.
#[cfg(not(target_arch = "wasm32"))]
pub type EcVerifier = p256::ecdsa::VerifyingKey;
/// The ECDSA verifier natively (CLI, tests); in the worker, WebCrypto verifies.
#[cfg(target_arch = "wasm32")]
pub type EcVerifier = ();

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

impl KeyMaterial {
    /// From an RSA key's modulus and public exponent (big-endian), without the key policy (the
    /// primitive accepts any valid key; the policy is a configuration rule applied by
    /// [`Key::new`]). `None` unless the modulus is odd and at most 4096 bits and the exponent is
    /// odd, at least 3, below 2^33 and below the modulus (what the `rsa` crate accepts).
    pub fn from_rsa_numbers(modulus: &[u8], exponent: &[u8]) -> Option<KeyMaterial> {
        let modulus = without_leading_zeros(modulus);
        let exponent = without_leading_zeros(exponent);
        let odd = |n: &[u8]| n.last().is_some_and(|b| b & 1 == 1);
        let e_ok = exponent.len() <= 5
            && exponent.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)) < 1 << 33
            && exponent != [1]
            && (exponent.len(), exponent) < (modulus.len(), modulus);
        if !odd(modulus) || !odd(exponent) || !e_ok || bit_length(modulus) > RSA_MAX_BITS {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        let verifier = {
            let n = rsa::BigUint::from_bytes_be(modulus);
            let e = rsa::BigUint::from_bytes_be(exponent);
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa::RsaPublicKey::new(n, e).ok()?)
        };
        #[cfg(target_arch = "wasm32")]
        let verifier = ();
        Some(KeyMaterial::Rsa {
            modulus: modulus.into(),
            exponent: exponent.into(),
            verifier,
        })
    }

    /// From a DER PKCS#1 RSAPublicKey, without the key policy.
    pub fn from_pkcs1_der(der: &[u8]) -> Option<KeyMaterial> {
        let key = rsa::pkcs1::RsaPublicKey::from_der(der).ok()?;
        KeyMaterial::from_rsa_numbers(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    /// From an uncompressed SEC1 P-256 point (`04 || x || y`, 65 bytes); `None` unless it is
    /// one and lies on the curve. Compressed points are refused: JWKs always carry both
    /// coordinates, and the worker's WebCrypto import wants them.
    pub fn from_p256_point(sec1: &[u8]) -> Option<KeyMaterial> {
        let point: [u8; 65] = sec1.try_into().ok()?;
        if point[0] != 4 || !p256_on_curve(&point[1..33], &point[33..]) {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        let verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?;
        #[cfg(target_arch = "wasm32")]
        let verifier = ();
        Some(KeyMaterial::Ec {
            point: Box::new(point),
            verifier,
        })
    }

    /// From a DER SubjectPublicKeyInfo, without the key policy.
    pub fn from_spki_der(der: &[u8]) -> Result<KeyMaterial, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| KeyError::Malformed("not a DER SubjectPublicKeyInfo"))?;
        if spki.algorithm.oid == OID_RSA {
            spki.subject_public_key
                .as_bytes()
                .and_then(KeyMaterial::from_pkcs1_der)
                .ok_or(KeyError::Malformed("invalid RSA public key"))
        } else if spki.algorithm.oid == OID_EC {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::Malformed("EC key without a named curve"))?;
            if curve != OID_P256 {
                return Err(KeyError::UnsupportedCurve(curve_name(&curve)));
            }
            spki.subject_public_key
                .as_bytes()
                .and_then(KeyMaterial::from_p256_point)
                .ok_or(KeyError::Malformed(
                    "invalid P-256 public key (an uncompressed point on the curve)",
                ))
        } else {
            Err(KeyError::UnsupportedKeyType(spki.algorithm.oid.to_string()))
        }
    }

    /// The algorithm this material verifies.
    pub fn alg(&self) -> Alg {
        match self {
            KeyMaterial::Rsa { .. } => Alg::Rs256,
            KeyMaterial::Ec { .. } => Alg::Es256,
        }
    }

    /// DER SubjectPublicKeyInfo (tests and the CLI; the worker hands WebCrypto a JWK).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spki_der(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePublicKey;
        let der = match self {
            KeyMaterial::Rsa { verifier, .. } => verifier.as_ref().to_public_key_der(),
            KeyMaterial::Ec { point, .. } => {
                let mut der = P256_SPKI_PREFIX.to_vec();
                der.extend_from_slice(&point[..]);
                return der;
            }
        };
        der.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key's public numbers as bytes (RSA: n then e; EC: the uncompressed SEC1 point), for
    /// fingerprints. Cheaper than re-encoding the SPKI, which the worker never needs.
    pub fn public_numbers(&self) -> Vec<u8> {
        match self {
            KeyMaterial::Rsa {
                modulus, exponent, ..
            } => [&modulus[..], &exponent[..]].concat(),
            KeyMaterial::Ec { point, .. } => point.to_vec(),
        }
    }

    /// The key as a public JWK (`kty`, `n`/`e` or `crv`/`x`/`y`), for WebCrypto's
    /// `importKey("jwk", ...)`.
    pub fn public_jwk(&self) -> Vec<(&'static str, String)> {
        match self {
            KeyMaterial::Rsa {
                modulus, exponent, ..
            } => vec![
                ("kty", "RSA".to_owned()),
                ("n", URL_SAFE_NO_PAD.encode(modulus)),
                ("e", URL_SAFE_NO_PAD.encode(exponent)),
            ],
            KeyMaterial::Ec { point, .. } => vec![
                ("kty", "EC".to_owned()),
                ("crv", "P-256".to_owned()),
                ("x", URL_SAFE_NO_PAD.encode(&point[1..33])),
                ("y", URL_SAFE_NO_PAD.encode(&point[33..])),
            ],
        }
    }

    fn bits(&self) -> usize {
        match self {
            KeyMaterial::Rsa { modulus, .. } => bit_length(modulus),
            KeyMaterial::Ec { .. } => 256,
        }
    }
}

/// A P-256 SubjectPublicKeyInfo up to its 65-byte point: SEQUENCE { SEQUENCE { id-ecPublicKey,
/// prime256v1 }, BIT STRING (0 unused bits) }.
#[cfg(not(target_arch = "wasm32"))]
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Whether (x, y) (32 bytes each, big-endian) lies on P-256: both below p and
/// y² = x³ − 3x + b (mod p). Plain schoolbook arithmetic on public numbers, once per configured
/// key: the worker verifies with WebCrypto, and a curve library's field code (or a generic
/// big-integer crate's) was 8-20 KB of the gzipped wasm for this one check.
fn p256_on_curve(x: &[u8], y: &[u8]) -> bool {
    const P: Fe = fe_from_hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    const B: Fe = fe_from_hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
    const P_MINUS_3: Fe =
        fe_from_hex("ffffffff00000001000000000000000000000000fffffffffffffffffffffffc");
    let (Some(x), Some(y)) = (fe_from_bytes(x), fe_from_bytes(y)) else {
        return false;
    };
    if !fe_below(&x, &P) || !fe_below(&y, &P) {
        return false;
    }
    let x3 = mul_mod(&mul_mod(&x, &x, &P), &x, &P);
    let rhs = add_mod(&add_mod(&x3, &mul_mod(&P_MINUS_3, &x, &P), &P), &B, &P);
    mul_mod(&y, &y, &P) == rhs
}

/// A 256-bit number as eight 32-bit limbs, least significant first.
type Fe = [u32; 8];

const fn fe_from_hex(hex: &str) -> Fe {
    let bytes = hex.as_bytes();
    let mut fe = [0u32; 8];
    let mut i = 0;
    while i < 64 {
        let c = bytes[i];
        let digit = if c >= b'a' { c - b'a' + 10 } else { c - b'0' };
        let limb = 7 - i / 8;
        fe[limb] = fe[limb] << 4 | digit as u32;
        i += 1;
    }
    fe
}

fn fe_from_bytes(bytes: &[u8]) -> Option<Fe> {
    let bytes: &[u8; 32] = bytes.try_into().ok()?;
    let mut fe = [0u32; 8];
    for (limb, chunk) in fe.iter_mut().zip(bytes.rchunks_exact(4)) {
        *limb = chunk.iter().fold(0, |v, &b| v << 8 | u32::from(b));
    }
    Some(fe)
}

fn fe_below(a: &Fe, b: &Fe) -> bool {
    a.iter().rev().cmp(b.iter().rev()) == std::cmp::Ordering::Less
}

/// (a + b) mod p, for a and b below p.
fn add_mod(a: &Fe, b: &Fe, p: &Fe) -> Fe {
    let mut sum = [0u32; 8];
    let mut carry = 0u64;
    for ((s, &x), &y) in sum.iter_mut().zip(a).zip(b) {
        let t = u64::from(x) + u64::from(y) + carry;
        *s = t as u32;
        carry = t >> 32;
    }
    if carry == 0 && fe_below(&sum, p) {
        return sum;
    }
    let mut borrow = 0i64;
    for (s, &q) in sum.iter_mut().zip(p) {
        let t = i64::from(*s) - i64::from(q) + borrow;
        *s = t as u32;
        borrow = t >> 32;
    }
    sum
}

/// (a · b) mod p by doubling and adding, for a and b below p.
fn mul_mod(a: &Fe, b: &Fe, p: &Fe) -> Fe {
    let mut product = [0u32; 8];
    for limb in b.iter().rev() {
        for bit in (0..32).rev() {
            product = add_mod(&product, &product, p);
            if limb >> bit & 1 == 1 {
                product = add_mod(&product, a, p);
            }
        }
    }
    product
}

/// `bytes` without its leading zero bytes.
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// The bit length of a big-endian number without leading zero bytes.
fn bit_length(number: &[u8]) -> usize {
    number.first().map_or(0, |&top| {
        (number.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    })
}

fn curve_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        other => other.to_owned(),
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({} bits)", self.alg().as_str(), self.bits())
    }
}

/// One configured verification key: material, algorithm, optional `kid`.
#[derive(Clone)]
pub struct Key {
    /// The key's `kid`, when it has one (PEM keys never do).
    pub kid: Option<String>,
    /// The public key and its verifier.
    pub material: KeyMaterial,
    /// A short SHA-256 fingerprint of the SPKI, to name keys without a kid in logs and health.
    pub fingerprint: String,
}

impl Key {
    /// Applies the key policy: RSA at least 2048 bits with e = 65537; EC P-256 only.
    pub fn new(material: KeyMaterial, kid: Option<String>) -> Result<Key, KeyError> {
        if let KeyMaterial::Rsa {
            modulus, exponent, ..
        } = &material
        {
            let bits = bit_length(modulus);
            if bits < 2048 {
                return Err(KeyError::RsaTooSmall(bits));
            }
            if exponent[..] != [1, 0, 1] {
                return Err(KeyError::RsaExponent);
            }
        }
        let digest = Sha256::digest(material.public_numbers());
        let fingerprint = crate::hex::hex_lower(digest.get(..8).unwrap_or_default());
        Ok(Key {
            kid,
            material,
            fingerprint,
        })
    }

    /// The algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.material.alg()
    }

    /// The kid, or `sha256:<fingerprint>` for keys configured without one.
    pub fn label(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => format!("sha256:{}", self.fingerprint),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("material", &self.material)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// Why no key fits a token's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelectError {
    /// No configured key verifies this algorithm.
    NoKeyForAlg,
    /// Every key has a kid and none is the token's.
    UnknownKid,
}

/// The configured keys, parsed once per isolate.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    /// The keys, in the order they were configured.
    pub keys: Vec<Key>,
    /// Where the fetched keys (`JWKS_URL`) begin, when there are any: the keys before are the
    /// embedded `CLERK_JWT_KEY` ones.
    pub fetched_from: Option<usize>,
}

impl KeySet {
    /// Indices of the keys that may verify a token with this `alg` and `kid`:
    /// a key whose kid equals the token's is chosen by it (and must fit `alg`); keys without a
    /// kid serve any token whose alg fits them; a token without a kid may use any fitting
    /// embedded key, never a fetched one (a JWKS key is chosen by its kid, as Clerk's are).
    pub fn select(&self, alg: Alg, kid: Option<&str>) -> Result<Vec<usize>, KeySelectError> {
        if let Some(kid) = kid {
            let named: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.kid.as_deref() == Some(kid))
                .map(|(i, _)| i)
                .collect();
            if !named.is_empty() {
                let mut fitting: Vec<usize> = named
                    .into_iter()
                    .filter(|&i| self.keys.get(i).is_some_and(|k| k.alg() == alg))
                    .collect();
                self.add_embedded_fallback(&mut fitting, alg);
                return if fitting.is_empty() {
                    Err(KeySelectError::NoKeyForAlg)
                } else {
                    Ok(fitting)
                };
            }
            let kidless: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.kid.is_none())
                .map(|(i, _)| i)
                .collect();
            if kidless.is_empty() {
                return Err(KeySelectError::UnknownKid);
            }
            let fitting: Vec<usize> = kidless
                .into_iter()
                .filter(|&i| self.keys.get(i).is_some_and(|k| k.alg() == alg))
                .collect();
            if fitting.is_empty() {
                Err(KeySelectError::NoKeyForAlg)
            } else {
                Ok(fitting)
            }
        } else {
            let embedded = self.fetched_from.unwrap_or(self.keys.len());
            let fitting: Vec<usize> = self
                .keys
                .iter()
                .enumerate()
                .take(embedded)
                .filter(|(_, k)| k.alg() == alg)
                .map(|(i, _)| i)
                .collect();
            if !fitting.is_empty() {
                Ok(fitting)
            } else if self.keys.iter().skip(embedded).any(|k| k.alg() == alg) {
                // Only a fetched key could serve it, and those are chosen by kid alone.
                Err(KeySelectError::UnknownKid)
            } else {
                Err(KeySelectError::NoKeyForAlg)
            }
        }
    }

    /// When every key chosen by kid was fetched, the embedded keys without a kid that fit `alg`
    /// are tried after them: a fetched key claiming a kid never shuts out the embedded key.
    fn add_embedded_fallback(&self, chosen: &mut Vec<usize>, alg: Alg) {
        let Some(fetched_from) = self.fetched_from else {
            return;
        };
        if chosen.iter().any(|&i| i < fetched_from) {
            return;
        }
        chosen.extend(
            self.keys
                .iter()
                .enumerate()
                .take(fetched_from)
                .filter(|(_, k)| k.kid.is_none() && k.alg() == alg)
                .map(|(i, _)| i),
        );
    }

    /// The key at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&Key> {
        self.keys.get(index)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The labels of every key (kid or fingerprint), for `/__edgegate/health`.
    pub fn labels(&self) -> Vec<String> {
        self.keys.iter().map(Key::label).collect()
    }
}

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

fn parse_pem_blocks(text: &str) -> Result<Vec<Key>, KeyError> {
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

fn parse_bare_body(text: &str) -> Result<Key, KeyError> {
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

fn parse_json_keys(text: &str) -> Result<Vec<Key>, KeyError> {
    // Strict like token JSON: a duplicated `n` or `kid` must not mean two things.
    let obj = crate::json::parse_object(text.as_bytes()).map_err(|e| match e {
        crate::json::StrictJsonError::DuplicateMember => {
            KeyError::Malformed("duplicate JSON member")
        }
        _ => KeyError::Malformed("invalid JSON object"),
    })?;
    let obj = &obj;
    match obj.get("keys") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|k| {
                k.as_object()
                    .ok_or(KeyError::Malformed("JWKS entry is not an object"))
                    .and_then(parse_jwk)
            })
            .collect(),
        Some(_) => Err(KeyError::Malformed("JWKS `keys` is not an array")),
        None => Ok(vec![parse_jwk(obj)?]),
    }
}

fn jwk_str<'a>(jwk: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, KeyError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or(KeyError::Malformed(name))
}

fn jwk_bytes(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = jwk_str(jwk, name)?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('=').as_bytes())
        .map_err(|_| KeyError::Malformed(name))
}

/// One JWK. `alg` and `use`, when present, must fit (RS256/ES256, "sig"); `d` means private.
pub fn parse_jwk(jwk: &Map<String, Value>) -> Result<Key, KeyError> {
    if jwk.contains_key("d") {
        return Err(KeyError::PrivateKey);
    }
    if let Some(use_) = jwk.get("use") {
        if use_.as_str() != Some("sig") {
            return Err(KeyError::NotForSigning);
        }
    }
    // RFC 7517 4.3: `key_ops`, when present, lists what the key may do; a key without "verify"
    // (e.g. ["encrypt"]) must not verify signatures.
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err(KeyError::NotForSigning);
        }
    }
    let kty = jwk_str(jwk, "kty")?;
    let material = match kty {
        "RSA" => {
            let (n, e) = (jwk_bytes(jwk, "n")?, jwk_bytes(jwk, "e")?);
            KeyMaterial::from_rsa_numbers(&n, &e).ok_or(KeyError::Malformed("invalid RSA key"))?
        }
        "EC" => {
            let crv = jwk_str(jwk, "crv")?;
            if crv != "P-256" {
                return Err(KeyError::UnsupportedCurve(crv.to_owned()));
            }
            let x = jwk_bytes(jwk, "x")?;
            let y = jwk_bytes(jwk, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(KeyError::Malformed("EC coordinates must be 32 bytes"));
            }
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(4u8);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            KeyMaterial::from_p256_point(&sec1)
                .ok_or(KeyError::Malformed("EC point is not on P-256"))?
        }
        other => return Err(KeyError::UnsupportedKeyType(other.to_owned())),
    };
    if let Some(alg) = jwk.get("alg") {
        let name = alg.as_str().ok_or(KeyError::Malformed("alg"))?;
        match Alg::from_jws_name(name) {
            Some(a) if a == material.alg() => {}
            _ => return Err(KeyError::UnsupportedAlgorithm(name.to_owned())),
        }
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(KeyError::Malformed("kid")),
    };
    Key::new(material, kid)
}

#[cfg(test)]
mod p256_tests {
    use super::{p256_on_curve, KeyMaterial, P256_SPKI_PREFIX};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
    const GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

    #[test]
    fn the_generator_is_on_the_curve_and_a_moved_point_is_not() {
        assert!(p256_on_curve(&hex(GX), &hex(GY)));
        let mut y = hex(GY);
        y[31] ^= 1;
        assert!(!p256_on_curve(&hex(GX), &y));
        // A coordinate at or above p is refused even if it reduces to a point on the curve.
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        assert!(!p256_on_curve(&p, &hex(GY)));
    }

    proptest::proptest! {
        // Agrees with the p256 crate on the points of random secret scalars, and on the same
        // points with y moved.
        #[test]
        fn agrees_with_the_p256_crate(secret in proptest::array::uniform32(1u8..), flip in 0usize..256) {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let Ok(key) = p256::SecretKey::from_slice(&secret) else { return Ok(()) };
            let point = key.public_key().to_encoded_point(false);
            let bytes = point.as_bytes().to_vec();
            proptest::prop_assert!(p256_on_curve(&bytes[1..33], &bytes[33..]));
            let mut moved = bytes.clone();
            moved[33 + flip / 8] ^= 1 << (flip % 8);
            let theirs = p256::PublicKey::from_sec1_bytes(&moved).is_ok();
            proptest::prop_assert_eq!(p256_on_curve(&moved[1..33], &moved[33..]), theirs);
        }
    }

    #[test]
    fn only_an_uncompressed_point_on_the_curve_makes_key_material() {
        let mut point = vec![4u8];
        point.extend(hex(GX));
        point.extend(hex(GY));
        let key = KeyMaterial::from_p256_point(&point).expect("the generator");
        let der = key.spki_der();
        assert_eq!(der.get(..26), Some(&P256_SPKI_PREFIX[..]));
        assert_eq!(
            KeyMaterial::from_spki_der(&der).map(|k| k.spki_der()),
            Ok(der)
        );
        let mut compressed = vec![2u8 | (hex(GY)[31] & 1)];
        compressed.extend(hex(GX));
        assert!(KeyMaterial::from_p256_point(&compressed).is_none());
        point[0] = 6;
        assert!(KeyMaterial::from_p256_point(&point).is_none());
    }
}

#[cfg(test)]
mod rsa_number_tests {
    use super::*;

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xffu8; bits.div_ceil(8)];
        if let Some(top) = n.first_mut() {
            *top >>= (8 - bits % 8) % 8;
        }
        n
    }

    #[test]
    fn the_numbers_rsa_would_accept_make_key_material() {
        let n = modulus(2048);
        let key = KeyMaterial::from_rsa_numbers(&[&[0, 0][..], &n].concat(), &[0, 1, 0, 1])
            .expect("a valid key");
        assert_eq!(key.bits(), 2048);
        assert_eq!(key.public_numbers(), [&n[..], &[1, 0, 1]].concat());
        assert!(KeyMaterial::from_rsa_numbers(&modulus(4096), &[3]).is_some());
    }

    #[test]
    fn numbers_no_rsa_key_has_are_refused() {
        let n = modulus(2048);
        let mut even = n.clone();
        if let Some(last) = even.last_mut() {
            *last = 0xfe;
        }
        for (n, e) in [
            (even, vec![1, 0, 1]),
            (n.clone(), vec![1]),
            (n.clone(), vec![1, 0, 0]),
            (n.clone(), vec![2, 0, 0, 0, 1]),
            (n.clone(), n.clone()),
            (modulus(4097), vec![1, 0, 1]),
            (Vec::new(), vec![1, 0, 1]),
            (n, Vec::new()),
        ] {
            assert!(
                KeyMaterial::from_rsa_numbers(&n, &e).is_none(),
                "{} {e:?}",
                n.len()
            );
        }
    }
}
