//! Reading an activity's per-serial log, leniently, and saying each outcome in plain words.
//!
//! Apple does not document the log's columns (apple-2026.md §8.7 UNCERTAIN): the simulator's
//! `serialNumber,status,message` is our guess. So the log is kept and shown exactly as Apple
//! sent it, and this reader only tries to find, per row, a serial, an outcome and a message:
//! columns are picked by a header naming them when there is one (any order, any case, extra
//! columns ignored), else taken as serial, status, message in that order. A status it does
//! not recognise is "unknown", never taken for success.

use serde::{Deserialize, Serialize};

/// One serial's outcome as the log tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Refused,
    /// Not in the log, or a status adebox does not recognise.
    Unknown,
}

/// One row, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub serial: String,
    pub status: String,
    pub message: String,
}

fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| {
        let h = h.to_ascii_lowercase();
        names.iter().any(|n| h.contains(n))
    })
}

/// The rows of a log; an unreadable line is skipped, never fatal.
pub fn rows(text: &str) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .filter(|r: &Vec<String>| r.iter().any(|f| !f.is_empty()))
        .collect();
    // A header is a line near the top naming a serial column; lines before it are skipped.
    let at = records.iter().take(5).position(|r| column(r, &["serial"]).is_some());
    let header = at.is_some();
    let (serial, status, message) = match at.map(|i| &records[i]) {
        Some(h) => (
            column(h, &["serial"]).unwrap_or(0),
            column(h, &["status", "result", "outcome"]),
            column(h, &["message", "error", "reason", "detail", "description"]),
        ),
        None => (0, Some(1), Some(2)),
    };
    let field =
        |r: &Vec<String>, i: Option<usize>| i.and_then(|i| r.get(i)).cloned().unwrap_or_default();
    records
        .iter()
        .skip(at.map_or(0, |i| i + 1))
        .filter_map(|r| {
            let s = r.get(serial)?.trim().to_ascii_uppercase();
            (!s.is_empty()).then(|| Row {
                serial: s,
                status: field(r, status),
                message: if header || message.is_none() {
                    field(r, message)
                } else {
                    // Without a header, a message with commas may have been split.
                    r.iter().skip(2).cloned().collect::<Vec<_>>().join(", ")
                },
            })
        })
        .collect()
}

/// What a status word says.
pub fn outcome(status: &str) -> Outcome {
    let s = status.to_ascii_uppercase();
    if s.contains("FAIL") || s.contains("ERROR") || s.contains("REJECT") || s.contains("REFUSE") {
        Outcome::Refused
    } else if s.contains("SUCCE") || ["OK", "DONE", "COMPLETED", "COMPLETE"].contains(&s.as_str()) {
        Outcome::Done
    } else {
        Outcome::Unknown
    }
}

/// What the admin can do about a refused serial, from Apple's message where it is one adebox
/// knows, else from the action.
pub fn advice(action: super::Action, message: &str) -> String {
    let m = message.to_ascii_lowercase();
    let text = if m.contains("not in the organi") || m.contains("not found") {
        "Apple Business does not have this serial in your organisation: check it for typos; a released device must be added again (Apple Configurator or its reseller)."
    } else if m.contains("already assigned to this") {
        "Nothing to do: the device was already assigned to that MDM server."
    } else if m.contains("not assigned to this server") {
        "The device is assigned to another MDM server or to none: look it up on the Apple Business page and act from where it is."
    } else if m.contains("not assigned to an mdm server") {
        "Nothing manages the device yet: assign it to the server instead of migrating it."
    } else if m.contains("already has a migration") {
        "A migration is already scheduled: change its deadline or cancel it instead."
    } else if m.contains("no scheduled migration") || m.contains("no migration") {
        "The device has no migration to change or cancel: nothing to do."
    } else {
        match action {
            super::Action::Release => {
                "Apple did not release the device: read Apple's message, then try again or release it in Apple Business."
            }
            _ => {
                "Read Apple's message; fix what it names and submit the device again, or do it in Apple Business."
            }
        }
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_simulators_format_and_quoted_messages() {
        let r = rows(
            "serialNumber,status,message\nC02A,SUCCESS,\"\"\nC02B,FAILED,\"The device is not in the organization, sorry.\"\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].serial.as_str(), outcome(&r[0].status)), ("C02A", Outcome::Done));
        assert_eq!(outcome(&r[1].status), Outcome::Refused);
        assert_eq!(r[1].message, "The device is not in the organization, sorry.");
    }

    #[test]
    fn finds_columns_by_header_in_any_order_and_ignores_extra_ones() {
        let r = rows(
            "Result;x\nError Message,Extra,SERIAL NUMBER,Result\nbad thing,1,c02a,Failure\n\n",
        );
        let row = r.iter().find(|r| r.serial == "C02A").unwrap();
        assert_eq!(row.status, "Failure");
        assert_eq!(row.message, "bad thing");
    }

    #[test]
    fn without_a_header_takes_serial_status_message_and_never_guesses_success() {
        let r = rows("C02A,WHATEVER,a, b\nC02B\n");
        assert_eq!(r[0].message, "a, b");
        assert_eq!(outcome(&r[0].status), Outcome::Unknown);
        assert_eq!(r[1].serial, "C02B");
        assert_eq!(outcome(""), Outcome::Unknown);
        assert!(rows("").is_empty());
        assert!(rows("\u{0}\u{1}not,a\"log").len() <= 1);
    }
}
