//! A pipeline driver for the integration tests: builds a gateway from a settings map and runs a
//! request through `Pipeline::start`/`resume`, playing WebCrypto's part natively (real
//! signature checks), answering an outage probe with the status it is given and the origin
//! with a 200.

use edgegate::clerk::ProbeResult;
use edgegate::config::Settings;
use edgegate::crypto::verify_signature;
use edgegate::http::{apply_edits, HeaderList};
use edgegate::keys::{parse_key_set, KeySet};
use edgegate::log::LogRecord;
use edgegate::pipeline::{Event, Fetched, Pipeline, Request, Step};
use edgegate::response::ResponsePlan;
use std::collections::HashMap;

/// A gateway under test.
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

/// What became of a request.
#[derive(Debug)]
pub enum Outcome {
    /// Proxied, with the origin request's headers.
    Proxy(HeaderList),
    /// Answered by the gateway.
    Respond(ResponsePlan),
}

/// A finished request.
#[derive(Debug)]
pub struct Done {
    pub outcome: Outcome,
    pub log: LogRecord,
    /// An outage probe was asked for on the way.
    pub probed: bool,
}

impl Done {
    /// The gateway's answer; panics when the request was proxied.
    pub fn plan(&self) -> &ResponsePlan {
        match &self.outcome {
            Outcome::Respond(plan) => plan,
            Outcome::Proxy(_) => panic!("proxied, expected a response"),
        }
    }

    /// The origin request's headers; panics when the gateway answered.
    pub fn proxied(&self) -> &HeaderList {
        match &self.outcome {
            Outcome::Proxy(h) => h,
            Outcome::Respond(plan) => panic!("answered {}: {plan:?}", plan.status),
        }
    }
}

/// Runs `method url` with `headers` through the gateway.
pub fn run(gw: &mut Gw, method: &str, url: &str, headers: &[(&str, &str)]) -> Done {
    let headers: HeaderList = headers.iter().copied().collect();
    let req = Request {
        method: method.to_owned(),
        url: url.to_owned(),
        headers: headers.clone(),
    };
    let (id, mut step) = gw.pipeline.start(req, super::NOW_MS, [7u8; 32]);
    let mut probed = false;
    loop {
        step = match step {
            Step::Verify(q) => {
                let ok = gw.keys.get(q.key_index).is_some_and(|k| {
                    verify_signature(&k.material, q.alg, q.message(), q.signature())
                });
                gw.pipeline.resume(id, Event::Verified(ok))
            }
            Step::Probe { .. } => {
                probed = true;
                let answer = ProbeResult::Status(gw.probe_status);
                gw.pipeline.resume(id, Event::Probed(answer))
            }
            Step::Respond { plan, log } => {
                let outcome = Outcome::Respond(plan);
                return Done {
                    outcome,
                    log,
                    probed,
                };
            }
            Step::FetchOrigin(f) => {
                let fetched = Event::Fetched {
                    fetched: Fetched::Response(200),
                    headers: HeaderList::new(),
                };
                let log = match gw.pipeline.resume(id, fetched) {
                    Step::Stream { log, .. } | Step::Respond { log, .. } => log,
                    _ => LogRecord::default(),
                };
                let outcome = Outcome::Proxy(apply_edits(&headers, &f.edits));
                return Done {
                    outcome,
                    log,
                    probed,
                };
            }
            other => panic!("unexpected step {other:?}"),
        };
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
