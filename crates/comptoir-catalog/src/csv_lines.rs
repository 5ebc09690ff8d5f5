//! Line numbers of CSV records as a person sees them in an editor, for import reports.
//!
//! The csv crate's `Position::line` is off after a blank line (it reports the blank line,
//! BurntSushi/rust-csv#208) and with CRLF line ends (#395). [`Lines`] derives the line from
//! the record's byte offset instead, counting line feeds incrementally (records come in
//! order, so a whole file costs one pass).

/// Counts the lines of one CSV text.
pub struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Lines {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The 1-based line where the record found at byte `offset` starts (line ends and
    /// blank lines before it are skipped: a record never starts with one).
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let len = self.text.len();
        let mut start = usize::try_from(offset).unwrap_or(len).min(len);
        while start < len && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.at {
            // Not in order: count again from the top.
            self.at = 0;
            self.line = 1;
        }
        let feeds = self.text[self.at..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += feeds as u64;
        self.at = start;
        self.line
    }

    /// The line of a position reported by the csv reader (0 without one).
    pub fn line_of(&mut self, position: Option<&csv::Position>) -> u64 {
        position.map_or(0, |p| self.line_at(p.byte()))
    }

    /// Rewrites `record`'s position so that its `line()` is the record's own line.
    pub fn fix(&mut self, record: &mut csv::StringRecord) {
        if let Some(p) = record.position() {
            let mut p = p.clone();
            p.set_line(self.line_at(p.byte()));
            record.set_position(Some(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(String, u64)> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut counter = Lines::new(text.as_bytes());
        reader
            .records()
            .map(|r| {
                let mut r = r.unwrap();
                counter.fix(&mut r);
                (r[0].to_owned(), r.position().unwrap().line())
            })
            .collect()
    }

    #[test]
    fn blank_lines_quoted_breaks_and_crlf_keep_the_files_lines() {
        let got = lines("id,x\n2,a\n\n\n5,b\n6,\"one\ntwo\"\n\n9,c\n");
        let want: Vec<(String, u64)> = [("2", 2), ("5", 5), ("6", 6), ("9", 9)]
            .iter()
            .map(|(s, l)| ((*s).to_owned(), *l))
            .collect();
        assert_eq!(got, want);
        let crlf = lines("id,x\r\n2,a\r\n\r\n4,b\r\n5,c\r\n");
        assert_eq!(crlf.iter().map(|(_, l)| *l).collect::<Vec<_>>(), [2, 4, 5]);
    }

    #[test]
    fn out_of_order_offsets_are_counted_again() {
        let text = b"a\nb\nc\n";
        let mut c = Lines::new(text);
        assert_eq!(c.line_at(4), 3);
        assert_eq!(c.line_at(2), 2);
        assert_eq!(c.line_at(999), 4, "past the end: the last line");
        assert_eq!(c.line_of(None), 0);
    }
}
