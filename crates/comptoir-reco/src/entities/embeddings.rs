use sea_orm::entity::prelude::*;

/// The stored embedding of one product (`id` is the product's id).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reco_embeddings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// `products` for now: the index is kept per (organization, collection).
    pub collection: String,
    pub product_type_id: Option<Uuid>,
    /// What produced the vector: the embedding model's name (`multilingual-e5-small` by
    /// default) or `hashing-v1`.
    pub model: String,
    pub dim: i32,
    /// Little-endian `f32`s, L2-normalized.
    pub vector: Vec<u8>,
    /// SHA-256 of the embedded text: unchanged text, no recomputation.
    pub source_hash: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

comptoir_kernel::tenant_scoped!(Entity, Column::OrgId, Column::Id);
