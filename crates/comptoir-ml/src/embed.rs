//! Synchronous text embedding: tokenizer + encoder + the e5 prefixes.

use std::path::Path;

use tokenizers::Tokenizer;

use crate::bert::{Bert, LoadError, WeightMode};
use crate::e5s1::E5s1;

/// File names inside a model directory.
pub const E5S1_FILE: &str = "model.e5s1";
/// Tokenizer file (Hugging Face `tokenizer.json`).
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Most padded tokens in one forward pass.
const TOKEN_BUDGET: usize = 2048;

/// Whether a text is a search query or a document; e5 models expect a different prefix
/// for each (`query: ` / `passage: `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedKind {
    Query,
    Passage,
}

impl EmbedKind {
    /// The prefix prepended to the text before tokenization.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Query => "query: ",
            Self::Passage => "passage: ",
        }
    }
}

/// Why embeddings could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model directory {0} holds neither {E5S1_FILE} nor config.json + model.safetensors")]
    NoModel(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot load tokenizer: {0}")]
    Tokenizer(String),
    #[error("cannot load model: {0}")]
    Load(#[from] LoadError),
    #[error("inference failed: {0}")]
    Inference(#[from] candle_core::Error),
    #[error("layers {asked:?}: the model has layers 0 to {layers}, and at least one is needed")]
    NoSuchLayer { asked: Vec<usize>, layers: usize },
    #[error("the embedding worker has stopped")]
    WorkerGone,
    #[error("model not available: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// A model's name: its directory's last component as given (a link keeps the name it is
/// reached by), resolved only for paths like `.`; `embedding-model` when there is none.
pub(crate) fn dir_name(dir: &Path) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
    };
    name(dir)
        .or_else(|| dir.canonicalize().ok().and_then(|d| name(&d)))
        .unwrap_or_else(|| "embedding-model".into())
}

/// What is put before each kind of text. e5 models (E5S1 images, plain Hugging Face
/// directories) expect `query: ` / `passage: `; a sentence-transformers directory says
/// what it expects in `config_sentence_transformers.json` (`prompts`), nothing if silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompts {
    pub query: String,
    pub passage: String,
}

impl Default for Prompts {
    fn default() -> Self {
        Self {
            query: EmbedKind::Query.prefix().into(),
            passage: EmbedKind::Passage.prefix().into(),
        }
    }
}

impl Prompts {
    fn of(&self, kind: EmbedKind) -> &str {
        match kind {
            EmbedKind::Query => &self.query,
            EmbedKind::Passage => &self.passage,
        }
    }
}

/// The sentence-transformers settings of a model directory that change its embeddings.
struct SentenceTransformers {
    prompts: Prompts,
    max_seq_length: Option<usize>,
}

impl SentenceTransformers {
    fn read(dir: &Path) -> Result<Self, EmbedError> {
        let json = |name: &str| -> Result<Option<serde_json::Value>, EmbedError> {
            let path = dir.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            let bad = |e: String| EmbedError::Load(LoadError::Config(format!("{name}: {e}")));
            let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| bad(e.to_string()))
        };
        // Only mean pooling is implemented: refuse a model that pools otherwise rather than
        // give it wrong vectors.
        if let Some(pooling) = json("1_Pooling/config.json")? {
            let mean = pooling
                .get("pooling_mode_mean_tokens")
                .and_then(|v| v.as_bool());
            if mean != Some(true) {
                return Err(EmbedError::Load(LoadError::Config(
                    "1_Pooling/config.json: only mean pooling (pooling_mode_mean_tokens) is supported"
                        .into(),
                )));
            }
        }
        let prompts = match json("config_sentence_transformers.json")? {
            Some(config) => {
                let prompt = |k: &str| config["prompts"][k].as_str().unwrap_or_default().to_owned();
                Prompts {
                    query: prompt("query"),
                    passage: prompt("passage"),
                }
            }
            None => Prompts::default(),
        };
        let max_seq_length = json("sentence_bert_config.json")?
            .and_then(|c| c.get("max_seq_length").and_then(serde_json::Value::as_u64))
            .and_then(|m| usize::try_from(m).ok());
        Ok(Self {
            prompts,
            max_seq_length,
        })
    }
}

/// Load options.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// How to use 4-bit matrices of E5S1 images.
    pub weight_mode: WeightMode,
}

/// A loaded model: call from one thread at a time or share behind `Arc` (it is Sync);
/// for async code use [`crate::Embedder`], which batches and runs off the runtime.
pub struct TextEmbedder {
    /// The model's name: its directory's (`multilingual-e5-small` for the default model).
    name: String,
    tokenizer: Tokenizer,
    model: Bert,
    /// What is put before a query and before a passage (see [`Prompts`]).
    prompts: Prompts,
    /// Longest sequence, special tokens included.
    max_tokens: usize,
    /// Longest batch handed to one forward pass.
    pub max_batch: usize,
}

impl std::fmt::Debug for TextEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEmbedder")
            .field("name", &self.name)
            .field("config", &self.model.config)
            .finish_non_exhaustive()
    }
}

impl TextEmbedder {
    /// Loads a model directory: `model.e5s1` + `tokenizer.json`, or a Hugging Face BERT
    /// directory (`config.json` + `tokenizer.json` + `model.safetensors`).
    pub fn load(dir: &Path, options: LoadOptions) -> Result<Self, EmbedError> {
        let tok_path = dir.join(TOKENIZER_FILE);
        let e5s1 = dir.join(E5S1_FILE);
        let model = if e5s1.is_file() {
            let bytes = std::fs::read(&e5s1).map_err(|source| EmbedError::Io {
                path: e5s1.display().to_string(),
                source,
            })?;
            let img = E5s1::parse(bytes).map_err(LoadError::from)?;
            Bert::from_e5s1(&img, options.weight_mode)?
        } else if dir.join("config.json").is_file() && dir.join("model.safetensors").is_file() {
            Bert::from_hf_dir(dir)?
        } else {
            return Err(EmbedError::NoModel(dir.display().to_string()));
        };
        if !tok_path.is_file() {
            return Err(EmbedError::NoModel(dir.display().to_string()));
        }
        let mut tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        // Padding and truncation are done here, per batch.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let st = SentenceTransformers::read(dir)?;
        let max_tokens = st
            .max_seq_length
            .map_or(model.max_tokens(), |m| m.min(model.max_tokens()))
            .max(2);
        Ok(Self {
            name: dir_name(dir),
            tokenizer,
            model,
            prompts: st.prompts,
            max_tokens,
            max_batch: 32,
        })
    }

    /// The model's name, its directory's: stored beside every vector it makes, so vectors
    /// of different models are never compared.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.model.config.hidden
    }

    /// What is put before queries and passages.
    pub fn prompts(&self) -> &Prompts {
        &self.prompts
    }

    /// Embeds queries (`query: ` prefix).
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let items: Vec<_> = texts.iter().map(|t| (EmbedKind::Query, *t)).collect();
        self.embed(&items)
    }

    /// Embeds documents (`passage: ` prefix).
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let items: Vec<_> = texts.iter().map(|t| (EmbedKind::Passage, *t)).collect();
        self.embed(&items)
    }

    /// Embeds texts of either kind; returns one L2-normalized vector per text, in order.
    /// Texts longer than the model's window are truncated (the closing `</s>` is kept).
    pub fn embed(&self, items: &[(EmbedKind, &str)]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_layers(items, &[self.model.config.layers])
    }

    /// Number of encoder layers (the depth of the usual embedding).
    pub fn layers(&self) -> usize {
        self.model.config.layers
    }

    /// Like [`TextEmbedder::embed`], with the hidden states after each of `layers`
    /// mean-pooled, normalized and concatenated (see [`Bert::pooled`]).
    pub fn embed_layers(
        &self,
        items: &[(EmbedKind, &str)],
        layers: &[usize],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        check_layers(layers, self.layers())?;
        let max = self.max_tokens;
        let mut seqs = Vec::with_capacity(items.len());
        for (kind, text) in items {
            let input = format!("{}{}", self.prompts.of(*kind), text);
            let enc = self
                .tokenizer
                .encode(input, true)
                .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
            let mut ids = enc.get_ids().to_vec();
            if ids.len() > max {
                let last = ids[ids.len() - 1];
                ids.truncate(max - 1);
                ids.push(last);
            }
            seqs.push(ids);
        }
        // Sort by length so each forward pass pads little, then restore the order.
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_by_key(|&i| seqs[i].len());
        // Group neighbours (in length order) under both a count and a padded-token
        // budget, so one long text does not pad a whole batch of short ones.
        let mut groups: Vec<&[usize]> = Vec::new();
        let mut start = 0;
        for end in 1..=order.len() {
            let full = end == order.len()
                || end - start >= self.max_batch.max(1)
                || (end - start + 1) * seqs[order[end]].len() > TOKEN_BUDGET;
            if full {
                groups.push(&order[start..end]);
                start = end;
            }
        }
        let mut out = vec![Vec::new(); seqs.len()];
        for chunk in groups {
            let len = chunk.iter().map(|&i| seqs[i].len()).max().unwrap_or(0);
            let mut ids = Vec::with_capacity(chunk.len() * len);
            let mut lens = Vec::with_capacity(chunk.len());
            for &i in chunk {
                ids.extend_from_slice(&seqs[i]);
                ids.extend(std::iter::repeat_n(1u32, len - seqs[i].len()));
                lens.push(seqs[i].len());
            }
            let vecs = self.model.pooled(&ids, &lens, len, layers)?;
            for (&i, v) in chunk.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

/// `layers` must be non-empty and each at most the model's depth.
pub(crate) fn check_layers(layers: &[usize], depth: usize) -> Result<(), EmbedError> {
    if layers.is_empty() || layers.iter().any(|&l| l > depth) {
        return Err(EmbedError::NoSuchLayer {
            asked: layers.to_vec(),
            layers: depth,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::dir_name;
    use std::path::Path;

    #[test]
    fn a_model_is_named_after_its_directory_as_given() {
        assert_eq!(
            dir_name(Path::new("/srv/models/all-MiniLM-L6-v2/")),
            "all-MiniLM-L6-v2"
        );
        assert_eq!(
            dir_name(Path::new("data/models/multilingual-e5-small")),
            "multilingual-e5-small"
        );
        let tmp = tempfile::tempdir().expect("tmp");
        let real = tmp.path().join("e5-copy");
        std::fs::create_dir(&real).expect("mkdir");
        let link = tmp.path().join("multilingual-e5-small");
        std::os::unix::fs::symlink(&real, &link).expect("link");
        assert_eq!(dir_name(&link), "multilingual-e5-small");
        assert_eq!(dir_name(&real.join(".")), "e5-copy");
    }
}
