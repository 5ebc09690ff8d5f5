use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub product_id: Uuid,
    pub location_id: Uuid,
    /// `receipt`, `adjustment`, `count`, `import`, `reserve`, `release` or `ship`.
    pub kind: String,
    /// The amount moved, as the user sees it (always positive except for adjustments).
    pub quantity: i64,
    /// Change of `on_hand`; the sum over the ledger equals the stock level.
    pub on_hand_delta: i64,
    /// Change of `reserved`; the sum over the ledger equals the reserved quantity.
    pub reserved_delta: i64,
    pub reason: Option<String>,
    pub actor_user_id: Option<Uuid>,
    /// An order, reservation or import id.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
