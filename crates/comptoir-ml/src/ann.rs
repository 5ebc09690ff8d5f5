//! In-memory vector index per (organisation, collection): HNSW (hnsw_rs) for large
//! collections, exact search for small ones and for very selective filters.
//!
//! Vectors are compared by cosine similarity. Updates replace a vector under the same
//! id; removed or replaced entries stay in the graph (HNSW cannot delete) and are
//! filtered out of results.

use std::collections::HashMap;
use std::sync::RwLock;

use hnsw_rs::prelude::{DistCosine, FilterT, Hnsw};

/// Identifies one collection of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CollectionKey {
    pub org: String,
    pub collection: String,
}

impl CollectionKey {
    pub fn new(org: impl Into<String>, collection: impl Into<String>) -> Self {
        Self {
            org: org.into(),
            collection: collection.into(),
        }
    }
}

/// Tuning of the index.
#[derive(Debug, Clone, Copy)]
pub struct IndexConfig {
    /// Collections with fewer live vectors than this are searched exactly.
    pub exact_below: usize,
    /// A filter admitting fewer vectors than this, or less than `exact_filter_fraction` of
    /// the collection, is searched exactly too: a filtered graph search visits about
    /// 1 / selectivity times the nodes of an unfiltered one (measured on 100,000 mercari
    /// listings: 9 ms unfiltered, 185 ms at 4.8 % admitted, see bench/RESULTS.md), while an
    /// exact search costs only the admitted vectors.
    pub exact_filter_below: usize,
    pub exact_filter_fraction: f64,
    /// HNSW graph degree.
    pub max_connections: usize,
    pub ef_construction: usize,
    /// Search breadth; raised to `k` when `k` is larger.
    pub ef_search: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            exact_below: 2_000,
            exact_filter_below: 10_000,
            exact_filter_fraction: 0.2,
            max_connections: 16,
            ef_construction: 200,
            ef_search: 128,
        }
    }
}

/// A search hit: the caller's id and the cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
}

/// What filtered searches select on, kept beside each vector and updated on writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The product type (category) of the item, if any.
    pub product_type: Option<String>,
    /// Whether the item can be sold now (in stock, published).
    pub available: bool,
}

/// A filter on [`Attributes`]; the default admits everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// When set, only items of one of these product types.
    pub product_types: Option<Vec<String>>,
    /// Only available items.
    pub available_only: bool,
}

impl Filter {
    pub fn admits(&self, a: &Attributes) -> bool {
        (!self.available_only || a.available)
            && self.product_types.as_ref().is_none_or(|types| {
                a.product_type
                    .as_ref()
                    .is_some_and(|t| types.iter().any(|x| x == t))
            })
    }
}

/// Why an operation was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndexError {
    #[error("vector has {got} dimensions, the collection has {want}")]
    Dimension { want: usize, got: usize },
    #[error("vector is empty or not finite")]
    BadVector,
}

struct Collection {
    dim: usize,
    /// Slot → caller id; `None` once removed or replaced.
    slots: Vec<Option<u64>>,
    vectors: Vec<Vec<f32>>,
    by_id: HashMap<u64, usize>,
    attributes: HashMap<u64, Attributes>,
    graph: Option<Hnsw<'static, f32, DistCosine>>,
}

impl Collection {
    fn live(&self) -> usize {
        self.by_id.len()
    }

    fn build_graph(&mut self, cfg: &IndexConfig) {
        let graph = Hnsw::new(
            cfg.max_connections,
            self.slots.len().max(1024) * 2,
            16,
            cfg.ef_construction,
            DistCosine {},
        );
        for (slot, v) in self.vectors.iter().enumerate() {
            if self.slots[slot].is_some() {
                graph.insert((v.as_slice(), slot));
            }
        }
        self.graph = Some(graph);
    }

    /// The live slots whose id passes `keep`, in slot order, stopping once `limit` are
    /// found.
    fn admitted(&self, keep: &dyn Fn(u64) -> bool, limit: usize) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, id)| (*id).filter(|&id| keep(id)).map(|_| slot))
            .take(limit)
            .collect()
    }

    fn exact(&self, query: &[f32], k: usize, keep: &dyn Fn(u64) -> bool) -> Vec<Hit> {
        self.exact_in(query, k, self.admitted(keep, usize::MAX))
    }

    /// Exact search among `slots` (live ones).
    fn exact_in(&self, query: &[f32], k: usize, slots: Vec<usize>) -> Vec<Hit> {
        let mut hits: Vec<Hit> = slots
            .into_iter()
            .filter_map(|slot| {
                Some(Hit {
                    id: self.slots[slot]?,
                    score: crate::cosine(query, &self.vectors[slot]),
                })
            })
            .collect();
        let best_first = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score);
        if hits.len() > k {
            hits.select_nth_unstable_by(k, best_first);
            hits.truncate(k);
        }
        hits.sort_by(best_first);
        hits
    }
}

struct SlotFilter<'a> {
    slots: &'a [Option<u64>],
    keep: &'a dyn Fn(u64) -> bool,
}

impl FilterT for SlotFilter<'_> {
    fn hnsw_filter(&self, slot: &usize) -> bool {
        self.slots
            .get(*slot)
            .copied()
            .flatten()
            .is_some_and(|id| (self.keep)(id))
    }
}

/// Vector index for every collection of every organisation of the process.
pub struct VectorIndex {
    config: IndexConfig,
    collections: RwLock<HashMap<CollectionKey, Collection>>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for VectorIndex {
    fn default() -> Self {
        Self::new(IndexConfig::default())
    }
}

impl VectorIndex {
    pub fn new(config: IndexConfig) -> Self {
        Self {
            config,
            collections: RwLock::new(HashMap::new()),
        }
    }

    /// Adds or replaces the vector stored under `id`, keeping its attributes if it had
    /// some. The first vector fixes the collection's dimension.
    pub fn upsert(&self, key: &CollectionKey, id: u64, vector: Vec<f32>) -> Result<(), IndexError> {
        self.write(key, id, vector, None)
    }

    /// Adds or replaces the vector stored under `id` with the attributes that filtered
    /// searches select on.
    pub fn upsert_with(
        &self,
        key: &CollectionKey,
        id: u64,
        vector: Vec<f32>,
        attributes: Attributes,
    ) -> Result<(), IndexError> {
        self.write(key, id, vector, Some(attributes))
    }

    /// Changes the attributes of a stored vector (an item going out of stock needs no new
    /// embedding); returns whether `id` is stored.
    pub fn set_attributes(&self, key: &CollectionKey, id: u64, attributes: Attributes) -> bool {
        let mut all = self.collections.write().unwrap_or_else(|e| e.into_inner());
        match all.get_mut(key) {
            Some(c) if c.by_id.contains_key(&id) => {
                c.attributes.insert(id, attributes);
                true
            }
            _ => false,
        }
    }

    fn write(
        &self,
        key: &CollectionKey,
        id: u64,
        vector: Vec<f32>,
        attributes: Option<Attributes>,
    ) -> Result<(), IndexError> {
        if vector.is_empty() || !vector.iter().all(|x| x.is_finite()) {
            return Err(IndexError::BadVector);
        }
        let mut all = self.collections.write().unwrap_or_else(|e| e.into_inner());
        let c = all.entry(key.clone()).or_insert_with(|| Collection {
            dim: vector.len(),
            slots: Vec::new(),
            vectors: Vec::new(),
            by_id: HashMap::new(),
            attributes: HashMap::new(),
            graph: None,
        });
        if vector.len() != c.dim {
            return Err(IndexError::Dimension {
                want: c.dim,
                got: vector.len(),
            });
        }
        if let Some(old) = c.by_id.remove(&id) {
            c.slots[old] = None;
            c.vectors[old] = Vec::new();
        }
        if let Some(a) = attributes {
            c.attributes.insert(id, a);
        }
        let slot = c.slots.len();
        c.slots.push(Some(id));
        c.by_id.insert(id, slot);
        if let Some(g) = &c.graph {
            g.insert((vector.as_slice(), slot));
        }
        c.vectors.push(vector);
        if c.graph.is_none() && c.live() >= self.config.exact_below {
            c.build_graph(&self.config);
        }
        Ok(())
    }

    /// Removes the vector stored under `id`; returns whether there was one.
    pub fn remove(&self, key: &CollectionKey, id: u64) -> bool {
        let mut all = self.collections.write().unwrap_or_else(|e| e.into_inner());
        let Some(c) = all.get_mut(key) else {
            return false;
        };
        match c.by_id.remove(&id) {
            Some(slot) => {
                c.slots[slot] = None;
                c.vectors[slot] = Vec::new();
                c.attributes.remove(&id);
                true
            }
            None => false,
        }
    }

    /// Number of live vectors in a collection.
    pub fn len(&self, key: &CollectionKey) -> usize {
        let all = self.collections.read().unwrap_or_else(|e| e.into_inner());
        all.get(key).map_or(0, Collection::live)
    }

    /// Whether a collection is served by an HNSW graph (else by exact search).
    pub fn has_graph(&self, key: &CollectionKey) -> bool {
        let all = self.collections.read().unwrap_or_else(|e| e.into_inner());
        all.get(key).is_some_and(|c| c.graph.is_some())
    }

    /// Whether a collection holds no vector.
    pub fn is_empty(&self, key: &CollectionKey) -> bool {
        self.len(key) == 0
    }

    /// The `k` most similar vectors, best first.
    pub fn search(&self, key: &CollectionKey, query: &[f32], k: usize) -> Vec<Hit> {
        self.search_filtered(key, query, k, &|_| true)
    }

    /// The `k` most similar vectors whose id passes `keep`, best first. The filter is
    /// applied during graph traversal, and selective filters fall back to exact search.
    pub fn search_filtered(
        &self,
        key: &CollectionKey,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(u64) -> bool,
    ) -> Vec<Hit> {
        let all = self.collections.read().unwrap_or_else(|e| e.into_inner());
        match all.get(key) {
            Some(c) => self.search_in(c, query, k, keep),
            None => Vec::new(),
        }
    }

    /// The `k` most similar vectors whose attributes pass `filter` (product type,
    /// availability), best first. Vectors stored without attributes have the default ones
    /// (no product type, not available).
    pub fn search_where(
        &self,
        key: &CollectionKey,
        query: &[f32],
        k: usize,
        filter: &Filter,
    ) -> Vec<Hit> {
        let all = self.collections.read().unwrap_or_else(|e| e.into_inner());
        let Some(c) = all.get(key) else {
            return Vec::new();
        };
        let none = Attributes::default();
        let keep = |id: u64| filter.admits(c.attributes.get(&id).unwrap_or(&none));
        self.search_in(c, query, k, &keep)
    }

    fn search_in(
        &self,
        c: &Collection,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(u64) -> bool,
    ) -> Vec<Hit> {
        if k == 0 || query.len() != c.dim {
            return Vec::new();
        }
        let Some(graph) = &c.graph else {
            return c.exact(query, k, keep);
        };
        let enough = self
            .config
            .exact_filter_below
            .max((self.config.exact_filter_fraction * c.live() as f64).ceil() as usize);
        // One pass: the admitted slots found while counting are the exact search's input.
        let admitted = c.admitted(keep, enough);
        if admitted.len() < enough {
            return c.exact_in(query, k, admitted);
        }
        let filter = SlotFilter {
            slots: &c.slots,
            keep,
        };
        let ef = self.config.ef_search.max(k);
        let mut hits: Vec<Hit> = graph
            .search_filter(query, k, ef, Some(&filter))
            .into_iter()
            .filter_map(|n| {
                let id = c.slots.get(n.d_id).copied().flatten()?;
                Some(Hit {
                    id,
                    score: crate::cosine(query, &c.vectors[n.d_id]),
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random unit vectors (xorshift), no extra dependency.
    fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim).map(|_| next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect()
    }

    fn exact(data: &[Vec<f32>], q: &[f32], k: usize, keep: impl Fn(u64) -> bool) -> Vec<u64> {
        let mut s: Vec<(u64, f32)> = data
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i as u64))
            .map(|(i, v)| (i as u64, crate::cosine(q, v)))
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1));
        s.into_iter().take(k).map(|(i, _)| i).collect()
    }

    fn recall(found: &[Hit], truth: &[u64]) -> f64 {
        let hits = found.iter().filter(|h| truth.contains(&h.id)).count();
        hits as f64 / truth.len() as f64
    }

    #[test]
    fn recall_at_100_against_exact_search() {
        let (n, dim) = (5_000, 32);
        let data = vectors(n, dim, 42);
        // Thresholds low enough that the filtered half goes through the graph too.
        let index = VectorIndex::new(graph_filters());
        let key = CollectionKey::new("org-1", "reviews");
        for (i, v) in data.iter().enumerate() {
            index.upsert(&key, i as u64, v.clone()).expect("upsert");
        }
        assert_eq!(index.len(&key), n);
        assert!(index.has_graph(&key), "5,000 vectors must use the graph");
        let queries = vectors(30, dim, 7);
        let mut total = 0.0;
        let mut total_filtered = 0.0;
        let even = |id: u64| id.is_multiple_of(2);
        for q in &queries {
            let found = index.search(&key, q, 100);
            assert_eq!(found.len(), 100);
            assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
            total += recall(&found, &exact(&data, q, 100, |_| true));
            let found = index.search_filtered(&key, q, 100, &even);
            assert!(found.iter().all(|h| even(h.id)), "filter violated");
            total_filtered += recall(&found, &exact(&data, q, 100, even));
        }
        let (r, rf) = (
            total / queries.len() as f64,
            total_filtered / queries.len() as f64,
        );
        eprintln!("recall@100 = {r:.3}, filtered = {rf:.3}");
        assert!(r >= 0.95, "recall@100 {r}");
        assert!(rf >= 0.95, "filtered recall@100 {rf}");
    }

    fn graph_filters() -> IndexConfig {
        IndexConfig {
            exact_filter_below: 1_000,
            exact_filter_fraction: 0.0,
            ..IndexConfig::default()
        }
    }

    #[test]
    fn selective_filters_on_a_graph_are_searched_exactly() {
        let data = vectors(5_000, 32, 9);
        let key = CollectionKey::new("org-1", "big");
        // A deliberately coarse graph, whose filtered searches would miss some of the
        // true neighbours: the selective filter must not go through it, whether it is
        // caught by count (default: under 10,000 admitted) or by fraction (under 20 %).
        let coarse = IndexConfig {
            max_connections: 4,
            ef_construction: 8,
            ..IndexConfig::default()
        };
        let by_fraction = IndexConfig {
            exact_filter_below: 100,
            ..coarse
        };
        for config in [coarse, by_fraction] {
            let index = VectorIndex::new(config);
            for (i, v) in data.iter().enumerate() {
                index.upsert(&key, i as u64, v.clone()).expect("upsert");
            }
            assert!(index.has_graph(&key));
            let some = |id: u64| id % 7 == 3; // 714 of 5,000
            for q in vectors(20, 32, 4).iter() {
                let found: Vec<u64> = index
                    .search_filtered(&key, q, 100, &some)
                    .iter()
                    .map(|h| h.id)
                    .collect();
                assert_eq!(found, exact(&data, q, 100, some), "{config:?}");
            }
        }
    }

    #[test]
    fn small_collections_and_selective_filters_are_exact() {
        let data = vectors(500, 16, 3);
        let index = VectorIndex::default();
        let key = CollectionKey::new("org-1", "small");
        for (i, v) in data.iter().enumerate() {
            index.upsert(&key, i as u64, v.clone()).expect("upsert");
        }
        assert!(!index.has_graph(&key));
        let q = &data[10];
        let found: Vec<u64> = index.search(&key, q, 20).iter().map(|h| h.id).collect();
        assert_eq!(found, exact(&data, q, 20, |_| true));
        assert_eq!(found[0], 10);
        let few = |id: u64| id % 50 == 1;
        let found: Vec<u64> = index
            .search_filtered(&key, q, 5, &few)
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(found, exact(&data, q, 5, few));
    }

    fn attributes(id: u64) -> Attributes {
        Attributes {
            product_type: Some(["bike", "car", "phone"][(id % 3) as usize].to_string()),
            available: !id.is_multiple_of(4),
        }
    }

    #[test]
    fn filtered_search_by_product_type_and_availability() {
        // 3,000 vectors: the graph serves broad filters, exact search the selective ones.
        let data = vectors(3_000, 24, 11);
        let index = VectorIndex::new(graph_filters());
        let key = CollectionKey::new("org-1", "products");
        for (i, v) in data.iter().enumerate() {
            index
                .upsert_with(&key, i as u64, v.clone(), attributes(i as u64))
                .expect("upsert");
        }
        assert!(index.has_graph(&key));
        let cars = Filter {
            product_types: Some(vec!["car".into()]),
            available_only: false,
        };
        let available_cars_or_bikes = Filter {
            product_types: Some(vec!["car".into(), "bike".into()]),
            available_only: true,
        };
        let nothing = Filter {
            product_types: Some(vec!["boat".into()]),
            available_only: false,
        };
        for q in vectors(10, 24, 5).iter() {
            for filter in [&cars, &available_cars_or_bikes] {
                let found = index.search_where(&key, q, 50, filter);
                assert_eq!(found.len(), 50);
                assert!(found.iter().all(|h| filter.admits(&attributes(h.id))));
                let truth = exact(&data, q, 50, |id| filter.admits(&attributes(id)));
                assert!(recall(&found, &truth) >= 0.9, "{filter:?}");
            }
            assert!(index.search_where(&key, q, 10, &nothing).is_empty());
        }
        // Availability changes without a new vector, and searches follow.
        let q = &data[7];
        let top = index.search_where(&key, q, 1, &Filter::default());
        assert_eq!(top[0].id, 7);
        assert!(index.set_attributes(
            &key,
            7,
            Attributes {
                product_type: Some("car".into()),
                available: false
            }
        ));
        let avail = Filter {
            product_types: None,
            available_only: true,
        };
        assert!(
            index
                .search_where(&key, q, 20, &avail)
                .iter()
                .all(|h| h.id != 7)
        );
        assert!(!index.set_attributes(&key, 999_999, Attributes::default()));
        // A plain upsert keeps the attributes; removing drops them.
        index.upsert(&key, 7, data[7].clone()).expect("upsert");
        assert!(
            index
                .search_where(&key, q, 20, &avail)
                .iter()
                .all(|h| h.id != 7)
        );
        assert!(index.remove(&key, 7));
        assert!(
            index
                .search_where(&key, q, 20, &Filter::default())
                .iter()
                .all(|h| h.id != 7)
        );
    }

    #[test]
    fn small_collections_filter_exactly() {
        let data = vectors(200, 8, 9);
        let index = VectorIndex::default();
        let key = CollectionKey::new("org-1", "few");
        for (i, v) in data.iter().enumerate() {
            index
                .upsert_with(&key, i as u64, v.clone(), attributes(i as u64))
                .expect("upsert");
        }
        assert!(!index.has_graph(&key));
        let phones = Filter {
            product_types: Some(vec!["phone".into()]),
            available_only: true,
        };
        let q = &data[3];
        let found: Vec<u64> = index
            .search_where(&key, q, 10, &phones)
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(
            found,
            exact(&data, q, 10, |id| phones.admits(&attributes(id)))
        );
        // Another organisation's collection of the same name sees nothing of this one.
        let other = CollectionKey::new("org-2", "few");
        assert!(
            index
                .search_where(&other, q, 10, &Filter::default())
                .is_empty()
        );
    }

    #[test]
    fn collections_are_isolated_and_updates_replace() {
        let index = VectorIndex::default();
        let a = CollectionKey::new("org-a", "products");
        let b = CollectionKey::new("org-b", "products");
        index.upsert(&a, 1, vec![1.0, 0.0]).expect("upsert");
        index.upsert(&b, 2, vec![0.0, 1.0]).expect("upsert");
        let hits = index.search(&a, &[0.0, 1.0], 10);
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1]);
        // Replacing id 1 keeps one entry with the new vector.
        index.upsert(&a, 1, vec![0.0, 1.0]).expect("upsert");
        let hits = index.search(&a, &[0.0, 1.0], 10);
        assert_eq!(hits.len(), 1);
        assert!((hits[0].score - 1.0).abs() < 1e-6);
        assert!(index.remove(&a, 1));
        assert!(index.is_empty(&a));
        assert_eq!(
            index.upsert(&b, 3, vec![1.0, 0.0, 0.0]),
            Err(IndexError::Dimension { want: 2, got: 3 })
        );
        assert_eq!(
            index.upsert(&b, 3, vec![f32::NAN, 0.0]),
            Err(IndexError::BadVector)
        );
    }
}
