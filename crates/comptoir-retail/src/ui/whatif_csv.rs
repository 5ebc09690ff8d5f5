//! The what-if page's numbers as CSV: baseline and projection of the total, each region and
//! each store, or the sensitivity of the margin to each lever.

use comptoir_kernel::{AppError, AppResult};
use rust_decimal::Decimal;

use crate::dashboard::defuse_cell;
use crate::whatif::{Outcome, Projection};

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn outcome(level: &str, o: &Outcome) -> [String; 12] {
    [
        level.to_owned(),
        o.id.to_string(),
        defuse_cell(&o.code),
        defuse_cell(&o.label),
        o.baseline_revenue.to_string(),
        o.projected_revenue.to_string(),
        o.baseline_margin.to_string(),
        o.projected_margin.to_string(),
        o.baseline_target.to_string(),
        o.projected_target.to_string(),
        opt(o.baseline_attainment_pct),
        opt(o.projected_attainment_pct),
    ]
}

/// `sensitivity`: `lever,margin_change`; else one row per total, region and store.
pub fn to_csv(p: &Projection, sensitivity: bool) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let result = if sensitivity {
        (|| {
            w.write_record(["lever", "margin_change"])?;
            for s in &p.sensitivity {
                w.write_record([s.lever.clone(), s.margin_change.to_string()])?;
            }
            Ok::<(), csv::Error>(())
        })()
    } else {
        (|| {
            w.write_record([
                "level",
                "id",
                "code",
                "label",
                "baseline_revenue",
                "projected_revenue",
                "baseline_margin",
                "projected_margin",
                "baseline_target",
                "projected_target",
                "baseline_attainment_pct",
                "projected_attainment_pct",
            ])?;
            w.write_record(outcome("total", &p.total))?;
            for r in &p.regions {
                w.write_record(outcome("region", r))?;
            }
            for s in &p.stores {
                w.write_record(outcome("store", s))?;
            }
            Ok(())
        })()
    };
    result.map_err(AppError::internal)?;
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}
