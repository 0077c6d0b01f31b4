//! The last requests the platform answered and its verdict on each, for the dashboard: the
//! place a developer looks to see why a call failed.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use time::OffsetDateTime;

/// How many requests the journal keeps; older ones are forgotten.
pub(crate) const JOURNAL_LEN: usize = 50;

/// How much of the message the sandbox expected a `SIGN_ERROR` to have signed is kept.
const MAX_EXPECTED_CHARS: usize = 2048;

/// What the platform made of one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Authenticated and answered with a 2xx.
    Ok,
    /// `401 SIGN_ERROR`: the platform's `sign_information` and the whole message the sandbox
    /// expected to be signed (`METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`).
    SignError {
        issue: String,
        sign_information: Value,
        expected_message: String,
    },
    /// Any other error answer: its code and message, and the field it names, if any.
    Error {
        code: String,
        message: String,
        field: Option<String>,
    },
}

/// One journal line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) at: OffsetDateTime,
    /// `POST`, or for a front-end check what was checked (`getBrandWCPayRequest`, …).
    pub(crate) method: String,
    /// The path and query, or the order a front-end check named.
    pub(crate) url: String,
    pub(crate) status: u16,
    pub(crate) verdict: Verdict,
}

/// The journal itself, newest last.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    pub(crate) fn record(&self, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() == JOURNAL_LEN {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries, newest first.
    pub(crate) fn newest_first(&self) -> Vec<Entry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().rev().cloned().collect()
    }
}

/// The verdict on an answer that is not a `SIGN_ERROR`, read from its status and JSON body.
pub(crate) fn verdict_of(status: u16, body: &[u8]) -> Verdict {
    if (200..300).contains(&status) {
        return Verdict::Ok;
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Verdict::Error {
        code: text(&json["code"]).unwrap_or_else(|| format!("HTTP {status}")),
        message: text(&json["message"]).unwrap_or_default(),
        field: text(&json["detail"]["field"]),
    }
}

/// The expected message, cut to what the dashboard shows.
pub(crate) fn shorten(message: &str) -> String {
    match message.char_indices().nth(MAX_EXPECTED_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u16) -> Entry {
        Entry {
            at: OffsetDateTime::UNIX_EPOCH,
            method: "GET".into(),
            url: format!("/{n}"),
            status: n,
            verdict: Verdict::Ok,
        }
    }

    #[test]
    fn keeps_the_newest() {
        let journal = Journal::default();
        for n in 0..(JOURNAL_LEN as u16 + 5) {
            journal.record(entry(n));
        }
        let entries = journal.newest_first();
        assert_eq!(entries.len(), JOURNAL_LEN);
        assert_eq!(entries[0].status, JOURNAL_LEN as u16 + 4);
        assert_eq!(entries[JOURNAL_LEN - 1].status, 5);
    }

    #[test]
    fn reads_the_error_answer() {
        let body = br#"{"code":"PARAM_ERROR","message":"x","detail":{"field":"amount.total"}}"#;
        assert_eq!(
            verdict_of(400, body),
            Verdict::Error {
                code: "PARAM_ERROR".into(),
                message: "x".into(),
                field: Some("amount.total".into()),
            }
        );
        assert_eq!(verdict_of(204, b""), Verdict::Ok);
        assert!(matches!(
            verdict_of(502, b"<html>"),
            Verdict::Error { code, .. } if code == "HTTP 502"
        ));
        assert_eq!(
            shorten(&"a".repeat(3000)).chars().count(),
            MAX_EXPECTED_CHARS + 1
        );
    }
}
