//! The batching Embedder gives concurrent callers the same vectors as direct calls.

mod common;

use std::time::Duration;

use comptoir_ml::{BatchConfig, EmbedKind, Embedder, LoadOptions, TextEmbedder};

fn assert_handle<T: Clone + Send + Sync + 'static>() {}

/// The model in `dir` behind a worker that waits 20 ms for up to `max_batch` texts, so
/// that concurrent callers share forward passes.
fn batching_embedder(dir: &std::path::Path, max_batch: usize) -> Embedder {
    Embedder::spawn(
        TextEmbedder::load(dir, LoadOptions::default()).expect("load"),
        BatchConfig {
            max_wait: Duration::from_millis(20),
            max_batch,
            queue: 64,
        },
    )
    .expect("spawn")
}

#[tokio::test]
async fn missing_default_model_is_an_error() {
    assert_handle::<Embedder>();
    let tmp = tempfile::tempdir().expect("tmp");
    let err = Embedder::load_default(tmp.path()).expect_err("nothing pulled");
    assert!(err.to_string().contains("model not available"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_match_single_calls() {
    let dir = common::default_model_dir();
    let direct = TextEmbedder::load(&dir, LoadOptions::default()).expect("load");
    let sentences: Vec<String> = common::sentences()
        .into_iter()
        .step_by(4)
        .take(40)
        .collect();
    // Reference: each text alone, no batching, no padding.
    let single: Vec<Vec<f32>> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let kind = if i % 3 == 0 {
                EmbedKind::Query
            } else {
                EmbedKind::Passage
            };
            direct
                .embed(&[(kind, s.as_str())])
                .expect("embed")
                .remove(0)
        })
        .collect();

    // The pulled default model loads through the convenience constructor too.
    let default = Embedder::load_default(dir.parent().expect("models dir")).expect("load_default");
    let v = default
        .embed_queries(&[sentences[0].as_str()])
        .await
        .expect("embed");
    let diff = v[0]
        .iter()
        .zip(&single[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff < 1e-4, "load_default vector differs by {diff}");
    drop(default);

    let embedder = batching_embedder(&dir, 8);
    assert_eq!(embedder.dim(), 384);
    let mut tasks = Vec::new();
    for (i, s) in sentences.iter().cloned().enumerate() {
        let e = embedder.clone();
        tasks.push(tokio::spawn(async move {
            let kind = if i % 3 == 0 {
                EmbedKind::Query
            } else {
                EmbedKind::Passage
            };
            (
                i,
                e.embed(kind, &[s.as_str()]).await.expect("embed").remove(0),
            )
        }));
    }
    // A multi-text call in the middle of the stream must come back in order too.
    let pair = embedder
        .embed_passages(&[sentences[1].as_str(), sentences[2].as_str()])
        .await
        .expect("pair");
    for t in tasks {
        let (i, v) = t.await.expect("task");
        let diff = v
            .iter()
            .zip(&single[i])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-4, "text {i}: batched vector differs by {diff}");
    }
    for (v, i) in pair.iter().zip([1, 2]) {
        let diff = v
            .iter()
            .zip(&single[i])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-4, "pair text {i}: differs by {diff}");
    }
    assert!(embedder.embed_queries(&[]).await.expect("empty").is_empty());
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_layer_features_share_batches_with_embeddings() {
    let dir = common::default_model_dir();
    let direct = TextEmbedder::load(&dir, LoadOptions::default()).expect("load");
    assert_eq!(direct.layers(), 12);
    let sentences: Vec<String> = common::sentences().into_iter().take(12).collect();
    let text = sentences[0].as_str();

    // The last layer's block is the embedding; each block is normalized on its own; the
    // blocks come in the order asked for.
    let emb = direct.embed(&[(EmbedKind::Query, text)]).expect("embed");
    let f = direct
        .embed_layers(&[(EmbedKind::Query, text)], &[8, 4, 12])
        .expect("layers")
        .remove(0);
    assert_eq!(f.len(), 3 * 384);
    assert!(max_diff(&f[768..], &emb[0]) < 1e-5);
    for block in f.chunks(384) {
        let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "block norm {norm}");
    }
    assert!(
        max_diff(&f[..384], &f[384..768]) > 1e-2,
        "layers 8 and 4 differ"
    );
    let swapped = direct
        .embed_layers(&[(EmbedKind::Query, text)], &[4, 8])
        .expect("layers")
        .remove(0);
    assert!(max_diff(&swapped[..384], &f[384..768]) < 1e-5);
    for bad in [&[13][..], &[]] {
        let err = direct
            .embed_layers(&[(EmbedKind::Query, text)], bad)
            .expect_err("no such layer");
        assert!(
            matches!(err, comptoir_ml::EmbedError::NoSuchLayer { .. }),
            "{err}"
        );
    }

    // Concurrent callers asking for embeddings, for layer features, and for a layer the
    // model lacks: one bad request fails alone, the others get what direct calls give.
    let embedder = batching_embedder(&dir, 16);
    assert_eq!(embedder.layers(), 12);
    let mut tasks = Vec::new();
    for (i, s) in sentences.iter().cloned().enumerate() {
        let e = embedder.clone();
        tasks.push(tokio::spawn(async move {
            let got = match i % 3 {
                0 => e.embed_queries(&[s.as_str()]).await,
                1 => {
                    e.embed_layers(EmbedKind::Query, &[s.as_str()], &[8, 4])
                        .await
                }
                _ => {
                    e.embed_layers(EmbedKind::Passage, &[s.as_str()], &[99])
                        .await
                }
            };
            (i, got)
        }));
    }
    for t in tasks {
        let (i, got) = t.await.expect("task");
        let s = sentences[i].as_str();
        match i % 3 {
            0 => {
                let want = direct.embed(&[(EmbedKind::Query, s)]).expect("embed");
                assert!(max_diff(&got.expect("embedding")[0], &want[0]) < 1e-4);
            }
            1 => {
                let want = direct
                    .embed_layers(&[(EmbedKind::Query, s)], &[8, 4])
                    .expect("layers");
                assert!(max_diff(&got.expect("features")[0], &want[0]) < 1e-4);
            }
            _ => assert!(matches!(
                got,
                Err(comptoir_ml::EmbedError::NoSuchLayer { layers: 12, .. })
            )),
        }
    }
}
