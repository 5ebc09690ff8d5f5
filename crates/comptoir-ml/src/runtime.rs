//! The models of a running app, shared by every capability: the default embedding model is
//! fetched in the background on the first start (from its configured sources, then never
//! the network again), loaded when present, and reported by the app's health checks; or the
//! user's own model directory is loaded instead. Without a model the app runs degraded:
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

/// Which embedding model the app runs.
#[derive(Clone, Debug)]
pub enum ModelChoice {
    /// The default model (its spec, with the configured sources): fetched when missing and
    /// verified against its checksums.
    Default(store::ModelSpec),
    /// A model directory of the user's (an E5S1 image or a Hugging Face BERT-family
    /// directory, e.g. a sentence-transformers model), used as it is: never fetched, no
    /// checksum. Its directory name is the model's name.
    Directory(PathBuf),
}

impl ModelChoice {
    /// The model's name, as recorded beside its vectors and in sentiment heads.
    pub fn name(&self) -> String {
        match self {
            Self::Default(spec) => spec.name.clone(),
            Self::Directory(dir) => crate::embed::dir_name(dir),
        }
    }
}

/// The shared handle: an `Embedder` once loaded. Slices of the app get it with
/// `state.ext::<Embeddings>()`.
#[derive(Clone)]
pub struct Embeddings {
    inner: Arc<RwLock<(ModelState, Option<Embedder>)>>,
    /// The models directory (the default model, a retrained sentiment head).
    dir: PathBuf,
    choice: ModelChoice,
    /// The sentiment head, loaded with the model (a retrained file in the models directory,
    /// else the built-in one).
    head: Arc<Option<crate::sentiment::head::SentimentHead>>,
}

impl Embeddings {
    /// Loads the chosen model, from the models directory `dir` for the default one (when
    /// present and verified); never touches the network. Only a sentiment head trained on
    /// this model is used (without one, sentiment uses the lexicons until one is trained).
    pub fn load(dir: PathBuf, choice: ModelChoice) -> Self {
        let head = crate::sentiment::load_head(&dir, &choice.name());
        let this = Self {
            inner: Arc::new(RwLock::new((
                ModelState::Missing("not loaded yet".into()),
                None,
            ))),
            head: Arc::new(head),
            dir,
            choice,
        };
        if !this.try_load()
            && let ModelChoice::Directory(dir) = &this.choice
            && let ModelState::Missing(e) = this.state()
        {
            tracing::warn!(dir = %dir.display(), error = %e, "the configured embedding model could not be loaded; running degraded with fallbacks");
        }
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
        let loaded = match &self.choice {
            ModelChoice::Default(_) => Embedder::load_default(&self.dir),
            ModelChoice::Directory(dir) => crate::TextEmbedder::load(dir, Default::default())
                .and_then(|m| Embedder::spawn(m, crate::BatchConfig::default())),
        };
        match loaded {
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
        let ModelChoice::Default(spec) = &self.choice else {
            return;
        };
        if matches!(self.state(), ModelState::Ready { .. }) {
            return;
        }
        let spec = spec.clone();
        let this = self.clone();
        this.set(ModelState::Pulling, None);
        tokio::task::spawn_blocking(move || {
            let spec = &spec;
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
