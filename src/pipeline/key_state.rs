//! The keys this isolate verifies tokens with, as they stand now: the embedded `CLERK_JWT_KEY`
//! keys first (from the settings, never removed), then any fetched through `JWKS_URL`, and what
//! the isolate knows of that refresh. The pipeline owns it and only the key refresh
//! (`key_refresh.rs`) changes it, so the settings stay as they were read.

use crate::config::Settings;
use crate::jwks::RefreshView;
use crate::keys::{Key, KeySet};
use std::rc::Rc;

/// The key set held now, and the refresh that fills its fetched part.
#[derive(Debug, Clone, Default)]
pub struct KeyState {
    /// Every key a token may be signed with: the embedded ones, then the fetched ones. Shared
    /// (`Rc`) with the warm-up's scratch pipeline; a refresh that changes it makes its own copy.
    pub keys: Rc<KeySet>,
    /// How many of `keys` are the embedded ones (they come first, so their indices never move).
    pub embedded: usize,
    /// What this isolate knows of the JWKS refresh, for health.
    pub refresh: RefreshView,
}

impl KeyState {
    /// The embedded keys alone, before any fetch.
    pub fn new(settings: &Settings) -> KeyState {
        KeyState {
            embedded: settings.tokens.embedded_keys.len(),
            keys: Rc::new(settings.tokens.embedded_keys.clone()),
            refresh: RefreshView::default(),
        }
    }

    /// Whether the key at `index` is an embedded one.
    pub fn is_embedded(&self, index: usize) -> bool {
        index < self.embedded
    }

    /// Puts `fetched` after the embedded keys, dropping any whose `kid` an embedded key has (the
    /// embedded key wins its kid). Returns whether the set changed.
    pub fn replace_fetched(&mut self, fetched: &[Key]) -> bool {
        let embedded = self.embedded.min(self.keys.keys.len());
        let set = Rc::make_mut(&mut self.keys);
        let before: Vec<String> = set.keys.iter().skip(embedded).map(fingerprint).collect();
        set.keys.truncate(embedded);
        let embedded_kids: Vec<Option<String>> = set.keys.iter().map(|k| k.kid.clone()).collect();
        for key in fetched {
            if !embedded_kids.contains(&key.kid) {
                set.keys.push(key.clone());
            }
        }
        let after: Vec<String> = set.keys.iter().skip(embedded).map(fingerprint).collect();
        set.fetched_from = (set.keys.len() > embedded).then_some(embedded);
        before != after
    }
}

fn fingerprint(k: &Key) -> String {
    format!("{}:{}", k.label(), k.fingerprint)
}
