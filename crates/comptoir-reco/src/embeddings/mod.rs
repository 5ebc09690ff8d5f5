//! Product embeddings: the text of a product (name, brand, type, description and its most
//! helpful review snippets), its vector (the embedding model's when it is loaded,
//! multilingual-e5-small by default, the [`hashing`] fallback otherwise), storage in `reco_embeddings` (both engines, `f32`
//! little-endian blobs) and the in-memory [`index`].
//!
//! [`refresh`] recomputes what changed: a product whose text hash or model differs from
//! its stored row. The scoring job calls it after reviews change; the periodic sweep
//! (`reco.embed_sweep`, every minute) catches catalog edits without any hook in the
//! catalog, by comparing the text hash; `comptoir reco reindex` forces everything.

#![allow(missing_docs)] // fields of plain data types, named for what they hold

pub mod hashing;
pub mod index;

use std::collections::HashMap;

use comptoir_catalog::entities::{brands, product_types, products};
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult, AppState};
use comptoir_ml::EmbedKind;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use index::ProductIndex;

use crate::entities::{embeddings, reviews};
use crate::reviews::service::now;

/// Review snippets per product text.
pub const SNIPPETS: usize = 3;
/// Characters per snippet.
pub const SNIPPET_CHARS: usize = 160;
/// Products embedded per model call.
pub const BATCH: usize = 32;

/// Embeds texts of one kind with the model when it is loaded, else with the fallback;
/// returns the model name with the vectors.
pub async fn embed(
    state: &AppState,
    kind: EmbedKind,
    texts: &[&str],
) -> AppResult<(String, Vec<Vec<f32>>)> {
    let embedder = state
        .ext::<comptoir_ml::runtime::Embeddings>()
        .and_then(|e| e.embedder());
    match embedder {
        Some(e) => {
            let vectors = e
                .embed(kind, texts)
                .await
                .map_err(|err| AppError::unavailable(format!("embedding failed: {err}")))?;
            Ok((e.name().to_owned(), vectors))
        }
        None => Ok((
            hashing::MODEL.to_owned(),
            texts.iter().map(|t| hashing::embed(t)).collect(),
        )),
    }
}

/// The model new vectors are made with right now.
pub fn current_model(state: &AppState) -> String {
    match state
        .ext::<comptoir_ml::runtime::Embeddings>()
        .and_then(|e| e.embedder())
    {
        Some(e) => e.name().to_owned(),
        None => hashing::MODEL.to_owned(),
    }
}

/// The text a product is embedded from.
pub fn product_text(
    name: &str,
    brand: Option<&str>,
    product_type: Option<&str>,
    description: Option<&str>,
    snippets: &[&str],
) -> String {
    let mut text = name.trim().to_owned();
    if let Some(b) = brand {
        text.push_str(&format!(". Marque / brand: {b}"));
    }
    if let Some(t) = product_type {
        text.push_str(&format!(". Type: {t}"));
    }
    if let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) {
        text.push_str(&format!(". {d}"));
    }
    for s in snippets {
        let snippet: String = s.chars().take(SNIPPET_CHARS).collect();
        text.push_str(&format!(" Avis / review: {snippet}"));
    }
    text
}

fn source_hash(model: &str, text: &str) -> String {
    hex::encode(Sha256::digest(format!("{model}\n{text}").as_bytes()))
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Refreshed {
    pub products: usize,
    pub embedded: usize,
}

/// Recomputes the embeddings of the organization's products whose text or model changed
/// (every product when `force`), stores them and updates the index. `progress(done,
/// total)` follows the products to embed.
pub async fn refresh(
    state: &AppState,
    org: OrgId,
    force: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> AppResult<Refreshed> {
    let db = &state.db;
    let index = ProductIndex::of(state);
    let model = current_model(state);
    let products = scoped::<products::Entity>(org).all(db).await?;
    let brands: HashMap<Uuid, String> = scoped::<brands::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let types: HashMap<Uuid, String> = scoped::<product_types::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut snippets: HashMap<Uuid, Vec<String>> = HashMap::new();
    for r in scoped::<reviews::Entity>(org)
        .order_by_desc(reviews::Column::HelpfulVotes)
        .order_by_desc(reviews::Column::CreatedAt)
        .all(db)
        .await?
    {
        let list = snippets.entry(r.product_id).or_default();
        if list.len() < SNIPPETS {
            list.push(r.comment);
        }
    }
    let stored: HashMap<Uuid, String> = scoped::<embeddings::Entity>(org)
        .filter(embeddings::Column::Collection.eq(index::COLLECTION))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.source_hash))
        .collect();
    let mut todo = Vec::new();
    for p in &products {
        let snips: Vec<&str> = snippets
            .get(&p.id)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let text = product_text(
            &p.name,
            p.brand_id.and_then(|b| brands.get(&b)).map(String::as_str),
            p.product_type_id
                .and_then(|t| types.get(&t))
                .map(String::as_str),
            p.description.as_deref(),
            &snips,
        );
        let hash = source_hash(&model, &text);
        if force || stored.get(&p.id) != Some(&hash) {
            todo.push((p.id, p.product_type_id, text, hash));
        }
    }
    let total = todo.len();
    progress(0, total);
    let mut done = 0;
    for chunk in todo.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(|c| c.2.as_str()).collect();
        let (used, vectors) = embed(state, EmbedKind::Passage, &texts).await?;
        let at = now();
        let rows: Vec<embeddings::ActiveModel> = chunk
            .iter()
            .zip(&vectors)
            .map(|((id, product_type, text, _), v)| embeddings::ActiveModel {
                id: Set(*id),
                org_id: Set(org.0),
                collection: Set(index::COLLECTION.into()),
                product_type_id: Set(*product_type),
                model: Set(used.clone()),
                dim: Set(v.len() as i32),
                vector: Set(index::encode(v)),
                source_hash: Set(source_hash(&used, text)),
                updated_at: Set(at),
            })
            .collect();
        embeddings::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(embeddings::Column::Id)
                    .update_columns([
                        embeddings::Column::ProductTypeId,
                        embeddings::Column::Model,
                        embeddings::Column::Dim,
                        embeddings::Column::Vector,
                        embeddings::Column::SourceHash,
                        embeddings::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        for ((id, product_type, _, _), v) in chunk.iter().zip(vectors) {
            index.upsert(org, *id, *product_type, &used, v);
        }
        done += chunk.len();
        progress(done, total);
    }
    Ok(Refreshed {
        products: products.len(),
        embedded: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_text_has_every_part_and_short_snippets() {
        let long = "x".repeat(500);
        let t = product_text(
            "Tesla SUV compact",
            Some("Tesla"),
            Some("Véhicule"),
            Some(" SUV compact de la marque Tesla. "),
            &["Très confortable", &long],
        );
        assert!(t.starts_with("Tesla SUV compact. Marque / brand: Tesla. Type: Véhicule. SUV"));
        assert!(t.contains("Avis / review: Très confortable"));
        assert!(t.len() < 500);
        assert_ne!(
            source_hash("multilingual-e5-small", &t),
            source_hash(hashing::MODEL, &t)
        );
    }
}
