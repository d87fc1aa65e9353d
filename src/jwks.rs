//! Optional JWKS refresh (`JWKS_URL`): keys fetched from Clerk by a Cron Trigger, stored in
//! Workers KV, and picked up by every isolate in the background, added to the embedded
//! `CLERK_JWT_KEY` keys and never replacing them. Pure: the edge does the fetch and the KV reads
//! and writes; this module decides what a fetched body means, what is stored, when an isolate
//! looks again, and what health says.
//!
//! The request path never waits on any of it: a request is decided with the keys the isolate
//! holds at that moment.

use crate::keys::{parse_jwk, Key};
use serde_json::{json, Map, Value};

/// The KV key holding the last good fetched set (written only by a successful fetch).
pub const KV_KEYS: &str = "jwks";
/// The KV key holding the last attempt's time and result (written by every attempt).
pub const KV_STATUS: &str = "jwks-status";
/// The KV binding's name.
pub const KV_BINDING: &str = "EDGEGATE_KEYS";
/// Largest JWKS body read; past it the fetch counts as failed (Clerk's is about 1 KB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys taken from one fetched set (Clerk's has one or two).
pub const MAX_FETCHED_KEYS: usize = 16;
/// How long the scheduled fetch may take for its whole response.
pub const FETCH_TIMEOUT_MS: u64 = 5_000;
/// How often an isolate reads KV again.
pub const PICKUP_INTERVAL_MS: i64 = 60_000;

/// Where the keys come from (`JWKS_URL`): off by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    /// The https URL fetched (from `auto`: the Frontend API's `/.well-known/jwks.json`).
    pub url: String,
}

/// The URL `auto` means for a Frontend API base (`https://clerk.example.com`).
pub fn auto_url(fapi_base: &str) -> String {
    format!("{}/.well-known/jwks.json", fapi_base.trim_end_matches('/'))
}

/// Why a fetched or stored set was not taken. Each leaves the keys as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshProblem {
    /// The fetch failed or timed out before a response.
    Unreachable,
    /// A status other than 200.
    Status(u16),
    /// A body over [`MAX_JWKS_BYTES`].
    TooLarge,
    /// Not a JSON object with a `keys` array.
    Malformed,
    /// No key in the set passed the key policy: the refused keys' codes (none for an empty set).
    NoUsableKey(Vec<String>),
}

impl RefreshProblem {
    /// A stable code for logs and health.
    pub fn code(&self) -> String {
        match self {
            RefreshProblem::Unreachable => "unreachable".to_owned(),
            RefreshProblem::Status(s) => format!("status-{s}"),
            RefreshProblem::TooLarge => "too-large".to_owned(),
            RefreshProblem::Malformed => "malformed".to_owned(),
            RefreshProblem::NoUsableKey(_) => "no-usable-key".to_owned(),
        }
    }
}

/// The keys of a JWKS body that pass the key policy (RSA ≥ 2048 bits with e = 65537, P-256,
/// `use`/`key_ops` for verification, public only), and the codes of those refused. Keys without
/// a `kid` are refused: a fetched key is only ever selected by its `kid`. The body is read as
/// strictly as a token (`crate::json`): a member named twice, which parsers read differently,
/// makes the whole set malformed. Entries past the first `MAX_FETCHED_KEYS` are dropped, noted
/// once as `too-many-keys`.
pub fn parse_jwks(body: &str) -> Result<(Vec<Key>, Vec<String>), RefreshProblem> {
    if body.len() > MAX_JWKS_BYTES {
        return Err(RefreshProblem::TooLarge);
    }
    let value =
        crate::json::parse_object(body.as_bytes()).map_err(|_| RefreshProblem::Malformed)?;
    let entries = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(RefreshProblem::Malformed)?;
    let mut keys: Vec<Key> = Vec::new();
    let mut refused = Vec::new();
    for entry in entries.iter().take(MAX_FETCHED_KEYS) {
        match entry.as_object().map(parse_fetched_jwk) {
            Some(Ok(key)) if !keys.iter().any(|k| k.kid == key.kid) => keys.push(key),
            Some(Ok(_)) => refused.push("duplicate-kid".to_owned()),
            Some(Err(code)) => refused.push(code),
            None => refused.push("not-an-object".to_owned()),
        }
    }
    if entries.len() > MAX_FETCHED_KEYS {
        // Once, not per entry: the log line stays short whatever the set holds.
        refused.push("too-many-keys".to_owned());
    }
    if keys.is_empty() {
        return Err(RefreshProblem::NoUsableKey(refused));
    }
    Ok((keys, refused))
}

fn parse_fetched_jwk(jwk: &Map<String, Value>) -> Result<Key, String> {
    let key = parse_jwk(jwk).map_err(|e| e.code().to_owned())?;
    if key.kid.is_none() {
        return Err("kid-missing".to_owned());
    }
    Ok(key)
}

/// The JWKS text stored in KV for `keys`: their public parameters only, re-serialised.
pub fn stored_keys_text(keys: &[Key], fetched_at_ms: i64) -> String {
    let jwks: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut o: Map<String, Value> = k
                .material
                .public_jwk()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), Value::String(value)))
                .collect();
            if let Some(kid) = &k.kid {
                o.insert("kid".to_owned(), Value::String(kid.clone()));
            }
            o.insert("alg".to_owned(), Value::String(k.alg().as_str().to_owned()));
            o.insert("use".to_owned(), Value::String("sig".to_owned()));
            Value::Object(o)
        })
        .collect();
    json!({"keys": jwks, "fetched_at": fetched_at_ms}).to_string()
}

/// The status text stored in KV after an attempt.
pub fn stored_status_text(at_ms: i64, result: &str) -> String {
    json!({"at": at_ms, "result": result}).to_string()
}

/// What the scheduled handler does with a fetch's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// The new KV `jwks` value, only after a successful fetch.
    pub keys_text: Option<String>,
    /// The new KV `jwks-status` value (always).
    pub status_text: String,
    /// One log line.
    pub log: String,
}

/// How a fetch ended, as the edge saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchedJwks {
    /// A response with this status and (capped) body; `truncated` when the body was cut at
    /// [`MAX_JWKS_BYTES`].
    Response {
        /// HTTP status.
        status: u16,
        /// The body, at most [`MAX_JWKS_BYTES`] + 1 bytes.
        body: String,
        /// True when the body was longer than the cap.
        truncated: bool,
    },
    /// No response (network error or timeout).
    Failed,
}

/// Decides what a scheduled fetch's outcome stores.
pub fn refresh_outcome(source: &JwksSource, fetched: &FetchedJwks, now_ms: i64) -> RefreshOutcome {
    let parsed = match fetched {
        FetchedJwks::Failed => Err(RefreshProblem::Unreachable),
        FetchedJwks::Response { status, .. } if *status != 200 => {
            Err(RefreshProblem::Status(*status))
        }
        FetchedJwks::Response {
            truncated: true, ..
        } => Err(RefreshProblem::TooLarge),
        FetchedJwks::Response { body, .. } => parse_jwks(body),
    };
    match parsed {
        Ok((keys, refused)) => {
            let labels: Vec<String> = keys.iter().map(Key::label).collect();
            RefreshOutcome {
                keys_text: Some(stored_keys_text(&keys, now_ms)),
                status_text: stored_status_text(now_ms, "ok"),
                log: json!({"level": "info", "event": "jwks-refreshed", "url": source.url,
                    "keys": labels, "refused": refused})
                .to_string(),
            }
        }
        Err(problem) => {
            let mut log = json!({"level": "warn", "event": "jwks-refresh-failed",
                "url": source.url, "result": problem.code()});
            // An all-refused set names each refused key, as a partly refused one does.
            if let (RefreshProblem::NoUsableKey(refused), Some(o)) = (&problem, log.as_object_mut())
            {
                o.insert("refused".to_owned(), json!(refused));
            }
            RefreshOutcome {
                keys_text: None,
                status_text: stored_status_text(now_ms, &problem.code()),
                log: log.to_string(),
            }
        }
    }
}

/// When an isolate reads KV next.
#[derive(Debug, Clone, Default)]
pub struct Pickup {
    /// When the next KV read is due (0: at the first request).
    pub next_at_ms: i64,
}

impl Pickup {
    /// Whether a KV read is due at `now_ms`; when it is, the next one is set a minute on, so an
    /// isolate reads at most once a minute however many requests arrive.
    pub fn due(&mut self, now_ms: i64) -> bool {
        if now_ms < self.next_at_ms {
            return false;
        }
        self.next_at_ms = now_ms.saturating_add(PICKUP_INTERVAL_MS);
        true
    }
}

/// What an isolate knows of the refresh, for health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshView {
    /// Whether the `EDGEGATE_KEYS` KV namespace is bound.
    pub kv_bound: bool,
    /// When the fetched keys this isolate holds were fetched.
    pub keys_fetched_at_ms: Option<i64>,
    /// The last scheduled attempt as stored in KV: time and result code.
    pub last_attempt: Option<(i64, String)>,
    /// When this isolate last read KV, and whether that read worked.
    pub last_pickup: Option<(i64, bool)>,
}

/// The last attempt in a stored status record.
pub fn read_status(status_text: &str) -> Option<(i64, String)> {
    let v = serde_json::from_str::<Value>(status_text).ok()?;
    let at = v.get("at").and_then(Value::as_i64)?;
    let result = v.get("result").and_then(Value::as_str)?;
    Some((at, result.to_owned()))
}

/// The keys of a stored `jwks` record and its fetch time; `None` when the record is absent or
/// unreadable (which changes nothing). Stored keys pass the key policy again.
pub fn read_stored_keys(text: &str) -> Option<(Vec<Key>, i64)> {
    let (keys, _) = parse_jwks(text).ok()?;
    let fetched_at = serde_json::from_str::<Value>(text)
        .ok()?
        .get("fetched_at")
        .and_then(Value::as_i64)?;
    Some((keys, fetched_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"ins_ec","x":"_BYZelG5gnwq3i0SUdLUD9aEW7KDmsaZQ2g93MRyqx8","y":"4B3VfGgLmBv8NqoAr80oIRaBFDNfh9qEkb_CYk_4Y4g"}"#;

    fn source() -> JwksSource {
        JwksSource {
            url: "https://clerk.example.com/.well-known/jwks.json".to_owned(),
        }
    }

    #[test]
    fn a_good_set_is_stored_and_read_back() {
        let body = format!(r#"{{"keys":[{EC_JWK}]}}"#);
        let out = refresh_outcome(
            &source(),
            &FetchedJwks::Response {
                status: 200,
                body,
                truncated: false,
            },
            1_000,
        );
        let stored = out.keys_text.as_deref().unwrap_or_default();
        let (keys, at) = read_stored_keys(stored).unwrap_or_default();
        assert_eq!(at, 1_000);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.first().map(Key::label).as_deref(), Some("ins_ec"));
        assert!(out.status_text.contains("\"ok\""));
    }

    #[test]
    fn failures_store_only_the_status() {
        for (fetched, code) in [
            (FetchedJwks::Failed, "unreachable"),
            (
                FetchedJwks::Response {
                    status: 503,
                    body: String::new(),
                    truncated: false,
                },
                "status-503",
            ),
            (
                FetchedJwks::Response {
                    status: 200,
                    body: "{}".repeat(10),
                    truncated: true,
                },
                "too-large",
            ),
            (
                FetchedJwks::Response {
                    status: 200,
                    body: "<html>".to_owned(),
                    truncated: false,
                },
                "malformed",
            ),
            (
                FetchedJwks::Response {
                    status: 200,
                    body: r#"{"keys":[]}"#.to_owned(),
                    truncated: false,
                },
                "no-usable-key",
            ),
        ] {
            let out = refresh_outcome(&source(), &fetched, 5);
            assert_eq!(out.keys_text, None, "{code}");
            assert!(
                out.status_text.contains(code),
                "{code}: {}",
                out.status_text
            );
            assert!(out.log.contains(code));
        }
    }

    #[test]
    fn keys_without_kid_or_private_are_refused_but_others_kept() {
        let kidless = EC_JWK.replace(r#""kid":"ins_ec","#, "");
        let private = EC_JWK.replace(r#""kid":"ins_ec""#, r#""kid":"p","d":"AAAA""#);
        let body = format!(r#"{{"keys":[{kidless},{private},{EC_JWK},{EC_JWK}]}}"#);
        let (keys, refused) = parse_jwks(&body).unwrap_or_default();
        assert_eq!(keys.len(), 1);
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(refused.iter().any(|c| c == "kid-missing"));
        assert!(refused.iter().any(|c| c == "duplicate-kid"));
    }

    #[test]
    fn an_all_refused_set_names_each_refused_key_in_its_log_line() {
        let kidless = EC_JWK.replace(r#""kid":"ins_ec","#, "");
        let private = EC_JWK.replace(r#""kid":"ins_ec""#, r#""kid":"p","d":"AAAA""#);
        let body = format!(r#"{{"keys":[{kidless},{private}]}}"#);
        let fetched = FetchedJwks::Response {
            status: 200,
            body,
            truncated: false,
        };
        let out = refresh_outcome(&source(), &fetched, 5);
        assert_eq!(out.keys_text, None);
        let log: Value = serde_json::from_str(&out.log).unwrap_or_default();
        assert_eq!(log["result"], "no-usable-key");
        let refused = log["refused"].as_array().cloned().unwrap_or_default();
        assert_eq!(refused.len(), 2, "{}", out.log);
        assert!(refused.iter().any(|c| c == "kid-missing"), "{}", out.log);
        assert!(refused
            .iter()
            .all(|c| c.as_str().is_some_and(|c| !c.is_empty())));
    }

    #[test]
    fn a_member_named_twice_makes_the_set_malformed() {
        let twice = EC_JWK.replace(r#""kid":"ins_ec","#, r#""kid":"ins_ec","kid":"ins_other","#);
        let body = format!(r#"{{"keys":[{twice}]}}"#);
        assert_eq!(parse_jwks(&body).err(), Some(RefreshProblem::Malformed));
        let body = format!(r#"{{"keys":[{EC_JWK}],"keys":[]}}"#);
        assert_eq!(parse_jwks(&body).err(), Some(RefreshProblem::Malformed));
    }

    #[test]
    fn entries_past_the_cap_are_noted_once() {
        let entries: Vec<String> = (0..MAX_FETCHED_KEYS + 5)
            .map(|i| EC_JWK.replace("ins_ec", &format!("ins_{i}")))
            .collect();
        let body = format!(r#"{{"keys":[{}]}}"#, entries.join(","));
        let (keys, refused) = parse_jwks(&body).unwrap_or_default();
        assert_eq!(keys.len(), MAX_FETCHED_KEYS);
        assert_eq!(refused, vec!["too-many-keys".to_owned()]);
    }

    #[test]
    fn pickup_is_due_at_most_once_a_minute() {
        let mut p = Pickup::default();
        assert!(p.due(1_000));
        assert!(!p.due(1_001));
        assert!(!p.due(60_999));
        assert!(p.due(61_000));
    }

    #[test]
    fn auto_is_the_frontend_apis_well_known_path() {
        assert_eq!(
            auto_url("https://clerk.example.com/"),
            "https://clerk.example.com/.well-known/jwks.json"
        );
    }
}
