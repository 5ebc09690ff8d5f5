use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// One of [`crate::state::Status`].
    pub status: String,
    /// Set at intake (customer by id) or by the worker (inline customer, upserted by email).
    pub customer_id: Option<Uuid>,
    pub customer_email: Option<String>,
    /// The customer as posted: `{"id"}` or `{"email", "name", "shipping_address", ...}`.
    pub customer: Json,
    pub currency: String,
    pub shipping: Option<Json>,
    pub delivery_type: String,
    pub metadata: Json,
    /// Lines plus shipping, known once validated (ten-thousandths).
    pub total_e4: Option<i64>,
    /// Why it was rejected, cancelled or failed.
    pub reason: Option<String>,
    pub reservation_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the canonical request body (idempotency check).
    pub request_hash: String,
    pub task_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
