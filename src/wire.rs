//! The text form of [`Step`]s, the one format between the worker's JavaScript entry
//! (src/edge/shim.js, which executes steps and decides nothing) and the pipeline. Version
//! [`VERSION`]; the entry checks it once when it loads.
//!
//! A step is one field per line (`\n`). The first field is the kind, the second the request id
//! to resume with. Header lists are `name\nvalue\n` pairs ended by an empty line (names are
//! never empty, and no name or value holds CR, LF or NUL: see [`crate::http::header_blob`]).
//! Edit lists change a copy of a `Headers` the entry already holds (the request's, the fetched
//! response's): `:name` deletes, `name\nvalue` appends, ended by an empty line (see
//! [`crate::http::push_edits`]). A log line is a JSON object without its last member and
//! closing brace: the entry appends `,"duration_ms":N}` once the request is over.
//!
//! | kind | fields after the id | the entry then |
//! |---|---|---|
//! | `R` | status, log, headers, then the body (everything left) | responds; done |
//! | `V` | key index, alg, message length | verifies `signatureInput()` (message then signature) with WebCrypto, `resumeVerified(id, ok)` |
//! | `O` | url, timeout ms | GETs url, `resumeProbed(id, kind, status)` |
//! | `P` | method, url, timeout ms, forward body (`1`/`0`), edits of the request's headers | fetches the origin, `resumeFetched(id, kind, status, headers)` |
//! | `A` | url | fetches from ASSETS, `resumeFetched(id, kind, status, headers)` |
//! | `S` | status, log, edits of the fetched response's headers | sends the fetched response so edited; done |
//! | `W` | log | sends the fetched response untouched; done |
//!
//! Fetch and probe `kind`: 0 = a response with `status`, 1 = timed out, 2 = failed.

use crate::app::{push_decimal, LogRecord};
use crate::clerk::ProbeResult;
use crate::http::{push_edits, push_header_blob, HeaderEdit};
use crate::pipeline::{Fetched, RequestId, Step};

/// The version of the wire format and of the exports' arguments (3: `configure` takes the
/// randomness seed, `start` no longer takes per-request bytes).
pub const VERSION: u32 = 3;

/// Writes `step` for request `id`.
pub fn encode(id: RequestId, step: &Step) -> String {
    match step {
        Step::Respond { plan, log } => {
            let mut out = start("R", id, 512 + plan.body.len());
            number(&mut out, u64::from(plan.status));
            log_field(&mut out, log, plan.status);
            push_header_blob(
                &mut out,
                plan.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            );
            out.push('\n');
            out.push_str(&plan.body);
            out
        }
        Step::Verify(q) => {
            let mut out = start("V", id, 64);
            number(&mut out, q.key_index as u64);
            field(&mut out, q.alg.as_str());
            number(&mut out, q.message_len as u64);
            out
        }
        Step::Probe { url, timeout_ms } => {
            let mut out = start("O", id, 64 + url.len());
            field(&mut out, url);
            number(&mut out, *timeout_ms);
            out
        }
        Step::FetchOrigin(f) => {
            let mut out = start("P", id, 1024 + f.url.len());
            field(&mut out, &f.method);
            field(&mut out, &f.url);
            number(&mut out, f.timeout_ms);
            field(&mut out, if f.forward_body { "1" } else { "0" });
            edits(&mut out, &f.edits);
            out
        }
        Step::FetchAsset { url } => {
            let mut out = start("A", id, 64 + url.len());
            field(&mut out, url);
            out
        }
        Step::Stream {
            status,
            edits: e,
            log,
        } => {
            let mut out = start("S", id, 1024);
            number(&mut out, u64::from(*status));
            log_field(&mut out, log, *status);
            edits(&mut out, e);
            out
        }
        Step::PassThrough { log } => {
            let mut out = start("W", id, 384);
            log_field(&mut out, log, 101);
            out
        }
    }
}

/// A fetch's end as the entry reports it (`kind`, `status`).
pub fn fetched(kind: u32, status: u16) -> Fetched {
    match kind {
        0 => Fetched::Response(status),
        1 => Fetched::TimedOut,
        _ => Fetched::Failed,
    }
}

/// A probe's end as the entry reports it (`kind`, `status`).
pub fn probed(kind: u32, status: u16) -> ProbeResult {
    match kind {
        0 => ProbeResult::Status(status),
        1 => ProbeResult::TimedOut,
        _ => ProbeResult::ConnectFailed,
    }
}

// Built with push_str rather than format!: this runs twice per request in wasm.
fn field(out: &mut String, value: &str) {
    out.push_str(value);
    out.push('\n');
}

fn number(out: &mut String, value: u64) {
    push_decimal(out, value);
    out.push('\n');
}

fn start(kind: &str, id: RequestId, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    field(&mut out, kind);
    number(&mut out, u64::from(id));
    out
}

/// The log line's open part as one field, written in place.
fn log_field(out: &mut String, log: &LogRecord, status: u16) {
    log.write_json_open(out, status);
    out.push('\n');
}

fn edits(out: &mut String, edits: &[HeaderEdit]) {
    push_edits(out, edits);
    out.push('\n');
}

/// A step read back as the entry reads it: the fields before the header or edit list, the list
/// (`(":name", "")` for a delete), and what follows (the body of an `R`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<'a> {
    /// The kind, the request id and the step's other fields before any list.
    pub fields: Vec<&'a str>,
    /// The header or edit list, in order.
    pub pairs: Vec<(&'a str, &'a str)>,
    /// Everything after the fields and the list (an `R` step's body).
    pub rest: &'a str,
}

/// Reads a step as src/edge/shim.js does (for tests; the entry has its own reader).
pub fn read(text: &str) -> Read<'_> {
    fn next<'a>(rest: &mut &'a str) -> &'a str {
        let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
        *rest = tail;
        line
    }
    let mut rest = text;
    let kind = next(&mut rest);
    let count = match kind {
        "V" => 5,
        "R" | "S" | "O" => 4,
        "P" => 6,
        "A" | "W" => 3,
        _ => 1,
    };
    let mut fields = vec![kind];
    while fields.len() < count {
        fields.push(next(&mut rest));
    }
    let mut pairs = Vec::new();
    if matches!(kind, "R" | "S" | "P") {
        loop {
            let name = next(&mut rest);
            if name.is_empty() {
                break;
            }
            if name.starts_with(':') {
                pairs.push((name, ""));
                continue;
            }
            pairs.push((name, next(&mut rest)));
        }
    }
    Read {
        fields,
        pairs,
        rest,
    }
}
