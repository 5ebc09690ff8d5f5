//! Periods are whole months, `from` to `to` inclusive (`2025-01` to `2025-12`).

use chrono::{Datelike, Months, NaiveDate, Utc};
use comptoir_kernel::{AppError, AppResult};

/// Longest period a dashboard covers.
pub const MAX_MONTHS: u32 = 60;

/// A range of whole months: `from` and `to` are first days of months, `to` included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Parses `YYYY-MM`.
pub fn parse_month(field: &str, raw: &str) -> AppResult<NaiveDate> {
    let bad = || AppError::invalid_parameter(field, "a month as YYYY-MM");
    let (y, m) = raw.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1900..=2200).contains(&y) {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)
}

impl Period {
    /// From the query (`from`, `to`); default: the twelve months ending with this one.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> AppResult<Period> {
        let today = Utc::now().date_naive();
        let this_month = today.with_day(1).unwrap_or(today);
        let to = match to {
            Some(raw) => parse_month("to", raw)?,
            None => this_month,
        };
        let from = match from {
            Some(raw) => parse_month("from", raw)?,
            None => to - Months::new(11),
        };
        if from > to {
            return Err(AppError::invalid_parameter(
                "from",
                "must not be after `to`",
            ));
        }
        let p = Period { from, to };
        if p.months() > MAX_MONTHS {
            return Err(AppError::invalid_parameter(
                "to",
                format!("a period covers at most {MAX_MONTHS} months"),
            ));
        }
        Ok(p)
    }

    pub fn months(self) -> u32 {
        let d = (self.to.year() - self.from.year()) * 12 + self.to.month() as i32
            - self.from.month() as i32;
        d as u32 + 1
    }

    /// The first days of the months covered.
    pub fn month_list(self) -> Vec<NaiveDate> {
        (0..self.months())
            .map(|i| self.from + Months::new(i))
            .collect()
    }

    /// The last day covered.
    pub fn last_day(self) -> NaiveDate {
        (self.to + Months::new(1)).pred_opt().unwrap_or(self.to)
    }

    pub fn contains(self, month: NaiveDate) -> bool {
        self.from <= month && month <= self.to
    }

    /// The period of the same length just before.
    pub fn previous(self) -> Period {
        let n = Months::new(self.months());
        Period {
            from: self.from - n,
            to: self.to - n,
        }
    }

    /// The same months a year earlier.
    pub fn last_year(self) -> Period {
        Period {
            from: self.from - Months::new(12),
            to: self.to - Months::new(12),
        }
    }

    pub fn label(month: NaiveDate) -> String {
        month.format("%Y-%m").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = Period::parse(Some("2025-02"), Some("2025-04")).unwrap();
        assert_eq!(p.months(), 3);
        assert_eq!(
            p.previous(),
            Period::parse(Some("2024-11"), Some("2025-01")).unwrap()
        );
        assert_eq!(
            p.last_year(),
            Period::parse(Some("2024-02"), Some("2024-04")).unwrap()
        );
        assert_eq!(p.last_day().to_string(), "2025-04-30");
        assert!(Period::parse(Some("2025-05"), Some("2025-04")).is_err());
        assert!(Period::parse(Some("2025-13"), None).is_err());
        assert!(Period::parse(Some("2019-01"), Some("2025-01")).is_err());
        assert!(parse_month("from", "2025-1").is_err());
    }
}
