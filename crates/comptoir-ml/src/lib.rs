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
pub use embed::{
    E5S1_FILE, EmbedError, EmbedKind, LoadOptions, Prompts, TOKENIZER_FILE, TextEmbedder,
};

/// The variable candle reads its thread count from. Unset, candle counts the physical cores
/// again on every matrix product by parsing `/proc/cpuinfo` (96 times per forward pass of
/// e5-small): a fifth to a quarter of a short sentence's embedding time on our 2-core machine
/// (bench/RESULTS.md). The `comptoir` binary sets it to [`inference_threads`] before any
/// thread starts; an explicit value is left alone.
pub const THREADS_VAR: &str = "RAYON_NUM_THREADS";

/// The threads inference should use: the physical cores, as candle counts them, capped by
/// the CPUs this process may run on (affinity, cgroup quota), which candle does not check.
pub fn inference_threads() -> usize {
    let allowed = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    num_cpus::get_physical().clamp(1, allowed)
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn inference_threads_stay_within_the_cpus_we_may_use() {
        let n = super::inference_threads();
        let allowed = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert!((1..=allowed).contains(&n), "{n} of {allowed}");
    }
}
