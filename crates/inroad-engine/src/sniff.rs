//! Finding the header row and the delimiter of a CSV export.
//!
//! Exports differ: LinkedIn's Connections.csv starts with a "Notes:" preamble,
//! European spreadsheets write semicolons, some tools write tabs, Excel adds a BOM.
//! The header is the first line (within the first few) whose cells are mostly known
//! lead-field aliases; the delimiter is the one that splits it into the most of them.

use inroad_core::headers::field_for_header;

/// Where the data starts and how it is split.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub delimiter: u8,
    /// Byte offset of the header line (after the BOM and any preamble).
    pub header_offset: u64,
}

const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];
/// How many lines a preamble may span before we stop looking for the header.
const MAX_PREAMBLE_LINES: usize = 50;

fn cells(line: &[u8], delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Scores a candidate header: distinct known fields it names (and `extra` names,
/// the headers of `--map` overrides), then its cell count as a tie-break.
fn score(line: &[u8], delimiter: u8, extra: &[String]) -> (usize, usize) {
    let cells = cells(line, delimiter);
    let mut fields = Vec::new();
    let mut known = 0;
    for cell in &cells {
        if extra.iter().any(|h| h.eq_ignore_ascii_case(cell.trim())) {
            known += 1;
        } else if let Some(f) = field_for_header(cell) {
            if !fields.contains(&f) {
                fields.push(f);
                known += 1;
            }
        }
    }
    (known, cells.len())
}

/// Finds the layout from the head of the file (its first bytes, BOM included).
pub fn sniff(head: &[u8], override_headers: &[String]) -> Layout {
    let bom = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let mut offset = bom as u64;
    let mut first_nonblank: Option<(u64, &[u8])> = None;
    for raw_line in head[bom..]
        .split_inclusive(|&b| b == b'\n')
        .take(MAX_PREAMBLE_LINES)
    {
        let line = raw_line.strip_suffix(b"\n").unwrap_or(raw_line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = offset;
        offset += raw_line.len() as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        first_nonblank.get_or_insert((start, line));
        let best = DELIMITERS
            .into_iter()
            .map(|d| (score(line, d, override_headers), d))
            .max_by_key(|(s, _)| *s)
            .expect("there are delimiters");
        if best.0 .0 >= 2 {
            return Layout {
                delimiter: best.1,
                header_offset: start,
            };
        }
    }
    // No line looks like a known header: take the first non-blank line as the header
    // and the delimiter that splits it most.
    let (start, line) = first_nonblank.unwrap_or((bom as u64, &[]));
    let delimiter = DELIMITERS
        .into_iter()
        .max_by_key(|d| line.iter().filter(|&&b| b == *d).count())
        .expect("there are delimiters");
    Layout {
        delimiter,
        header_offset: start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_connections_preamble() {
        let head = b"Notes:\r\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\r\n\r\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\r\nAnn,Lee,,,,,\r\n";
        let layout = sniff(head, &[]);
        assert_eq!(layout.delimiter, b',');
        assert!(head[layout.header_offset as usize..].starts_with(b"First Name"));
    }

    #[test]
    fn detects_semicolons_tabs_and_bom() {
        let layout = sniff(
            b"\xEF\xBB\xBFEmail;First Name;Company, Inc\nx@y.com;Jo;Acme\n",
            &[],
        );
        assert_eq!((layout.delimiter, layout.header_offset), (b';', 3));
        assert_eq!(sniff(b"email\tname\tcompany\n", &[]).delimiter, b'\t');
    }

    #[test]
    fn unknown_headers_fall_back_to_first_line() {
        let layout = sniff(b"\n\nfoo;bar;baz\n1;2;3\n", &[]);
        assert_eq!((layout.delimiter, layout.header_offset), (b';', 2));
    }
}
