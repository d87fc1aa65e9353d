//! The verified-token cache: remembers, per isolate, that a token's signature was good and what
//! its typed claims are, so the same token arriving again (a browser sends one token for its
//! whole 60 s life) skips base64, JSON and the signature. It never remembers a decision: time
//! claims, `azp`, route rules and everything request-dependent are re-checked on every hit.
//!
//! Keyed by the token itself (a map hit is whole-token equality). Only tokens whose signature
//! verified are inserted: a flood of forged or distinct garbage tokens never enters, and valid
//! ones cost an attacker a real signed token each. The map hashes a token's last 32 bytes and
//! its length (`TailHash`): those bytes are the signature's, which only the key's holder
//! chooses, so no collision among entries can be aimed at, and a cold request no longer pays
//! three SipHash passes over a kilobyte of token (about 14 % of its wasm instructions).
//! Capacity is fixed; when full, expired entries go first (swept at most once a second: a sweep
//! visits every entry), then the oldest.
//!
//! The last few tokens served are also kept in a short list that a lookup tries first by
//! comparing whole tokens, with no hash: a browser sends its one token on every request of a
//! page load and its refreshes, so most hits are on a token seen moments ago. The comparison
//! takes the same time whatever the tokens share (the list holds other people's tokens). The
//! list is a handful of shared references to verified entries; it adds no way in and no memory
//! an attacker controls.

use crate::token::SessionClaims;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;

/// Default number of tokens remembered per isolate (a few hundred KiB at most).
pub const DEFAULT_CAPACITY: usize = 1024;

/// How many of the last tokens served a lookup compares before hashing.
pub const RECENT: usize = 4;

/// How often, at most, a full cache sweeps out its expired entries before dropping the oldest
/// (a sweep visits every entry; the oldest is one pop).
const SWEEP_EVERY_MS: i64 = 1000;

#[derive(Clone)]
struct Entry {
    token: Rc<str>,
    claims: Rc<SessionClaims>,
    /// Unix ms after which the entry is useless (exp + skew + grace).
    useless_after_ms: i64,
}

impl Entry {
    fn serves(&self, token: &str, now_ms: i64) -> bool {
        now_ms <= self.useless_after_ms && same_token(&self.token, token)
    }
}

/// Whole-token equality, in time that depends on the length alone: the recent list holds other
/// people's live tokens, and an early exit would time how many bytes of theirs a guess shares
/// (the signature first, had the comparison started at the end). Eight bytes a step.
fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
    let words = (&mut a8)
        .zip(&mut b8)
        .fold(0u64, |d, (x, y)| d | (word(x) ^ word(y)));
    let tail = a8.remainder().iter().zip(b8.remainder());
    tail.fold(words, |d, (x, y)| d | u64::from(x ^ y)) == 0
}

/// The token map's hasher (see the module documentation): the last 32 bytes of what it is
/// given, and the length, mixed a word at a time.
#[derive(Clone, Copy, Default)]
struct TailHash;

impl BuildHasher for TailHash {
    type Hasher = TailHasher;
    fn build_hasher(&self) -> TailHasher {
        TailHasher(0)
    }
}

struct TailHasher(u64);

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = bytes.get(bytes.len().saturating_sub(32)..).unwrap_or(bytes);
        let mut h = self.0 ^ bytes.len() as u64;
        for chunk in tail.chunks(8) {
            // Whole words read as one; only a short last chunk is copied byte by byte.
            let word = <[u8; 8]>::try_from(chunk).unwrap_or_else(|_| {
                let mut word = [0u8; 8];
                word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
                word
            });
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The per-isolate verified-token cache (see the module documentation).
pub struct TokenCache {
    entries: HashMap<Rc<str>, Entry, TailHash>,
    order: VecDeque<Rc<str>>,
    /// The last tokens served or inserted, newest first, at most [`RECENT`], each also in
    /// `entries` (an entry leaves this list when it leaves `entries`).
    recent: VecDeque<Entry>,
    capacity: usize,
    last_sweep_ms: i64,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    /// An empty cache that holds at most `capacity` tokens (at least one).
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            entries: HashMap::with_capacity_and_hasher(capacity.min(4096), TailHash),
            order: VecDeque::with_capacity(capacity.min(4096)),
            recent: VecDeque::with_capacity(RECENT + 1),
            capacity: capacity.max(1),
            last_sweep_ms: i64::MIN,
            hits: 0,
            misses: 0,
        }
    }
    /// The claims of a token verified earlier, if it is still remembered and is the same token.
    pub fn get(&mut self, token: &str, now_ms: i64) -> Option<Rc<SessionClaims>> {
        let recent = self.recent.iter().position(|e| e.serves(token, now_ms));
        if let Some(entry) = recent.and_then(|at| self.recent.remove(at)) {
            let claims = Rc::clone(&entry.claims);
            self.recent.push_front(entry);
            self.hits += 1;
            return Some(claims);
        }
        let found = match self.entries.get(token) {
            Some(e) if e.serves(token, now_ms) => Some(e.clone()),
            _ => None,
        };
        let Some(entry) = found else {
            self.misses += 1;
            return None;
        };
        self.hits += 1;
        let claims = Rc::clone(&entry.claims);
        self.remember_recent(entry);
        Some(claims)
    }

    fn remember_recent(&mut self, entry: Entry) {
        self.recent.retain(|e| !Rc::ptr_eq(&e.token, &entry.token));
        self.recent.push_front(entry);
        self.recent.truncate(RECENT);
    }

    /// Remembers a token whose signature verified. `keep_ms` is how long past `exp` the entry
    /// can still serve (clock skew plus any outage grace).
    pub fn insert(&mut self, token: &str, claims: Rc<SessionClaims>, keep_ms: i64, now_ms: i64) {
        let useless_after_ms = claims.exp.saturating_mul(1000).saturating_add(keep_ms);
        if useless_after_ms < now_ms {
            return;
        }
        if let Some(existing) = self.entries.get_mut(token) {
            existing.claims = claims;
            existing.useless_after_ms = useless_after_ms;
            let entry = existing.clone();
            self.remember_recent(entry);
            return;
        }
        if self.entries.len() >= self.capacity {
            self.evict(now_ms);
        }
        let entry = Entry {
            token: token.into(),
            claims,
            useless_after_ms,
        };
        self.entries.insert(Rc::clone(&entry.token), entry.clone());
        self.order.push_back(Rc::clone(&entry.token));
        self.remember_recent(entry);
    }

    /// Makes room for one entry: expired ones first (at most one sweep a second), then the
    /// oldest.
    fn evict(&mut self, now_ms: i64) {
        if now_ms.saturating_sub(self.last_sweep_ms) >= SWEEP_EVERY_MS {
            self.last_sweep_ms = now_ms;
            let before = self.entries.len();
            self.entries.retain(|_, e| e.useless_after_ms >= now_ms);
            if self.entries.len() < before {
                let entries = &self.entries;
                self.order.retain(|k| entries.contains_key(&**k));
            }
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        let entries = &self.entries;
        self.recent.retain(|e| entries.contains_key(&*e.token));
    }

    /// Forgets every entry (after the key set changed).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.recent.clear();
    }

    /// Entries in the main store (the recent list only shares some of them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the main store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries the main store holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// (hits, misses) since the isolate started.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Auth;
    use serde_json::Map;

    fn claims(exp: i64) -> Rc<SessionClaims> {
        Rc::new(SessionClaims {
            auth: Auth {
                user_id: "user_1".into(),
                session_id: None,
                session_status: None,
                org_id: None,
                org_role: None,
                org_slug: None,
                org_permissions: vec![],
                actor: None,
                factor_verification_age: None,
                expires_at: exp,
                issued_at: None,
                claims: Map::new(),
                machine: None,
            },
            exp,
            nbf: None,
            iat: None,
            azp: None,
            iss: None,
            aud: None,
            template: false,
            identity: Default::default(),
        })
    }

    #[test]
    fn tokens_that_share_their_last_bytes_are_still_told_apart() {
        // Same tail, same length: the same bucket, and each lookup still finds its own entry.
        let tail = "x".repeat(40);
        let a = format!("aaaa.{tail}");
        let b = format!("bbbb.{tail}");
        let mut cache = TokenCache::new(16);
        cache.insert(&a, claims(1_000), 60_000, 0);
        let mut other = (*claims(2_000)).clone();
        other.auth.user_id = "user_2".into();
        cache.insert(&b, Rc::new(other), 60_000, 0);
        // Past the recent list, so the lookups go through the map.
        for i in 0..RECENT + 2 {
            cache.insert(&format!("filler{i}"), claims(1_000), 60_000, 0);
        }
        assert_eq!(
            cache.get(&a, 0).map(|c| c.auth.user_id.clone()).as_deref(),
            Some("user_1")
        );
        assert_eq!(
            cache.get(&b, 0).map(|c| c.auth.user_id.clone()).as_deref(),
            Some("user_2")
        );
        assert!(cache.get(&format!("cccc.{tail}"), 0).is_none());
        let hash = |t: &str| TailHash.hash_one(t);
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&format!("aaaa.{tail}y")));
    }

    #[test]
    fn same_token_is_byte_equality() {
        for (a, b) in [
            ("", ""),
            ("a", "a"),
            ("abcdefgh", "abcdefgh"),
            ("abcdefghi", "abcdefghi"),
            ("abcdefghi", "abcdefghj"),
            ("abcdefghi", "bbcdefghi"),
            ("abc", "abcd"),
            ("abc\0", "abc"),
        ] {
            assert_eq!(same_token(a, b), a == b, "{a:?} {b:?}");
        }
    }

    #[test]
    fn hit_requires_the_whole_token() {
        let mut cache = TokenCache::new(4);
        cache.insert("a.b.c", claims(100), 5000, 0);
        assert!(cache.get("a.b.c", 0).is_some());
        assert!(cache.get("a.b.d", 0).is_none());
    }

    #[test]
    fn capacity_is_never_exceeded() {
        let mut cache = TokenCache::new(8);
        for i in 0..1000 {
            cache.insert(&format!("t{i}"), claims(1_000_000), 0, 0);
            assert!(cache.len() <= 8);
        }
        assert!(cache.get("t999", 0).is_some());
        assert!(cache.get("t0", 0).is_none());
    }

    #[test]
    fn expired_entries_go_first_and_are_not_served() {
        let mut cache = TokenCache::new(2);
        cache.insert("old", claims(1), 0, 0);
        cache.insert("keep", claims(1_000_000), 0, 0);
        assert!(cache.get("old", 5_000).is_none());
        cache.insert("new", claims(1_000_000), 0, 5_000);
        assert!(cache.get("keep", 5_000).is_some());
        assert!(cache.get("new", 5_000).is_some());
    }

    #[test]
    fn recent_tokens_are_served_and_checked_like_the_rest() {
        let mut cache = TokenCache::new(16);
        cache.insert("a.b.c", claims(10), 0, 0);
        // Found by the recent list: the same token only, and never once useless.
        assert!(cache.get("a.b.c", 10_000).is_some());
        assert!(cache.get("a.b.cc", 10_000).is_none());
        assert!(cache.get("a.b.", 10_000).is_none());
        assert!(cache.get("a.b.c", 10_001).is_none());
        assert_eq!(cache.stats(), (1, 3));
    }

    #[test]
    fn the_recent_list_never_outlives_the_store() {
        let mut cache = TokenCache::new(2);
        cache.insert("t0", claims(1_000_000), 0, 0);
        assert!(cache.get("t0", 0).is_some());
        cache.insert("t1", claims(1_000_000), 0, 0);
        cache.insert("t2", claims(1_000_000), 0, 0);
        // t0 was the oldest: gone from the store, so from the recent list too.
        assert!(cache.get("t0", 0).is_none());
        assert!(cache.get("t1", 0).is_some());
        assert!(cache.get("t2", 0).is_some());
        assert!(cache.recent.len() <= RECENT);
        assert!(cache
            .recent
            .iter()
            .all(|e| cache.entries.contains_key(&*e.token)));
    }

    #[test]
    fn a_hit_past_the_recent_list_moves_the_token_into_it() {
        let mut cache = TokenCache::new(64);
        for i in 0..(RECENT + 3) {
            cache.insert(&format!("t{i}"), claims(1_000_000), 0, 0);
        }
        assert!(!cache.recent.iter().any(|e| &*e.token == "t0"));
        assert!(cache.get("t0", 0).is_some());
        assert_eq!(cache.recent.front().map(|e| &*e.token), Some("t0"));
        assert_eq!(cache.recent.len(), RECENT);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize, i64),
        Get(usize, i64),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..10, 0i64..50).prop_map(|(t, exp)| Op::Insert(t, exp)),
            (0usize..10, 0i64..60_000).prop_map(|(t, now)| Op::Get(t, now)),
        ]
    }

    proptest::proptest! {
        /// Whatever the order of inserts and lookups, a hit is only ever the token asked for,
        /// with the claims of its latest insert, while still useful; the store and the recent
        /// list stay within their caps and the list only holds stored entries.
        #[test]
        fn hits_are_only_ever_the_same_token_while_useful(
            ops in proptest::collection::vec(op(), 1..200),
            capacity in 1usize..6,
        ) {
            let mut cache = TokenCache::new(capacity);
            let mut inserted: HashMap<String, i64> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(t, exp) => {
                        let token = format!("tok.{t}.sig");
                        let mut c = (*claims(exp)).clone();
                        c.auth.user_id = token.clone();
                        cache.insert(&token, Rc::new(c), 0, 0);
                        inserted.insert(token, exp);
                    }
                    Op::Get(t, now) => {
                        let token = format!("tok.{t}.sig");
                        if let Some(hit) = cache.get(&token, now) {
                            proptest::prop_assert_eq!(&hit.auth.user_id, &token);
                            proptest::prop_assert_eq!(Some(&hit.exp), inserted.get(&token));
                            proptest::prop_assert!(now <= hit.exp * 1000);
                        }
                    }
                }
                proptest::prop_assert!(cache.len() <= capacity);
                proptest::prop_assert!(cache.recent.len() <= RECENT);
                proptest::prop_assert!(cache.recent.iter().all(|e| cache.entries.contains_key(&*e.token)));
            }
        }
    }

    #[test]
    fn already_useless_tokens_are_not_inserted() {
        let mut cache = TokenCache::new(2);
        cache.insert("stale", claims(1), 0, 10_000);
        assert!(cache.is_empty());
    }
}
