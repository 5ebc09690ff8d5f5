//! BERT encoder (the e5 family) on candle, CPU. One forward pass serves both weight
//! sources: E5S1 images (Q4_0 matrices, kept quantized or dequantized at load) and
//! Hugging Face directories (`config.json` + `model.safetensors`, f32/f16/bf16).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::LayerNorm;

use crate::e5s1::{self, E5s1, TensorKind};

/// How Q4_0 matrices of an E5S1 image are used at inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightMode {
    /// Dequantize every matrix to f32 at load and run f32 matmuls (more memory, ~4×
    /// the 4-bit size for the encoder layers; the word-embedding table stays 4-bit).
    #[default]
    Dequantized,
    /// Keep Q4_0 and use candle's quantized matmul (activations quantized to Q8_0).
    Quantized,
}

/// Architecture hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub layer_norm_eps: f64,
    /// First position id (2 for RoBERTa-style models, 0 for BERT).
    pub position_offset: usize,
}

struct Linear {
    w: QMatMul,
    b: Tensor,
}

impl Linear {
    /// `x` is `[batch, len, in]`. It is flattened to one `[batch·len, in]` matrix so
    /// the whole batch is a single matmul instead of one small matmul per sequence.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, l, i) = x.dims3()?;
        let y = self
            .w
            .forward(&x.reshape((b * l, i))?)?
            .broadcast_add(&self.b)?;
        let o = y.dim(1)?;
        y.reshape((b, l, o))
    }
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    attn_out: Linear,
    attn_ln: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_ln: LayerNorm,
}

/// The encoder.
pub struct Bert {
    pub config: BertConfig,
    word: QMatMul,
    pos: Tensor,
    token_type0: Tensor,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    device: Device,
}

/// Errors while building the encoder from weights.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Format(#[from] e5s1::FormatError),
    #[error("tensor {name}: {reason}")]
    Tensor { name: String, reason: String },
    #[error("config.json: {0}")]
    Config(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Source of named weights, in the E5S1 naming scheme.
trait Weights {
    fn vector(&self, name: &str) -> Result<Tensor, LoadError>;
    fn matrix(&self, name: &str) -> Result<QMatMul, LoadError>;
}

struct E5s1Weights<'a> {
    img: &'a E5s1,
    mode: WeightMode,
    device: Device,
}

impl Weights for E5s1Weights<'_> {
    fn vector(&self, name: &str) -> Result<Tensor, LoadError> {
        let e = self
            .img
            .tensors
            .get(name)
            .ok_or_else(|| missing(name, "E5S1"))?;
        let values = match e.kind {
            TensorKind::F32 => e5s1::f32_values(self.img.bytes(e)),
            TensorKind::Q4_0 => e5s1::dequantize_q4_0(self.img.bytes(e)),
        };
        Ok(Tensor::from_vec(values, e.shape.clone(), &self.device)?)
    }

    fn matrix(&self, name: &str) -> Result<QMatMul, LoadError> {
        let e = self
            .img
            .tensors
            .get(name)
            .ok_or_else(|| missing(name, "E5S1"))?;
        match (e.kind, self.mode) {
            (TensorKind::Q4_0, WeightMode::Quantized) => Ok(QMatMul::QTensor(Arc::new(q4_tensor(
                self.img.bytes(e),
                &e.shape,
                &self.device,
            )?))),
            _ => Ok(QMatMul::Tensor(self.vector(name)?)),
        }
    }
}

/// Builds a Q4_0 QTensor from raw blocks. candle reinterprets the bytes as blocks that
/// need 2-byte alignment, so they are copied into a buffer at an even address.
fn q4_tensor(bytes: &[u8], shape: &[usize], device: &Device) -> Result<QTensor, LoadError> {
    let mut buf = vec![0u8; bytes.len() + 1];
    let start = buf.as_ptr() as usize % 2;
    buf[start..start + bytes.len()].copy_from_slice(bytes);
    let data = std::borrow::Cow::Borrowed(&buf[start..start + bytes.len()]);
    let storage = QStorage::from_data(data, device, GgmlDType::Q4_0)?;
    Ok(QTensor::new(storage, shape.to_vec())?)
}

fn missing(name: &str, from: &str) -> LoadError {
    LoadError::Tensor {
        name: name.to_string(),
        reason: format!("missing from {from} weights"),
    }
}

/// Hugging Face BERT weights, looked up under E5S1 names.
struct HfWeights {
    tensors: HashMap<String, Tensor>,
}

impl HfWeights {
    fn hf_name(name: &str) -> String {
        let fixed = match name {
            "emb.word" => "embeddings.word_embeddings.weight",
            "emb.pos" => "embeddings.position_embeddings.weight",
            "emb.type" => "embeddings.token_type_embeddings.weight",
            "emb.ln.w" => "embeddings.LayerNorm.weight",
            "emb.ln.b" => "embeddings.LayerNorm.bias",
            _ => "",
        };
        if !fixed.is_empty() {
            return fixed.to_string();
        }
        let (layer, rest) = name
            .trim_start_matches('l')
            .split_once('.')
            .unwrap_or(("", name));
        let (part, kind) = rest.split_once('.').unwrap_or((rest, ""));
        let kind = if kind == "w" { "weight" } else { "bias" };
        let module = match part {
            "q" => "attention.self.query",
            "k" => "attention.self.key",
            "v" => "attention.self.value",
            "ao" => "attention.output.dense",
            "aln" => "attention.output.LayerNorm",
            "fi" => "intermediate.dense",
            "fo" => "output.dense",
            _ => "output.LayerNorm",
        };
        format!("encoder.layer.{layer}.{module}.{kind}")
    }

    fn get(&self, name: &str) -> Result<Tensor, LoadError> {
        let hf = Self::hf_name(name);
        let t = [hf.clone(), format!("bert.{hf}"), format!("roberta.{hf}")]
            .iter()
            .find_map(|n| self.tensors.get(n))
            .ok_or_else(|| missing(&hf, "safetensors"))?;
        Ok(t.to_dtype(DType::F32)?)
    }
}

impl Weights for HfWeights {
    fn vector(&self, name: &str) -> Result<Tensor, LoadError> {
        self.get(name)
    }
    fn matrix(&self, name: &str) -> Result<QMatMul, LoadError> {
        Ok(QMatMul::Tensor(self.get(name)?))
    }
}

fn check_shape(t: &Tensor, name: &str, want: &[usize]) -> Result<(), LoadError> {
    if t.dims() != want {
        return Err(LoadError::Tensor {
            name: name.to_string(),
            reason: format!("shape {:?}, expected {want:?}", t.dims()),
        });
    }
    Ok(())
}

impl Bert {
    /// Builds the encoder from a parsed E5S1 image.
    pub fn from_e5s1(img: &E5s1, mode: WeightMode) -> Result<Self, LoadError> {
        let h = &img.header;
        let config = BertConfig {
            hidden: h.hidden,
            layers: h.layers,
            heads: h.heads,
            ffn: h.ffn,
            vocab: h.vocab,
            max_positions: h.max_positions,
            layer_norm_eps: f64::from(h.layer_norm_eps),
            position_offset: 0,
        };
        let device = Device::Cpu;
        let w = E5s1Weights {
            img,
            mode,
            device: device.clone(),
        };
        // The 250k-row word table stays 4-bit: rows are dequantized on lookup.
        let word = match img.tensors.get("emb.word") {
            Some(e) if e.kind == TensorKind::Q4_0 => {
                QMatMul::QTensor(Arc::new(q4_tensor(img.bytes(e), &e.shape, &device)?))
            }
            _ => QMatMul::Tensor(w.vector("emb.word")?),
        };
        Self::build(config, &w, word, device)
    }

    /// Builds the encoder from a Hugging Face BERT-family directory
    /// (`config.json` + `model.safetensors`).
    pub fn from_hf_dir(dir: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| LoadError::Config(e.to_string()))?;
        let cfg: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| LoadError::Config(e.to_string()))?;
        let int = |k: &str| -> Result<usize, LoadError> {
            cfg.get(k)
                .and_then(serde_json::Value::as_u64)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| LoadError::Config(format!("missing or invalid `{k}`")))
        };
        let model_type = cfg
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or("bert");
        let act = cfg
            .get("hidden_act")
            .and_then(|v| v.as_str())
            .unwrap_or("gelu");
        if act != "gelu" {
            return Err(LoadError::Config(format!("unsupported hidden_act `{act}`")));
        }
        let roberta = matches!(model_type, "roberta" | "xlm-roberta" | "camembert");
        let pad = cfg
            .get("pad_token_id")
            .and_then(|v| v.as_u64())
            .unwrap_or(1) as usize;
        let config = BertConfig {
            hidden: int("hidden_size")?,
            layers: int("num_hidden_layers")?,
            heads: int("num_attention_heads")?,
            ffn: int("intermediate_size")?,
            vocab: int("vocab_size")?,
            max_positions: int("max_position_embeddings")?,
            layer_norm_eps: cfg
                .get("layer_norm_eps")
                .and_then(|v| v.as_f64())
                .unwrap_or(1e-12),
            position_offset: if roberta { pad + 1 } else { 0 },
        };
        if config.heads == 0 || !config.hidden.is_multiple_of(config.heads) {
            return Err(LoadError::Config(
                "hidden_size not divisible by heads".into(),
            ));
        }
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &device)?;
        let w = HfWeights { tensors };
        let word = QMatMul::Tensor(w.vector("emb.word")?);
        Self::build(config, &w, word, device)
    }

    fn build(
        config: BertConfig,
        w: &dyn Weights,
        word: QMatMul,
        device: Device,
    ) -> Result<Self, LoadError> {
        let (hd, ff) = (config.hidden, config.ffn);
        let eps = config.layer_norm_eps;
        let vec = |name: &str, len: usize| -> Result<Tensor, LoadError> {
            let t = w.vector(name)?;
            check_shape(&t, name, &[len])?;
            Ok(t)
        };
        let ln = |prefix: &str| -> Result<LayerNorm, LoadError> {
            Ok(LayerNorm::new(
                vec(&format!("{prefix}.w"), hd)?,
                vec(&format!("{prefix}.b"), hd)?,
                eps,
            ))
        };
        let lin = |name: &str, out: usize, inp: usize| -> Result<Linear, LoadError> {
            let m = w.matrix(&format!("{name}.w"))?;
            let dims = match &m {
                QMatMul::QTensor(q) => q.shape().dims().to_vec(),
                QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.dims().to_vec(),
            };
            if dims != [out, inp] {
                return Err(LoadError::Tensor {
                    name: format!("{name}.w"),
                    reason: format!("shape {dims:?}, expected [{out}, {inp}]"),
                });
            }
            Ok(Linear {
                w: m,
                b: vec(&format!("{name}.b"), out)?,
            })
        };
        let pos = w.vector("emb.pos")?;
        check_shape(&pos, "emb.pos", &[config.max_positions, hd])?;
        let token_type0 = w.vector("emb.type")?.get(0)?;
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let p = format!("l{l}");
            layers.push(Layer {
                q: lin(&format!("{p}.q"), hd, hd)?,
                k: lin(&format!("{p}.k"), hd, hd)?,
                v: lin(&format!("{p}.v"), hd, hd)?,
                attn_out: lin(&format!("{p}.ao"), hd, hd)?,
                attn_ln: ln(&format!("{p}.aln"))?,
                ffn_in: lin(&format!("{p}.fi"), ff, hd)?,
                ffn_out: lin(&format!("{p}.fo"), hd, ff)?,
                out_ln: ln(&format!("{p}.oln"))?,
            });
        }
        Ok(Self {
            emb_ln: ln("emb.ln")?,
            config,
            word,
            pos,
            token_type0,
            layers,
            device,
        })
    }

    /// Longest sequence (special tokens included) the position table allows.
    pub fn max_tokens(&self) -> usize {
        self.config
            .max_positions
            .saturating_sub(self.config.position_offset)
    }

    /// Runs the encoder on a padded batch and returns mean-pooled, L2-normalized
    /// sentence embeddings, one row per sequence. `ids` is `[batch, len]` row-major;
    /// `lens[i]` is the number of real tokens of row `i` (the rest is padding).
    pub fn embed(
        &self,
        ids: &[u32],
        lens: &[usize],
        len: usize,
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        self.pooled(ids, lens, len, &[self.config.layers])
    }

    /// Like [`Bert::embed`], pooling the hidden states after each layer of `layers`
    /// (0 = the embedding layer's output, `config.layers` = the last layer, the usual
    /// embedding) and concatenating them: `layers.len() × hidden` values per sequence,
    /// each block mean-pooled and L2-normalized on its own. The encoder stops after the
    /// deepest layer asked for.
    pub fn pooled(
        &self,
        ids: &[u32],
        lens: &[usize],
        len: usize,
        layers: &[usize],
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let b = lens.len();
        let c = &self.config;
        let (nh, hd) = (c.heads, c.hidden / c.heads);
        let mask: Vec<f32> = lens
            .iter()
            .flat_map(|&n| (0..len).map(move |j| if j < n { 1.0 } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(mask, (b, len), &self.device)?;
        let ids = Tensor::from_slice(ids, (b, len), &self.device)?;

        let pos = self.pos.narrow(0, c.position_offset, len)?;
        let x = self
            .word
            .embedding(&ids)?
            .broadcast_add(&pos)?
            .broadcast_add(&self.token_type0)?;
        let mut x = self.emb_ln.forward(&x)?;
        let m3 = mask.unsqueeze(2)?;
        let counts = m3.sum(1)?.clamp(1.0, f64::MAX)?;
        let pool = |x: &Tensor| -> candle_core::Result<Tensor> {
            let mean = x.broadcast_mul(&m3)?.sum(1)?.broadcast_div(&counts)?;
            let norm = mean
                .sqr()?
                .sum_keepdim(D::Minus1)?
                .sqrt()?
                .clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norm)
        };
        let deepest = layers
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .min(self.layers.len());
        let mut blocks: Vec<Option<Tensor>> = vec![None; layers.len()];
        let mut keep = |depth: usize, x: &Tensor| -> candle_core::Result<()> {
            for (slot, &l) in blocks.iter_mut().zip(layers) {
                if l == depth {
                    *slot = Some(pool(x)?);
                }
            }
            Ok(())
        };
        keep(0, &x)?;

        // Additive attention bias: 0 for real keys, a large negative for padding.
        let bias = ((mask.clone() - 1.0)? * 1e9)?.reshape((b, 1, 1, len))?;
        let scale = 1.0 / (hd as f64).sqrt();
        let heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((b, len, nh, hd))?.transpose(1, 2)?.contiguous()
        };
        for (depth, layer) in self.layers[..deepest].iter().enumerate() {
            let q = heads(layer.q.forward(&x)?)?;
            let k = heads(layer.k.forward(&x)?)?;
            let v = heads(layer.v.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .reshape((b, len, c.hidden))?;
            let a = layer.attn_out.forward(&ctx)?;
            x = layer.attn_ln.forward(&(a + &x)?)?;
            let m = layer.ffn_in.forward(&x)?.gelu_erf()?;
            let f = layer.ffn_out.forward(&m)?;
            x = layer.out_ln.forward(&(f + &x)?)?;
            keep(depth + 1, &x)?;
        }
        let blocks: Vec<Tensor> = blocks
            .into_iter()
            .map(|b| b.ok_or_else(|| candle_core::Error::Msg("no such layer".into())))
            .collect::<candle_core::Result<_>>()?;
        Tensor::cat(&blocks, D::Minus1)?.to_vec2::<f32>()
    }
}
