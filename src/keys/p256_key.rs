//! A P-256 key as its uncompressed point: `KeyMaterial::from_p256_point`, which checks the point
//! lies on the curve with schoolbook field arithmetic (no curve library in the worker).

use super::key_material::KeyMaterial;

impl KeyMaterial {
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
}

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

#[cfg(test)]
mod p256_tests {
    use super::{p256_on_curve, KeyMaterial};
    use crate::keys::spki::P256_SPKI_PREFIX;

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
