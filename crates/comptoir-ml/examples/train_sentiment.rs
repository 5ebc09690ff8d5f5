//! Trains the sentiment head like `comptoir models train-sentiment`, from the comptoir-ml
//! crate alone (quicker to build while working on the head):
//! `cargo run -p comptoir-ml --example train_sentiment -- [OUT]`
//! (default OUT: crates/comptoir-ml/models/sentiment-head.json).

use std::path::{Path, PathBuf};

use comptoir_ml::sentiment::{corpus, train};
use comptoir_ml::{Embedder, store};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("models/sentiment-head.json"));
    let models = crate_dir.join("../../.cache/models");
    store::pull(&models, &store::default_embedding_model(), &mut |p| {
        eprintln!("{p:?}")
    })?;
    let examples = corpus::reviews();
    // Features cached between runs while tuning (keyed by the corpus size and layers).
    let layers = train::FEATURE_LAYERS;
    let cache = crate_dir.join(format!(
        "../../.cache/sentiment-features-{}-{}.json",
        examples.len(),
        layers.map(|l| l.to_string()).join("-")
    ));
    let vectors: Vec<Vec<f32>> = match std::fs::read_to_string(&cache) {
        Ok(t) => serde_json::from_str(&t)?,
        Err(_) => {
            let embedder = Embedder::load_default(&models)?;
            let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
            let v = train::embed_all(&embedder, &texts, &layers).await?;
            std::fs::write(&cache, serde_json::to_string(&v)?)?;
            v
        }
    };
    let model = comptoir_ml::store::default_embedding_model().name;
    let outcome = train::train_from_vectors(&model, &examples, &vectors);
    eprintln!(
        "cross-validated accuracy on the training split: {:.1} %",
        100.0 * outcome.cross_validated
    );
    std::fs::write(&out, outcome.head.to_json() + "\n")?;
    println!(
        "written {} ({} hidden units)",
        out.display(),
        outcome.head.hidden_bias.len()
    );
    println!(
        "model, held-out:\n{}\nlexicon, held-out:\n{}",
        outcome.model_test, outcome.lexicon_test
    );
    Ok(())
}
