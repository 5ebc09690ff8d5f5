//! Reviews without HTTP: validation, storage, reads. Writes take a [`Caller`], check
//! `Permission::Write`, and queue the sentiment job in the same transaction, so a stored
//! review is never left unscored.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

use chrono::{DateTime, Utc};
use comptoir_catalog::entities::products;
use comptoir_catalog::model::ProductId;
use comptoir_kernel::auth::{Caller, Permission};
use comptoir_kernel::error::FieldError;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::{find_in_org, scoped};
use comptoir_kernel::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::*;
use crate::entities::{product_stats, reviews};

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 5_000;

/// Timestamps rounded to microseconds: what PostgreSQL keeps, so both engines agree.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos() % 1000))
}

/// A review whose fields are checked, ready to insert.
#[derive(Debug, Clone)]
pub struct ValidReview {
    pub product_id: ProductId,
    pub customer_ref: Option<String>,
    pub rating: i16,
    pub comment: String,
    pub language: String,
    pub helpful_votes: i32,
    pub created_at: DateTime<Utc>,
}

/// Checks every field of `input` but the product's existence; lists every invalid field.
pub fn validate(input: &ReviewInput) -> AppResult<ValidReview> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, reason: &str| {
        errors.push(FieldError {
            field: field.into(),
            reason: reason.into(),
        })
    };
    if !(1..=5).contains(&input.rating) {
        bad("rating", "must be an integer from 1 to 5");
    }
    let comment = input.comment.trim();
    if comment.is_empty() {
        bad("comment", "must not be empty");
    } else if comment.chars().count() > MAX_COMMENT {
        bad("comment", "must be at most 5000 characters");
    } else if comment
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        bad("comment", "must not contain control characters");
    }
    let customer_ref = input
        .customer_ref
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if customer_ref.is_some_and(|c| c.chars().count() > 200 || c.chars().any(char::is_control)) {
        bad(
            "customer_ref",
            "must be at most 200 characters, without control characters",
        );
    }
    let language = match input.language.as_deref().map(str::trim) {
        None | Some("") => guess_language(comment).to_owned(),
        Some(l) if l.len() == 2 && l.bytes().all(|b| b.is_ascii_alphabetic()) => {
            l.to_ascii_lowercase()
        }
        Some(_) => {
            bad(
                "language",
                "must be a two-letter ISO 639-1 code such as fr or en",
            );
            String::new()
        }
    };
    let helpful_votes = input.helpful_votes.unwrap_or(0);
    if !(0..=i64::from(i32::MAX)).contains(&helpful_votes) {
        bad("helpful_votes", "must be a non-negative integer");
    }
    let created_at = input.created_at.unwrap_or_else(now);
    if created_at > Utc::now() + chrono::Duration::minutes(5) {
        bad("created_at", "must not be in the future");
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    Ok(ValidReview {
        product_id: input.product_id,
        customer_ref: customer_ref.map(str::to_owned),
        rating: input.rating as i16,
        comment: comment.to_owned(),
        language,
        helpful_votes: helpful_votes as i32,
        created_at,
    })
}

/// `fr` when the text reads as French (accents or common French words), else `en`.
pub fn guess_language(text: &str) -> &'static str {
    const FRENCH: &[&str] = &[
        "le", "la", "les", "un", "une", "des", "et", "est", "très", "pas", "je", "ce", "cette",
        "pour", "avec", "mais", "trop", "bien", "du", "qui", "sur", "mon", "ma",
    ];
    const ENGLISH: &[&str] = &[
        "the", "a", "an", "and", "is", "very", "not", "i", "this", "for", "with", "but", "too",
        "good", "of", "it", "my", "was",
    ];
    let lower = text.to_lowercase();
    let (mut fr, mut en) = (0, 0);
    for word in lower.split(|c: char| !c.is_alphanumeric() && c != '\'') {
        if FRENCH.contains(&word) {
            fr += 1;
        }
        if ENGLISH.contains(&word) {
            en += 1;
        }
    }
    if lower.contains(['é', 'è', 'ê', 'à', 'ç', 'ù', 'û', 'ô', 'î']) {
        fr += 2;
    }
    if fr > en { "fr" } else { "en" }
}

/// The insertable row of a checked review.
pub fn new_row(org: OrgId, v: ValidReview) -> reviews::ActiveModel {
    reviews::ActiveModel {
        id: Set(ReviewId::new().0),
        org_id: Set(org.0),
        product_id: Set(v.product_id.0),
        customer_ref: Set(v.customer_ref),
        rating: Set(v.rating),
        comment: Set(v.comment),
        language: Set(v.language),
        helpful_votes: Set(v.helpful_votes),
        sentiment_score: Set(None),
        sentiment_label: Set(None),
        sentiment_confidence: Set(None),
        sentiment_method: Set(None),
        created_at: Set(v.created_at),
        scored_at: Set(None),
    }
}

/// Records a review (its sentiment follows with the scoring job queued here).
pub async fn create_review(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: ReviewInput,
) -> AppResult<Review> {
    caller.require(Permission::Write)?;
    let valid = validate(&input)?;
    find_in_org::<products::Entity>(db, caller.org_id, valid.product_id.0)
        .await
        .map_err(|_| AppError::field("product_id", "no such product"))?;
    let row = new_row(caller.org_id, valid).insert(db).await?;
    crate::jobs::queue_scoring(db, caller.org_id).await?;
    Ok(row.into())
}

/// One review of the organization.
pub async fn get_review(db: &impl ConnectionTrait, org: OrgId, id: ReviewId) -> AppResult<Review> {
    Ok(find_in_org::<reviews::Entity>(db, org, id.0)
        .await
        .map_err(|_| AppError::not_found("review"))?
        .into())
}

/// Reviews of the organization, newest first, filtered.
pub async fn list_reviews(
    db: &impl ConnectionTrait,
    org: OrgId,
    filter: &ReviewFilter,
) -> AppResult<Vec<Review>> {
    let mut query = scoped::<reviews::Entity>(org);
    if let Some(p) = filter.product_id {
        query = query.filter(reviews::Column::ProductId.eq(p.0));
    }
    if let Some(label) = &filter.label {
        if !matches!(label.as_str(), "negative" | "neutral" | "positive") {
            return Err(AppError::invalid_parameter(
                "label",
                "use negative, neutral or positive",
            ));
        }
        query = query.filter(reviews::Column::SentimentLabel.eq(label.as_str()));
    }
    let limit = filter.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid_parameter("limit", "use 1 to 500"));
    }
    Ok(query
        .order_by_desc(reviews::Column::CreatedAt)
        .order_by_desc(reviews::Column::Id)
        .offset(filter.offset.unwrap_or(0))
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Review::from)
        .collect())
}

/// The review aggregates of a product of the organization (neutral when unreviewed).
pub async fn product_stats(
    db: &impl ConnectionTrait,
    org: OrgId,
    product: ProductId,
) -> AppResult<ProductReviewStats> {
    find_in_org::<products::Entity>(db, org, product.0).await?;
    Ok(product_stats::Entity::find_by_id(product.0)
        .filter(product_stats::Column::OrgId.eq(org.0))
        .one(db)
        .await?
        .map(ProductReviewStats::from)
        .unwrap_or_else(|| ProductReviewStats::empty(product)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReviewInput {
        ReviewInput {
            product_id: ProductId::new(),
            customer_ref: Some(" C-42 ".into()),
            rating: 4,
            comment: "  Très bonne voiture  ".into(),
            language: None,
            helpful_votes: None,
            created_at: None,
        }
    }

    #[test]
    fn a_good_review_is_trimmed_and_its_language_guessed() {
        let v = validate(&input()).unwrap();
        assert_eq!(v.comment, "Très bonne voiture");
        assert_eq!(v.customer_ref.as_deref(), Some("C-42"));
        assert_eq!(v.language, "fr");
        assert_eq!(guess_language("The battery is not good"), "en");
    }

    #[test]
    fn every_bad_field_is_listed() {
        let mut bad = input();
        bad.rating = 6;
        bad.comment = "   ".into();
        bad.language = Some("french".into());
        bad.helpful_votes = Some(-1);
        bad.created_at = Some(Utc::now() + chrono::Duration::days(2));
        let err = validate(&bad).unwrap_err();
        let fields: Vec<_> = err.details["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            fields,
            [
                "rating",
                "comment",
                "language",
                "helpful_votes",
                "created_at"
            ]
        );
        let mut zero = input();
        zero.rating = 0;
        assert!(validate(&zero).is_err());
        let mut long = input();
        long.comment = "x".repeat(MAX_COMMENT + 1);
        assert!(validate(&long).is_err());
        let mut nul = input();
        nul.comment = "bad\u{0}byte".into();
        assert!(validate(&nul).is_err());
        let mut lines = input();
        lines.comment = "two\nlines".into();
        assert!(validate(&lines).is_ok());
    }
}
