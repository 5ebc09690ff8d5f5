//! Row and receipt validation. Each row is parsed on its own (types, decimals, dates, known
//! store and SKU); then rows are grouped by receipt, and a receipt is kept only if all its
//! rows are valid, agree on store, time and customer, and add up to its declared totals
//! within [`TOLERANCE_PER_LINE_E4`] per line. A row is reported once, with the first reason.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::read::Table;
use crate::model::{parse_decimal, to_e4};

/// Allowed gap between a receipt's declared total and the sum of its lines: 0.01 per line
/// (each line may have been rounded to the cent by the till), at least 0.02.
pub const TOLERANCE_PER_LINE_E4: i64 = 100;

/// What a product contributes to a line.
#[derive(Clone, Copy, Debug)]
pub struct ProductInfo {
    pub id: Uuid,
    pub vat_e4: i64,
    pub purchase_e4: i64,
    /// Nil for a product without a category.
    pub category: Uuid,
}

/// The org's stores the importer may write to, products, and receipts that already
/// belong to stores they may not write to.
#[derive(Debug, Default)]
pub struct Lookups {
    pub stores: HashMap<String, Uuid>,
    pub products: HashMap<String, ProductInfo>,
    pub foreign_receipts: HashSet<String>,
}

/// One valid sale line.
#[derive(Clone, Debug)]
pub struct Line {
    pub row: usize,
    pub product: ProductInfo,
    pub quantity: i64,
    pub unit_price_e4: i64,
    pub discount_e4: i64,
    pub vat_e4: i64,
    pub excl_e4: i64,
    pub incl_e4: i64,
    pub cost_e4: i64,
}

/// One valid receipt, ready to write.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub receipt: String,
    pub store: Uuid,
    pub sold_at: DateTime<Utc>,
    pub customer: Option<String>,
    pub total_excl_e4: i64,
    pub total_incl_e4: i64,
    pub lines: Vec<Line>,
}

/// A rejected row: index in the table, column (canonical name) and reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub row: usize,
    pub column: Option<&'static str>,
    pub reason: String,
}

type Bad = (Option<&'static str>, String);

fn bad(column: &'static str, reason: impl Into<String>) -> Bad {
    (Some(column), reason.into())
}

/// Parses the date formats tills and spreadsheets write: ISO (`2025-03-14`,
/// `2025-03-14 10:22[:33]`, `2025-03-14T10:22:33[Z|+01:00]`), `2025/03/14`, and day-first
/// `14/03/2025`, `14.03.2025`, `14-03-2025` (with an optional time). Times without an
/// offset are taken as UTC.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    const DATETIMES: &[&str] = &[
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
    ];
    const DATES: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"];
    for f in DATETIMES {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    for f in DATES {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

fn money(column: &'static str, raw: &str, allow_negative: bool) -> Result<i64, Bad> {
    let value =
        parse_decimal(raw).ok_or_else(|| bad(column, format!("{raw:?} is not a number")))?;
    if !allow_negative && value < Decimal::ZERO {
        return Err(bad(column, "must not be negative"));
    }
    to_e4(value).map_err(|r| bad(column, r))
}

/// `excl × rate` rounded half away from zero, rate in percent e4 (20 % = 200,000).
pub fn vat_of(excl_e4: i64, vat_e4: i64) -> i64 {
    let p = i128::from(excl_e4) * i128::from(vat_e4);
    let q = p / 1_000_000;
    let r = p % 1_000_000;
    let rounded = if r.abs() * 2 >= 1_000_000 {
        q + p.signum()
    } else {
        q
    };
    rounded as i64
}

/// The cells of a row, by canonical column.
struct Cells<'a> {
    row: &'a [String],
    index: &'a HashMap<&'static str, usize>,
}

impl Cells<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        let i = *self.index.get(column)?;
        self.row.get(i).map(|c| c.trim()).filter(|c| !c.is_empty())
    }

    fn required(&self, column: &'static str) -> Result<&str, Bad> {
        self.get(column).ok_or_else(|| bad(column, "is required"))
    }
}

struct Parsed {
    receipt: String,
    store: Uuid,
    sold_at: DateTime<Utc>,
    customer: Option<String>,
    total_excl: Option<i64>,
    total_incl: Option<i64>,
    line: Line,
}

fn parse_row(cells: &Cells, row: usize, lookups: &Lookups) -> Result<Parsed, Bad> {
    let receipt = cells.required("receipt")?;
    if receipt.chars().count() > 64 || receipt.chars().any(char::is_control) {
        return Err(bad("receipt", "at most 64 printable characters"));
    }
    if lookups.foreign_receipts.contains(receipt) {
        return Err(bad(
            "receipt",
            "this receipt number belongs to a store you cannot write to",
        ));
    }
    let store_code = cells.required("store")?;
    let store = *lookups
        .stores
        .get(store_code)
        .ok_or_else(|| bad("store", format!("unknown store {store_code:?}")))?;
    let raw_time = cells.required("sold_at")?;
    let sold_at = parse_datetime(raw_time)
        .ok_or_else(|| bad("sold_at", format!("{raw_time:?} is not a date")))?;
    let customer = match cells.get("customer") {
        Some(c) if c.chars().count() > 64 || c.chars().any(char::is_control) => {
            return Err(bad("customer", "at most 64 printable characters"));
        }
        c => c.map(str::to_owned),
    };
    let sku = cells.required("sku")?;
    let product = *lookups
        .products
        .get(sku)
        .ok_or_else(|| bad("sku", format!("unknown sku {sku:?}")))?;
    let raw_qty = cells.required("quantity")?;
    let quantity = parse_decimal(raw_qty)
        .filter(|q| q.fract().is_zero())
        .and_then(|q| i64::try_from(q).ok())
        .filter(|q| q.abs() <= 1_000_000)
        .ok_or_else(|| bad("quantity", format!("{raw_qty:?} is not a whole number")))?;
    if quantity == 0 {
        return Err(bad("quantity", "must not be zero (negative for a return)"));
    }
    let unit_price_e4 = money("unit_price", cells.required("unit_price")?, false)?;
    let discount_e4 = match cells.get("discount") {
        Some(raw) => money("discount", raw, false)?,
        None => 0,
    };
    let vat_e4 = match cells.get("vat_rate") {
        Some(raw) => {
            let v = money("vat_rate", raw, false)?;
            if v > 100 * 10_000 {
                return Err(bad("vat_rate", "a percentage between 0 and 100"));
            }
            v
        }
        None => product.vat_e4,
    };
    let gross = i128::from(quantity) * i128::from(unit_price_e4);
    if gross.abs() > i128::from(i64::MAX / 1_000) {
        return Err(bad("quantity", "the line amount is too large"));
    }
    if i128::from(discount_e4) > gross.abs() {
        return Err(bad("discount", "larger than the line amount"));
    }
    // A discount reduces the amount's size, for a sale and for a return alike.
    let excl_e4 = (gross - i128::from(quantity.signum()) * i128::from(discount_e4)) as i64;
    let total_excl = cells
        .get("total_excl")
        .map(|r| money("total_excl", r, true))
        .transpose()?;
    let total_incl = cells
        .get("total_incl")
        .map(|r| money("total_incl", r, true))
        .transpose()?;
    Ok(Parsed {
        receipt: receipt.to_owned(),
        store,
        sold_at,
        customer,
        total_excl,
        total_incl,
        line: Line {
            row,
            product,
            quantity,
            unit_price_e4,
            discount_e4,
            vat_e4,
            excl_e4,
            incl_e4: excl_e4 + vat_of(excl_e4, vat_e4),
            cost_e4: quantity.saturating_mul(product.purchase_e4),
        },
    })
}

/// Validates every row; returns the valid receipts (in order of first appearance) and the
/// rejected rows (in file order).
pub fn validate(
    table: &Table,
    columns: &[Option<&'static str>],
    lookups: &Lookups,
) -> (Vec<Receipt>, Vec<Rejection>) {
    let index: HashMap<&'static str, usize> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (c, i)))
        .collect();
    let mut rejected: Vec<Rejection> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Result<Parsed, usize>>> = HashMap::new();
    for (row, cells) in table.rows.iter().enumerate() {
        let cells = Cells {
            row: cells,
            index: &index,
        };
        let parsed = parse_row(&cells, row, lookups);
        let key = cells.get("receipt").map(str::to_owned);
        match (parsed, key) {
            (Ok(p), _) => {
                let key = p.receipt.clone();
                let group = groups.entry(key.clone()).or_default();
                if group.is_empty() {
                    order.push(key);
                }
                group.push(Ok(p));
            }
            (Err((column, reason)), key) => {
                rejected.push(Rejection {
                    row,
                    column,
                    reason,
                });
                if let Some(key) = key {
                    let group = groups.entry(key.clone()).or_default();
                    if group.is_empty() {
                        order.push(key);
                    }
                    group.push(Err(row));
                }
            }
        }
    }
    let mut receipts = Vec::new();
    for key in order {
        let Some(group) = groups.remove(&key) else {
            continue;
        };
        match check_receipt(table, key, group) {
            Ok(r) => receipts.push(r),
            Err(more) => rejected.extend(more),
        }
    }
    rejected.sort_by_key(|r| r.row);
    (receipts, rejected)
}

/// A receipt is all-or-nothing: one bad row takes its other rows with it.
fn check_receipt(
    table: &Table,
    key: String,
    group: Vec<Result<Parsed, usize>>,
) -> Result<Receipt, Vec<Rejection>> {
    let line_of = |row: usize| table.lines.get(row).copied().unwrap_or(0);
    let first_bad = group.iter().find_map(|g| g.as_ref().err().copied());
    let parsed: Vec<Parsed> = group.into_iter().filter_map(Result::ok).collect();
    let reject_all = |column: Option<&'static str>, reason: String| -> Vec<Rejection> {
        parsed
            .iter()
            .map(|p| Rejection {
                row: p.line.row,
                column,
                reason: reason.clone(),
            })
            .collect()
    };
    if let Some(row) = first_bad {
        return Err(reject_all(
            None,
            format!("receipt {key} has an invalid row (line {})", line_of(row)),
        ));
    }
    let Some(head) = parsed.first() else {
        return Err(Vec::new());
    };
    let mismatch = parsed.iter().find_map(|p| {
        if p.store != head.store {
            Some(("store", "store"))
        } else if p.sold_at != head.sold_at {
            Some(("sold_at", "time"))
        } else if p.customer != head.customer {
            Some(("customer", "customer"))
        } else {
            None
        }
    });
    if let Some((column, what)) = mismatch {
        return Err(reject_all(
            Some(column),
            format!(
                "the rows of receipt {key} disagree on its {what} (line {})",
                line_of(head.line.row)
            ),
        ));
    }
    let sum_excl: i64 = parsed.iter().map(|p| p.line.excl_e4).sum();
    let sum_incl: i64 = parsed.iter().map(|p| p.line.incl_e4).sum();
    let tolerance = (TOLERANCE_PER_LINE_E4 * parsed.len() as i64).max(2 * TOLERANCE_PER_LINE_E4);
    let declared = |f: fn(&Parsed) -> Option<i64>| parsed.iter().find_map(f);
    let total_excl = declared(|p| p.total_excl);
    let total_incl = declared(|p| p.total_incl);
    for (column, total, sum) in [
        ("total_excl", total_excl, sum_excl),
        ("total_incl", total_incl, sum_incl),
    ] {
        if let Some(total) = total
            && (total - sum).abs() > tolerance
        {
            return Err(reject_all(
                Some(column),
                format!(
                    "receipt {key}: the lines add up to {}, not {}",
                    crate::model::from_e4(sum),
                    crate::model::from_e4(total)
                ),
            ));
        }
    }
    let mut lines: Vec<Line> = Vec::with_capacity(parsed.len());
    let (store, sold_at, customer) = (head.store, head.sold_at, head.customer.clone());
    for p in parsed {
        lines.push(p.line);
    }
    Ok(Receipt {
        receipt: key,
        store,
        sold_at,
        customer,
        total_excl_e4: total_excl.unwrap_or(sum_excl),
        total_incl_e4: total_incl.unwrap_or(sum_incl),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_common_formats() {
        let want = "2025-03-14T10:22:00Z";
        for s in [
            "2025-03-14 10:22",
            "2025-03-14T10:22:00",
            "14/03/2025 10:22",
            "14.03.2025 10:22:00",
            "2025-03-14T11:22:00+01:00",
        ] {
            assert_eq!(
                parse_datetime(s)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                want,
                "{s}"
            );
        }
        assert!(parse_datetime("2025-02-30").is_none());
        assert!(parse_datetime("yesterday").is_none());
        assert_eq!(
            parse_datetime("14/03/2025")
                .unwrap()
                .date_naive()
                .to_string(),
            "2025-03-14"
        );
    }

    #[test]
    fn vat_rounds_half_away_from_zero() {
        assert_eq!(vat_of(100_000, 200_000), 20_000);
        assert_eq!(vat_of(-100_000, 200_000), -20_000);
        assert_eq!(vat_of(5, 100_000), 1); // 0.5 e4 rounds up
        assert_eq!(vat_of(-5, 100_000), -1);
        assert_eq!(vat_of(4, 100_000), 0);
    }

    fn lookups() -> Lookups {
        let mut l = Lookups::default();
        l.stores.insert("S1".into(), Uuid::from_u128(1));
        l.products.insert(
            "A".into(),
            ProductInfo {
                id: Uuid::from_u128(2),
                vat_e4: 200_000,
                purchase_e4: 50_000,
                category: Uuid::nil(),
            },
        );
        l
    }

    fn table(rows: &[&str]) -> (Table, Vec<Option<&'static str>>) {
        let text = format!(
            "receipt,store,sold_at,sku,quantity,unit_price,discount,total_excl,total_incl\n{}\n",
            rows.join("\n")
        );
        let t = super::super::read::read(super::super::read::Format::Csv, text.as_bytes(), 100)
            .unwrap();
        let cols = super::super::columns::map_headers(&t.headers, &HashMap::new()).unwrap();
        (t, cols)
    }

    #[test]
    fn receipts_returns_and_totals() {
        let (t, cols) = table(&[
            "R1,S1,2025-01-02,A,2,10.00,1.00,19.00,22.80",
            "R2,S1,2025-01-02,A,-1,10.00,,-10,-12",
            "R3,S1,2025-01-02,A,1,10.00,,15,",
            "R4,S9,2025-01-02,A,1,10.00,,,",
            "R5,S1,2025-01-02,A,1,10.00,,,",
            "R5,S1,2025-01-02,B,1,10.00,,,",
            "R6,S1,2025-01-02,A,0,10.00,,,",
        ]);
        let (ok, bad) = validate(&t, &cols, &lookups());
        let names: Vec<&str> = ok.iter().map(|r| r.receipt.as_str()).collect();
        assert_eq!(names, ["R1", "R2"]);
        assert_eq!(ok[0].lines[0].excl_e4, 190_000);
        assert_eq!(ok[0].lines[0].incl_e4, 228_000);
        assert_eq!(ok[0].lines[0].cost_e4, 100_000);
        assert_eq!(ok[1].lines[0].excl_e4, -100_000);
        let rows: Vec<(usize, Option<&str>)> = bad.iter().map(|r| (r.row, r.column)).collect();
        assert_eq!(
            rows,
            [
                (2, Some("total_excl")),
                (3, Some("store")),
                (4, None),
                (5, Some("sku")),
                (6, Some("quantity"))
            ]
        );
    }
}
