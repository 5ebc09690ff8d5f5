//! Alert rules over the metrics, from the configuration: a threshold, a window and a
//! severity. Each `serve`/`worker` process evaluates them periodically against its own
//! counters (HTTP error rate and latency are per process) and the shared queue figures; a
//! firing rule opens one alert row (shared by all processes) and tells the [`AlertSink`];
//! the alert resolves when the condition clears. The notification capability will provide
//! a sink that e-mails and posts webhooks; for now alerts are logged.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entities::alerts;
use crate::error::AppResult;
use crate::state::AppState;

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// Jobs waiting to run.
    QueueDepth,
    /// Dead letters waiting for a replay.
    DeadLetters,
    /// Age of the oldest job that could run, in seconds.
    OldestJobAgeSecs,
    /// Share of HTTP responses that were 5xx over the window (0.01 = 1 %).
    ErrorRate,
    /// 95th percentile of HTTP latency over the window, in milliseconds.
    P95LatencyMs,
}

/// One rule: fires when `metric` is above `above`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    pub metric: AlertMetric,
    pub above: f64,
    /// Window for rates and percentiles.
    #[serde(default = "default_window")]
    pub window_secs: u64,
    /// `info`, `warning` or `critical`.
    #[serde(default = "default_severity")]
    pub severity: String,
}

fn default_window() -> u64 {
    300
}

fn default_severity() -> String {
    "warning".into()
}

/// `[alerts]`: how often to evaluate, and the rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub evaluate_every_secs: u64,
    pub rules: Vec<AlertRule>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        let rule = |name: &str, metric, above, severity: &str| AlertRule {
            name: name.into(),
            metric,
            above,
            window_secs: 300,
            severity: severity.into(),
        };
        Self {
            evaluate_every_secs: 30,
            rules: vec![
                rule("queue backlog", AlertMetric::QueueDepth, 1000.0, "warning"),
                rule(
                    "HTTP error rate above 1 %",
                    AlertMetric::ErrorRate,
                    0.01,
                    "critical",
                ),
                rule(
                    "HTTP p95 above 500 ms",
                    AlertMetric::P95LatencyMs,
                    500.0,
                    "warning",
                ),
                rule(
                    "dead letters waiting",
                    AlertMetric::DeadLetters,
                    0.0,
                    "warning",
                ),
            ],
        }
    }
}

/// Where alerts go when they open or resolve.
pub trait AlertSink: Send + Sync {
    fn opened(&self, alert: &alerts::Model);
    fn resolved(&self, alert: &alerts::Model);
}

/// Writes alerts to the log.
pub struct LogSink;

impl AlertSink for LogSink {
    fn opened(&self, a: &alerts::Model) {
        tracing::warn!(rule = %a.rule, severity = %a.severity, value = a.value, threshold = a.threshold, "alert: {}", a.message);
    }

    fn resolved(&self, a: &alerts::Model) {
        tracing::info!(rule = %a.rule, "alert resolved: {}", a.message);
    }
}

/// One reading of the HTTP counters, to compute rates over a window.
#[derive(Clone, Debug)]
struct Snapshot {
    at: Instant,
    total: f64,
    errors: f64,
    /// Cumulative histogram: (upper bound in seconds, count).
    buckets: Vec<(f64, f64)>,
}

fn snapshot() -> Snapshot {
    let (total, errors) = crate::metrics::http_totals();
    Snapshot {
        at: Instant::now(),
        total,
        errors,
        buckets: crate::metrics::http_latency_buckets(),
    }
}

/// The p95 (ms) between two cumulative histograms; None without requests.
fn p95_ms(old: &[(f64, f64)], new: &[(f64, f64)]) -> Option<f64> {
    let deltas: Vec<(f64, f64)> = new
        .iter()
        .map(|(le, n)| {
            (
                *le,
                n - old
                    .iter()
                    .find(|(l, _)| l == le)
                    .map(|(_, o)| *o)
                    .unwrap_or(0.0),
            )
        })
        .collect();
    let count = deltas.last().map(|(_, n)| *n).filter(|n| *n > 0.0)?;
    let target = 0.95 * count;
    deltas.iter().find(|(_, n)| *n >= target).map(|(le, _)| {
        if le.is_finite() {
            le * 1000.0
        } else {
            f64::INFINITY
        }
    })
}

/// Evaluates the rules; keeps the history the windows need.
pub struct Evaluator {
    rules: Vec<AlertRule>,
    history: VecDeque<Snapshot>,
    sink: Arc<dyn AlertSink>,
}

impl Evaluator {
    pub fn new(rules: Vec<AlertRule>, sink: Arc<dyn AlertSink>) -> Self {
        Self {
            rules,
            history: VecDeque::new(),
            sink,
        }
    }

    /// The current value of each rule's metric (None: no data in the window).
    async fn values(&mut self, db: &impl ConnectionTrait) -> AppResult<Vec<Option<f64>>> {
        let now = snapshot();
        let longest = self
            .rules
            .iter()
            .map(|r| r.window_secs)
            .max()
            .unwrap_or(300);
        self.history.push_back(now.clone());
        while self
            .history
            .front()
            .is_some_and(|s| now.at.duration_since(s.at) > Duration::from_secs(longest + 60))
        {
            self.history.pop_front();
        }
        let stats = crate::jobs::store::stats(db).await?;
        let mut out = Vec::new();
        for rule in &self.rules {
            let base = self
                .history
                .iter()
                .find(|s| now.at.duration_since(s.at) <= Duration::from_secs(rule.window_secs))
                .cloned()
                .unwrap_or_else(|| now.clone());
            let value = match rule.metric {
                AlertMetric::QueueDepth => Some(stats.depth() as f64),
                AlertMetric::DeadLetters => Some(stats.dead() as f64),
                AlertMetric::OldestJobAgeSecs => {
                    Some(stats.oldest_runnable_age_ms.unwrap_or(0) as f64 / 1000.0)
                }
                AlertMetric::ErrorRate => {
                    let total = now.total - base.total;
                    (total > 0.0).then(|| (now.errors - base.errors) / total)
                }
                AlertMetric::P95LatencyMs => p95_ms(&base.buckets, &now.buckets),
            };
            out.push(value);
        }
        Ok(out)
    }

    /// One evaluation: opens alerts for firing rules, resolves the others.
    pub async fn evaluate(&mut self, db: &impl ConnectionTrait) -> AppResult<()> {
        let values = self.values(db).await?;
        for (rule, value) in self.rules.clone().iter().zip(values) {
            let open = alerts::Entity::find()
                .filter(alerts::Column::Rule.eq(&rule.name))
                .filter(alerts::Column::ResolvedAt.is_null())
                .one(db)
                .await?;
            let firing = value.is_some_and(|v| v > rule.above);
            match (firing, open) {
                (true, None) => {
                    let v = value.unwrap_or_default();
                    let alert = alerts::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        rule: Set(rule.name.clone()),
                        severity: Set(rule.severity.clone()),
                        message: Set(format!("{}: {:.4} > {}", rule.name, v, rule.above)),
                        value: Set(if v.is_finite() { v } else { f64::MAX }),
                        threshold: Set(rule.above),
                        opened_at: Set(Utc::now()),
                        resolved_at: Set(None),
                    }
                    .insert(db)
                    .await?;
                    self.sink.opened(&alert);
                }
                (false, Some(open)) if value.is_some() => {
                    let mut active: alerts::ActiveModel = open.into();
                    active.resolved_at = Set(Some(Utc::now()));
                    let resolved = active.update(db).await?;
                    self.sink.resolved(&resolved);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Evaluates the configured rules every `evaluate_every_secs` until the process ends.
pub fn spawn(state: AppState, sink: Arc<dyn AlertSink>) {
    let config = state.config.alerts.clone();
    if config.rules.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut evaluator = Evaluator::new(config.rules, sink);
        let mut tick =
            tokio::time::interval(Duration::from_secs(config.evaluate_every_secs.max(1)));
        loop {
            tick.tick().await;
            if let Err(e) = evaluator.evaluate(&state.db).await {
                tracing::warn!(error = %e, "alert evaluation failed");
            }
        }
    });
}

/// Recent alerts, open first.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<alerts::Model>> {
    Ok(alerts::Entity::find()
        .order_by_asc(alerts::Column::ResolvedAt.is_not_null())
        .order_by_desc(alerts::Column::OpenedAt)
        .limit(limit)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::p95_ms;

    #[test]
    fn p95_from_histogram_deltas() {
        let old = vec![
            (0.01, 10.0),
            (0.1, 10.0),
            (1.0, 10.0),
            (f64::INFINITY, 10.0),
        ];
        // 100 new requests: 90 under 10 ms, 8 under 100 ms, 2 under 1 s.
        let new = vec![
            (0.01, 100.0),
            (0.1, 108.0),
            (1.0, 110.0),
            (f64::INFINITY, 110.0),
        ];
        assert_eq!(p95_ms(&old, &new), Some(100.0));
        assert_eq!(p95_ms(&new, &new), None);
    }
}
