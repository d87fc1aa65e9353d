//! The wasm exports the worker's JavaScript entry (src/edge/shim.js) calls: the per-isolate
//! [`Pipeline`], built once from the settings. Requests cross as numbers over shared memory
//! (`crate::wire`): the entry writes a request into the [`inbox`] region and calls [`begin`]
//! with its length; every call that answers a step returns the address of the step's words.
//! The entry does the I/O (origin and asset fetches, WebCrypto, the clock, randomness, logging)
//! and nothing here waits on a promise. Nothing here decides: that is `pipeline`.

use crate::config::Lookup;
use crate::jwks;
use crate::machine::{Event, RequestId, Step};
use crate::pipeline::{warm_up, Pipeline};
use crate::random::RandomStream;
use crate::wire::{self, Answer};
use std::cell::RefCell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

mod allocator;

// Talc with per-size-class free lists in front (`allocator`): a warm request makes about a
// hundred small allocations, and their malloc and free were the largest part of the wasm's own
// time (the standard library's dlmalloc more so than talc).
#[global_allocator]
static ALLOCATOR: allocator::Pooled = allocator::Pooled::new();

/// The inbox's size until a request needs more (a request with a large cookie grows it once).
const INBOX_BYTES: usize = 16 * 1024;

thread_local! {
    static PIPELINE: RefCell<Option<Pipeline>> = const { RefCell::new(None) };
    /// Each request's 32 random bytes (computed only if read), from the seed the entry gives on
    /// its first request.
    static RANDOM: RefCell<Option<RandomStream>> = const { RefCell::new(None) };
    /// Where the entry writes a request (or a fetched response's headers) before it calls.
    static INBOX: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The last step's answer: its words are what the exports return the address of.
    static ANSWER: RefCell<Answer> = RefCell::new(Answer::default());
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

/// The wasm instance's memory, for the entry's views of the inbox and the answers.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Every setting name edgegate reads, one per line.
#[wasm_bindgen(js_name = settingNames)]
pub fn setting_names() -> String {
    crate::config::SETTING_NAMES.join("\n")
}

/// Builds the pipeline from the settings (a JSON object of name to string: every text value of
/// the worker's environment) once; later calls do nothing. Returns the log lines for invalid
/// settings and for names that look like settings but are none (names and problems, never
/// values), one per line. `bindings` names the environment's non-text bindings, one per line
/// (the `EDGEGATE_KEYS` KV namespace turns the JWKS refresh on when `JWKS_URL` is set).
/// Runs at the module's top level, where randomness is refused: [`seed`] comes with the first
/// request.
#[wasm_bindgen]
pub fn configure(settings_json: &str, bindings: &str) -> String {
    if PIPELINE.with(|slot| slot.borrow().is_some()) {
        return String::new();
    }
    let settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(settings_json).unwrap_or_default();
    let lookup: Lookup = &|name: &str| {
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
    errors.chain(warns).collect::<Vec<_>>().join("\n")
}

/// The deployment check (`crate::deploy_check`) for `edgegate-check`, which runs this wasm in
/// node: the settings of a deploy are judged by the worker's own parser. Its JSON in and out.
/// Never called by the worker's entry.
#[wasm_bindgen(js_name = checkDeploy)]
pub fn check_deploy(input_json: &str) -> String {
    crate::deploy_check::run(input_json)
}

/// The randomness seed: 32 bytes from `crypto.getRandomValues`, given once before the first
/// request. Every request's random bytes are drawn from it (`crate::random`), so no request asks
/// the runtime for its own. False (and no seed) unless it is 32 bytes.
#[wasm_bindgen]
pub fn seed(bytes: &[u8]) -> bool {
    let Ok(key) = <[u8; 32]>::try_from(bytes) else {
        return false;
    };
    RANDOM.with(|slot| *slot.borrow_mut() = Some(RandomStream::new(key)));
    true
}

/// Runs the warm-up (`pipeline::warm_up`) `rounds` times, every step through the wire encoder
/// and a request through the inbox reader, so that the first client request finds the request
/// path compiled. Returns the number of steps run.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up(now_ms: f64, rounds: u32) -> u32 {
    let sample = "GET\nhttps://edgegate.invalid/\nhost\nedgegate.invalid\naccept\n*/*\n";
    let parsed = wire::request(sample).is_some();
    let steps = with_pipeline(0, |p| {
        warm_up::run(p, now_ms as i64, rounds as usize, &mut |step| {
            let _ = answer(0, step);
        })
    });
    u32::try_from(steps).unwrap_or(u32::MAX) + u32::from(parsed)
}

/// Makes the inbox hold at least `min_bytes` and returns its address. Any call into wasm may
/// move it (only this one does today): the entry asks again after calling this.
#[wasm_bindgen]
pub fn inbox(min_bytes: u32) -> u32 {
    INBOX.with(|slot| {
        let mut inbox = slot.borrow_mut();
        let wanted = (min_bytes as usize).max(INBOX_BYTES);
        if inbox.len() < wanted {
            *inbox = vec![0; wanted];
        }
        inbox.as_ptr() as u32
    })
}

/// The first `len` bytes of the inbox as text (the entry writes UTF-8 with `encodeInto`).
fn with_inbox<T>(len: u32, f: impl FnOnce(&str) -> T) -> T {
    INBOX.with(|slot| {
        let inbox = slot.borrow();
        let bytes = inbox.get(..len as usize).unwrap_or(&[]);
        match std::str::from_utf8(bytes) {
            Ok(text) => f(text),
            Err(_) => f(&String::from_utf8_lossy(bytes)),
        }
    })
}

/// Encodes `step` as the answer and returns the address of its words, with the addresses of
/// its text and bytes filled in.
fn answer(id: RequestId, step: &Step) -> u32 {
    ANSWER.with(|slot| {
        let mut answer = slot.borrow_mut();
        wire::encode_into(&mut answer, id, step);
        let places = [
            answer.text.as_ptr() as u32,
            answer.text.len() as u32,
            answer.bytes.as_ptr() as u32,
            answer.bytes.len() as u32,
        ];
        for (word, value) in answer.words.iter_mut().skip(2).zip(places) {
            *word = value;
        }
        answer.words.as_ptr() as u32
    })
}

/// Starts the request the entry wrote into the first `len` bytes of the inbox (see
/// `Pipeline::start`); the address of the first step's answer.
#[wasm_bindgen]
pub fn begin(len: u32, now_ms: f64) -> u32 {
    let random = RANDOM.with(|slot| slot.borrow_mut().as_mut().map(RandomStream::next_draw));
    let Some(random) = random else {
        return answer(0, &Pipeline::unseeded());
    };
    let request = with_inbox(len, wire::request).unwrap_or_default();
    let started = with_pipeline(None, |p| Some(p.start(request, now_ms as i64, random)));
    let (id, step) = started.unwrap_or_else(|| (0, Pipeline::expired()));
    answer(id, &step)
}

fn resume(id: u32, event: Event) -> u32 {
    // The 503 is built only when there is no pipeline: never on the way of a request.
    let step = with_pipeline(None, |p| Some(p.resume(id, event))).unwrap_or_else(Pipeline::expired);
    answer(id, &step)
}

/// WebCrypto's answer to request `id`'s signature check.
#[wasm_bindgen]
pub fn verified(id: u32, ok: bool) -> u32 {
    resume(id, Event::Verified(ok))
}

/// The outage probe's result for request `id` (`kind` as in `wire::probed`).
#[wasm_bindgen]
pub fn probed(id: u32, kind: u32, status: u16) -> u32 {
    resume(id, Event::Probed(wire::probed(kind, status)))
}

/// How request `id`'s fetch ended (`kind` as in `wire::fetched`); the response's headers are
/// the first `len` bytes of the inbox.
#[wasm_bindgen]
pub fn fetched(id: u32, kind: u32, status: u16, len: u32) -> u32 {
    let headers = with_inbox(len, wire::headers);
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
pub fn expired() -> u32 {
    answer(0, &Pipeline::expired())
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
        jwks::FetchedJwks::Response {
            status,
            body: body.to_owned(),
            truncated,
        }
    } else {
        jwks::FetchedJwks::Failed
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

/// Links the `worker` crate's start-up: its panic hook (the only one: it logs the panic and marks
/// `__worker_init_state.criticalError`) and wasm-bindgen's reinit path, which the entry uses to
/// run the next request on a fresh instance after a trap.
#[worker::event(start)]
fn start_hook() {}
