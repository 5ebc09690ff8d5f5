//! The forecast baseline: monthly revenue with prediction intervals, from `augurs`.
//!
//! A series of at least two years is decomposed by MSTL (a yearly season of 12 months) and
//! its trend + remainder forecast by AutoETS (non-seasonal ETS, chosen by AICc); the
//! seasonal component is added back to the mean and to both bounds, and the interval is
//! widened to the errors the method made from the last twelve months as origins ([`widen`]).
//! Shorter series fall
//! back to simpler methods (`augurs-ets` has no seasonal ETS yet):
//!
//! | history      | method            | interval                                  |
//! |--------------|-------------------|-------------------------------------------|
//! | ≥ 24 months  | `mstl_ets`        | the ETS model's                           |
//! | 13–23 months | `seasonal_naive`  | RMSE of yearly differences × √(years ahead) |
//! | 8–12 months  | `ets`             | the ETS model's                           |
//! | 1–7 months   | `naive`           | RMSE of monthly differences × √h          |
//!
//! Means and bounds are floored at zero (revenue). [`backtest`] holds out the last months
//! and scores the forecast of them against the actuals and the seasonal-naive baseline.

pub mod api;
pub mod service;

use std::panic::{AssertUnwindSafe, catch_unwind};

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// Months in a season.
pub const SEASON: usize = 12;

/// The interval levels offered, in percent, with their two-sided normal quantile.
pub const LEVELS: [(u32, f64); 4] = [(80, 1.2816), (90, 1.6449), (95, 1.9600), (99, 2.5758)];

/// The default interval level, in percent.
pub const DEFAULT_LEVEL: u32 = 80;

/// How a series was forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    MstlEts,
    Ets,
    SeasonalNaive,
    Naive,
}

/// One forecast month: the mean and the prediction interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A series' forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesForecast {
    pub method: Method,
    pub points: Vec<Point>,
}

fn z_of(level: u32) -> f64 {
    LEVELS
        .iter()
        .find(|(l, _)| *l == level)
        .map_or(LEVELS[0].1, |(_, z)| *z)
}

/// Forecasts `horizon` months after `y` with intervals at `level` percent (one of
/// [`LEVELS`]).
pub fn forecast(y: &[f64], horizon: usize, level: u32) -> SeriesForecast {
    forecast_with(y, horizon, level, true)
}

/// The same means as [`forecast`] with the model's own interval only (no [`widen`]: 12
/// fits fewer), for callers that use the mean alone (the what-if baseline).
pub fn forecast_mean(y: &[f64], horizon: usize) -> SeriesForecast {
    forecast_with(y, horizon, DEFAULT_LEVEL, false)
}

fn forecast_with(y: &[f64], horizon: usize, level: u32, calibrate: bool) -> SeriesForecast {
    let n = y.len();
    let fit = |seasonal: bool| {
        fit_augurs(y, horizon, level, seasonal).map(|p| {
            if calibrate {
                widen(y, p, level, seasonal)
            } else {
                p
            }
        })
    };
    let attempt = if n >= 2 * SEASON {
        fit(true).map(|p| (Method::MstlEts, p))
    } else if n > SEASON {
        None
    } else if n >= 8 {
        fit(false).map(|p| (Method::Ets, p))
    } else {
        None
    };
    let (method, points) = attempt.unwrap_or_else(|| {
        if n > SEASON {
            (Method::SeasonalNaive, naive(y, horizon, SEASON, level))
        } else {
            (Method::Naive, naive(y, horizon, 1, level))
        }
    });
    let floor = |x: f64| if x.is_finite() { x.max(0.0) } else { 0.0 };
    SeriesForecast {
        method,
        points: points
            .into_iter()
            .map(|p| Point {
                mean: floor(p.mean),
                lower: floor(p.lower),
                upper: floor(p.upper),
            })
            .collect(),
    }
}

/// MSTL + AutoETS (`seasonal`) or AutoETS alone. `None` when the fit fails, gives no
/// interval or non-finite numbers; a panic inside the library (a model type whose
/// intervals it does not implement) is caught and treated the same way.
fn fit_augurs(y: &[f64], horizon: usize, level: u32, seasonal: bool) -> Option<Vec<Point>> {
    let level = f64::from(level) / 100.0;
    let run = || -> Option<augurs::Forecast> {
        if seasonal {
            let trend = AutoETS::non_seasonal().into_trend_model();
            let model = MSTLModel::new(vec![SEASON], trend);
            model.fit(y).ok()?.predict(horizon, level).ok()
        } else {
            AutoETS::non_seasonal()
                .fit(y)
                .ok()?
                .predict(horizon, level)
                .ok()
        }
    };
    let f = catch_unwind(AssertUnwindSafe(run)).ok()??;
    let iv = f.intervals?;
    let points: Vec<Point> = f
        .point
        .iter()
        .zip(iv.lower.iter().zip(&iv.upper))
        .map(|(&mean, (&lower, &upper))| Point { mean, lower, upper })
        .collect();
    let ok = points.len() == horizon
        && points
            .iter()
            .all(|p| p.mean.is_finite() && p.lower.is_finite() && p.upper.is_finite());
    ok.then_some(points)
}

/// Widens the model's interval to the errors the same method made on the series' last
/// months: forecasts from each of the last 12 months as origin (at least three, each with
/// the method's minimum history) give errors `e_h` at `h` steps ahead; with
/// `σ₁ = √(mean(e_h² / h))` the interval at `h` is at least `mean ± z σ₁ √h`. The model's
/// own interval ignores the uncertainty of the decomposition and of its parameters, and
/// is too narrow on its own (58 % coverage at 80 % on the unit test's series).
fn widen(y: &[f64], mut points: Vec<Point>, level: u32, seasonal: bool) -> Vec<Point> {
    let min_train = if seasonal { 2 * SEASON } else { 8 };
    let n = y.len();
    let start = min_train.max(n.saturating_sub(SEASON));
    if n < start + 3 {
        return points;
    }
    let (mut sum, mut count) = (0.0, 0usize);
    for origin in start..n {
        let Some(f) = fit_augurs(&y[..origin], n - origin, level, seasonal) else {
            continue;
        };
        for (k, p) in f.iter().enumerate() {
            let e = y[origin + k] - p.mean;
            sum += e * e / (k + 1) as f64;
            count += 1;
        }
    }
    if count == 0 {
        return points;
    }
    let sigma = (sum / count as f64).sqrt();
    let z = z_of(level);
    for (h, p) in points.iter_mut().enumerate() {
        let half = z * sigma * ((h + 1) as f64).sqrt();
        p.lower = p.lower.min(p.mean - half);
        p.upper = p.upper.max(p.mean + half);
    }
    points
}

/// The (seasonal) naive forecast: the value `period` months earlier, repeated; the interval
/// grows with the square root of the number of periods ahead (Hyndman & Athanasopoulos,
/// FPP3 5.5). With no history, zeros.
pub fn naive(y: &[f64], horizon: usize, period: usize, level: u32) -> Vec<Point> {
    let n = y.len();
    if n == 0 {
        return vec![
            Point {
                mean: 0.0,
                lower: 0.0,
                upper: 0.0
            };
            horizon
        ];
    }
    let period = period.min(n);
    let diffs: Vec<f64> = (period..n).map(|t| y[t] - y[t - period]).collect();
    let sigma = if diffs.is_empty() {
        0.0
    } else {
        (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt()
    };
    let z = z_of(level);
    (0..horizon)
        .map(|h| {
            let mean = y[n - period + h % period];
            let k = (h / period + 1) as f64;
            let half = z * sigma * k.sqrt();
            Point {
                mean,
                lower: mean - half,
                upper: mean + half,
            }
        })
        .collect()
}

/// One held-out month of a backtest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeldOut {
    pub actual: f64,
    pub forecast: Point,
    /// The seasonal-naive forecast (naive with less than a year of training data).
    pub naive: f64,
}

/// The score of a forecast of the last months of a series from the months before them.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    pub method: Method,
    pub level: u32,
    pub points: Vec<HeldOut>,
    /// Mean absolute percentage error over the held-out months with a non-zero actual,
    /// in percent; `None` when every actual is zero.
    pub mape: Option<f64>,
    /// The same for the seasonal-naive forecast.
    pub naive_mape: Option<f64>,
    /// Share of held-out actuals inside the interval, in percent.
    pub coverage: f64,
}

fn mape(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let errors: Vec<f64> = pairs
        .filter(|(actual, _)| actual.abs() > 1e-9)
        .map(|(actual, predicted)| ((actual - predicted) / actual).abs())
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64 * 100.0)
}

/// Holds out the last `holdout` months of `y`, forecasts them from the months before, and
/// scores the forecast and the seasonal-naive baseline. `None` when `holdout` is zero or
/// leaves no training month.
pub fn backtest(y: &[f64], holdout: usize, level: u32) -> Option<Backtest> {
    if holdout == 0 || holdout >= y.len() {
        return None;
    }
    let (train, test) = y.split_at(y.len() - holdout);
    let f = forecast(train, holdout, level);
    let period = if train.len() >= SEASON { SEASON } else { 1 };
    let baseline = naive(train, holdout, period, level);
    let points: Vec<HeldOut> = test
        .iter()
        .zip(f.points.iter().zip(&baseline))
        .map(|(&actual, (&forecast, naive))| HeldOut {
            actual,
            forecast,
            naive: naive.mean.max(0.0),
        })
        .collect();
    let covered = points
        .iter()
        .filter(|p| p.forecast.lower <= p.actual && p.actual <= p.forecast.upper)
        .count();
    Some(Backtest {
        method: f.method,
        level,
        mape: mape(points.iter().map(|p| (p.actual, p.forecast.mean))),
        naive_mape: mape(points.iter().map(|p| (p.actual, p.naive))),
        coverage: covered as f64 / points.len() as f64 * 100.0,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five years of monthly revenue: level 1,000, trend +10 a month, a yearly season of
    /// amplitude 200 and deterministic noise of about ±25.
    pub(crate) fn synthetic(months: usize) -> Vec<f64> {
        let mut state: u64 = 42;
        (0..months)
            .map(|t| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 50.0;
                let season = 200.0 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).sin();
                1000.0 + 10.0 * t as f64 + season + noise
            })
            .collect()
    }

    #[test]
    fn the_backtest_on_a_trending_seasonal_series_beats_seasonal_naive() {
        let y = synthetic(60);
        let b = backtest(&y, 12, 80).unwrap();
        assert_eq!(b.method, Method::MstlEts);
        let mape = b.mape.unwrap();
        let naive = b.naive_mape.unwrap();
        // The trend over a year (+120 on ~1,600) is what seasonal naive misses: ~7 %.
        assert!(mape < 4.0, "MAPE {mape:.2} %");
        assert!(
            mape <= naive,
            "MAPE {mape:.2} % vs seasonal naive {naive:.2} %"
        );
        assert!(naive > 5.0, "seasonal naive {naive:.2} %");
        // An 80 % interval covers most of the twelve held-out months.
        assert!(b.coverage >= 75.0, "coverage {:.0} %", b.coverage);
        for p in &b.points {
            assert!(p.forecast.lower <= p.forecast.mean && p.forecast.mean <= p.forecast.upper);
            // Not covered by being vacuous: within ±5 % of the mean.
            assert!(
                p.forecast.upper - p.forecast.lower < 0.1 * p.forecast.mean,
                "{p:?}"
            );
        }
        // A wider level gives wider intervals.
        let wide = backtest(&y, 12, 95).unwrap();
        let width = |b: &Backtest| b.points[0].forecast.upper - b.points[0].forecast.lower;
        assert!(width(&wide) > width(&b));
        assert!(wide.coverage >= b.coverage);
    }

    #[test]
    fn the_forecast_follows_the_season_and_the_trend() {
        let y = synthetic(48);
        let f = forecast(&y, 12, 80);
        assert_eq!(f.points.len(), 12);
        // Month 48 is a season start (sin 0), month 51 the peak (+200), month 57 the trough.
        let peak = f.points[3].mean;
        let trough = f.points[9].mean;
        assert!(peak - trough > 300.0, "peak {peak} trough {trough}");
        // Next year's peak is above this year's (the trend).
        assert!(peak > y[39], "peak {peak} last year's {}", y[39]);
    }

    #[test]
    fn the_mean_only_forecast_has_the_same_means() {
        let y = synthetic(40);
        let (full, mean) = (forecast(&y, 6, 80), forecast_mean(&y, 6));
        assert_eq!(full.method, mean.method);
        for (a, b) in full.points.iter().zip(&mean.points) {
            assert_eq!(a.mean, b.mean);
            assert!(a.upper - a.lower >= b.upper - b.lower - 1e-9);
        }
    }

    #[test]
    fn short_histories_fall_back_to_simpler_methods() {
        let y = synthetic(18);
        let f = forecast(&y, 3, 80);
        assert_eq!(f.method, Method::SeasonalNaive);
        assert_eq!(f.points[0].mean, y[6]);
        assert_eq!(forecast(&y[..10], 2, 80).method, Method::Ets);
        let f = forecast(&[5.0, 7.0], 3, 80);
        assert_eq!(f.method, Method::Naive);
        assert_eq!(f.points[2].mean, 7.0);
        // One step of RMSE 2 at z 1.2816, growing with √h.
        assert!((f.points[0].upper - 7.0 - 1.2816 * 2.0).abs() < 1e-9);
        assert!((f.points[2].upper - 7.0 - 1.2816 * 2.0 * 3f64.sqrt()).abs() < 1e-9);
        let empty = forecast(&[], 2, 80);
        assert_eq!(empty.points.iter().map(|p| p.upper).sum::<f64>(), 0.0);
    }

    #[test]
    fn flat_zero_and_falling_series_give_finite_non_negative_points() {
        for y in [
            vec![0.0; 30],
            vec![100.0; 30],
            (0..30)
                .map(|t| 3000.0 - 120.0 * t as f64)
                .collect::<Vec<_>>(),
        ] {
            let f = forecast(&y, 24, 95);
            assert_eq!(f.points.len(), 24);
            for p in f.points {
                assert!(
                    p.mean.is_finite() && p.lower >= 0.0 && p.mean >= 0.0,
                    "{p:?}"
                );
                assert!(
                    p.lower <= p.mean + 1e-9 && p.mean <= p.upper + 1e-9,
                    "{p:?}"
                );
            }
        }
    }

    #[test]
    fn backtest_needs_training_months() {
        assert!(backtest(&[1.0, 2.0], 2, 80).is_none());
        assert!(backtest(&[1.0, 2.0], 0, 80).is_none());
        let b = backtest(&[0.0, 0.0, 0.0], 1, 80).unwrap();
        assert_eq!((b.mape, b.coverage), (None, 100.0));
    }
}
