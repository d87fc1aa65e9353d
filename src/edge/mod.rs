//! The only module that knows `worker`: reads settings once per isolate, reads the clock and
//! randomness, hands the request's facts to the pure pipeline (`app::handle`), and executes the
//! outcome: fetch the origin or ASSETS, or render a response plan. Nothing here decides.

mod webcrypto;

use crate::app::{self, Gateway, Inbound, Outcome, ProxyPlan};
use crate::authenticate::SignatureBackend;
use crate::browser::{OutageProbe, ProbeResult, PROBE_TIMEOUT_MS};
use crate::cache::{TokenCache, DEFAULT_CAPACITY};
use crate::http::{self, HeaderList};
use crate::keys::{Alg, KeyMaterial, KeySet};
use crate::response::{self, Rejection, ResponsePlan};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::web_sys;
use worker::{event, Context, Env};

/// Everything built once per isolate.
struct Isolate {
    gateway: Result<Rc<Gateway>, Vec<String>>,
    /// Is Clerk's Frontend API up? Checked only for outage grace, remembered for 30 s.
    outage: RefCell<OutageProbe>,
    crypto_keys: RefCell<Vec<Option<JsValue>>>,
    cache: RefCell<TokenCache>,
}

thread_local! {
    static ISOLATE: RefCell<Option<Rc<Isolate>>> = const { RefCell::new(None) };
}

/// Every setting name edgegate reads; secrets and vars are looked up alike.
const SETTINGS: &[&str] = app::SETTING_NAMES;

fn isolate(env: &Env) -> Rc<Isolate> {
    if let Some(existing) = ISOLATE.with(|slot| slot.borrow().clone()) {
        return existing;
    }
    let values: Vec<(&str, Option<String>)> = SETTINGS
        .iter()
        .map(|name| {
            let value = env
                .secret(name)
                .map(|s| s.to_string())
                .or_else(|_| env.var(name).map(|v| v.to_string()))
                .ok();
            (*name, value)
        })
        .collect();
    let lookup = |name: &str| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    };
    let gateway = match Gateway::from_settings(&lookup) {
        Ok(g) => Ok(Rc::new(g)),
        Err(problems) => {
            for p in &problems {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"level": "error", "event": "config-invalid", "setting": p.setting, "problem": p.problem})
                );
            }
            Err(problems.into_iter().map(|p| p.setting.to_owned()).collect())
        }
    };
    let key_count = gateway.as_ref().map(|g| g.gate.keys.len()).unwrap_or(0);
    let built = Rc::new(Isolate {
        gateway,
        crypto_keys: RefCell::new(vec![None; key_count]),
        cache: RefCell::new(TokenCache::new(DEFAULT_CAPACITY)),
        outage: RefCell::new(OutageProbe::new()),
    });
    ISOLATE.with(|slot| *slot.borrow_mut() = Some(Rc::clone(&built)));
    built
}

/// WebCrypto first, importing each key once; RustCrypto if WebCrypto is unavailable.
struct EdgeBackend<'a> {
    keys: &'a KeySet,
    crypto_keys: &'a RefCell<Vec<Option<JsValue>>>,
}

impl SignatureBackend for EdgeBackend<'_> {
    async fn verify(&self, key_index: usize, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        let Some(key) = self.keys.get(key_index) else {
            return false;
        };
        if key.alg() != alg || !webcrypto::plausible_signature(&key.material, signature) {
            return false;
        }
        let cached = self
            .crypto_keys
            .borrow()
            .get(key_index)
            .and_then(|k| k.clone());
        let crypto_key = match cached {
            Some(k) => k,
            None => match webcrypto::import_key(&key.material).await {
                Ok(k) => {
                    if let Some(slot) = self.crypto_keys.borrow_mut().get_mut(key_index) {
                        *slot = Some(k.clone());
                    }
                    k
                }
                Err(_) => return signature_fallback(&key.material, alg, message, signature),
            },
        };
        match webcrypto::verify(&crypto_key, alg, message, signature).await {
            Ok(ok) => ok,
            Err(_) => signature_fallback(&key.material, alg, message, signature),
        }
    }
}

/// When WebCrypto itself fails (never seen in workerd): the RustCrypto backend, compiled in only
/// with the `rustcrypto-fallback` feature because it adds about 10 KB gzipped to the worker.
/// Without it the signature counts as not verified, so a WebCrypto failure fails closed.
#[cfg(feature = "rustcrypto-fallback")]
fn signature_fallback(material: &KeyMaterial, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
    crate::crypto::verify_signature(material, alg, message, signature)
}

#[cfg(not(feature = "rustcrypto-fallback"))]
fn signature_fallback(_: &KeyMaterial, _: Alg, _: &[u8], _: &[u8]) -> bool {
    worker::console_error!("{}", r#"{"level":"error","event":"webcrypto-failed"}"#);
    false
}

fn random_bytes() -> [u8; 32] {
    let mut buf = [0u8; 32];
    if getrandom::getrandom(&mut buf).is_err() {
        let t = js_sys::Date::now().to_bits().to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = t.get(i % 8).copied().unwrap_or(0) ^ (i as u8);
        }
    }
    buf
}

/// The JavaScript half of the edge's I/O (src/edge/glue.js): one crossing per header list.
#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/edge/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = headerBlob)]
    fn header_blob_of(headers: &web_sys::Headers) -> String;
    #[wasm_bindgen(js_name = originFetch, catch)]
    fn origin_fetch(
        url: &str,
        method: &str,
        header_blob: &str,
        body: &JsValue,
        timeout_ms: u32,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = errorName)]
    fn error_name(error: &JsValue) -> String;
    #[wasm_bindgen(js_name = respond, catch)]
    fn respond_with_blob(
        status: u16,
        header_blob: &str,
        body: &JsValue,
    ) -> Result<web_sys::Response, JsValue>;
}

/// Every `(name, value)` of a JS `Headers` (the runtime gives names in lower case).
fn header_pairs(headers: &web_sys::Headers) -> HeaderList {
    http::parse_header_blob(&header_blob_of(headers))
}

fn blob_of(pairs: &[(String, String)]) -> String {
    http::header_blob(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

fn response_with(
    status: u16,
    headers: &[(String, String)],
    body: Option<&web_sys::ReadableStream>,
) -> Result<web_sys::Response, JsValue> {
    let body = body.map_or(JsValue::NULL, JsValue::from);
    respond_with_blob(status, &blob_of(headers), &body)
}

fn render(plan: ResponsePlan) -> Result<web_sys::Response, JsValue> {
    let body = if plan.body.is_empty() {
        JsValue::NULL
    } else {
        JsValue::from_str(&plan.body)
    };
    respond_with_blob(plan.status, &blob_of(&plan.headers), &body)
}

fn log_line(decision_log: &app::LogRecord, status: u16, started_ms: f64) {
    // Whole milliseconds: the Workers clock only moves across I/O anyway.
    let duration_ms = (js_sys::Date::now() - started_ms).max(0.0) as u64;
    worker::console_log!("{}", decision_log.to_json(status, duration_ms));
}

/// How a fetch ended.
enum Fetched {
    Response(web_sys::Response),
    TimedOut,
    Failed,
}

/// A fetch through glue.js: redirects never followed, `timeout_ms` until the response headers.
async fn send(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: &JsValue,
    timeout_ms: u64,
) -> Fetched {
    let timeout = u32::try_from(timeout_ms).unwrap_or(u32::MAX);
    let Ok(promise) = origin_fetch(url, method, &blob_of(headers), body, timeout) else {
        return Fetched::Failed;
    };
    match JsFuture::from(promise).await {
        Ok(resp) => match resp.dyn_into::<web_sys::Response>() {
            Ok(r) => Fetched::Response(r),
            Err(_) => Fetched::Failed,
        },
        Err(err) if error_name(&err) == "TimeoutError" => Fetched::TimedOut,
        Err(_) => Fetched::Failed,
    }
}

async fn proxy(req: &web_sys::Request, plan: ProxyPlan) -> Result<web_sys::Response, Rejection> {
    let auth = plan.auth_status;
    let body = match req.body() {
        Some(body) if plan.forward_body => JsValue::from(body),
        _ => JsValue::NULL,
    };
    let response = match send(
        &plan.url,
        &plan.method,
        &plan.headers,
        &body,
        plan.timeout_ms,
    )
    .await
    {
        Fetched::Response(r) => r,
        Fetched::TimedOut => return Err(Rejection::OriginTimeout { auth }),
        Fetched::Failed => return Err(Rejection::OriginUnreachable { auth }),
    };
    let status = response.status();
    if status == 101 {
        return Ok(response);
    }
    let origin_headers = header_pairs(&response.headers());
    let headers = app::response_headers(&plan, status, origin_headers);
    response_with(status, &headers, response.body().as_ref())
        .map_err(|_| Rejection::OriginUnreachable { auth })
}

/// The outage check: a GET to the Frontend API with a short timeout. Only ever runs when a
/// session token failed for expiry alone (or a handshake is due), at most every 30 s.
async fn probe(url: &str) -> ProbeResult {
    match send(url, "GET", &[], &JsValue::NULL, PROBE_TIMEOUT_MS).await {
        Fetched::Response(r) => ProbeResult::Status(r.status()),
        Fetched::TimedOut => ProbeResult::TimedOut,
        Fetched::Failed => ProbeResult::ConnectFailed,
    }
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(
    req: web_sys::Request,
    env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    let started_ms = js_sys::Date::now();
    let iso = isolate(&env);
    let url = req.url();
    let method = req.method();
    let headers = header_pairs(&req.headers());
    let inbound = Inbound {
        method: &method,
        url: &url,
        headers: &headers,
    };
    let gateway = match &iso.gateway {
        Ok(g) => Rc::clone(g),
        Err(problems) => {
            let plan = app::misconfigured(&inbound, problems);
            return Ok(render(plan)?);
        }
    };
    let backend = EdgeBackend {
        keys: &gateway.gate.keys,
        crypto_keys: &iso.crypto_keys,
    };
    let now_ms = started_ms as i64;
    let random = random_bytes();
    let mut fapi_status = iso.outage.borrow().status(now_ms);
    let mut probed = false;
    // One call site for the pipeline (it is large once compiled); it runs a second time only
    // when outage grace asked for the Frontend API check.
    let decision = loop {
        let decision = app::handle(
            &inbound,
            &gateway,
            now_ms,
            random,
            &iso.cache,
            &backend,
            fapi_status,
        )
        .await;
        match &decision.outcome {
            Outcome::CheckOutage { url: probe_url } if !probed => {
                let result = probe(probe_url).await;
                fapi_status = iso.outage.borrow_mut().record(result, now_ms);
                probed = true;
            }
            _ => break decision,
        }
    };
    let (response, status) = match decision.outcome {
        Outcome::Respond(plan) => {
            let status = plan.status;
            (render(plan)?, status)
        }
        Outcome::Asset { path, auth_status } => {
            let assets = env.assets("ASSETS")?;
            let asset_url = app::asset_url(&url, &path);
            let resp: web_sys::Response = assets.fetch(asset_url, None).await?.into();
            let status = resp.status();
            let mut headers = header_pairs(&resp.headers()).into_vec();
            headers.push((
                "X-Edgegate-Auth-Status".to_owned(),
                auth_status.as_str().to_owned(),
            ));
            (
                response_with(status, &headers, resp.body().as_ref())?,
                status,
            )
        }
        Outcome::CheckOutage { .. } => {
            // A second check within one request never happens (the probe result is recorded
            // first); answer as an origin failure rather than loop.
            let plan = response::render(&Rejection::Misconfigured);
            (render(plan)?, 500)
        }
        Outcome::Proxy(plan) => match proxy(&req, plan).await {
            Ok(resp) => {
                let status = resp.status();
                (resp, status)
            }
            Err(rejection) => {
                let plan = response::render(&rejection);
                let status = plan.status;
                (render(plan)?, status)
            }
        },
    };
    log_line(&decision.log, status, started_ms);
    Ok(response)
}
