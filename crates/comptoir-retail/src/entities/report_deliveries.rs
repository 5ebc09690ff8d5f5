use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retail_report_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub schedule_id: Option<Uuid>,
    pub report_id: Uuid,
    pub month: Date,
    pub recipients: Json,
    pub subject: String,
    /// `pending` (claimed, not yet handed off), `sent` (the mailer accepted it) or `failed`.
    pub status: String,
    /// Which [`crate::reports::ReportMailer`] took it (`log` by default).
    pub mailer: String,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
