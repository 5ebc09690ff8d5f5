//! Shared by the integration tests: the real default model, pulled once through the
//! model store (pip path) into `<workspace>/.cache/models`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use comptoir_ml::store;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Pulls (or finds, already verified) the default embedding model.
pub fn default_model_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let models = workspace_root().join(".cache/models");
        let spec = store::default_embedding_model();
        store::pull(&models, &spec, &mut |p| eprintln!("model store: {p:?}")).unwrap_or_else(|e| {
            panic!(
                "cannot pull the default model into {}: {e}",
                models.display()
            )
        })
    })
    .clone()
}

/// Pulls (or finds, already verified) the optional all-MiniLM-L6-v2 model, a real
/// sentence-transformers directory (BERT, WordPiece), through the same store.
pub fn minilm_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let models = workspace_root().join(".cache/models");
        let spec = store::optional_models()
            .into_iter()
            .find(|s| s.name == "all-MiniLM-L6-v2")
            .expect("the optional MiniLM spec");
        store::pull(&models, &spec, &mut |p| eprintln!("model store: {p:?}"))
            .unwrap_or_else(|e| panic!("cannot pull {} into {}: {e}", spec.name, models.display()))
    })
    .clone()
}

pub fn sentences() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sentences.txt"),
    )
    .expect("tests/data/sentences.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}
