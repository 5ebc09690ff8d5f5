//! The XLSX version of a report: one sheet per section (Summary, Regions, Stores,
//! Categories). Every figure is a numeric cell (money with two decimals, percentages as
//! the dashboard gives them, 12.5 for 12.5 %, counts as integers); a value the dashboard
//! leaves out (a ratio over zero) is an empty cell.

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::content::{Consolidation, ROW_COLUMNS, Value, figure_lines, row_values};

/// The same number the dashboard's decimal string reads as (parsing the string gives the
/// closest `f64`, which is what a reader parsing the API's JSON gets too).
pub fn number(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

struct Formats {
    bold: Format,
    title: Format,
    money: Format,
    percent: Format,
    count: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            bold: Format::new().set_bold(),
            title: Format::new().set_bold().set_font_size(14),
            money: Format::new().set_num_format("#,##0.00"),
            percent: Format::new().set_num_format("0.00\" %\""),
            count: Format::new().set_num_format("#,##0"),
        }
    }
}

fn write_value(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    value: Value,
) -> Result<(), XlsxError> {
    match value {
        Value::Money(Some(d)) => {
            ws.write_number_with_format(row, col, number(d), &f.money)?;
        }
        Value::Percent(Some(d)) => {
            ws.write_number_with_format(row, col, number(d), &f.percent)?;
        }
        Value::Count(n) => {
            ws.write_number_with_format(row, col, n as f64, &f.count)?;
        }
        Value::Money(None) | Value::Percent(None) => {}
    }
    Ok(())
}

fn header(ws: &mut Worksheet, f: &Formats, names: &[&str]) -> Result<(), XlsxError> {
    for (i, name) in names.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *name, &f.bold)?;
        ws.set_column_width(i as u16, (name.len() as f64 + 2.0).max(12.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn summary(c: &Consolidation, f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name("Summary")?;
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 22)?;
    ws.write_string_with_format(0, 0, "Monthly consolidation report", &f.title)?;
    let facts = [
        ("Organization", c.organization.clone()),
        ("Month", c.month.clone()),
        ("Scope", c.label.clone()),
        (
            "Generated (UTC)",
            c.generated_at.format("%Y-%m-%d %H:%M").to_string(),
        ),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_string_with_format(row, 0, *k, &f.bold)?;
        ws.write_string(row, 1, v)?;
    }
    let top = 6;
    ws.write_string_with_format(top, 0, "Measure", &f.bold)?;
    ws.write_string_with_format(top, 1, "Value", &f.bold)?;
    for (i, (label, value)) in figure_lines(&c.totals).into_iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write_string(row, 0, label)?;
        write_value(&mut ws, f, row, 1, value)?;
    }
    Ok(ws)
}

fn regions(c: &Consolidation, f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name("Regions")?;
    let mut names = vec!["Code", "Region"];
    names.extend(figure_lines(&c.totals).iter().map(|(n, _)| *n));
    header(&mut ws, f, &names)?;
    for (i, r) in c.regions.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_string(row, 0, &r.code)?;
        ws.write_string(row, 1, &r.name)?;
        for (j, (_, v)) in figure_lines(&r.figures).into_iter().enumerate() {
            write_value(&mut ws, f, row, 2 + j as u16, v)?;
        }
    }
    Ok(ws)
}

fn stores(c: &Consolidation, f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name("Stores")?;
    let mut names = vec!["Rank", "Code", "Store", "Region"];
    names.extend(ROW_COLUMNS);
    header(&mut ws, f, &names)?;
    ws.set_column_width(2, 30)?;
    for (i, s) in c.stores.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_number(row, 0, s.rank as f64)?;
        ws.write_string(row, 1, &s.row.code)?;
        ws.write_string(row, 2, &s.row.label)?;
        ws.write_string(row, 3, &s.region_code)?;
        for (j, v) in row_values(&s.row).into_iter().enumerate() {
            write_value(&mut ws, f, row, 4 + j as u16, v)?;
        }
    }
    Ok(ws)
}

/// Categories have no targets: their first six columns only.
const CATEGORY_VALUES: usize = 6;

fn categories(c: &Consolidation, f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name("Categories")?;
    let mut names = vec!["Code", "Category"];
    names.extend(ROW_COLUMNS.iter().take(CATEGORY_VALUES));
    header(&mut ws, f, &names)?;
    ws.set_column_width(1, 30)?;
    for (i, r) in c.categories.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_string(row, 0, &r.code)?;
        ws.write_string(row, 1, &r.label)?;
        for (j, v) in row_values(r).into_iter().take(CATEGORY_VALUES).enumerate() {
            write_value(&mut ws, f, row, 2 + j as u16, v)?;
        }
    }
    Ok(ws)
}

/// Renders the workbook.
pub fn render(c: &Consolidation) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    wb.push_worksheet(summary(c, &f)?);
    wb.push_worksheet(regions(c, &f)?);
    wb.push_worksheet(stores(c, &f)?);
    wb.push_worksheet(categories(c, &f)?);
    wb.save_to_buffer()
}
