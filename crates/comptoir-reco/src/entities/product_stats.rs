use sea_orm::entity::prelude::*;

/// Review aggregates of one product (`id` is the product's id).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reco_product_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub review_count: i32,
    pub scored_count: i32,
    pub rating_mean: f64,
    pub sentiment_mean: f64,
    pub recent_sentiment_mean: f64,
    pub trend: f64,
    pub reputation: f64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
