//! Per-request randomness from one seed: [`RandomStream`], an HMAC-SHA-256 generator in counter
//! mode (output block `i` is `HMAC(seed, i)`), seeded once per isolate from the runtime's
//! `crypto.getRandomValues`. A request is handed a [`RandomDraw`], its block not yet computed:
//! only a handshake needs a fresh secret state, so most requests pay no HMAC. A request id
//! (when the runtime's `CF-Ray` gives none) needs to be unique, not secret: it is the stream's
//! own random prefix and the draw's counter ([`RandomDraw::unique_id`]), no HMAC either.
//!
//! Why not ask the runtime for every request: the crossing and the typed array cost a few µs of
//! every request, and a request needs its 32 bytes only to be unpredictable to clients (the
//! handshake's login-CSRF state). An HMAC keyed with
//! 32 secret bytes is a pseudorandom function, so its outputs for distinct counters are as
//! unpredictable as fresh random bytes to anyone without the seed, which never leaves the
//! isolate's memory. Pure: the seed comes in as a parameter.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::rc::Rc;

/// A stream of 32-byte blocks from one secret seed.
pub struct RandomStream {
    mac: Rc<Hmac<Sha256>>,
    /// The first half of every unique id this stream gives: 8 bytes of `HMAC(seed, u64::MAX)`,
    /// a counter no draw reaches.
    id_prefix: [u8; 8],
    counter: u64,
}

impl RandomStream {
    /// A stream keyed with `seed` (32 bytes from a CSPRNG).
    pub fn new(seed: [u8; 32]) -> Self {
        // HMAC pads a short key with zeros to the hash's block: the same MAC as keying it with
        // `seed` itself, through the constructor that cannot fail.
        let key: [u8; 64] = filled(seed);
        let mac = <Hmac<Sha256> as KeyInit>::new(&key.into());
        RandomStream {
            id_prefix: filled(block(&mac, u64::MAX)),
            mac: Rc::new(mac),
            counter: 0,
        }
    }

    /// The next block, computed only when read (the counter is taken now, so never the same
    /// block twice: the counter only grows).
    pub fn next_draw(&mut self) -> RandomDraw {
        let counter = self.counter;
        self.counter = self.counter.wrapping_add(1);
        RandomDraw(Draw::Block {
            mac: Rc::clone(&self.mac),
            id_prefix: self.id_prefix,
            counter,
        })
    }
}

/// `bytes` from the start of an array of `N`, the rest zero (and any bytes past `N` left out).
fn filled<const N: usize>(bytes: impl IntoIterator<Item = u8>) -> [u8; N] {
    let mut out = [0u8; N];
    for (slot, byte) in out.iter_mut().zip(bytes) {
        *slot = byte;
    }
    out
}

/// Block `counter`: `HMAC(seed, counter)`.
fn block(mac: &Hmac<Sha256>, counter: u64) -> [u8; 32] {
    let mut mac = mac.clone();
    mac.update(&counter.to_be_bytes());
    mac.finalize().into_bytes().into()
}

/// One request's 32 random bytes: given (tests, the warm-up), or a block of a [`RandomStream`]
/// computed when [`RandomDraw::bytes`] asks for it (the same block on every call: the counter
/// is fixed at the draw).
#[derive(Clone)]
pub struct RandomDraw(Draw);

#[derive(Clone)]
enum Draw {
    Bytes([u8; 32]),
    Block {
        mac: Rc<Hmac<Sha256>>,
        id_prefix: [u8; 8],
        counter: u64,
    },
}

impl RandomDraw {
    /// The 32 bytes (the same on every call).
    pub fn bytes(&self) -> [u8; 32] {
        match &self.0 {
            Draw::Bytes(bytes) => *bytes,
            Draw::Block { mac, counter, .. } => block(mac, *counter),
        }
    }

    /// 16 bytes no other draw of the isolate has (the stream's prefix, then the counter), and
    /// which another isolate's draws share only by a 64-bit chance; not secret. Given bytes
    /// give their first 16.
    pub fn unique_id(&self) -> [u8; 16] {
        match &self.0 {
            Draw::Bytes(bytes) => filled(*bytes),
            Draw::Block {
                id_prefix, counter, ..
            } => filled(id_prefix.iter().copied().chain(counter.to_be_bytes())),
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
    fn unique_ids_share_the_stream_prefix_and_count_without_reading_a_block() {
        let mut stream = RandomStream::new([5; 32]);
        let first = stream.next_draw();
        let second = stream.next_draw();
        let (a, b) = (first.unique_id(), second.unique_id());
        assert_eq!(a[..8], b[..8]);
        assert_eq!(a[8..], 0u64.to_be_bytes());
        assert_eq!(b[8..], 1u64.to_be_bytes());
        // The prefix is the seed's: another isolate's ids differ.
        let other = RandomStream::new([6; 32]).next_draw().unique_id();
        assert_ne!(a[..8], other[..8]);
        // An id is no part of the draw's secret block.
        assert!(!first.bytes().windows(8).any(|w| w == &a[..8]));
        let mut given = [0u8; 32];
        given[3] = 7;
        assert_eq!(super::RandomDraw::from(given).unique_id()[..], given[..16]);
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
