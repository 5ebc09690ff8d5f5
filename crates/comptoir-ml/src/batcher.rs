//! Async, batching front of [`TextEmbedder`]: concurrent `embed` calls are coalesced
//! into batches on a dedicated thread, so inference never blocks the tokio runtime.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::embed::{EmbedError, EmbedKind, TextEmbedder};

/// Batching parameters.
#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// How long the worker waits for more requests after the first one arrives.
    pub max_wait: Duration,
    /// Most texts in one forward pass.
    pub max_batch: usize,
    /// Requests that may queue before `embed` waits for room (back-pressure).
    pub queue: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_millis(2),
            max_batch: 32,
            queue: 1024,
        }
    }
}

type Reply = oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>;

struct Request {
    items: Vec<(EmbedKind, String)>,
    /// Layers to pool (see [`TextEmbedder::embed_layers`]); empty = the usual embedding.
    layers: Vec<usize>,
    reply: Reply,
}

/// Cheap-to-clone handle to a batching embedding worker. The worker thread stops when
/// the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Embedder {
    tx: mpsc::Sender<Request>,
    name: Arc<str>,
    dim: usize,
    layers: usize,
}

impl Embedder {
    /// Starts a worker thread that owns `model`.
    pub fn spawn(model: TextEmbedder, config: BatchConfig) -> Result<Self, EmbedError> {
        let (dim, layers) = (model.dim(), model.layers());
        let name: Arc<str> = model.name().into();
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        std::thread::Builder::new()
            .name("comptoir-embed".into())
            .spawn(move || worker(Arc::new(model), rx, config))
            .map_err(|source| EmbedError::Io {
                path: "embedding worker thread".into(),
                source,
            })?;
        Ok(Self {
            tx,
            name,
            dim,
            layers,
        })
    }

    /// Loads the default embedding model from `models_dir` (it must already be pulled:
    /// this verifies checksums but never downloads) and starts the worker with default
    /// batching. An error here means "embeddings degraded", never a panic.
    pub fn load_default(models_dir: &std::path::Path) -> Result<Self, EmbedError> {
        let dir = crate::store::verify(models_dir, &crate::store::default_embedding_model())?;
        Self::spawn(
            TextEmbedder::load(&dir, crate::LoadOptions::default())?,
            BatchConfig::default(),
        )
    }

    /// The model's name (see [`TextEmbedder::name`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of encoder layers.
    pub fn layers(&self) -> usize {
        self.layers
    }

    /// Embeds texts of one kind; one L2-normalized vector per text, in order.
    pub async fn embed(
        &self,
        kind: EmbedKind,
        texts: &[&str],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let items = texts.iter().map(|t| (kind, (*t).to_string())).collect();
        self.embed_items(items).await
    }

    /// Embeds queries (`query: ` prefix).
    pub async fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed(EmbedKind::Query, texts).await
    }

    /// Embeds documents (`passage: ` prefix).
    pub async fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed(EmbedKind::Passage, texts).await
    }

    /// Embeds a mix of queries and passages.
    pub async fn embed_items(
        &self,
        items: Vec<(EmbedKind, String)>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.request(items, Vec::new()).await
    }

    /// Texts of one kind as the hidden states after each of `layers`, pooled and
    /// concatenated (see [`TextEmbedder::embed_layers`]): features for classifier heads.
    /// Batched with the other requests; one forward pass serves both.
    pub async fn embed_layers(
        &self,
        kind: EmbedKind,
        texts: &[&str],
        layers: &[usize],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Checked here: a bad request must not fail the batch it would share.
        crate::embed::check_layers(layers, self.layers)?;
        let items = texts.iter().map(|t| (kind, (*t).to_string())).collect();
        self.request(items, layers.to_vec()).await
    }

    async fn request(
        &self,
        items: Vec<(EmbedKind, String)>,
        layers: Vec<usize>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                items,
                layers,
                reply,
            })
            .await
            .map_err(|_| EmbedError::WorkerGone)?;
        rx.await.map_err(|_| EmbedError::WorkerGone)?
    }
}

fn worker(model: Arc<TextEmbedder>, mut rx: mpsc::Receiver<Request>, config: BatchConfig) {
    // A current-thread runtime only to wait on the channel with a deadline; inference
    // itself runs synchronously on this thread.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "embedding worker cannot start");
            return;
        }
    };
    let mut carry: Option<Request> = None;
    loop {
        let first = match carry.take() {
            Some(r) => r,
            None => match rx.blocking_recv() {
                Some(r) => r,
                None => return,
            },
        };
        let mut batch = vec![first];
        let mut count = batch[0].items.len();
        let deadline = tokio::time::Instant::now() + config.max_wait;
        while count < config.max_batch {
            let next = rt.block_on(async { tokio::time::timeout_at(deadline, rx.recv()).await });
            match next {
                Ok(Some(r)) if count + r.items.len() > config.max_batch => {
                    // Keep the batch bounded; this request starts the next one.
                    carry = Some(r);
                    break;
                }
                Ok(Some(r)) => {
                    count += r.items.len();
                    batch.push(r);
                }
                Ok(None) | Err(_) => break,
            }
        }
        run_batch(&model, batch);
    }
}

fn run_batch(model: &TextEmbedder, batch: Vec<Request>) {
    let items: Vec<(EmbedKind, &str)> = batch
        .iter()
        .flat_map(|r| r.items.iter().map(|(k, t)| (*k, t.as_str())))
        .collect();
    // One forward pass pools every layer any request asked for; each request then takes
    // its own blocks, in its own order.
    let wanted = |r: &Request| -> Vec<usize> {
        if r.layers.is_empty() {
            vec![model.layers()]
        } else {
            r.layers.clone()
        }
    };
    let mut union: Vec<usize> = batch.iter().flat_map(wanted).collect();
    union.sort_unstable();
    union.dedup();
    let hidden = model.dim();
    match model.embed_layers(&items, &union) {
        Ok(vectors) => {
            let mut vectors = vectors.into_iter();
            for r in batch {
                let blocks: Vec<usize> = wanted(&r)
                    .iter()
                    .filter_map(|l| union.binary_search(l).ok())
                    .collect();
                let mine: Vec<_> = vectors
                    .by_ref()
                    .take(r.items.len())
                    .map(|v| {
                        blocks
                            .iter()
                            .flat_map(|&b| v[b * hidden..(b + 1) * hidden].iter().copied())
                            .collect()
                    })
                    .collect();
                // A caller that went away is not an error.
                let _ = r.reply.send(Ok(mine));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::warn!(error = %msg, "embedding batch failed");
            for r in batch {
                let _ = r
                    .reply
                    .send(Err(EmbedError::Inference(candle_core::Error::Msg(
                        msg.clone(),
                    ))));
            }
        }
    }
}
