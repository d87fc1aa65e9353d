//! The per-request log record and its one JSON line (what `wrangler tail` shows, docs/logs.md):
//! never tokens, secrets or header values. The line is written by hand, without `serde`'s
//! machinery, since it is written for every request.

use crate::refusal::LogOutcome;
use crate::response::{AuthStatus, Fault, RefusalReason};
use std::borrow::Cow;

/// One JSON log line per request; never tokens, secrets or header values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRecord {
    /// `CF-Ray` when it is usable, otherwise 32 hex characters unique to the request
    /// (`proxy::request_id`).
    pub request_id: String,
    /// The request method.
    pub method: String,
    /// The canonical path (`-` when the URL or the path was refused).
    pub path: String,
    /// What the gateway did with the request.
    pub outcome: LogOutcome,
    /// The auth status the response reports.
    pub auth_status: AuthStatus,
    /// The refusal's reason, or the reason a handshake was started.
    pub reason: Option<RefusalReason>,
    /// A log-only hint (never token content), e.g. which part of a token was malformed, or a
    /// refused `azp` and the allowed parties (both public).
    pub detail: Option<Cow<'static, str>>,
    /// Whose fault a refusal is.
    pub fault: Option<Fault>,
    /// Where the token came from: `header`, `cookie`, `handshake` or `none`.
    pub token_source: &'static str,
    /// The accepted token's type (`session_token`, `m2m_token`, `oauth_token`), or none when no
    /// token was accepted.
    pub token_type: Option<&'static str>,
    /// Forwarded values that were ignored, as `header:code` (never the values).
    pub forwarded_issues: Vec<String>,
    /// Handshake cookies that were not Clerk's (name and reason, never values).
    pub dropped_cookies: Vec<String>,
    /// Accepted under outage grace.
    pub grace: bool,
    /// No line for this request (an allowed request under `LOG_REQUESTS=refusals`).
    pub quiet: bool,
}

impl LogRecord {
    /// The record of a request whose facts the gateway does not hold (an id it dropped, one
    /// begun on a replaced instance): `-` for what is unknown, so no field of a line is ever
    /// empty (docs/logs.md).
    pub fn unknown() -> LogRecord {
        LogRecord {
            request_id: "-".to_owned(),
            method: "-".to_owned(),
            path: "-".to_owned(),
            token_source: "none",
            ..LogRecord::default()
        }
    }

    /// Whether the edge writes this request's line.
    pub fn is_written(&self) -> bool {
        !self.quiet
    }

    /// The whole log line as JSON, with the response's status and the request's duration.
    pub fn to_json(&self, status: u16, duration_ms: u64) -> String {
        format!(
            "{},\"duration_ms\":{duration_ms}}}",
            self.to_json_open(status)
        )
    }

    /// The log line without its last member, `duration_ms`, and the closing brace: the edge
    /// appends them once the request is over (it alone reads the clock then).
    pub fn to_json_open(&self, status: u16) -> String {
        let mut out = String::with_capacity(320);
        self.write_json_open(&mut out, status);
        out
    }

    /// [`LogRecord::to_json_open`] appended to `out` (the step answers carry it inline).
    pub fn write_json_open(&self, out: &mut String, status: u16) {
        // Keys as literals (they never need escaping): this runs for every request logged.
        out.push_str("{\"request_id\":");
        json_string(out, &self.request_id);
        json_field(out, ",\"method\":", &self.method);
        json_field(out, ",\"path\":", &self.path);
        json_field(out, ",\"outcome\":", self.outcome.code());
        out.push_str(",\"status\":");
        push_decimal(out, u64::from(status));
        json_field(out, ",\"auth_status\":", self.auth_status.as_str());
        json_optional(out, ",\"reason\":", self.reason.map(|r| r.code()));
        json_optional(out, ",\"detail\":", self.detail.as_deref());
        json_optional(out, ",\"fault\":", self.fault.map(|f| f.as_str()));
        json_field(out, ",\"token_source\":", self.token_source);
        json_optional(out, ",\"token_type\":", self.token_type);
        json_list(out, ",\"forwarded_issues\":", &self.forwarded_issues);
        json_list(out, ",\"dropped_cookies\":", &self.dropped_cookies);
        out.push_str(if self.grace {
            ",\"grace\":true"
        } else {
            ",\"grace\":false"
        });
    }
}

/// `value` in decimal, without `to_string`'s allocation (step answers and log lines).
pub fn push_decimal(out: &mut String, value: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut used = 0;
    let mut rest = value;
    for slot in digits.iter_mut() {
        *slot = b'0' + (rest % 10) as u8;
        used += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for d in digits.iter().take(used).rev() {
        out.push(char::from(*d));
    }
}

fn json_string(out: &mut String, value: &str) {
    // Nearly every value (ids, paths, codes) needs no escaping: copied as it is, no allocation.
    if !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push('"');
        out.push_str(value);
        out.push('"');
        return;
    }
    // serde_json escapes exactly as JSON requires; a str always serialises.
    out.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned()));
}

/// `key` is the literal `,"name":`.
fn json_field(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    json_string(out, value);
}

fn json_optional(out: &mut String, key: &str, value: Option<&str>) {
    match value {
        Some(v) => json_field(out, key, v),
        None => {
            out.push_str(key);
            out.push_str("null");
        }
    }
}

fn json_list(out: &mut String, key: &str, values: &[String]) {
    out.push_str(key);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, v);
    }
    out.push(']');
}

#[cfg(test)]
mod log_json_tests {
    use super::LogRecord;
    use proptest::prelude::*;

    proptest! {
        // The hand-written writer must give what a JSON parser reads back as the same values,
        // whatever the method, path or issue strings hold (quotes, controls, non-ASCII).
        #[test]
        fn log_line_round_trips(
            request_id in "\\PC{0,40}",
            method in any::<String>(),
            path in any::<String>(),
            issues in proptest::collection::vec(any::<String>(), 0..3),
            status in any::<u16>(),
            duration in any::<u64>(),
            grace in any::<bool>(),
        ) {
            let log = LogRecord {
                request_id: request_id.clone(),
                method: method.clone(),
                path: path.clone(),
                outcome: crate::refusal::LogOutcome::Proxy,
                reason: Some(crate::token::TokenError::Expired.into()),
                forwarded_issues: issues.clone(),
                grace,
                ..LogRecord::default()
            };
            let line = log.to_json(status, duration);
            let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
            prop_assert_eq!(v["request_id"].as_str(), Some(request_id.as_str()));
            prop_assert_eq!(v["method"].as_str(), Some(method.as_str()));
            prop_assert_eq!(v["path"].as_str(), Some(path.as_str()));
            prop_assert_eq!(v["status"].as_u64(), Some(u64::from(status)));
            prop_assert_eq!(v["duration_ms"].as_u64(), Some(duration));
            prop_assert_eq!(v["reason"].as_str(), Some("token-expired"));
            prop_assert!(v["detail"].is_null());
            prop_assert_eq!(v["grace"].as_bool(), Some(grace));
            let read: Vec<String> = v["forwarded_issues"]
                .as_array()
                .expect("a list")
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect();
            prop_assert_eq!(read, issues);
        }
    }
}
