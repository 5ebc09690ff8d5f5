//! The review analytics page (`/reco/reviews`): the distribution of ratings and sentiment
//! labels, the products with the worst reputation, and the latest negative reviews. It
//! reads through the same tables as the API, scoped to the signed-in member's organization.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use comptoir_catalog::entities::products;
use comptoir_kernel::AppState;
use comptoir_kernel::tenancy::scoped;
use comptoir_web::ui::{LAYOUT_TEMPLATES, UiError, UiSession, render_with, ser};
use minijinja::{Environment, context};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::{product_stats, reviews};

mod couriers;

pub fn router() -> Router<AppState> {
    Router::new().route("/reco/reviews", get(analytics)).route(
        "/reco/couriers",
        get(couriers::form_page).post(couriers::submit),
    )
}

/// Renders one of the slice's pages.
fn render(name: &str, ctx: minijinja::Value) -> Result<axum::response::Html<String>, UiError> {
    render_with(env(), name, ctx)
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let own: &[(&'static str, &'static str)] = &[
            (
                "reco_reviews.html",
                include_str!("../../templates/reco_reviews.html"),
            ),
            (
                "couriers.html",
                include_str!("../../templates/couriers.html"),
            ),
        ];
        for (name, source) in LAYOUT_TEMPLATES.iter().chain(own) {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        env
    })
}

#[derive(Serialize)]
struct Bar {
    label: String,
    count: i64,
    percent: f64,
}

fn bars(counts: Vec<(String, i64)>) -> Vec<Bar> {
    let total: i64 = counts.iter().map(|c| c.1).sum();
    counts
        .into_iter()
        .map(|(label, count)| Bar {
            label,
            count,
            percent: if total == 0 {
                0.0
            } else {
                (count as f64 * 1000.0 / total as f64).round() / 10.0
            },
        })
        .collect()
}

async fn analytics(State(state): State<AppState>, session: UiSession) -> Result<Response, UiError> {
    let org = session.caller.org_id;
    let db = &state.db;
    let points: Vec<(i16, Option<String>)> = scoped::<reviews::Entity>(org)
        .select_only()
        .column(reviews::Column::Rating)
        .column(reviews::Column::SentimentLabel)
        .into_tuple()
        .all(db)
        .await
        .map_err(|e| UiError(e.into()))?;
    let mut ratings = [0i64; 5];
    let mut labels: HashMap<String, i64> = HashMap::new();
    for (rating, label) in &points {
        if (1..=5).contains(rating) {
            ratings[*rating as usize - 1] += 1;
        }
        *labels
            .entry(label.clone().unwrap_or_else(|| "pending".into()))
            .or_default() += 1;
    }
    let rating_bars = bars(
        (1..=5)
            .map(|r| (format!("{r} ★"), ratings[r - 1]))
            .collect(),
    );
    let label_bars = bars(
        ["positive", "neutral", "negative", "pending"]
            .iter()
            .map(|l| ((*l).to_owned(), labels.get(*l).copied().unwrap_or(0)))
            .collect(),
    );

    let worst = scoped::<product_stats::Entity>(org)
        .filter(product_stats::Column::ReviewCount.gt(0))
        .order_by_asc(product_stats::Column::Reputation)
        .limit(10)
        .all(db)
        .await
        .map_err(|e| UiError(e.into()))?;
    let negative = scoped::<reviews::Entity>(org)
        .filter(reviews::Column::SentimentLabel.eq("negative"))
        .order_by_desc(reviews::Column::CreatedAt)
        .limit(20)
        .all(db)
        .await
        .map_err(|e| UiError(e.into()))?;
    let ids: Vec<Uuid> = worst
        .iter()
        .map(|w| w.id)
        .chain(negative.iter().map(|r| r.product_id))
        .collect();
    let names: HashMap<Uuid, String> = scoped::<products::Entity>(org)
        .filter(products::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(|e| UiError(e.into()))?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    let worst: Vec<serde_json::Value> = worst
        .iter()
        .map(|w| {
            serde_json::json!({
                "id": w.id, "name": name(&w.id), "reputation": w.reputation,
                "reviews": w.review_count, "rating": w.rating_mean,
                "sentiment": w.sentiment_mean, "trend": w.trend,
            })
        })
        .collect();
    let negative: Vec<serde_json::Value> = negative
        .iter()
        .map(|r| {
            serde_json::json!({
                "product_id": r.product_id, "product": name(&r.product_id), "rating": r.rating,
                "comment": r.comment, "score": r.sentiment_score,
                "created_at": r.created_at.format("%Y-%m-%d %H:%M").to_string(),
            })
        })
        .collect();
    let ctx = context! {
        total => points.len(),
        ratings => ser(&rating_bars),
        labels => ser(&label_bars),
        worst => ser(&worst),
        negative => ser(&negative),
        ..session.context("reco")
    };
    Ok(render("reco_reviews.html", ctx)?.into_response())
}
