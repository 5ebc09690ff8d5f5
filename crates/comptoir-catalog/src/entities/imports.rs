use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// `products` or `stock`.
    pub kind: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    pub options: Json,
    /// The uploaded CSV, kept so a job can process (or resume) it in chunks.
    pub content: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub accepted_rows: i64,
    pub rejected_rows: i64,
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
