//! Prometheus metrics, served at `/metrics` in the text exposition format: HTTP requests by
//! route and status with latency histograms, jobs by kind and outcome, queue depth and the
//! oldest job's age, dead letters, workers alive, cache hits and misses, rate-limit
//! rejections and database pool usage. Counters live in one process-wide registry; gauges
//! that describe the database are computed at scrape time.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::state::AppState;

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_latency: HistogramVec,
    jobs_finished: IntCounterVec,
    jobs_queued: IntGaugeVec,
    jobs_dead: IntGauge,
    queue_depth: IntGauge,
    oldest_job_age: prometheus::Gauge,
    workers_alive: IntGauge,
    cache: IntCounterVec,
    rate_limited: IntCounterVec,
    db_pool: IntGaugeVec,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("comptoir".into()), None)?;
    let http_requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests by route, method and status",
        ),
        &["route", "method", "status"],
    )?;
    let http_latency = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["route", "method"],
    )?;
    let jobs_finished = IntCounterVec::new(
        Opts::new(
            "jobs_finished_total",
            "Job attempts by kind and outcome (succeeded, failed, dead)",
        ),
        &["kind", "status"],
    )?;
    let jobs_queued = IntGaugeVec::new(
        Opts::new(
            "jobs",
            "Jobs in the queue by kind and status (succeeded excluded)",
        ),
        &["kind", "status"],
    )?;
    let jobs_dead = IntGauge::new("jobs_dead_letters", "Dead letters waiting for a replay")?;
    let queue_depth = IntGauge::new(
        "jobs_queue_depth",
        "Jobs waiting to run (queued or awaiting retry)",
    )?;
    let oldest_job_age = prometheus::Gauge::new(
        "jobs_oldest_runnable_age_seconds",
        "Age of the oldest job that could run now",
    )?;
    let workers_alive = IntGauge::new("workers_alive", "Workers running in this process")?;
    let cache = IntCounterVec::new(
        Opts::new(
            "cache_requests_total",
            "Cache lookups by cache and result (hit, miss)",
        ),
        &["cache", "result"],
    )?;
    let rate_limited = IntCounterVec::new(
        Opts::new(
            "rate_limit_rejections_total",
            "Requests rejected with 429 by route class",
        ),
        &["class"],
    )?;
    let db_pool = IntGaugeVec::new(
        Opts::new(
            "db_pool_connections",
            "Database pool connections by state (size, idle)",
        ),
        &["state"],
    )?;
    registry.register(Box::new(http_requests.clone()))?;
    registry.register(Box::new(http_latency.clone()))?;
    registry.register(Box::new(jobs_finished.clone()))?;
    registry.register(Box::new(jobs_queued.clone()))?;
    registry.register(Box::new(jobs_dead.clone()))?;
    registry.register(Box::new(queue_depth.clone()))?;
    registry.register(Box::new(oldest_job_age.clone()))?;
    registry.register(Box::new(workers_alive.clone()))?;
    registry.register(Box::new(cache.clone()))?;
    registry.register(Box::new(rate_limited.clone()))?;
    registry.register(Box::new(db_pool.clone()))?;
    Ok(Metrics {
        registry,
        http_requests,
        http_latency,
        jobs_finished,
        jobs_queued,
        jobs_dead,
        queue_depth,
        oldest_job_age,
        workers_alive,
        cache,
        rate_limited,
        db_pool,
    })
}

static METRICS: LazyLock<Metrics> =
    LazyLock::new(|| build().expect("metric definitions are valid"));

pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let m = &*METRICS;
    m.http_requests
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    m.http_latency
        .with_label_values(&[route, method])
        .observe(seconds);
}

pub fn job_finished(kind: &str, status: &str) {
    METRICS
        .jobs_finished
        .with_label_values(&[kind, status])
        .inc();
}

pub fn workers_alive(delta: i64) {
    METRICS.workers_alive.add(delta);
}

pub fn cache_lookup(cache: &str, hit: bool) {
    METRICS
        .cache
        .with_label_values(&[cache, if hit { "hit" } else { "miss" }])
        .inc();
}

pub fn rate_limited(class: &str) {
    METRICS.rate_limited.with_label_values(&[class]).inc();
}

/// HTTP responses so far in this process: (all, 5xx).
pub fn http_totals() -> (f64, f64) {
    let mut total = 0.0;
    let mut errors = 0.0;
    for family in METRICS
        .registry
        .gather()
        .iter()
        .filter(|f| f.name() == "comptoir_http_requests_total")
    {
        for m in family.get_metric() {
            let v = m.get_counter().get_value();
            total += v;
            if m.get_label()
                .iter()
                .any(|l| l.name() == "status" && l.value().starts_with('5'))
            {
                errors += v;
            }
        }
    }
    (total, errors)
}

/// The HTTP latency histogram summed over routes: cumulative (upper bound s, count).
pub fn http_latency_buckets() -> Vec<(f64, f64)> {
    let mut sums: Vec<(f64, f64)> = Vec::new();
    for family in METRICS
        .registry
        .gather()
        .iter()
        .filter(|f| f.name() == "comptoir_http_request_duration_seconds")
    {
        for m in family.get_metric() {
            let h = m.get_histogram();
            for b in h.get_bucket() {
                match sums.iter_mut().find(|(le, _)| *le == b.upper_bound()) {
                    Some(slot) => slot.1 += b.cumulative_count() as f64,
                    None => sums.push((b.upper_bound(), b.cumulative_count() as f64)),
                }
            }
            match sums.iter_mut().find(|(le, _)| le.is_infinite()) {
                Some(slot) => slot.1 += h.get_sample_count() as f64,
                None => sums.push((f64::INFINITY, h.get_sample_count() as f64)),
            }
        }
    }
    sums.sort_by(|a, b| a.0.total_cmp(&b.0));
    sums
}

/// The metric values an alert rule can read: (name, labels) → value, summed over labels
/// not given.
pub fn value(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let families = METRICS.registry.gather();
    let family = families
        .iter()
        .find(|f| f.name() == name || f.name() == format!("comptoir_{name}"))?;
    let mut total = 0.0;
    let mut found = false;
    for m in family.get_metric() {
        let matches = labels.iter().all(|(k, v)| {
            m.get_label()
                .iter()
                .any(|l| l.name() == *k && l.value() == *v)
        });
        if !matches {
            continue;
        }
        found = true;
        use prometheus::proto::MetricType;
        total += match family.get_field_type() {
            MetricType::COUNTER => m.get_counter().get_value(),
            MetricType::GAUGE => m.get_gauge().get_value(),
            MetricType::HISTOGRAM => m.get_histogram().get_sample_count() as f64,
            _ => 0.0,
        };
    }
    found.then_some(total)
}

/// Refreshes the database-derived gauges and renders everything.
pub async fn render(state: &AppState) -> String {
    let m = &*METRICS;
    match crate::jobs::store::stats(&state.db).await {
        Ok(stats) => {
            m.jobs_queued.reset();
            for (kind, status, n) in &stats.by_kind_status {
                m.jobs_queued.with_label_values(&[kind, status]).set(*n);
            }
            m.queue_depth.set(stats.depth());
            m.jobs_dead.set(stats.dead());
            m.oldest_job_age
                .set(stats.oldest_runnable_age_ms.unwrap_or(0) as f64 / 1000.0);
        }
        Err(e) => tracing::warn!(error = %e, "queue statistics unavailable for /metrics"),
    }
    let (size, idle) = pool_usage(&state.db);
    m.db_pool.with_label_values(&["size"]).set(size);
    m.db_pool.with_label_values(&["idle"]).set(idle);
    let mut out = Vec::new();
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn pool_usage(db: &sea_orm::DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size() as i64, p.num_idle() as i64)
        }
        sea_orm::DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size() as i64, p.num_idle() as i64)
        }
        _ => (0, 0),
    }
}
