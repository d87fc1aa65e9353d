//! The wasm exports the worker's JavaScript entry (src/edge/shim.js) calls: the per-isolate
//! [`Pipeline`], built once from the settings. `start` and the `resume*` calls take plain
//! strings and numbers and answer with a step in the wire format (`crate::wire`); the entry does
//! the I/O (origin and asset fetches, WebCrypto, the clock, randomness, logging) and nothing here
//! waits on a promise. Nothing here decides: that is `pipeline`.

use crate::app;
use crate::http;
use crate::jwks;
use crate::pipeline::{Event, Pipeline, Request, RequestId, Step};
use crate::random::RandomStream;
use crate::wire;
use std::cell::RefCell;
use wasm_bindgen::prelude::wasm_bindgen;

// Talc instead of the standard library's dlmalloc: a warm request makes about a hundred small
// allocations, and under dlmalloc their malloc and free were the largest part of the wasm's own
// time inside workerd (bench/run.sh, README "Performance").
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

thread_local! {
    static PIPELINE: RefCell<Option<Pipeline>> = const { RefCell::new(None) };
    /// Each request's 32 random bytes, from the seed `configure` was given.
    static RANDOM: RefCell<Option<RandomStream>> = const { RefCell::new(None) };
    /// The bytes of the last `V` step's signature check (message then signature).
    static QUESTION: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with_pipeline<T>(default: T, f: impl FnOnce(&mut Pipeline) -> T) -> T {
    PIPELINE.with(|slot| match slot.borrow_mut().as_mut() {
        Some(pipeline) => f(pipeline),
        None => default,
    })
}

/// The wire format's version (the entry refuses to run with another).
#[wasm_bindgen(js_name = wireVersion)]
pub fn wire_version() -> u32 {
    wire::VERSION
}

/// Every setting name edgegate reads, one per line.
#[wasm_bindgen(js_name = settingNames)]
pub fn setting_names() -> String {
    app::SETTING_NAMES.join("\n")
}

/// Builds the pipeline from the settings (a JSON object of name to string: every text value of
/// the worker's environment) once; later calls do nothing. Returns the log lines for invalid
/// settings and for names that look like settings but are none (names and problems, never
/// values), one per line. `bindings` names the environment's non-text bindings, one per line
/// (the `EDGEGATE_KEYS` KV namespace turns the JWKS refresh on when `JWKS_URL` is set).
/// `seed` is 32 bytes from `crypto.getRandomValues`: every request's randomness is drawn from it
/// (`crate::random`), so no request asks the runtime for its own.
#[wasm_bindgen]
pub fn configure(settings_json: &str, bindings: &str, seed: &[u8]) -> String {
    if PIPELINE.with(|slot| slot.borrow().is_some()) {
        return String::new();
    }
    let mut key = [0u8; 32];
    for (slot, byte) in key.iter_mut().zip(seed) {
        *slot = *byte;
    }
    RANDOM.with(|slot| *slot.borrow_mut() = Some(RandomStream::new(key)));
    let seed_problem = (seed.len() != key.len()).then(|| {
        serde_json::json!({"level": "error", "event": "seed-invalid", "problem": "configure needs 32 random bytes"})
            .to_string()
    });
    let settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(settings_json).unwrap_or_default();
    let lookup = |name: &str| {
        settings
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let names: Vec<String> = settings.keys().cloned().collect();
    let ((built, problems), warnings) = Pipeline::from_named_settings(&lookup, &names);
    let mut built = built;
    built.set_kv_bound(bindings.lines().any(|b| b == jwks::KV_BINDING));
    PIPELINE.with(|slot| *slot.borrow_mut() = Some(built));
    let errors = problems.iter().map(|p| {
        serde_json::json!({"level": "error", "event": "config-invalid", "setting": p.setting, "problem": p.problem})
            .to_string()
    });
    let warns = warnings.iter().map(|w| {
        serde_json::json!({"level": "warn", "event": "config-unknown-setting", "problem": w})
            .to_string()
    });
    seed_problem
        .into_iter()
        .chain(errors)
        .chain(warns)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The step's wire text; a `V` step's bytes are kept for [`signature_input`].
fn answer(id: RequestId, step: Step) -> String {
    if let Step::Verify(q) = &step {
        QUESTION.with(|slot| *slot.borrow_mut() = q.bytes.clone());
    }
    wire::encode(id, &step)
}

/// Starts a request (see `Pipeline::start`). `headers` is a header blob
/// ([`http::parse_header_blob`]).
#[wasm_bindgen]
pub fn start(method: &str, url: &str, headers: &str, now_ms: f64) -> String {
    let request = Request {
        method: method.to_owned(),
        url: url.to_owned(),
        headers: http::parse_header_blob(headers),
    };
    let seed = RANDOM.with(|slot| {
        slot.borrow_mut()
            .as_mut()
            .map(RandomStream::next_block)
            .unwrap_or_default()
    });
    with_pipeline(String::new(), |p| {
        let (id, step) = p.start(request, now_ms as i64, seed);
        answer(id, step)
    })
}

/// The bytes of the signature check the last `V` step asked for: signed input, then signature.
#[wasm_bindgen(js_name = signatureInput)]
pub fn signature_input() -> Vec<u8> {
    QUESTION.with(|slot| std::mem::take(&mut *slot.borrow_mut()))
}

fn resume(id: u32, event: Event) -> String {
    with_pipeline(String::new(), |p| {
        let step = p.resume(id, event);
        answer(id, step)
    })
}

/// WebCrypto's answer to request `id`'s `V` step.
#[wasm_bindgen(js_name = resumeVerified)]
pub fn resume_verified(id: u32, verified: bool) -> String {
    resume(id, Event::Verified(verified))
}

/// The outage probe's result for request `id` (`kind` as in `wire::probed`).
#[wasm_bindgen(js_name = resumeProbed)]
pub fn resume_probed(id: u32, kind: u32, status: u16) -> String {
    resume(id, Event::Probed(wire::probed(kind, status)))
}

/// How request `id`'s fetch ended (`kind` as in `wire::fetched`), with the response's header
/// blob.
#[wasm_bindgen(js_name = resumeFetched)]
pub fn resume_fetched(id: u32, kind: u32, status: u16, headers: &str) -> String {
    let headers = http::parse_header_blob(headers);
    resume(
        id,
        Event::Fetched {
            fetched: wire::fetched(kind, status),
            headers,
        },
    )
}

/// The step for a request begun on a wasm instance that was replaced since (503).
#[wasm_bindgen]
pub fn expired() -> String {
    wire::encode(0, &Pipeline::expired())
}

/// `alg\njwk` for the key at `index`, or "" past the last key.
#[wasm_bindgen(js_name = keyJwk)]
pub fn key_jwk(index: u32) -> String {
    with_pipeline(String::new(), |p| {
        p.key_jwk(index as usize)
            .map(|(alg, jwk)| format!("{}\n{jwk}", alg.as_str()))
            .unwrap_or_default()
    })
}

/// Whether this request should also read the stored JWKS in the background, and when to ask
/// again: `1\n<ms>` or `0\n<ms>` (`Infinity` when the refresh is off).
#[wasm_bindgen(js_name = keysPickup)]
pub fn keys_pickup(now_ms: f64) -> String {
    with_pipeline("0\nInfinity".to_owned(), |p| {
        let due = p.keys_pickup_due(now_ms as i64);
        match p.keys_next_pickup_ms() {
            Some(next) => format!("{}\n{next}", u8::from(due)),
            None => "0\nInfinity".to_owned(),
        }
    })
}

/// Installs what KV held (`undefined`: absent). `1\n<log>` when the key set changed (the entry
/// drops its imported keys), else `0\n<log>`; the log part may be empty.
#[wasm_bindgen(js_name = installStoredKeys)]
pub fn install_stored_keys(
    keys: Option<String>,
    status: Option<String>,
    kv_ok: bool,
    now_ms: f64,
) -> String {
    with_pipeline("0\n".to_owned(), |p| {
        let (changed, log) =
            p.install_stored_keys(keys.as_deref(), status.as_deref(), kv_ok, now_ms as i64);
        format!("{}\n{}", u8::from(changed), log.unwrap_or_default())
    })
}

/// The Cron Trigger's fetch, `url\ntimeout_ms\nmax_bytes`, or "" when there is none to do.
#[wasm_bindgen(js_name = refreshFetch)]
pub fn refresh_fetch() -> String {
    with_pipeline(String::new(), |p| {
        p.refresh_fetch()
            .map(|f| format!("{}\n{}\n{}", f.url, f.timeout_ms, f.max_bytes))
            .unwrap_or_default()
    })
}

/// The fetch's outcome (`kind` 0 = response, else failed; `truncated` when the body passed
/// the cap): `changed\nkeys\nstatus\nlog`, where `changed` is 1 when this isolate's key set
/// changed (the entry drops its imported keys) and `keys` (the new KV `jwks` value) is empty
/// unless the fetch was good.
#[wasm_bindgen(js_name = refreshFetched)]
pub fn refresh_fetched(kind: u32, status: u16, body: &str, truncated: bool, now_ms: f64) -> String {
    let fetched = if kind == 0 {
        jwks::Fetched::Response {
            status,
            body: body.to_owned(),
            truncated,
        }
    } else {
        jwks::Fetched::Failed
    };
    with_pipeline(String::new(), |p| {
        p.refresh_fetched(&fetched, now_ms as i64)
            .map(|(o, changed)| {
                format!(
                    "{}\n{}\n{}\n{}",
                    u8::from(changed),
                    o.keys_text.unwrap_or_default(),
                    o.status_text,
                    o.log
                )
            })
            .unwrap_or_default()
    })
}

#[worker::event(start)]
fn start_hook() {
    console_error_panic_hook::set_once();
}
