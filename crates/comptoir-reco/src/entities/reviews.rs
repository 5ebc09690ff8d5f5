use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reco_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub product_id: Uuid,
    /// The customer's reference in the merchant's systems (free text).
    pub customer_ref: Option<String>,
    /// 1 to 5.
    pub rating: i16,
    pub comment: String,
    /// ISO 639-1 code (`fr`, `en`, ...).
    pub language: String,
    pub helpful_votes: i32,
    /// Filled by the scoring job; `None` until then.
    pub sentiment_score: Option<f64>,
    pub sentiment_label: Option<String>,
    pub sentiment_confidence: Option<f64>,
    pub sentiment_method: Option<String>,
    pub created_at: DateTimeUtc,
    pub scored_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
