//! The wasm exports the worker's JavaScript entry (src/edge/shim.js) calls: the per-isolate
//! [`Isolate`], built once from the settings, driven one synchronous step at a time. Every call
//! is plain strings and numbers in, a wire string out (see `isolate::wire`); the entry does the
//! I/O (origin and asset fetches, WebCrypto, the clock, randomness, logging) and nothing here
//! waits on a promise. Nothing here decides: that is `isolate` and `app`.

use crate::app;
use crate::browser::ProbeResult;
use crate::http;
use crate::isolate::{self, Fetched, Isolate};
use std::cell::RefCell;
use wasm_bindgen::prelude::wasm_bindgen;

// Talc instead of the standard library's dlmalloc: a warm request makes about a hundred small
// allocations, and under dlmalloc their malloc and free were the largest part of the wasm's own
// time inside workerd (bench/run.sh, README "Performance").
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

thread_local! {
    static ISOLATE: RefCell<Option<Isolate>> = const { RefCell::new(None) };
}

fn with_isolate<T>(default: T, f: impl FnOnce(&mut Isolate) -> T) -> T {
    ISOLATE.with(|slot| match slot.borrow_mut().as_mut() {
        Some(isolate) => f(isolate),
        None => default,
    })
}

/// Every setting name edgegate reads, one per line.
#[wasm_bindgen(js_name = settingNames)]
pub fn setting_names() -> String {
    app::SETTING_NAMES.join("\n")
}

/// Builds the isolate from the settings (a JSON object of name to string) once; later calls do
/// nothing. Returns the log lines for invalid settings (names and problems, never values), one
/// per line.
#[wasm_bindgen]
pub fn configure(settings_json: &str) -> String {
    if ISOLATE.with(|slot| slot.borrow().is_some()) {
        return String::new();
    }
    let settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(settings_json).unwrap_or_default();
    let lookup = |name: &str| {
        settings
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let (built, problems) = Isolate::from_settings(&lookup);
    ISOLATE.with(|slot| *slot.borrow_mut() = Some(built));
    problems
        .iter()
        .map(|p| {
            serde_json::json!({"level": "error", "event": "config-invalid", "setting": p.setting, "problem": p.problem})
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One pipeline run (see [`Isolate::decide`]). `headers` is a header blob
/// ([`http::parse_header_blob`]), `random` 32 bytes, `answers` the signature checks done so far.
#[wasm_bindgen]
pub fn decide(
    method: &str,
    url: &str,
    headers: &str,
    now_ms: f64,
    random: &[u8],
    answers: &str,
    probed: bool,
) -> String {
    let headers = http::parse_header_blob(headers);
    let inbound = app::Inbound {
        method,
        url,
        headers: &headers,
    };
    let mut seed = [0u8; 32];
    for (slot, byte) in seed.iter_mut().zip(random) {
        *slot = *byte;
    }
    let answers = isolate::parse_answers(answers);
    with_isolate(String::new(), |iso| {
        iso.decide(&inbound, now_ms as i64, seed, &answers, probed)
    })
}

/// The bytes of the signature check the last `decide` asked for: signed input, then signature.
#[wasm_bindgen(js_name = signatureInput)]
pub fn signature_input() -> Vec<u8> {
    with_isolate(Vec::new(), |iso| {
        iso.question().map(|q| q.bytes.clone()).unwrap_or_default()
    })
}

/// Settles the guess a `V` step carried, with WebCrypto's answer to its question: `true` means
/// the entry may act on the guessed step; `false`, that it must decide again with the answer.
#[wasm_bindgen(js_name = settleGuess)]
pub fn settle_guess(guess_id: u32, question_id: &str, verified: bool) -> bool {
    with_isolate(false, |iso| {
        iso.settle_guess(guess_id, question_id, verified)
    })
}

/// `alg\njwk` for the key at `index`, or "" past the last key.
#[wasm_bindgen(js_name = keyJwk)]
pub fn key_jwk(index: u32) -> String {
    with_isolate(String::new(), |iso| {
        iso.key_jwk(index as usize)
            .map(|(alg, jwk)| format!("{}\n{jwk}", alg.as_str()))
            .unwrap_or_default()
    })
}

/// An outage probe's result: `kind` 0 = response with `status`, 1 = timed out, 2 = failed.
#[wasm_bindgen(js_name = recordProbe)]
pub fn record_probe(kind: u32, status: u16, now_ms: f64) {
    let result = match kind {
        0 => ProbeResult::Status(status),
        1 => ProbeResult::TimedOut,
        _ => ProbeResult::ConnectFailed,
    };
    with_isolate((), |iso| iso.record_probe(result, now_ms as i64));
}

/// The client's response for fetch `id` (see [`Isolate::finish`]): `kind` as in
/// [`record_probe`], `headers` the fetched response's header blob.
#[wasm_bindgen]
pub fn finish(id: u32, kind: u32, status: u16, headers: &str) -> String {
    let fetched = match kind {
        0 => Fetched::Response(status),
        1 => Fetched::TimedOut,
        _ => Fetched::Failed,
    };
    let headers = http::parse_header_blob(headers);
    with_isolate(String::new(), |iso| iso.finish(id, fetched, headers))
}

#[worker::event(start)]
fn start() {
    console_error_panic_hook::set_once();
}
