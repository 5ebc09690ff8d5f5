//! Every number of a dashboard as CSV, one table per `part`.

use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Dashboard, Row};

/// Which table of the dashboard to export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvPart {
    /// The headline figures, one `metric,value` per line (default).
    #[default]
    Figures,
    Series,
    Children,
    Top,
    Bottom,
    Stores,
    Categories,
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn rows(w: &mut csv::Writer<Vec<u8>>, rows: &[Row]) -> csv::Result<()> {
    w.write_record([
        "id",
        "code",
        "label",
        "revenue_excl",
        "revenue_incl",
        "gross_margin",
        "gross_margin_pct",
        "units",
        "transactions",
        "target",
        "attainment_pct",
    ])?;
    for r in rows {
        w.write_record([
            r.id.to_string(),
            comptoir_catalog_defuse(&r.code),
            comptoir_catalog_defuse(&r.label),
            r.revenue_excl.to_string(),
            r.revenue_incl.to_string(),
            r.gross_margin.to_string(),
            opt(r.gross_margin_pct),
            r.units.to_string(),
            r.transactions.to_string(),
            opt(r.target),
            opt(r.attainment_pct),
        ])?;
    }
    Ok(())
}

/// A cell safe to open in a spreadsheet (no formula injection).
pub(crate) fn comptoir_catalog_defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// One part of the dashboard as CSV.
pub fn to_csv(d: &Dashboard, part: CsvPart) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let result = match part {
        CsvPart::Figures => (|| {
            let f = &d.figures;
            w.write_record(["metric", "value"])?;
            let scope = [
                ("from", d.from.clone()),
                ("to", d.to.clone()),
                ("level", d.level.clone()),
                ("scope", comptoir_catalog_defuse(&d.label)),
            ];
            for (k, v) in scope {
                w.write_record([k, v.as_str()])?;
            }
            let figures = [
                ("revenue_excl", f.revenue_excl.to_string()),
                ("revenue_incl", f.revenue_incl.to_string()),
                ("cost", f.cost.to_string()),
                ("gross_margin", f.gross_margin.to_string()),
                ("gross_margin_pct", opt(f.gross_margin_pct)),
                ("units", f.units.to_string()),
                ("transactions", f.transactions.to_string()),
                ("average_basket", opt(f.average_basket)),
                ("target", opt(f.target)),
                ("attainment_pct", opt(f.attainment_pct)),
                ("previous_revenue_excl", f.previous_revenue_excl.to_string()),
                ("growth_vs_previous_pct", opt(f.growth_vs_previous_pct)),
                (
                    "last_year_revenue_excl",
                    f.last_year_revenue_excl.to_string(),
                ),
                ("growth_vs_last_year_pct", opt(f.growth_vs_last_year_pct)),
            ];
            for (k, v) in figures {
                w.write_record([k, v.as_str()])?;
            }
            Ok::<(), csv::Error>(())
        })(),
        CsvPart::Series => (|| {
            w.write_record([
                "month",
                "revenue_excl",
                "revenue_incl",
                "gross_margin",
                "units",
                "transactions",
                "target",
            ])?;
            for p in &d.series {
                w.write_record([
                    p.month.clone(),
                    p.revenue_excl.to_string(),
                    p.revenue_incl.to_string(),
                    p.gross_margin.to_string(),
                    p.units.to_string(),
                    p.transactions.to_string(),
                    opt(p.target),
                ])?;
            }
            Ok(())
        })(),
        CsvPart::Children => rows(&mut w, &d.children),
        CsvPart::Top => rows(&mut w, &d.top),
        CsvPart::Bottom => rows(&mut w, &d.bottom),
        CsvPart::Stores => rows(&mut w, &d.stores),
        CsvPart::Categories => rows(&mut w, &d.categories),
    };
    result.map_err(AppError::internal)?;
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}
