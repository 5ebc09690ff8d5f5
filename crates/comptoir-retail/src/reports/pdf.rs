//! The PDF version of a report, drawn with printpdf's built-in Helvetica (one of the 14
//! standard PDF fonts: nothing to embed, nothing to download; text is WinAnsi-encoded, so
//! accented Latin names print as they are). A4 landscape; a title block, then one table
//! per section; a table that reaches the bottom of a page continues on the next one under
//! its repeated header; every page has a running header and "Page n of N".

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem,
};
use rust_decimal::Decimal;

use super::content::{Consolidation, Value, figure_lines, row_values};

const PAGE_W: f32 = 297.0;
const PAGE_H: f32 = 210.0;
const MARGIN: f32 = 14.0;
/// Space kept at the bottom for the footer.
const BOTTOM: f32 = MARGIN + 8.0;
const ROW_H: f32 = 5.2;
const BODY_PT: f32 = 8.0;
const HEADER_PT: f32 = 7.0;

/// `1,234,567.89` (two decimals, comma thousands).
pub fn money_text(d: Decimal) -> String {
    let s = format!("{:.2}", d.round_dp(2));
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    format!("{sign}{}.{frac}", group(int))
}

fn group(int: &str) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12,345` (comma thousands).
pub fn count_text(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    format!("{}{}", if n < 0 { "-" } else { "" }, group(&s))
}

/// `12.50 %`.
pub fn percent_text(d: Decimal) -> String {
    format!("{:.2} %", d.round_dp(2))
}

/// A cell as text; an absent ratio is an en dash.
pub fn value_text(v: Value) -> String {
    match v {
        Value::Money(Some(d)) => money_text(d),
        Value::Percent(Some(d)) => percent_text(d),
        Value::Count(n) => count_text(n),
        Value::Money(None) | Value::Percent(None) => "\u{2013}".into(),
    }
}

/// Helvetica advance widths (thousandths of an em) of the printable ASCII characters,
/// from the font's AFM; other characters count as an average letter.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :..@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [..`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // a-z
    334, 260, 334, 584, // {..~
];

/// Width of `s` in millimetres at `size` points (bold is about 5 % wider for letters).
fn text_width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| {
            let code = c as u32;
            if (32..127).contains(&code) {
                u32::from(HELVETICA[(code - 32) as usize])
            } else {
                556
            }
        })
        .sum();
    let factor = if bold { 1.06 } else { 1.0 };
    units as f32 / 1000.0 * size * factor * 25.4 / 72.0
}

/// `s` cut (with an ellipsis) to fit `width` mm.
fn fit(s: &str, width: f32, size: f32, bold: bool) -> String {
    if text_width(s, size, bold) <= width {
        return s.to_owned();
    }
    let mut out: String = s.to_owned();
    while !out.is_empty() && text_width(&format!("{out}\u{2026}"), size, bold) > width {
        out.pop();
    }
    format!("{}\u{2026}", out.trim_end())
}

fn black() -> Color {
    Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None))
}

fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

/// A table column: title, width in mm, numbers right-aligned.
struct Column {
    title: &'static str,
    width: f32,
    right: bool,
}

const fn col(title: &'static str, width: f32, right: bool) -> Column {
    Column {
        title,
        width,
        right,
    }
}

/// Pages under construction; `y` is the baseline of the next line, in mm from the bottom.
struct Writer {
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    y: f32,
    running_head: String,
}

impl Writer {
    fn new(running_head: String) -> Self {
        let mut w = Writer {
            pages: Vec::new(),
            ops: Vec::new(),
            y: 0.0,
            running_head,
        };
        w.start_page();
        w
    }

    fn start_page(&mut self) {
        if !self.ops.is_empty() {
            self.pages.push(std::mem::take(&mut self.ops));
        }
        self.y = PAGE_H - MARGIN;
        let head = self.running_head.clone();
        self.text(MARGIN, PAGE_H - 8.0, 7.0, false, &head, Some(grey(0.4)));
        self.y -= 4.0;
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str, color: Option<Color>) {
        let font = if bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFillColor {
                col: color.unwrap_or_else(black),
            },
            Op::SetFont {
                font: PdfFontHandle::Builtin(font),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(s.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, level: f32) {
        self.ops.extend([
            Op::SetOutlineColor { col: grey(level) },
            Op::SetOutlineThickness { pt: Pt(0.5) },
            Op::DrawLine {
                line: Line {
                    points: vec![
                        LinePoint {
                            p: Point::new(Mm(x1), Mm(y)),
                            bezier: false,
                        },
                        LinePoint {
                            p: Point::new(Mm(x2), Mm(y)),
                            bezier: false,
                        },
                    ],
                    is_closed: false,
                },
            },
        ]);
    }

    fn band(&mut self, x: f32, y: f32, w: f32, h: f32, level: f32) {
        let mut rect = Rect::from_xywh(Mm(x).into(), Mm(y).into(), Mm(w).into(), Mm(h).into());
        rect.mode = Some(PaintMode::Fill);
        self.ops.extend([
            Op::SetFillColor { col: grey(level) },
            Op::DrawRectangle { rectangle: rect },
        ]);
    }

    /// Starts a new page unless `height` mm still fit above the footer.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.start_page();
            true
        } else {
            false
        }
    }

    fn heading(&mut self, s: &str) {
        self.y -= 3.0;
        self.text(MARGIN, self.y, 12.0, true, s, None);
        self.y -= 6.5;
    }

    fn table_header(&mut self, columns: &[Column]) {
        let width: f32 = columns.iter().map(|c| c.width).sum();
        self.band(MARGIN, self.y - 1.6, width, ROW_H, 0.88);
        let mut x = MARGIN;
        for c in columns {
            let title = fit(c.title, c.width - 2.0, HEADER_PT, true);
            let tx = if c.right {
                x + c.width - 1.0 - text_width(&title, HEADER_PT, true)
            } else {
                x + 1.0
            };
            self.text(tx, self.y, HEADER_PT, true, &title, None);
            x += c.width;
        }
        self.y -= ROW_H;
    }

    /// A titled table; rows that do not fit continue on the next page under the header.
    fn table(&mut self, title: &str, columns: &[Column], rows: &[Vec<String>]) {
        // The heading, the header and at least two rows stay together.
        self.ensure(10.0 + ROW_H * 3.0);
        self.heading(title);
        self.table_header(columns);
        let width: f32 = columns.iter().map(|c| c.width).sum();
        if rows.is_empty() {
            self.text(
                MARGIN + 1.0,
                self.y,
                BODY_PT,
                false,
                "No sales.",
                Some(grey(0.4)),
            );
            self.y -= ROW_H;
        }
        for row in rows {
            if self.ensure(ROW_H) {
                self.heading(&format!("{title} (continued)"));
                self.table_header(columns);
            }
            let mut x = MARGIN;
            for (c, cell) in columns.iter().zip(row) {
                let cell = fit(cell, c.width - 2.0, BODY_PT, false);
                let tx = if c.right {
                    x + c.width - 1.0 - text_width(&cell, BODY_PT, false)
                } else {
                    x + 1.0
                };
                self.text(tx, self.y, BODY_PT, false, &cell, None);
                x += c.width;
            }
            self.rule(MARGIN, MARGIN + width, self.y - 1.7, 0.85);
            self.y -= ROW_H;
        }
        self.y -= 4.0;
    }

    fn finish(mut self, title: &str, footer_note: &str) -> Vec<u8> {
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let pages: Vec<PdfPage> = std::mem::take(&mut self.pages)
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                let mut w = Writer {
                    pages: Vec::new(),
                    ops,
                    y: 0.0,
                    running_head: String::new(),
                };
                w.rule(MARGIN, PAGE_W - MARGIN, MARGIN + 4.0, 0.6);
                w.text(MARGIN, MARGIN, 7.0, false, footer_note, Some(grey(0.4)));
                let n = format!("Page {} of {total}", i + 1);
                let x = PAGE_W - MARGIN - text_width(&n, 7.0, false);
                w.text(x, MARGIN, 7.0, false, &n, Some(grey(0.4)));
                PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), w.ops)
            })
            .collect();
        let mut doc = PdfDocument::new(title);
        doc.metadata.info.producer = "Comptoir".into();
        doc.metadata.info.creator = "Comptoir".into();
        let mut warnings = Vec::new();
        doc.with_pages(pages)
            .save(&PdfSaveOptions::default(), &mut warnings)
    }
}

/// Renders the report.
pub fn render(c: &Consolidation) -> Vec<u8> {
    let title = format!(
        "Monthly consolidation report \u{2013} {} \u{2013} {}",
        c.month, c.label
    );
    let mut w = Writer::new(format!("{} \u{2013} {title}", c.organization));
    w.y -= 4.0;
    w.text(
        MARGIN,
        w.y,
        18.0,
        true,
        "Monthly consolidation report",
        None,
    );
    w.y -= 8.0;
    let sub = format!("{} \u{2013} {} ({})", c.organization, c.month_name, c.month);
    w.text(MARGIN, w.y, 11.0, false, &sub, None);
    w.y -= 5.5;
    let scope = format!("Scope: {}", c.label);
    w.text(MARGIN, w.y, 11.0, false, &scope, None);
    w.y -= 5.5;
    for note in [
        "Revenue excludes VAT unless stated; the average basket includes it.",
        "Growth compares revenue excl. VAT with the previous month and with the same month last year.",
    ] {
        w.text(MARGIN, w.y, 8.0, false, note, Some(grey(0.35)));
        w.y -= 4.0;
    }
    w.y -= 2.0;

    let totals: Vec<Vec<String>> = figure_lines(&c.totals)
        .into_iter()
        .map(|(label, v)| vec![label.to_owned(), value_text(v)])
        .collect();
    w.table(
        "Totals",
        &[col("Measure", 70.0, false), col("Value", 40.0, true)],
        &totals,
    );

    let region_columns = [
        col("Code", 18.0, false),
        col("Region", 42.0, false),
        col("Revenue excl. VAT", 28.0, true),
        col("Gross margin", 24.0, true),
        col("Margin %", 16.0, true),
        col("Units", 17.0, true),
        col("Transactions", 20.0, true),
        col("Avg basket", 18.0, true),
        col("Target", 26.0, true),
        col("Attainment", 18.0, true),
        col("vs prev. month", 21.0, true),
        col("vs last year", 20.0, true),
    ];
    let regions: Vec<Vec<String>> = c
        .regions
        .iter()
        .map(|r| {
            let f = &r.figures;
            vec![
                r.code.clone(),
                r.name.clone(),
                money_text(f.revenue_excl),
                money_text(f.gross_margin),
                value_text(Value::Percent(f.gross_margin_pct)),
                count_text(f.units),
                count_text(f.transactions),
                value_text(Value::Money(f.average_basket)),
                value_text(Value::Money(f.target)),
                value_text(Value::Percent(f.attainment_pct)),
                value_text(Value::Percent(f.growth_vs_previous_pct)),
                value_text(Value::Percent(f.growth_vs_last_year_pct)),
            ]
        })
        .collect();
    w.table("Regions", &region_columns, &regions);

    let store_columns = [
        col("Rank", 10.0, true),
        col("Code", 20.0, false),
        col("Store", 48.0, false),
        col("Region", 18.0, false),
        col("Revenue excl. VAT", 26.0, true),
        col("Revenue incl. VAT", 26.0, true),
        col("Gross margin", 23.0, true),
        col("Margin %", 15.0, true),
        col("Units", 16.0, true),
        col("Transactions", 19.0, true),
        col("Target", 25.0, true),
        col("Attainment", 18.0, true),
    ];
    let stores: Vec<Vec<String>> = c
        .stores
        .iter()
        .map(|s| {
            let mut cells = vec![
                s.rank.to_string(),
                s.row.code.clone(),
                s.row.label.clone(),
                s.region_code.clone(),
            ];
            cells.extend(row_values(&s.row).into_iter().map(value_text));
            cells
        })
        .collect();
    w.table("Stores by revenue", &store_columns, &stores);

    let category_columns = [
        col("Code", 26.0, false),
        col("Category", 60.0, false),
        col("Revenue excl. VAT", 30.0, true),
        col("Revenue incl. VAT", 30.0, true),
        col("Gross margin", 28.0, true),
        col("Margin %", 18.0, true),
        col("Units", 20.0, true),
        col("Transactions", 22.0, true),
    ];
    let categories: Vec<Vec<String>> = c
        .categories
        .iter()
        .map(|r| {
            let mut cells = vec![r.code.clone(), r.label.clone()];
            cells.extend(row_values(r).into_iter().take(6).map(value_text));
            cells
        })
        .collect();
    w.table("Categories", &category_columns, &categories);

    let footer = format!(
        "Comptoir \u{2013} generated {} UTC",
        c.generated_at.format("%Y-%m-%d %H:%M")
    );
    w.finish(&title, &footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_a_report() {
        assert_eq!(money_text(Decimal::new(123456789, 2)), "1,234,567.89");
        assert_eq!(money_text(Decimal::new(-5, 1)), "-0.50");
        assert_eq!(money_text(Decimal::new(24, 0)), "24.00");
        assert_eq!(money_text(Decimal::new(100000, 0)), "100,000.00");
        assert_eq!(count_text(-1234), "-1,234");
        assert_eq!(count_text(999), "999");
        assert_eq!(percent_text(Decimal::new(6667, 2)), "66.67 %");
        assert_eq!(value_text(Value::Percent(None)), "\u{2013}");
    }

    fn figures() -> crate::dashboard::Figures {
        crate::dashboard::Figures {
            revenue_excl: Decimal::new(123456789, 2),
            revenue_incl: Decimal::new(148148147, 2),
            cost: Decimal::new(600000, 0),
            gross_margin: Decimal::new(63456789, 2),
            gross_margin_pct: Some(Decimal::new(5140, 2)),
            units: 4321,
            transactions: 1234,
            average_basket: Some(Decimal::new(120056, 2)),
            target: None,
            attainment_pct: None,
            previous_revenue_excl: Decimal::ZERO,
            growth_vs_previous_pct: None,
            last_year_revenue_excl: Decimal::new(1000, 0),
            growth_vs_last_year_pct: Some(Decimal::new(-1250, 2)),
        }
    }

    fn row(i: usize) -> crate::dashboard::Row {
        crate::dashboard::Row {
            id: uuid::Uuid::now_v7(),
            code: format!("S{i:03}"),
            label: format!("Boutique numéro {i}"),
            revenue_excl: Decimal::from(10_000 - i as i64),
            revenue_incl: Decimal::from(12_000 - i as i64),
            gross_margin: Decimal::from(4_000),
            gross_margin_pct: Some(Decimal::new(4000, 2)),
            units: 100,
            transactions: 40,
            target: Some(Decimal::from(9_000)),
            attainment_pct: Some(Decimal::new(11111, 2)),
        }
    }

    #[test]
    fn long_tables_continue_on_the_next_pages_under_their_header() {
        let c = Consolidation {
            organization: "Démo Distribution".into(),
            month: "2025-03".into(),
            month_name: "March 2025".into(),
            label: "Whole chain".into(),
            generated_at: chrono::Utc::now(),
            totals: figures(),
            regions: Vec::new(),
            stores: (0..120)
                .map(|i| super::super::content::StoreLine {
                    rank: i + 1,
                    region_code: "NORD".into(),
                    row: row(i),
                })
                .collect(),
            categories: vec![row(999)],
        };
        let bytes = render(&c);
        // To look at it: COMPTOIR_REPORT_PDF_OUT=/tmp/report.pdf cargo test -p comptoir-retail.
        if let Ok(path) = std::env::var("COMPTOIR_REPORT_PDF_OUT") {
            std::fs::write(path, &bytes).expect("write the sample PDF");
        }
        let doc = lopdf::Document::load_mem(&bytes).expect("parses");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        assert!(pages.len() >= 4, "{} pages", pages.len());
        let text = doc.extract_text(&pages).expect("text");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for i in 0..120 {
            let code = format!("S{i:03}");
            assert_eq!(lines.iter().filter(|l| **l == code).count(), 1, "{code}");
        }
        let continued = lines
            .iter()
            .filter(|l| **l == "Stores by revenue (continued)")
            .count();
        // The store table fills whole pages: every page after its first repeats the heading.
        assert!(
            continued >= pages.len() - 2,
            "{continued} on {} pages",
            pages.len()
        );
        // The header is repeated (uncut) on every page of the store table.
        let headers = lines.iter().filter(|l| **l == "Revenue incl. VAT").count();
        assert!(
            headers >= pages.len(),
            "{headers} headers on {} pages",
            pages.len()
        );
        assert!(lines.contains(&"1,234,567.89"));
        assert!(lines.contains(&"-12.50 %"));
        assert!(
            lines.contains(&"Boutique numéro 7"),
            "WinAnsi accents survive"
        );
        assert!(text.contains(&format!("Page {} of {}", pages.len(), pages.len())));
    }

    #[test]
    fn long_labels_are_cut_to_their_column() {
        let long = "Boutique Bordeaux Sainte-Catherine et ses environs lointains";
        let cut = fit(long, 30.0, BODY_PT, false);
        assert!(cut.ends_with('\u{2026}'), "{cut}");
        assert!(text_width(&cut, BODY_PT, false) <= 30.0);
        assert_eq!(fit("Lille", 30.0, BODY_PT, false), "Lille");
    }
}
