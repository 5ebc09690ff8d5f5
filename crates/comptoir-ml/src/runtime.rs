//! The models of a running app, shared by every capability: the default embedding model is
//! fetched in the background on the first start (pip, then never the network again), loaded
//! when present, and reported by the app's health checks. Without it the app runs degraded:
//! capabilities that need embeddings use their fallbacks.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::{Embedder, store};

/// Where the embedding model stands.
#[derive(Clone, Debug)]
pub enum ModelState {
    Missing(String),
    Pulling,
    Ready { dim: usize },
    Failed(String),
}

/// The shared handle: an `Embedder` once loaded. Slices of the app get it with
/// `state.ext::<Embeddings>()`.
#[derive(Clone)]
pub struct Embeddings {
    inner: Arc<RwLock<(ModelState, Option<Embedder>)>>,
    dir: PathBuf,
    /// The default embedding model, with the sources configured for it.
    spec: store::ModelSpec,
    /// The sentiment head, loaded with the model (a retrained file in the models directory,
    /// else the built-in one).
    head: Arc<Option<crate::sentiment::head::SentimentHead>>,
}

impl Embeddings {
    /// Loads the default model (`spec`, [`store::default_embedding_model`] with the configured
    /// sources) if it is present and verified in `dir`; never touches the network.
    pub fn load(dir: PathBuf, spec: store::ModelSpec) -> Self {
        let this = Self {
            inner: Arc::new(RwLock::new((
                ModelState::Missing("not loaded yet".into()),
                None,
            ))),
            head: Arc::new(crate::sentiment::load_head(&dir)),
            dir,
            spec,
        };
        this.try_load();
        this
    }

    /// The embedder, when the model is loaded.
    pub fn embedder(&self) -> Option<Embedder> {
        self.inner.read().ok().and_then(|g| g.1.clone())
    }

    pub fn state(&self) -> ModelState {
        self.inner
            .read()
            .map(|g| g.0.clone())
            .unwrap_or(ModelState::Failed("lock poisoned".into()))
    }

    /// The sentiment of each text, in order: the classifier head over embeddings when the
    /// model is loaded, the lexicon fallback otherwise. Never fails.
    pub async fn sentiment(&self, texts: &[&str]) -> Vec<crate::sentiment::Sentiment> {
        let embedder = self.embedder();
        crate::sentiment::analyze_with(embedder.as_ref(), self.head.as_ref().as_ref(), texts).await
    }

    fn set(&self, state: ModelState, embedder: Option<Embedder>) {
        if let Ok(mut g) = self.inner.write() {
            *g = (state, embedder);
        }
    }

    fn try_load(&self) -> bool {
        match Embedder::load_default(&self.dir) {
            Ok(e) => {
                let dim = e.dim();
                self.set(ModelState::Ready { dim }, Some(e));
                true
            }
            Err(e) => {
                self.set(ModelState::Missing(e.to_string()), None);
                false
            }
        }
    }

    /// When the model is missing, fetches it on a blocking thread and loads it; failures are
    /// logged and leave the app degraded, never down.
    pub fn pull_in_background(&self) {
        if matches!(self.state(), ModelState::Ready { .. }) {
            return;
        }
        let this = self.clone();
        this.set(ModelState::Pulling, None);
        tokio::task::spawn_blocking(move || {
            let spec = &this.spec;
            let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
            tracing::info!(model = %spec.name, dir = %this.dir.display(), sources = %sources.join(", "), "fetching the default embedding model");
            let mut last_mb = 0;
            let result = store::pull(&this.dir, spec, &mut |p| match p {
                store::Progress::Bytes { file, done, .. } if done / (16 << 20) > last_mb => {
                    last_mb = done / (16 << 20);
                    tracing::info!(file, megabytes = done >> 20, "fetching model");
                }
                store::Progress::Bytes { .. } => {}
                other => tracing::info!(progress = ?other, "model store"),
            });
            match result {
                Ok(_) if this.try_load() => {
                    tracing::info!(model = %spec.name, "embedding model ready")
                }
                Ok(_) => tracing::warn!(
                    "the embedding model was fetched but could not be loaded; running degraded"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "the embedding model could not be fetched; running degraded with fallbacks (retry: comptoir models pull)");
                    this.set(ModelState::Failed(e.to_string()), None);
                }
            }
        });
    }
}
