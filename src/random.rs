//! Per-request randomness from one seed: [`RandomStream`], an HMAC-SHA-256 generator in counter
//! mode (output block `i` is `HMAC(seed, i)`), seeded once per isolate from the runtime's
//! `crypto.getRandomValues`. A request is handed a [`RandomDraw`], its block not yet computed:
//! most requests never read it (the runtime's `CF-Ray` names them, and only a handshake needs a
//! fresh state), so most pay no HMAC.
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
use std::cell::OnceCell;

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

    /// The next block, computed only when read (the counter is taken now, so never the same
    /// block twice: the counter only grows).
    pub fn next_draw(&mut self) -> RandomDraw {
        let counter = self.counter;
        self.counter = self.counter.wrapping_add(1);
        RandomDraw(Draw::Block {
            mac: Box::new(self.mac.clone()),
            counter,
            computed: OnceCell::new(),
        })
    }
}

/// One request's 32 random bytes: given (tests, the warm-up), or a block of a [`RandomStream`]
/// computed when [`RandomDraw::bytes`] is first asked for it.
#[derive(Clone)]
pub struct RandomDraw(Draw);

#[derive(Clone)]
enum Draw {
    Bytes([u8; 32]),
    Block {
        mac: Box<Hmac<Sha256>>,
        counter: u64,
        /// The block once read (a request without `CF-Ray` that is sent to the handshake reads
        /// it twice).
        computed: OnceCell<[u8; 32]>,
    },
}

impl RandomDraw {
    /// The 32 bytes (the same on every call; computed on the first).
    pub fn bytes(&self) -> [u8; 32] {
        match &self.0 {
            Draw::Bytes(bytes) => *bytes,
            Draw::Block {
                mac,
                counter,
                computed,
            } => *computed.get_or_init(|| {
                let mut mac = (**mac).clone();
                mac.update(&counter.to_be_bytes());
                mac.finalize().into_bytes().into()
            }),
        }
    }
}

impl From<[u8; 32]> for RandomDraw {
    fn from(bytes: [u8; 32]) -> Self {
        RandomDraw(Draw::Bytes(bytes))
    }
}

impl std::fmt::Debug for RandomDraw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes nor the key.
        f.write_str("RandomDraw")
    }
}

#[cfg(test)]
mod tests {
    use super::RandomStream;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    #[test]
    fn a_draw_is_the_block_it_was_drawn_for_whenever_it_is_read() {
        let mut stream = RandomStream::new([5; 32]);
        let first = stream.next_draw();
        let second = stream.next_draw();
        let mut again = RandomStream::new([5; 32]);
        assert_eq!(first.bytes(), again.next_draw().bytes());
        assert_eq!(second.bytes(), again.next_draw().bytes());
        assert_eq!(first.bytes(), first.bytes());
        assert_ne!(first.bytes(), second.bytes());
        assert_eq!(super::RandomDraw::from([9; 32]).bytes(), [9; 32]);
    }

    #[test]
    fn blocks_differ_and_depend_on_the_seed() {
        let mut a = RandomStream::new([1; 32]);
        let mut b = RandomStream::new([2; 32]);
        let a0 = a.next_draw().bytes();
        let a1 = a.next_draw().bytes();
        assert_ne!(a0, a1);
        assert_ne!(a0, b.next_draw().bytes());
        // The same seed gives the same stream (the seed is the only secret).
        let mut again = RandomStream::new([1; 32]);
        assert_eq!(again.next_draw().bytes(), a0);
        // Keyed as HMAC-SHA-256 with the 32-byte seed itself.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[1; 32]).expect("any key length");
        mac.update(&0u64.to_be_bytes());
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(a0, expected);
    }
}
