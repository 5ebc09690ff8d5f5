//! Machine learning for Comptoir: a model store (fetch, verify, cache) and
//! multilingual sentence embeddings (multilingual-e5-small on candle, CPU).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use comptoir_ml::{store, BatchConfig, Embedder, EmbedKind, LoadOptions, TextEmbedder};
//! let models = std::path::Path::new("data/models");
//! let spec = store::default_embedding_model();
//! let dir = store::pull(models, &spec, &mut |p| println!("{p:?}"))?;
//! let embedder = Embedder::spawn(TextEmbedder::load(&dir, LoadOptions::default())?, BatchConfig::default())?;
//! let v = embedder.embed(EmbedKind::Query, &["chaussures de randonnée"]).await?;
//! assert_eq!(v[0].len(), embedder.dim());
//! # Ok(()) }
//! ```

#[cfg(feature = "ann")]
pub mod ann;
mod batcher;
pub mod bert;
pub mod e5s1;
mod embed;
pub mod runtime;
pub mod sentiment;
pub mod store;

pub use batcher::{BatchConfig, Embedder};
pub use bert::WeightMode;
pub use embed::{E5S1_FILE, EmbedError, EmbedKind, LoadOptions, TOKENIZER_FILE, TextEmbedder};

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
