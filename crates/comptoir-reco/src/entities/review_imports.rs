use sea_orm::entity::prelude::*;

/// A CSV import of reviews and its row-level report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reco_review_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub content: String,
    pub total_rows: i32,
    pub accepted_rows: i32,
    pub rejected_rows: i32,
    /// `[{line, field, reason}]`, at most 1,000.
    pub rejected: Json,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
