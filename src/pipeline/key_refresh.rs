//! Key refresh, beside the request phases: when this isolate reads the stored JWKS again, what
//! it installs from it into the pipeline's [`KeyState`](super::key_state::KeyState), and what
//! the Cron Trigger's fetch stores (`crate::jwks`). The embedded `CLERK_JWT_KEY` keys always come
//! first and are never removed; fetched keys are added after them and replaced only by a later
//! successful fetch. No request ever waits on any of this.

use super::Pipeline;
use crate::jwks::{self, FetchedJwks, JwksSource, RefreshOutcome};
use crate::keys::Key;

/// What the scheduled handler fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFetch {
    /// The JWKS URL.
    pub url: String,
    /// Give up after this long.
    pub timeout_ms: u64,
    /// Read at most this many bytes of the body (one more tells it was longer).
    pub max_bytes: usize,
}

/// How far past this isolate's clock a stored record's time may be (clocks differ a little
/// between locations). A record further ahead is refused: it would outrank every real fetch
/// after it and pin its keys.
pub const STORED_FUTURE_MARGIN_MS: i64 = 5 * 60 * 1000;

impl Pipeline {
    /// Tells the pipeline whether the `EDGEGATE_KEYS` KV namespace is bound (the entry knows
    /// its bindings; settings are only text).
    pub fn set_kv_bound(&mut self, bound: bool) {
        if self.gateway.is_ok() {
            self.keys.refresh.kv_bound = bound;
        }
    }

    /// Whether this request should also read the stored JWKS in the background (at most once a
    /// minute per isolate; never without `JWKS_URL` and a KV binding).
    pub fn keys_pickup_due(&mut self, now_ms: i64) -> bool {
        self.refresh_enabled() && self.pickup.due(now_ms)
    }

    /// When the next background read of the stored JWKS is due, or `None` when there is none
    /// (no `JWKS_URL`, no KV binding, or invalid settings).
    pub fn keys_next_pickup_ms(&self) -> Option<i64> {
        self.refresh_enabled().then_some(self.pickup.next_at_ms)
    }

    /// Installs what KV held (`None`: absent, or the read failed when `kv_ok` is false). An
    /// absent or unreadable record changes no key. Returns whether the key set changed (the
    /// entry then drops its imported WebCrypto keys) and a log line when something happened.
    pub fn install_stored_keys(
        &mut self,
        keys_text: Option<&str>,
        status_text: Option<&str>,
        kv_ok: bool,
        now_ms: i64,
    ) -> (bool, Option<String>) {
        let stored = keys_text.and_then(jwks::read_stored_keys);
        let from_the_future = stored
            .as_ref()
            .is_some_and(|(_, at)| too_far_ahead(*at, now_ms));
        let stored = stored.filter(|_| !from_the_future);
        let changed = self.install(stored, status_text, Some((now_ms, kv_ok)), now_ms);
        let log = match (kv_ok, changed) {
            (false, _) => Some(
                serde_json::json!({"level": "warn", "event": "jwks-kv-unreachable"}).to_string(),
            ),
            (true, false) if from_the_future => Some(
                serde_json::json!({"level": "warn", "event": "jwks-record-refused",
                    "reason": "fetched-at-in-the-future"})
                .to_string(),
            ),
            (true, true) => Some(
                serde_json::json!({"level": "info", "event": "jwks-installed",
                    "keys": self.key_labels()})
                .to_string(),
            ),
            (true, false) => None,
        };
        (changed, log)
    }

    /// Installs a stored record when it is newer than the set held (KV is eventually consistent:
    /// an older copy read later must not roll the keys back). `pickup` is this isolate's KV read,
    /// when this came from one. `stored` is the record's keys and fetch time, read (and, from KV,
    /// checked against the clock) by the caller; a status dated further ahead than
    /// `STORED_FUTURE_MARGIN_MS` is ignored.
    fn install(
        &mut self,
        stored: Option<(Vec<Key>, i64)>,
        status_text: Option<&str>,
        pickup: Option<(i64, bool)>,
        now_ms: i64,
    ) -> bool {
        // Invalid settings verify nothing, so there is nothing to install.
        if self.gateway.is_err() {
            return false;
        }
        let attempt = status_text
            .and_then(jwks::read_status)
            .filter(|(at, _)| !too_far_ahead(*at, now_ms));
        let mut changed = false;
        let state = &mut self.keys;
        if pickup.is_some() {
            state.refresh.last_pickup = pickup;
        }
        let newer_attempt = match (&attempt, &state.refresh.last_attempt) {
            (Some((at, _)), Some((held, _))) => at > held,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if newer_attempt {
            state.refresh.last_attempt = attempt;
        }
        if let Some((keys, fetched_at)) = &stored {
            if state
                .refresh
                .keys_fetched_at_ms
                .is_none_or(|held| *fetched_at > held)
            {
                changed = state.replace_fetched(keys);
                state.refresh.keys_fetched_at_ms = Some(*fetched_at);
            }
        }
        if changed {
            // A token verified by a key that has just gone must not be served from the cache,
            // and a fetched key's check answered for the old set must not count (`key_generation`).
            self.cache.clear();
            self.key_generation = self.key_generation.wrapping_add(1);
        }
        changed
    }

    /// The key set's generation: it changes whenever the set does. A check with a fetched key
    /// asked for under another generation counts as failed.
    pub fn key_generation(&self) -> u64 {
        self.key_generation
    }

    /// What the Cron Trigger fetches, or `None` when `JWKS_URL` is off, settings are invalid or
    /// no KV namespace is bound (then the scheduled event does nothing).
    pub fn refresh_fetch(&self) -> Option<RefreshFetch> {
        let gw = self.gateway.as_ref().ok()?;
        let source = gw.jwks.as_ref()?;
        self.keys.refresh.kv_bound.then(|| RefreshFetch {
            url: source.url.clone(),
            timeout_ms: jwks::FETCH_TIMEOUT_MS,
            max_bytes: jwks::MAX_JWKS_BYTES,
        })
    }

    /// The scheduled fetch's outcome: what to write to KV, the log line, and whether this
    /// isolate's key set changed (a good set is installed here at once; the entry then drops its
    /// imported keys).
    pub fn refresh_fetched(
        &mut self,
        fetched: &FetchedJwks,
        now_ms: i64,
    ) -> Option<(RefreshOutcome, bool)> {
        let source: JwksSource = self.gateway.as_ref().ok()?.jwks.clone()?;
        let outcome = jwks::refresh_outcome(&source, fetched, now_ms);
        // A fetch made now is never dated ahead of this clock.
        let stored = outcome
            .keys_text
            .as_deref()
            .and_then(jwks::read_stored_keys);
        let changed = self.install(stored, Some(&outcome.status_text), None, now_ms);
        Some((outcome, changed))
    }

    /// `JWKS_URL` is set, the settings are valid and the KV namespace is bound.
    fn refresh_enabled(&self) -> bool {
        self.gateway
            .as_ref()
            .is_ok_and(|g| g.jwks.is_some() && self.keys.refresh.kv_bound)
    }

    fn key_labels(&self) -> Vec<String> {
        self.keys.keys.labels()
    }
}

/// A stored time further ahead of `now_ms` than clocks could differ by.
fn too_far_ahead(at_ms: i64, now_ms: i64) -> bool {
    at_ms > now_ms.saturating_add(STORED_FUTURE_MARGIN_MS)
}
