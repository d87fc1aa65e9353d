//! The edge core's whole surface, in one place: what the caller hands the pipeline
//! ([`Request`], [`Event`]) and what it gets back ([`Step`]), with every payload they carry
//! (the log record and the response plan are defined by their own modules and named here).
//! The pipeline (`crate::pipeline`) is the machine behind it; the wire (`crate::wire`, beside
//! this file) is its binary form between the worker's JavaScript entry and the wasm. A caller
//! loops: `start` gives a step; a waiting step (`Verify`, `Probe`, `FetchOrigin`, `FetchAsset`)
//! is done and its result handed back with `resume`, which gives the next step; `Respond`,
//! `Stream` and `PassThrough` end the request.

use crate::http::{HeaderEdit, HeaderList};
use crate::keys::Alg;
pub use crate::log::LogRecord;
pub use crate::response::ResponsePlan;
use crate::token::SignatureCheck;

/// Names one request from `start` to its last `resume`.
pub type RequestId = u32;

/// A request as the runtime handed it to the worker.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The request method.
    pub method: String,
    /// The full URL as the worker received it.
    pub url: String,
    /// The request's headers.
    pub headers: HeaderList,
}

/// One signature check the caller must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureQuestion {
    /// The index of the key to verify with.
    pub key_index: usize,
    /// The algorithm to verify with.
    pub alg: Alg,
    /// `signing input || signature`, split at `message_len`.
    pub bytes: Vec<u8>,
    /// The length of the signed bytes: where `bytes` splits.
    pub message_len: usize,
}

impl SignatureQuestion {
    pub(crate) fn of(check: SignatureCheck<'_>) -> SignatureQuestion {
        let mut bytes = Vec::with_capacity(check.message.len() + check.signature.len());
        bytes.extend_from_slice(check.message);
        bytes.extend_from_slice(check.signature);
        SignatureQuestion {
            key_index: check.key_index,
            alg: check.alg,
            bytes,
            message_len: check.message.len(),
        }
    }

    /// The signed bytes.
    pub fn message(&self) -> &[u8] {
        self.bytes.get(..self.message_len).unwrap_or(&[])
    }

    /// The signature.
    pub fn signature(&self) -> &[u8] {
        self.bytes.get(self.message_len..).unwrap_or(&[])
    }
}

/// A request to the origin the caller must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginFetch {
    /// The request method.
    pub method: String,
    /// The origin URL to fetch.
    pub url: String,
    /// Edits to a copy of the request's own headers (`http::apply_edits` gives the result).
    pub edits: Vec<HeaderEdit>,
    /// Send the request's body (false for bodiless methods and preflights).
    pub forward_body: bool,
    /// Give up waiting for the response headers after this long: resume with
    /// [`Fetched::TimedOut`] (a body that is already streaming is never cut).
    pub timeout_ms: u64,
}

/// What the caller must do next. Every step but the waiting ones ends the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this response and log `log` (add `duration_ms`). The request is over.
    Respond {
        /// The response to send.
        plan: ResponsePlan,
        /// The request's log record.
        log: LogRecord,
    },
    /// Verify the signature (WebCrypto, with the key at `key_index` as `Pipeline::key_jwk`
    /// exports it), then `resume(id, Event::Verified(ok))`. A failed or thrown check is `false`.
    Verify(SignatureQuestion),
    /// `GET url` within `timeout_ms`, then `resume(id, Event::Probed(result))`.
    Probe {
        /// The Frontend API's outage-check URL.
        url: String,
        /// How long to wait for the answer.
        timeout_ms: u64,
    },
    /// Send this request to the origin (redirects never followed, nothing cached), then
    /// `resume(id, Event::Fetched { .. })` with the response's status and headers, or with the
    /// timeout or failure.
    FetchOrigin(OriginFetch),
    /// Fetch `url` from the `ASSETS` binding, then `resume(id, Event::Fetched { .. })`.
    FetchAsset {
        /// The asset's URL.
        url: String,
    },
    /// Send the fetched response on, its headers edited. The request is over.
    Stream {
        /// The fetched response's status.
        status: u16,
        /// Edits to the fetched response's headers.
        edits: Vec<HeaderEdit>,
        /// The request's log record.
        log: LogRecord,
    },
    /// Send the fetched response on untouched (a WebSocket upgrade). The request is over.
    PassThrough {
        /// The request's log record.
        log: LogRecord,
    },
}

/// What the caller hands back to [`Pipeline::resume`](crate::Pipeline::resume).
#[derive(Debug, Clone)]
pub enum Event {
    /// The answer to [`Step::Verify`].
    Verified(bool),
    /// The answer to [`Step::Probe`].
    Probed(ProbeResult),
    /// The answer to [`Step::FetchOrigin`] and [`Step::FetchAsset`]: how the fetch ended, and
    /// the response's headers when there is one.
    Fetched {
        /// How the fetch ended.
        fetched: Fetched,
        /// The response's headers, when there is a response.
        headers: HeaderList,
    },
}

/// How a fetch the pipeline asked for ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// Response headers arrived with this status.
    Response(u16),
    /// `UPSTREAM_TIMEOUT_MS` passed before the response headers.
    TimedOut,
    /// Connection refused, DNS, a runtime error, or no ASSETS binding.
    Failed,
}

/// What the outage check's fetch produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// The fetch failed.
    ConnectFailed,
    /// No answer within the probe's timeout.
    TimedOut,
    /// The Frontend API answered with this status.
    Status(u16),
}
