//! The binary boundary between the worker's JavaScript entry (src/edge/shim.js, which executes
//! steps and decides nothing) and the pipeline. Version [`VERSION`]; the entry checks it once
//! when it loads.
//!
//! Numbers cross, not strings to parse. Inbound, the entry writes one UTF-8 text into a region of
//! wasm memory with `TextEncoder.encodeInto` and calls with its length: [`request`] reads it
//! (`method\nurl\n` then `name\nvalue\n` per header) and [`headers`] a fetched response's
//! `name\nvalue\n` list. Fetch `Headers` never hold CR, LF or NUL in a name or value, and a URL
//! never holds a LF, so `\n` cannot be confused with content.
//!
//! Outbound, a step is an [`Answer`]: 32-bit words, one text area and, for a signature check,
//! the bytes to verify. The words are
//!
//! | word | meaning |
//! |---|---|
//! | 0 | kind (the `KIND_*` constants) |
//! | 1 | request id to resume with |
//! | 2, 3 | the text area's address and length in bytes (set by the edge) |
//! | 4, 5 | the bytes' address and length (set by the edge; 0 unless `KIND_VERIFY`) |
//! | 6… | the kind's fields, below |
//!
//! A string field is two words, its start and end in UTF-16 code units of the text area decoded
//! once (`text.slice(start, end)` in the entry). A header list is a count, then per header its
//! name and value; an edit list is a count, then per edit an op (`EDIT_DELETE`, `EDIT_APPEND`), a
//! name and a value (empty for a delete). A log line is a JSON object without its last member and
//! closing brace, which the entry appends (`,"duration_ms":N}`); an empty log is not written.
//!
//! | kind | fields | the entry then |
//! |---|---|---|
//! | `RESPOND` | status, log, body, headers | responds; done |
//! | `VERIFY` | key index, alg (`ALG_*`), message length | verifies the bytes (message then signature) with WebCrypto, `verified(id, ok)` |
//! | `PROBE` | url, timeout ms | GETs url, `probed(id, kind, status)` |
//! | `FETCH_ORIGIN` | method, url, timeout ms, forward body (0/1), edits of the request's headers | fetches the origin, `fetched(id, kind, status, len)` |
//! | `FETCH_ASSET` | url | fetches from ASSETS, `fetched(id, kind, status, len)` |
//! | `STREAM` | status, log, edits of the fetched response's headers | sends the fetched response so edited; done |
//! | `PASS_THROUGH` | log | sends the fetched response untouched; done |
//!
//! Fetch and probe `kind`: 0 = a response with `status`, 1 = timed out, 2 = failed.

use crate::http::{HeaderEdit, HeaderList};
use crate::keys::Alg;
use crate::log::LogRecord;
use crate::machine::{Fetched, ProbeResult, Request, RequestId, Step};

/// The version of the wire format and of the exports' arguments (4: binary answers, requests
/// written into wasm memory).
pub const VERSION: u32 = 4;

/// Send a response of the gateway's own.
pub const KIND_RESPOND: u32 = 1;
/// Verify a signature.
pub const KIND_VERIFY: u32 = 2;
/// Probe the Frontend API.
pub const KIND_PROBE: u32 = 3;
/// Fetch the origin.
pub const KIND_FETCH_ORIGIN: u32 = 4;
/// Fetch an asset.
pub const KIND_FETCH_ASSET: u32 = 5;
/// Send the fetched response, edited.
pub const KIND_STREAM: u32 = 6;
/// Send the fetched response untouched.
pub const KIND_PASS_THROUGH: u32 = 7;

/// RS256 in a `KIND_VERIFY` step.
pub const ALG_RS256: u32 = 1;
/// ES256 in a `KIND_VERIFY` step.
pub const ALG_ES256: u32 = 2;

/// An edit that deletes every header of its name.
pub const EDIT_DELETE: u32 = 0;
/// An edit that appends a header.
pub const EDIT_APPEND: u32 = 1;

/// Where the fields start, after the kind, the id and the two (address, length) pairs.
pub const FIELDS_AT: usize = 6;

/// One step, encoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The words (see the module's table); 2–5 are zero until the edge sets them.
    pub words: Vec<u32>,
    /// The text area.
    pub text: String,
    /// The bytes of a signature check: message, then signature.
    pub bytes: Vec<u8>,
    utf16: u32,
}

impl Answer {
    /// Empties the answer for a step of `kind`, keeping its buffers (the edge reuses one).
    fn start(&mut self, kind: u32, id: RequestId) {
        self.words.clear();
        self.words.extend_from_slice(&[kind, id, 0, 0, 0, 0]);
        self.text.clear();
        self.bytes.clear();
        self.utf16 = 0;
    }

    #[inline]
    fn number(&mut self, value: u64) {
        self.words.push(u32::try_from(value).unwrap_or(u32::MAX));
    }

    fn string(&mut self, value: &str) {
        self.words.push(self.utf16);
        self.text.push_str(value);
        self.utf16 = self.utf16.saturating_add(utf16_len(value));
        self.words.push(self.utf16);
    }

    fn log(&mut self, log: &LogRecord, status: u16) {
        let start = self.text.len();
        self.words.push(self.utf16);
        if log.is_written() {
            log.write_json_open(&mut self.text, status);
        }
        let added = self.text.get(start..).map_or(0, utf16_len);
        self.utf16 = self.utf16.saturating_add(added);
        self.words.push(self.utf16);
    }

    fn headers<'a>(&mut self, pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)>) {
        self.number(pairs.len() as u64);
        for (name, value) in pairs {
            self.string(name);
            self.string(value);
        }
    }

    fn edits(&mut self, edits: &[HeaderEdit]) {
        self.number(edits.len() as u64);
        for edit in edits {
            match edit {
                HeaderEdit::Delete(name) => {
                    self.words.push(EDIT_DELETE);
                    self.string(name);
                    self.string("");
                }
                HeaderEdit::Append(name, value) => {
                    self.words.push(EDIT_APPEND);
                    self.string(name);
                    self.string(value);
                }
            }
        }
    }
}

#[inline]
fn utf16_len(s: &str) -> u32 {
    let units = if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    };
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Encodes `step` for request `id` (tests, benchmarks and the fuzz target; the edge reuses one
/// answer with [`encode_into`]).
pub fn encode(id: RequestId, step: &Step) -> Answer {
    let mut answer = Answer::default();
    encode_into(&mut answer, id, step);
    answer
}

/// [`encode`] into `a`, whose buffers are reused (one answer per call into the wasm).
pub fn encode_into(a: &mut Answer, id: RequestId, step: &Step) {
    match step {
        Step::Respond { plan, log } => {
            a.start(KIND_RESPOND, id);
            a.number(u64::from(plan.status));
            a.log(log, plan.status);
            a.string(&plan.body);
            a.headers(plan.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        }
        Step::Verify(q) => {
            a.start(KIND_VERIFY, id);
            a.number(q.key_index as u64);
            a.words.push(match q.alg {
                Alg::Rs256 => ALG_RS256,
                Alg::Es256 => ALG_ES256,
            });
            a.number(q.message_len as u64);
            a.bytes.extend_from_slice(&q.bytes);
        }
        Step::Probe { url, timeout_ms } => {
            a.start(KIND_PROBE, id);
            a.string(url);
            a.number(*timeout_ms);
        }
        Step::FetchOrigin(f) => {
            a.start(KIND_FETCH_ORIGIN, id);
            a.string(&f.method);
            a.string(&f.url);
            a.number(f.timeout_ms);
            a.words.push(u32::from(f.forward_body));
            a.edits(&f.edits);
        }
        Step::FetchAsset { url } => {
            a.start(KIND_FETCH_ASSET, id);
            a.string(url);
        }
        Step::Stream { status, edits, log } => {
            a.start(KIND_STREAM, id);
            a.number(u64::from(*status));
            a.log(log, *status);
            a.edits(edits);
        }
        Step::PassThrough { log } => {
            a.start(KIND_PASS_THROUGH, id);
            a.log(log, 101);
        }
    }
}

/// The request the entry wrote: `method\nurl\n`, then `name\nvalue\n` per header. `None` when
/// the method or the URL is missing.
pub fn request(text: &str) -> Option<Request> {
    let (method, rest) = text.split_once('\n')?;
    let (url, rest) = rest.split_once('\n').unwrap_or((rest, ""));
    if method.is_empty() || url.is_empty() {
        return None;
    }
    Some(Request {
        method: method.to_owned(),
        url: url.to_owned(),
        headers: headers(rest),
    })
}

/// A header list the entry wrote, `name\nvalue\n` per header: a trailing unpaired name (a
/// truncated list) is dropped, and so is a pair with an empty name.
pub fn headers(text: &str) -> HeaderList {
    crate::http::parse_header_blob(text)
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

/// An answer read back as the entry reads it (for tests and the fuzz target; the entry has its
/// own reader): the kind's letter as in the module's table (`R V O P A S W`), the id, the scalar
/// and string fields in order, the header or edit list (`(":name", "")` for a delete), and the
/// bytes of a signature check. `None` for words that do not fit the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The kind's letter, the request id and the step's other fields before any list.
    pub fields: Vec<String>,
    /// The header or edit list, in order.
    pub pairs: Vec<(String, String)>,
    /// The bytes of a signature check (empty otherwise).
    pub bytes: Vec<u8>,
}

/// Reads `answer` back (see [`Read`]).
pub fn read(answer: &Answer) -> Option<Read> {
    let units: Vec<u16> = answer.text.encode_utf16().collect();
    let mut r = Reader {
        words: answer.words.get(FIELDS_AT..)?,
        units: &units,
    };
    let kind = *answer.words.first()?;
    let id = answer.words.get(1)?.to_string();
    let (letter, layout, list) = match kind {
        KIND_RESPOND => ("R", "nss", List::Headers),
        KIND_VERIFY => ("V", "nan", List::None),
        KIND_PROBE => ("O", "sn", List::None),
        KIND_FETCH_ORIGIN => ("P", "ssnn", List::Edits),
        KIND_FETCH_ASSET => ("A", "s", List::None),
        KIND_STREAM => ("S", "ns", List::Edits),
        KIND_PASS_THROUGH => ("W", "s", List::None),
        _ => return None,
    };
    let mut fields = vec![letter.to_owned(), id];
    for field in layout.chars() {
        fields.push(match field {
            's' => r.string()?,
            'a' => match r.word()? {
                ALG_RS256 => "RS256".to_owned(),
                ALG_ES256 => "ES256".to_owned(),
                _ => return None,
            },
            _ => r.word()?.to_string(),
        });
    }
    let pairs = match list {
        List::None => Vec::new(),
        List::Headers => r.pairs(false)?,
        List::Edits => r.pairs(true)?,
    };
    Some(Read {
        fields,
        pairs,
        bytes: answer.bytes.clone(),
    })
}

enum List {
    None,
    Headers,
    Edits,
}

struct Reader<'a> {
    words: &'a [u32],
    units: &'a [u16],
}

impl Reader<'_> {
    fn word(&mut self) -> Option<u32> {
        let (first, rest) = self.words.split_first()?;
        self.words = rest;
        Some(*first)
    }

    fn string(&mut self) -> Option<String> {
        let start = usize::try_from(self.word()?).ok()?;
        let end = usize::try_from(self.word()?).ok()?;
        String::from_utf16(self.units.get(start..end)?).ok()
    }

    fn pairs(&mut self, edits: bool) -> Option<Vec<(String, String)>> {
        let count = self.word()?;
        let mut pairs = Vec::new();
        for _ in 0..count {
            let op = if edits { self.word()? } else { EDIT_APPEND };
            let name = self.string()?;
            let value = self.string()?;
            pairs.push(match op {
                EDIT_DELETE => (format!(":{name}"), String::new()),
                _ => (name, value),
            });
        }
        Some(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_with_its_headers_in_order() {
        let r =
            request("GET\nhttps://a.test/x?y\nhost\na.test\ncookie\na=1\ncookie\nb=2\n").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.url, "https://a.test/x?y");
        let got: Vec<(&str, &str)> = r.headers.iter().collect();
        assert_eq!(
            got,
            [("host", "a.test"), ("cookie", "a=1"), ("cookie", "b=2")]
        );
    }

    #[test]
    fn a_request_without_method_or_url_is_none() {
        assert!(request("").is_none());
        assert!(request("GET").is_none());
        assert!(request("\nhttps://a.test/\n").is_none());
        assert!(request("GET\n\n").is_none());
        assert!(request("GET\nhttps://a.test/").is_some());
    }

    #[test]
    fn string_fields_count_utf16_units() {
        let mut a = Answer::default();
        a.start(KIND_FETCH_ASSET, 7);
        a.string("é€😀");
        a.string("b");
        assert_eq!(a.words.get(FIELDS_AT..), Some(&[0, 4, 4, 5][..]));
    }

    #[test]
    fn a_reused_answer_keeps_nothing_of_the_last_step() {
        let mut a = Answer::default();
        a.start(KIND_VERIFY, 1);
        a.string("left over");
        a.bytes.extend_from_slice(b"signature");
        a.start(KIND_FETCH_ASSET, 2);
        a.string("b");
        assert_eq!(a.words, [KIND_FETCH_ASSET, 2, 0, 0, 0, 0, 0, 1]);
        assert_eq!((a.text.as_str(), a.bytes.len()), ("b", 0));
    }
}
