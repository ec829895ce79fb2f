//! Serial lists from a CSV upload: an optional header, the first column that looks like
//! serials, junk rows reported per row with their number (nothing is guessed from them).

use super::ProfileError;
use super::assign::{Listed, MAX_SERIALS, SerialOutcome, normalise_serial};

/// Largest assignment body accepted (CSV or JSON list), above the API's 1 MiB: it must hold
/// [`MAX_SERIALS`] (200,000, a whole large site in one upload). A serial and its line end
/// are about 14 bytes (2.8 MB for 200,000), and a spreadsheet's export usually carries a
/// short column beside it (a name, an asset tag); 5 MiB fits that and stays a small, bounded
/// read for one authenticated request.
pub const MAX_CSV_BYTES: usize = 5 * 1024 * 1024;

fn cells(line: &str) -> Vec<String> {
    line.split([',', ';', '\t']).map(|c| c.trim().trim_matches('"').trim().to_string()).collect()
}

/// The serials of `text`, and the rows that held none (as `invalid` outcomes).
pub fn serials_from_csv(text: &str) -> Result<(Vec<String>, Vec<SerialOutcome>), ProfileError> {
    let rows: Vec<(usize, Vec<String>)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, cells(l)))
        .collect();
    if rows.len() > MAX_SERIALS + 1 {
        return Err(ProfileError::Limit {
            message: format!(
                "the CSV has {} rows: at most {MAX_SERIALS} serials can be sent at once; split the file",
                rows.len()
            ),
            limit: MAX_SERIALS as u64,
        });
    }
    // The column with the most serial-shaped cells among the first rows.
    let width = rows.iter().take(200).map(|(_, c)| c.len()).max().unwrap_or(0);
    let column = (0..width)
        .max_by_key(|&i| {
            let hits = rows
                .iter()
                .take(200)
                .filter(|(_, c)| c.get(i).and_then(|v| normalise_serial(v)).is_some())
                .count();
            (hits, std::cmp::Reverse(i))
        })
        .unwrap_or(0);
    let mut serials = Vec::new();
    let mut junk = Vec::new();
    for (k, (line, c)) in rows.iter().enumerate() {
        let cell = c.get(column).map(String::as_str).unwrap_or("");
        match normalise_serial(cell) {
            Some(s) => serials.push(s.into_string()),
            // A first row that is not a serial is the header.
            None if k == 0 => {}
            None => junk.push(SerialOutcome {
                serial: Listed::NotASerial(cell.chars().take(40).collect()),
                outcome: super::assign::AssignmentOutcome::Invalid,
                message: format!("row {line}: no serial number in column {}", column + 1),
            }),
        }
    }
    Ok((serials, junk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_serial_column_skips_the_header_and_reports_junk_rows() {
        let csv =
            "name,serial,notes\nLab 1,C02XK1ABCD12,ok\nLab 2,\"f9fabc123456\",\nbroken,??,x\n\n";
        let (serials, junk) = serials_from_csv(csv).unwrap();
        assert_eq!(serials, ["C02XK1ABCD12", "F9FABC123456"]);
        assert_eq!(junk.len(), 1);
        assert!(junk[0].message.starts_with("row 4:"), "{}", junk[0].message);
    }

    #[test]
    fn a_plain_list_without_header_is_all_serials() {
        let (serials, junk) = serials_from_csv("C02XK1ABCD12\r\nC02XK1ABCD13\n").unwrap();
        assert_eq!(serials.len(), 2);
        assert!(junk.is_empty());
    }

    #[test]
    fn refuses_more_rows_than_the_limit() {
        let csv = "C02XK1ABCD12\n".repeat(MAX_SERIALS + 2);
        assert!(matches!(serials_from_csv(&csv), Err(ProfileError::Limit { .. })));
    }
}
