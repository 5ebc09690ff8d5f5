//! A real sentence-transformers directory (all-MiniLM-L6-v2: BERT with a WordPiece
//! tokenizer, 6 layers, mean pooling, `max_seq_length` 256, no prompts) loads through the
//! same encoder as the default model, with its own settings honoured.

mod common;

use std::path::Path;

use comptoir_ml::{EmbedKind, LoadOptions, TextEmbedder, cosine};

fn load(dir: &Path) -> TextEmbedder {
    TextEmbedder::load(dir, LoadOptions::default()).expect("load the model directory")
}

/// A copy of the MiniLM directory (its large files linked) with `overrides` written over it.
fn variant(overrides: &[(&str, &str)]) -> tempfile::TempDir {
    let src = common::minilm_dir();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("all-MiniLM-L6-v2");
    std::fs::create_dir_all(dir.join("1_Pooling")).expect("mkdir");
    for f in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        std::os::unix::fs::symlink(src.join(f), dir.join(f)).expect("link");
    }
    for (name, text) in overrides {
        std::fs::remove_file(dir.join(name)).expect("unlink");
        std::fs::write(dir.join(name), text).expect("write");
    }
    tmp
}

#[test]
fn minilm_loads_with_its_own_settings_and_embeds_meaningfully() {
    let model = load(&common::minilm_dir());
    assert_eq!(model.name(), "all-MiniLM-L6-v2");
    assert_eq!((model.dim(), model.layers()), (384, 6));
    // Its sentence-transformers config gives no prompts: queries and passages embed alike.
    assert_eq!(model.prompts().query, "");
    let q = model
        .embed_queries(&["The delivery was fast"])
        .expect("embed");
    let p = model
        .embed_passages(&["The delivery was fast"])
        .expect("embed");
    assert!(cosine(&q[0], &p[0]) > 0.99999);
    let v = model
        .embed_passages(&[
            "The delivery was fast",
            "Shipping was quick and the parcel arrived early",
            "The battery overheats when charging",
        ])
        .expect("embed");
    for x in &v {
        let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
    let (near, far) = (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(
        near > far + 0.2,
        "paraphrase {near:.3} vs unrelated {far:.3}"
    );
    // Past its max_seq_length (256 tokens, below the 512 positions): truncated, not failed.
    let long = "the parcel arrived late and damaged ".repeat(80);
    let cut = model.embed_passages(&[&long]).expect("long text");
    assert_eq!(cut[0].len(), 384);
}

#[test]
fn prompts_from_the_sentence_transformers_config_are_prepended() {
    let with = variant(&[(
        "config_sentence_transformers.json",
        r#"{"prompts": {"query": "query: ", "passage": "passage: "}}"#,
    )]);
    let plain = load(&common::minilm_dir());
    let prompted = load(&with.path().join("all-MiniLM-L6-v2"));
    assert_eq!(prompted.prompts().query, "query: ");
    let a = prompted
        .embed(&[(EmbedKind::Query, "waterproof hiking boots")])
        .expect("embed");
    let b = plain
        .embed_passages(&["query: waterproof hiking boots"])
        .expect("embed");
    let c = plain
        .embed_passages(&["waterproof hiking boots"])
        .expect("embed");
    assert!(
        cosine(&a[0], &b[0]) > 0.99999,
        "the prompt is the text's prefix"
    );
    assert!(cosine(&a[0], &c[0]) < 0.999, "and it changes the vector");
}

#[test]
fn a_model_that_pools_otherwise_than_by_mean_is_refused() {
    let cls = variant(&[(
        "1_Pooling/config.json",
        r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
    )]);
    let err = TextEmbedder::load(&cls.path().join("all-MiniLM-L6-v2"), LoadOptions::default())
        .expect_err("CLS pooling");
    assert!(err.to_string().contains("only mean pooling"), "{err}");
    let broken = variant(&[("config_sentence_transformers.json", "{not json")]);
    let err = TextEmbedder::load(
        &broken.path().join("all-MiniLM-L6-v2"),
        LoadOptions::default(),
    )
    .expect_err("bad JSON");
    assert!(
        err.to_string()
            .contains("config_sentence_transformers.json"),
        "{err}"
    );
}
