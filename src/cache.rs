//! The verified-token cache: remembers, per isolate, that a token's signature was good and what
//! its typed claims are, so the same token arriving again (a browser sends one token for its
//! whole 60 s life) skips base64, JSON and the signature. It never remembers a decision: time
//! claims, `azp`, route rules and everything request-dependent are re-checked on every hit.
//!
//! Keyed by the SHA-256 of the token, and a hit compares the whole token, so no collision can be
//! aimed at. Only tokens whose signature verified are inserted: a flood of forged or distinct
//! garbage tokens never enters, and valid ones cost an attacker a real signed token each.
//! Capacity is fixed; when full, expired entries go first, then the oldest.

use crate::token::SessionClaims;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Default number of tokens remembered per isolate (a few hundred KiB at most).
pub const DEFAULT_CAPACITY: usize = 1024;

struct Entry {
    token: Box<str>,
    claims: Rc<SessionClaims>,
    /// Unix ms after which the entry is useless (exp + skew + grace).
    useless_after_ms: i64,
}

pub struct TokenCache {
    entries: HashMap<[u8; 32], Entry>,
    order: VecDeque<[u8; 32]>,
    capacity: usize,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            entries: HashMap::with_capacity(capacity.min(4096)),
            order: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            hits: 0,
            misses: 0,
        }
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a token verified earlier, if it is still remembered and is the same token.
    pub fn get(&mut self, token: &str, now_ms: i64) -> Option<Rc<SessionClaims>> {
        let key = Self::key(token);
        let found = match self.entries.get(&key) {
            Some(e) if &*e.token == token && now_ms <= e.useless_after_ms => {
                Some(Rc::clone(&e.claims))
            }
            _ => None,
        };
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Remembers a token whose signature verified. `keep_ms` is how long past `exp` the entry
    /// can still serve (clock skew plus any outage grace).
    pub fn insert(&mut self, token: &str, claims: Rc<SessionClaims>, keep_ms: i64, now_ms: i64) {
        let key = Self::key(token);
        let useless_after_ms = claims.exp.saturating_mul(1000).saturating_add(keep_ms);
        if useless_after_ms < now_ms {
            return;
        }
        let entry = Entry {
            token: token.into(),
            claims,
            useless_after_ms,
        };
        if let Some(existing) = self.entries.get_mut(&key) {
            *existing = entry;
            return;
        }
        if self.entries.len() >= self.capacity {
            self.evict(now_ms);
        }
        self.entries.insert(key, entry);
        self.order.push_back(key);
    }

    fn evict(&mut self, now_ms: i64) {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.useless_after_ms >= now_ms);
        if self.entries.len() < before {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
            if self.entries.len() < self.capacity {
                return;
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
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

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
            },
            exp,
            nbf: None,
            iat: None,
            azp: None,
            iss: None,
            aud: None,
        })
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
    fn already_useless_tokens_are_not_inserted() {
        let mut cache = TokenCache::new(2);
        cache.insert("stale", claims(1), 0, 10_000);
        assert!(cache.is_empty());
    }
}
