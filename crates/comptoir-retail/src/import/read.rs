//! Turns an upload, CSV text or an XLSX workbook (its first sheet), into a header and rows
//! of text cells with their line numbers, so validation has one input whatever the format.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// A file as rows of text cells. `lines[i]` is the line (CSV) or row number (XLSX, 1-based)
/// of `rows[i]`; the header is line 1.
#[derive(Debug, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub lines: Vec<i64>,
}

/// The file formats an import accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// XLSX files are ZIP archives: they start with `PK\x03\x04`.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// Reads at most `max_rows` data rows; `Err` says why the file as a whole is unreadable.
pub fn read(format: Format, bytes: &[u8], max_rows: usize) -> Result<Table, String> {
    match format {
        Format::Csv => read_csv(bytes, max_rows),
        Format::Xlsx => read_xlsx(bytes, max_rows),
    }
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    }
}

fn read_csv(bytes: &[u8], max_rows: usize) -> Result<Table, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err("the file contains NUL characters; is it CSV?".into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the header: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut table = Table {
        headers,
        ..Table::default()
    };
    let mut lines = comptoir_catalog::csv_lines::Lines::new(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| format!("not valid CSV: {e}"))?;
        if table.rows.len() >= max_rows {
            return Err(format!("more than {max_rows} rows"));
        }
        let line = lines.line_of(record.position()) as i64;
        table.rows.push(record.iter().map(str::to_owned).collect());
        table.lines.push(line);
    }
    Ok(table)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
    }
}

fn read_xlsx(bytes: &[u8], max_rows: usize) -> Result<Table, String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec()))
        .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| "the workbook has no sheet".to_owned())?
        .map_err(|e| format!("cannot read the first sheet: {e}"))?;
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .ok_or_else(|| "the first sheet is empty".to_owned())?
        .iter()
        .map(cell_text)
        .collect();
    let start = i64::from(range.start().map_or(0, |(r, _)| r));
    let mut table = Table {
        headers,
        ..Table::default()
    };
    for (i, row) in rows.enumerate() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if table.rows.len() >= max_rows {
            return Err(format!("more than {max_rows} rows"));
        }
        table.rows.push(cells);
        table.lines.push(start + i as i64 + 2);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_keeps_line_numbers_and_semicolons() {
        let t = read(Format::Csv, b"a;b\n1;2\n3;4\n", 10).unwrap();
        assert_eq!(t.headers, ["a", "b"]);
        assert_eq!(t.rows, [["1", "2"], ["3", "4"]]);
        assert_eq!(t.lines, [2, 3]);
        assert!(read(Format::Csv, b"a\n1\n2\n", 1).is_err());
        assert!(read(Format::Xlsx, b"PK\x03\x04garbage", 1).is_err());
        assert_eq!(Format::sniff(b"PK\x03\x04"), Format::Xlsx);
    }
}
