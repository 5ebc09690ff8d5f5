//! Must-show 2: the sentiment head over e5 embeddings on the held-out split of the review
//! corpus, with the real default model (pulled like the other model tests), and the lexicon
//! fallback measured on the same sentences. Target: 85 % per language; the floors here are
//! the measured figures (95.0 % in English, 87.1 % in French) rounded down, so that a
//! regression fails.

mod common;

use comptoir_ml::sentiment::corpus::{self, Report, Split};
use comptoir_ml::sentiment::head::SentimentHead;
use comptoir_ml::sentiment::lexicon::Lang;
use comptoir_ml::sentiment::{SentimentMethod, analyze, lexicon_sentiment};
use comptoir_ml::{BatchConfig, Embedder, LoadOptions, TextEmbedder};

fn embedder() -> Embedder {
    let dir = common::default_model_dir();
    Embedder::spawn(
        TextEmbedder::load(&dir, LoadOptions::default()).expect("load"),
        BatchConfig::default(),
    )
    .expect("spawn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_out_accuracy_of_the_model_and_the_lexicon() {
    let head = SentimentHead::builtin().expect("the built-in head");
    let all = corpus::reviews();
    // The built-in head was trained on this corpus's training split, and only on it.
    let train = all.iter().filter(|e| e.split == Split::Train).count();
    assert_eq!(
        head.train_examples, train,
        "retrain: comptoir models train-sentiment"
    );
    let test: Vec<_> = all.into_iter().filter(|e| e.split == Split::Test).collect();
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let embedder = embedder();
    let out = analyze(Some(&embedder), &texts).await;
    assert!(out.iter().all(|s| s.method == SentimentMethod::Model));
    assert!(out.iter().all(|s| (-1.0..=1.0).contains(&s.score)));
    let model = Report::new(test.iter().zip(out.iter().map(|s| s.label)));
    let lexicon = Report::new(test.iter().map(|e| (e, lexicon_sentiment(&e.text).label)));
    eprintln!("model, held-out split:\n{model}\nlexicon, held-out split:\n{lexicon}");
    // The measured figures (README, "Sentiment"), rounded down to the percent.
    for (lang, floor) in [(Lang::Fr, 0.87), (Lang::En, 0.95)] {
        let acc = model.accuracy(Some(lang));
        assert!(acc >= floor, "{lang:?}: model accuracy {acc:.3} < {floor}");
        assert!(
            acc > lexicon.accuracy(Some(lang)),
            "the model must beat the lexicon"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_reads_negation_and_sarcasm_examples() {
    let embedder = embedder();
    let texts = [
        "Je ne recommande pas ce vendeur, colis jamais arrivé.",
        "Pas déçu du tout, la voiture est parfaite.",
        "Great, the car broke down again on the motorway.",
        "Works perfectly, I am very happy with it.",
    ];
    let out = analyze(Some(&embedder), &texts).await;
    assert!(out[0].score < 0.0, "{:?}", out[0]);
    assert!(out[1].score > 0.0, "{:?}", out[1]);
    assert!(out[2].score < 0.0, "{:?}", out[2]);
    assert!(out[3].score > 0.0, "{:?}", out[3]);
    for s in &out {
        assert!((0.0..=1.0).contains(&s.confidence));
    }
}
