//! `POST /api/v1/sentiment`: the sentiment of one text (`{text}`) or of many (`{texts}`),
//! with the model when it is loaded, the lexicon fallback otherwise (`method` says which).

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use axum::Json;
use axum::extract::State;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::ApiJson;
use comptoir_kernel::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::reviews::stats::{label_str, sentiments};

/// Most texts per request.
pub const MAX_TEXTS: usize = 256;
/// Longest text, in characters.
pub const MAX_CHARS: usize = 5_000;

/// The sentiment API routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sentiment))
}

/// One text or many (exactly one of the two fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SentimentRequest {
    pub text: Option<String>,
    pub texts: Option<Vec<String>>,
}

/// The sentiment of one text.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentScore {
    /// In [-1, 1]: P(positive) − P(negative).
    pub score: f64,
    /// `negative`, `neutral` or `positive`.
    pub label: String,
    /// Probability of the label, in [0, 1].
    pub confidence: f64,
    /// `model` or `lexicon`.
    pub method: String,
}

/// The scores, in the order of the texts.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentResponse {
    pub results: Vec<SentimentScore>,
}

/// Checks a request; returns its texts.
pub fn texts(req: SentimentRequest) -> AppResult<Vec<String>> {
    let (field, texts) = match (req.text, req.texts) {
        (Some(t), None) => ("text", vec![t]),
        (None, Some(ts)) => ("texts", ts),
        _ => {
            return Err(AppError::field(
                "body",
                "give either text or texts, not both and not neither",
            ));
        }
    };
    if texts.is_empty() || texts.len() > MAX_TEXTS {
        return Err(AppError::field(field, "give 1 to 256 texts"));
    }
    for (i, t) in texts.iter().enumerate() {
        let at = if field == "text" {
            "text".to_owned()
        } else {
            format!("texts[{i}]")
        };
        if t.trim().is_empty() {
            return Err(AppError::field(at, "must not be empty"));
        }
        if t.chars().count() > MAX_CHARS {
            return Err(AppError::field(at, "must be at most 5000 characters"));
        }
    }
    Ok(texts)
}

/// Sentiment of short texts (reviews, comments) in French or English.
#[utoipa::path(post, path = "/api/v1/sentiment", tag = "reviews", request_body = SentimentRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = SentimentResponse), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn sentiment(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(req): ApiJson<SentimentRequest>,
) -> AppResult<Json<SentimentResponse>> {
    let texts = texts(req)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let results = sentiments(&state, &refs)
        .await
        .into_iter()
        .map(|s| SentimentScore {
            score: f64::from(s.score.clamp(-1.0, 1.0)),
            label: label_str(s.label).to_owned(),
            confidence: f64::from(s.confidence.clamp(0.0, 1.0)),
            method: serde_json::to_value(s.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        })
        .collect();
    Ok(Json(SentimentResponse { results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: Option<&str>, texts: Option<Vec<&str>>) -> SentimentRequest {
        SentimentRequest {
            text: text.map(str::to_owned),
            texts: texts.map(|t| t.into_iter().map(str::to_owned).collect()),
        }
    }

    #[test]
    fn exactly_one_of_text_and_texts() {
        assert_eq!(texts(req(Some("bien"), None)).unwrap(), ["bien"]);
        assert_eq!(texts(req(None, Some(vec!["a", "b"]))).unwrap().len(), 2);
        let field = |e: AppError| e.details["fields"][0]["field"].as_str().unwrap().to_owned();
        assert_eq!(field(texts(req(None, None)).unwrap_err()), "body");
        assert_eq!(
            field(texts(req(Some("x"), Some(vec!["y"]))).unwrap_err()),
            "body"
        );
        assert_eq!(field(texts(req(None, Some(vec![]))).unwrap_err()), "texts");
        assert_eq!(
            field(texts(req(None, Some(vec!["ok", " "]))).unwrap_err()),
            "texts[1]"
        );
        let long = "x".repeat(MAX_CHARS + 1);
        assert_eq!(field(texts(req(Some(&long), None)).unwrap_err()), "text");
    }
}
