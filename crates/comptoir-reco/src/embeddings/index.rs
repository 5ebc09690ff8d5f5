//! The in-memory product index: one HNSW collection (comptoir-ml's `VectorIndex`, exact
//! search below 2,000 vectors) per (organization, `products:<model>`), so vectors of the
//! model and of the fallback are never compared. An organization's vectors are loaded
//! from `reco_embeddings` on first use (and at start, [`warm`]); every write goes through
//! [`ProductIndex::upsert`]; a search first catches up with rows written by another
//! process (`updated_at` past the loaded watermark).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppResult, AppState};
use comptoir_ml::ann::{CollectionKey, IndexConfig, VectorIndex};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::embeddings;

/// The collection name of products.
pub const COLLECTION: &str = "products";

#[derive(Debug, Clone, Copy)]
struct Entry {
    product: Uuid,
    product_type: Option<Uuid>,
}

#[derive(Default)]
struct OrgEntries {
    loaded: bool,
    watermark: Option<DateTime<Utc>>,
    ids: HashMap<Uuid, u64>,
    entries: HashMap<u64, Entry>,
    /// The model of each entry's indexed vector (its collection). Apart from `entries`,
    /// which every search copies.
    models: HashMap<u64, Arc<str>>,
    next: u64,
}

/// Every organization's product vectors. Cheap to clone.
#[derive(Clone)]
pub struct ProductIndex {
    vectors: Arc<VectorIndex>,
    orgs: Arc<Mutex<HashMap<OrgId, OrgEntries>>>,
}

impl Default for ProductIndex {
    fn default() -> Self {
        Self {
            vectors: Arc::new(VectorIndex::new(IndexConfig::default())),
            orgs: Default::default(),
        }
    }
}

/// Decodes a stored vector (little-endian `f32`s).
pub fn decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Encodes a vector for storage.
pub fn encode(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn key(org: OrgId, model: &str) -> CollectionKey {
    CollectionKey::new(org.to_string(), format!("{COLLECTION}:{model}"))
}

impl ProductIndex {
    /// The index registered in the state (a private empty one if none was).
    pub fn of(state: &AppState) -> ProductIndex {
        state.ext::<ProductIndex>().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, OrgEntries>> {
        self.orgs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces a product's vector.
    pub fn upsert(
        &self,
        org: OrgId,
        product: Uuid,
        product_type: Option<Uuid>,
        model: &str,
        vector: Vec<f32>,
    ) {
        let mut orgs = self.lock();
        let o = orgs.entry(org).or_default();
        let id = match o.ids.get(&product) {
            Some(id) => *id,
            None => {
                o.next += 1;
                o.ids.insert(product, o.next);
                o.next
            }
        };
        o.entries.insert(
            id,
            Entry {
                product,
                product_type,
            },
        );
        // A product has one vector: the one of another model (the fallback's, or an
        // earlier model's) leaves its collection.
        // (Loading stored vectors re-upserts every product under its model: no new name then.)
        if o.models.get(&id).is_none_or(|m| &**m != model)
            && let Some(old) = o.models.insert(id, model.into())
        {
            self.vectors.remove(&key(org, &old), id);
        }
        if let Err(e) = self.vectors.upsert(&key(org, model), id, vector) {
            tracing::warn!(%org, %product, error = %e, "vector not indexed");
        }
    }

    /// Forgets a product.
    pub fn remove(&self, org: OrgId, product: Uuid) {
        let mut orgs = self.lock();
        let Some(o) = orgs.get_mut(&org) else { return };
        if let Some(id) = o.ids.remove(&product) {
            o.entries.remove(&id);
            if let Some(model) = o.models.remove(&id) {
                self.vectors.remove(&key(org, &model), id);
            }
        }
    }

    /// Loads the organization's stored vectors written since the last load (all of them
    /// the first time).
    pub async fn catch_up(&self, db: &impl ConnectionTrait, org: OrgId) -> AppResult<()> {
        let (loaded, watermark) = {
            let orgs = self.lock();
            orgs.get(&org)
                .map_or((false, None), |o| (o.loaded, o.watermark))
        };
        let mut query =
            scoped::<embeddings::Entity>(org).filter(embeddings::Column::Collection.eq(COLLECTION));
        if let (true, Some(w)) = (loaded, watermark) {
            query = query.filter(embeddings::Column::UpdatedAt.gte(w));
        }
        let rows = query.all(db).await?;
        let mut newest = watermark;
        for row in rows {
            newest = newest.max(Some(row.updated_at));
            self.upsert(
                org,
                row.id,
                row.product_type_id,
                &row.model,
                decode(&row.vector),
            );
        }
        let mut orgs = self.lock();
        let o = orgs.entry(org).or_default();
        o.loaded = true;
        o.watermark = newest.max(o.watermark);
        Ok(())
    }

    /// Number of the organization's vectors of `model`.
    pub fn len(&self, org: OrgId, model: &str) -> usize {
        self.vectors.len(&key(org, model))
    }

    /// Whether the organization has no vector of `model`.
    pub fn is_empty(&self, org: OrgId, model: &str) -> bool {
        self.len(org, model) == 0
    }

    /// The `k` products of `product_type` most similar to `query` (cosine), `exclude` left
    /// out, best first.
    pub fn search(
        &self,
        org: OrgId,
        model: &str,
        query: &[f32],
        product_type: Option<Uuid>,
        exclude: Uuid,
        k: usize,
    ) -> Vec<(Uuid, f32)> {
        let entries: HashMap<u64, Entry> = {
            let orgs = self.lock();
            match orgs.get(&org) {
                Some(o) => o.entries.clone(),
                None => return Vec::new(),
            }
        };
        let keep = |id: u64| {
            entries
                .get(&id)
                .is_some_and(|e| e.product != exclude && e.product_type == product_type)
        };
        self.vectors
            .search_filtered(&key(org, model), query, k, &keep)
            .into_iter()
            .filter_map(|hit| entries.get(&hit.id).map(|e| (e.product, hit.score)))
            .collect()
    }
}

/// Loads every organization's stored vectors (at start, in the background).
pub async fn warm(state: AppState) {
    use sea_orm::{EntityTrait, QuerySelect};
    let index = ProductIndex::of(&state);
    let orgs: Vec<Uuid> = match embeddings::Entity::find()
        .select_only()
        .column(embeddings::Column::OrgId)
        .distinct()
        .into_tuple()
        .all(&state.db)
        .await
    {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!(error = %e, "product index not warmed");
            return;
        }
    };
    for org in orgs {
        if let Err(e) = index.catch_up(&state.db, OrgId(org)).await {
            tracing::warn!(%org, error = %e.message, "product index not warmed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_storage() {
        let v = vec![0.5, -0.25, 1e-7, 3.0];
        assert_eq!(decode(&encode(&v)), v);
    }

    #[test]
    fn search_keeps_the_type_excludes_the_product_and_separates_models() {
        const E5: &str = "multilingual-e5-small";
        let index = ProductIndex::default();
        let org = OrgId::new();
        let (t1, t2) = (Uuid::new_v4(), Uuid::new_v4());
        let p: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        index.upsert(org, p[0], Some(t1), "hashing-v1", vec![1.0, 0.0]);
        index.upsert(org, p[1], Some(t1), "hashing-v1", vec![0.9, 0.1]);
        index.upsert(org, p[2], Some(t2), "hashing-v1", vec![1.0, 0.0]);
        index.upsert(org, p[3], Some(t1), E5, vec![1.0, 0.0, 0.0]);
        let hits = index.search(org, "hashing-v1", &[1.0, 0.0], Some(t1), p[0], 10);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, p[1]);
        // A replaced vector moves to its new model's collection.
        index.upsert(org, p[1], Some(t1), E5, vec![0.0, 1.0, 0.0]);
        assert!(
            index
                .search(org, "hashing-v1", &[1.0, 0.0], Some(t1), p[0], 10)
                .is_empty()
        );
        assert_eq!(index.len(org, E5), 2);
        index.remove(org, p[3]);
        assert_eq!(index.len(org, E5), 1);
        // And again, to a model named by the user's configuration.
        index.upsert(org, p[1], Some(t1), "my-minilm", vec![0.5; 4]);
        assert_eq!(index.len(org, E5), 0);
        assert_eq!(index.len(org, "my-minilm"), 1);
        index.remove(org, p[1]);
        assert!(index.is_empty(org, "my-minilm"));
        assert!(
            index
                .search(OrgId::new(), E5, &[1.0, 0.0, 0.0], Some(t1), p[0], 10)
                .is_empty()
        );
    }
}
