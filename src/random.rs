//! Per-request randomness from one seed: [`RandomStream`], an HMAC-SHA-256 generator in counter
//! mode (output block `i` is `HMAC(seed, i)`), seeded once per isolate from the runtime's
//! `crypto.getRandomValues`.
//!
//! Why not ask the runtime for every request: the crossing and the typed array cost a few µs of
//! every request, and a request needs its 32 bytes only to be unpredictable to clients (the
//! handshake's login-CSRF state, the request id when there is no `CF-Ray`). An HMAC keyed with
//! 32 secret bytes is a pseudorandom function, so its outputs for distinct counters are as
//! unpredictable as fresh random bytes to anyone without the seed, which never leaves the
//! isolate's memory. Pure: the seed comes in as a parameter.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A stream of 32-byte blocks from one secret seed.
pub struct RandomStream {
    mac: Hmac<Sha256>,
    counter: u64,
}

impl RandomStream {
    /// A stream keyed with `seed` (32 bytes from a CSPRNG).
    pub fn new(seed: [u8; 32]) -> Self {
        // HMAC pads a short key with zeros to the hash's block: the same MAC as keying it with
        // `seed` itself, through the constructor that cannot fail.
        let mut key = [0u8; 64];
        for (slot, byte) in key.iter_mut().zip(seed) {
            *slot = byte;
        }
        let mac = <Hmac<Sha256> as KeyInit>::new(&key.into());
        RandomStream { mac, counter: 0 }
    }

    /// The next 32 bytes (never the same block twice: the counter only grows).
    pub fn next_block(&mut self) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(&self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::RandomStream;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    #[test]
    fn blocks_differ_and_depend_on_the_seed() {
        let mut a = RandomStream::new([1; 32]);
        let mut b = RandomStream::new([2; 32]);
        let a0 = a.next_block();
        let a1 = a.next_block();
        assert_ne!(a0, a1);
        assert_ne!(a0, b.next_block());
        // The same seed gives the same stream (the seed is the only secret).
        let mut again = RandomStream::new([1; 32]);
        assert_eq!(again.next_block(), a0);
        // Keyed as HMAC-SHA-256 with the 32-byte seed itself.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[1; 32]).expect("any key length");
        mac.update(&0u64.to_be_bytes());
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(a0, expected);
    }
}
