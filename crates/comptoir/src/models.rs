//! The app's models in `/api/v1/health`. The handle itself lives in `comptoir_ml::runtime`
//! so that every slice can reach it through `state.ext::<Embeddings>()`.

use comptoir_kernel::config::Config;
use comptoir_kernel::state::{ComponentHealth, HealthCheck, HealthFuture};
use comptoir_ml::EmbedKind;
pub use comptoir_ml::runtime::{Embeddings, ModelChoice, ModelState};
use comptoir_ml::store::{self, ModelSpec};

/// The default embedding model with the sources of `models.sources`; a source that cannot
/// be parsed stops the start with the reason.
pub fn embedding_spec(config: &Config) -> anyhow::Result<ModelSpec> {
    store::default_embedding_model()
        .with_sources(&config.models.sources)
        .map_err(|e| anyhow::anyhow!("invalid configuration: models.sources: {e}"))
}

/// The embedding model the configuration asks for: `models.embedding_dir` when set, else
/// the default model from its sources.
pub fn model_choice(config: &Config) -> anyhow::Result<ModelChoice> {
    let spec = embedding_spec(config)?;
    Ok(match &config.models.embedding_dir {
        Some(dir) => ModelChoice::Directory(dir.clone()),
        None => ModelChoice::Default(spec),
    })
}

/// The app's model handle: the chosen model, loaded when present (the default one is
/// fetched later, by `serve`, when missing).
pub fn embeddings(config: &Config) -> anyhow::Result<Embeddings> {
    Ok(Embeddings::load(config.model_dir(), model_choice(config)?))
}

/// `embeddings` in `/api/v1/health`: ok when the model answers, degraded otherwise.
pub struct EmbeddingsHealth(pub Embeddings);

impl HealthCheck for EmbeddingsHealth {
    fn check(&self) -> HealthFuture<'_> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let (status, detail) = match (self.0.state(), self.0.embedder()) {
                (ModelState::Ready { dim }, Some(e)) => {
                    match e.embed(EmbedKind::Query, &["santé"]).await {
                        Ok(v) if v.first().is_some_and(|v| v.len() == dim) => {
                            ("ok", format!("{}, {dim} dimensions", e.name()))
                        }
                        Ok(_) => (
                            "degraded",
                            "the model answered with a wrong shape".to_owned(),
                        ),
                        Err(e) => ("degraded", e.to_string()),
                    }
                }
                (ModelState::Pulling, _) => (
                    "degraded",
                    "fetching the model; fallbacks in use".to_owned(),
                ),
                (ModelState::Missing(e) | ModelState::Failed(e), _) => (
                    "degraded",
                    format!("model unavailable ({e}); fallbacks in use"),
                ),
                (ModelState::Ready { .. }, None) => {
                    ("degraded", "model state inconsistent".to_owned())
                }
            };
            ComponentHealth {
                name: "embeddings".into(),
                status: status.into(),
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                detail: Some(detail),
            }
        })
    }
}
