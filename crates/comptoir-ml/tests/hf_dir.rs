//! A standard Hugging Face BERT directory (config.json + tokenizer.json +
//! model.safetensors) loads through the same model code as E5S1 images: a tiny random
//! BERT written both ways must give the same embeddings.

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use comptoir_ml::{LoadOptions, TextEmbedder, cosine};

const H: usize = 32;
const FF: usize = 64;
const LAYERS: usize = 2;
const VOCAB: usize = 250_037;
const MAXP: usize = 64;

/// (E5S1 name, Hugging Face name, shape)
fn names() -> Vec<(String, String, Vec<usize>)> {
    let mut v = vec![
        (
            "emb.word".into(),
            "embeddings.word_embeddings.weight".into(),
            vec![VOCAB, H],
        ),
        (
            "emb.pos".into(),
            "embeddings.position_embeddings.weight".into(),
            vec![MAXP, H],
        ),
        (
            "emb.type".into(),
            "embeddings.token_type_embeddings.weight".into(),
            vec![2, H],
        ),
        (
            "emb.ln.w".into(),
            "embeddings.LayerNorm.weight".into(),
            vec![H],
        ),
        (
            "emb.ln.b".into(),
            "embeddings.LayerNorm.bias".into(),
            vec![H],
        ),
    ];
    for l in 0..LAYERS {
        for (short, long, out, inp) in [
            ("q", "attention.self.query", H, H),
            ("k", "attention.self.key", H, H),
            ("v", "attention.self.value", H, H),
            ("ao", "attention.output.dense", H, H),
            ("fi", "intermediate.dense", FF, H),
            ("fo", "output.dense", H, FF),
        ] {
            v.push((
                format!("l{l}.{short}.w"),
                format!("encoder.layer.{l}.{long}.weight"),
                vec![out, inp],
            ));
            v.push((
                format!("l{l}.{short}.b"),
                format!("encoder.layer.{l}.{long}.bias"),
                vec![out],
            ));
        }
        for (short, long) in [
            ("aln", "attention.output.LayerNorm"),
            ("oln", "output.LayerNorm"),
        ] {
            v.push((
                format!("l{l}.{short}.w"),
                format!("encoder.layer.{l}.{long}.weight"),
                vec![H],
            ));
            v.push((
                format!("l{l}.{short}.b"),
                format!("encoder.layer.{l}.{long}.bias"),
                vec![H],
            ));
        }
    }
    v
}

/// An E5S1 image holding every tensor as f32 (dtype 0), written independently of the
/// crate's parser from the format description.
fn e5s1_image(tensors: &[(String, Vec<f32>)]) -> Vec<u8> {
    let mut out = b"E5S1".to_vec();
    out.extend(1u32.to_le_bytes());
    for v in [H, LAYERS, 2, FF, VOCAB, MAXP, 2] {
        out.extend((v as i32).to_le_bytes());
    }
    out.extend(1e-12f32.to_le_bytes());
    out.extend(32i32.to_le_bytes());
    // empty vocabulary: 0 pieces, ids, blob length 0, one offset
    out.extend(0i32.to_le_bytes());
    for id in [0i32, 2, 1, 3] {
        out.extend(id.to_le_bytes());
    }
    out.extend(0u64.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    // empty normalization map
    out.extend(0i32.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend((tensors.len() as i32).to_le_bytes());
    let dir_len: usize = tensors.iter().map(|(n, _)| 2 + n.len() + 21).sum();
    let mut offset = out.len() + dir_len;
    for (name, values) in tensors {
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(name.as_bytes());
        out.push(0);
        out.extend((values.len() as u32).to_le_bytes());
        out.extend((offset as u64).to_le_bytes());
        out.extend(((values.len() * 4) as u64).to_le_bytes());
        offset += values.len() * 4;
    }
    for (_, values) in tensors {
        for x in values {
            out.extend(x.to_le_bytes());
        }
    }
    out
}

#[test]
fn hf_directory_and_e5s1_give_the_same_embeddings() {
    let tokenizer = common::default_model_dir().join("tokenizer.json");
    let tmp = tempfile::tempdir().expect("tmp");
    let (hf, e5) = (tmp.path().join("hf"), tmp.path().join("e5"));
    std::fs::create_dir_all(&hf).expect("mkdir");
    std::fs::create_dir_all(&e5).expect("mkdir");

    let mut st = HashMap::new();
    let mut flat = Vec::new();
    for (short, long, shape) in names() {
        let t = if short.ends_with("ln.w") {
            (Tensor::randn(0f32, 0.1, shape.as_slice(), &Device::Cpu).expect("randn") + 1.0)
                .expect("add")
        } else {
            Tensor::randn(0f32, 0.2, shape.as_slice(), &Device::Cpu).expect("randn")
        };
        flat.push((
            short,
            t.flatten_all()
                .expect("flat")
                .to_vec1::<f32>()
                .expect("vec"),
        ));
        st.insert(long, t);
    }
    candle_core::safetensors::save(&st, hf.join("model.safetensors")).expect("save");
    let config = serde_json::json!({
        "model_type": "bert", "hidden_size": H, "num_hidden_layers": LAYERS,
        "num_attention_heads": 2, "intermediate_size": FF, "vocab_size": VOCAB,
        "max_position_embeddings": MAXP, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "hidden_act": "gelu"
    });
    std::fs::write(hf.join("config.json"), config.to_string()).expect("config");
    std::fs::write(e5.join("model.e5s1"), e5s1_image(&flat)).expect("e5s1");
    for d in [&hf, &e5] {
        std::fs::copy(&tokenizer, d.join("tokenizer.json")).expect("tokenizer");
    }

    let a = TextEmbedder::load(&hf, LoadOptions::default()).expect("load hf dir");
    let b = TextEmbedder::load(&e5, LoadOptions::default()).expect("load e5s1");
    assert_eq!(a.dim(), H);
    let texts = [
        "Très bon produit, je recommande.",
        "The zipper broke after a week.",
        // Longer than the 64-position table: must be truncated, not fail.
        &"very long review with many many words ".repeat(20),
    ];
    let va = a.embed_passages(&texts).expect("hf embed");
    let vb = b.embed_passages(&texts).expect("e5s1 embed");
    for (x, y) in va.iter().zip(&vb) {
        assert_eq!(x.len(), H);
        let c = cosine(x, y);
        assert!(c > 0.99999, "hf vs e5s1 cosine {c}");
    }
    // Different texts give different vectors (the model is not ignoring its input).
    assert!(cosine(&va[0], &va[1]) < 0.999);
}

#[test]
fn missing_model_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().expect("tmp");
    let err = TextEmbedder::load(tmp.path(), LoadOptions::default()).expect_err("empty dir");
    assert!(err.to_string().contains("holds neither"), "{err}");
    std::fs::write(tmp.path().join("model.e5s1"), b"E5S1 truncated").expect("write");
    let err = TextEmbedder::load(tmp.path(), LoadOptions::default()).expect_err("bad file");
    assert!(err.to_string().contains("cannot load model"), "{err}");
}
