//! The one pipeline driver of the native integration tests: builds a gateway from a settings
//! map and runs a request through `Pipeline::start`/`resume` to its end, playing the entry's
//! part: WebCrypto's (real signature checks, counted), the Frontend API's outage probe (answered
//! with the status it is given), and the origin and the `ASSETS` binding (each answers 200 with
//! no headers). tests/pipeline_steps.rs tests the steps themselves, one at a time.

use edgegate::clerk::ProbeResult;
use edgegate::config::Settings;
use edgegate::crypto::verify_signature;
use edgegate::http::{apply_edits, HeaderList};
use edgegate::keys::{parse_key_set, KeySet};
use edgegate::log::LogRecord;
use edgegate::pipeline::{Event, Fetched, Pipeline, Request, RequestId, Step};
use edgegate::response::ResponsePlan;
use std::collections::HashMap;

/// A gateway under test: one pipeline (one isolate, one token cache) for every request of a test.
pub struct Gw {
    pub keys: KeySet,
    pub pipeline: Pipeline,
    /// The status the Frontend API's outage probe answers.
    pub probe_status: u16,
}

/// The gateway for `settings`; panics with the problems when they are refused.
pub fn gateway(settings: &HashMap<String, String>) -> Gw {
    let lookup = |name: &str| settings.get(name).cloned();
    if let Err(problems) = Settings::from_settings(&lookup) {
        panic!("settings refused: {problems:?}");
    }
    Gw {
        keys: parse_key_set(&settings["CLERK_JWT_KEY"]).expect("keys"),
        pipeline: Pipeline::from_settings(&lookup).0,
        probe_status: 200,
    }
}

/// The problems `settings` are refused with, as `(setting, message)`.
pub fn problems(settings: &HashMap<String, String>) -> Vec<(String, String)> {
    match Settings::from_settings(&|name: &str| settings.get(name).cloned()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|p| (p.setting.to_string(), p.problem.clone()))
            .collect(),
    }
}

/// The request the origin gets.
#[derive(Debug)]
pub struct OriginRequest {
    pub url: String,
    /// The request's headers with the pipeline's edits applied.
    pub headers: HeaderList,
    pub forward_body: bool,
}

/// What became of a request.
#[derive(Debug)]
pub enum Outcome {
    /// Proxied to the origin.
    Proxy(OriginRequest),
    /// Answered by the gateway.
    Respond(ResponsePlan),
    /// Served from the `ASSETS` binding.
    Asset { url: String },
}

/// A finished request.
#[derive(Debug)]
pub struct Done {
    pub outcome: Outcome,
    pub log: LogRecord,
    /// An outage probe was asked for on the way.
    pub probed: bool,
    /// How many signature checks were asked for.
    pub checks: usize,
}

impl Done {
    /// The gateway's answer; panics when the request was not answered by the gateway.
    pub fn plan(&self) -> &ResponsePlan {
        match &self.outcome {
            Outcome::Respond(plan) => plan,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// The origin request's headers; panics when the request was not proxied.
    pub fn proxied(&self) -> &HeaderList {
        match &self.outcome {
            Outcome::Proxy(origin) => &origin.headers,
            Outcome::Respond(plan) => panic!("answered {}: {plan:?}", plan.status),
            other => panic!("expected a proxy, got {other:?}"),
        }
    }
}

/// Runs `method url` with `headers` through the gateway.
pub fn run(gw: &mut Gw, method: &str, url: &str, headers: &[(&str, &str)]) -> Done {
    let request = Request {
        method: method.to_owned(),
        url: url.to_owned(),
        headers: headers.iter().copied().collect(),
    };
    drive(&mut gw.pipeline, &gw.keys, gw.probe_status, request)
}

/// Runs `request` through `pipeline` at [`super::NOW_MS`] to its end: signatures checked
/// against `keys`, an outage probe answered with `probe_status`, a fetch answered 200.
pub fn drive(pipeline: &mut Pipeline, keys: &KeySet, probe_status: u16, request: Request) -> Done {
    let headers = request.headers.clone();
    let (id, mut step) = pipeline.start(request, super::NOW_MS, [7u8; 32]);
    let (mut probed, mut checks) = (false, 0);
    let (outcome, log) = loop {
        step = match step {
            Step::Verify(q) => {
                checks += 1;
                let ok = keys.get(q.key_index).is_some_and(|k| {
                    verify_signature(&k.material, q.alg, q.message(), q.signature())
                });
                pipeline.resume(id, Event::Verified(ok))
            }
            Step::Probe { .. } => {
                probed = true;
                let answer = ProbeResult::Status(probe_status);
                pipeline.resume(id, Event::Probed(answer))
            }
            Step::Respond { plan, log } => break (Outcome::Respond(plan), log),
            Step::FetchOrigin(f) => {
                let origin = OriginRequest {
                    url: f.url,
                    headers: apply_edits(&headers, &f.edits),
                    forward_body: f.forward_body,
                };
                break (Outcome::Proxy(origin), fetched_200(pipeline, id));
            }
            Step::FetchAsset { url } => break (Outcome::Asset { url }, fetched_200(pipeline, id)),
            other => panic!("unexpected step {other:?}"),
        };
    };
    Done {
        outcome,
        log,
        probed,
        checks,
    }
}

/// Answers a fetch with a 200 without headers; the log record of the step that ends the request.
fn fetched_200(pipeline: &mut Pipeline, id: RequestId) -> LogRecord {
    let answer = Event::Fetched {
        fetched: Fetched::Response(200),
        headers: HeaderList::new(),
    };
    match pipeline.resume(id, answer) {
        Step::Stream { log, .. } | Step::Respond { log, .. } | Step::PassThrough { log } => log,
        other => panic!("unexpected step after a fetch {other:?}"),
    }
}

/// The `Set-Cookie` values of a plan.
pub fn set_cookies(plan: &ResponsePlan) -> Vec<&str> {
    plan.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The query pairs of a URL, in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The first value of `name` among `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
