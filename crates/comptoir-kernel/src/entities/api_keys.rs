use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// The member who created the key; the key never has more rights than they had.
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the key, shown in listings so a user can recognize it.
    pub prefix: String,
    /// SHA-256 of the whole key; the key itself is shown once and never stored.
    #[sea_orm(unique)]
    pub key_hash: String,
    pub role: String,
    /// Comma-separated scopes (`read`, `write`).
    pub scopes: String,
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::tenant_scoped!(Entity, Column::OrgId, Column::Id);
