//! The lexicon fallback on the held-out split of the review corpus (no model needed).

use comptoir_ml::sentiment::corpus::{self, Report, Split};
use comptoir_ml::sentiment::lexicon::Lang;
use comptoir_ml::sentiment::lexicon_sentiment;

#[test]
fn lexicon_accuracy_on_the_held_out_split() {
    let test: Vec<_> = corpus::reviews()
        .into_iter()
        .filter(|e| e.split == Split::Test)
        .collect();
    let predictions: Vec<_> = test
        .iter()
        .map(|e| lexicon_sentiment(&e.text).label)
        .collect();
    // Tune on the training split only: SENTIMENT_SHOW_ERRORS=1 lists its mistakes.
    if std::env::var_os("SENTIMENT_SHOW_ERRORS").is_some() {
        let train: Vec<_> = corpus::reviews()
            .into_iter()
            .filter(|e| e.split == Split::Train)
            .collect();
        for e in &train {
            let p = lexicon_sentiment(&e.text).label;
            if p != e.label {
                let s = comptoir_ml::sentiment::lexicon::score(&e.text);
                eprintln!(
                    "{:?} want {:?} got {:?} ({:.2}) {}",
                    e.lang, e.label, p, s.compound, e.text
                );
            }
        }
    }
    let report = Report::new(test.iter().zip(predictions));
    eprintln!("lexicon fallback, held-out split:\n{report}");
    // A floor well below the measured figures (README), far above chance (1/3): a
    // regression in tokenisation, negation or language detection falls through it.
    for lang in [Lang::Fr, Lang::En] {
        assert!(
            report.accuracy(Some(lang)) >= 0.60,
            "{lang:?}: {}",
            report.accuracy(Some(lang))
        );
    }
}

#[test]
fn language_detection_on_the_corpus() {
    let all = corpus::reviews();
    let wrong: Vec<_> = all
        .iter()
        .filter(|e| comptoir_ml::sentiment::lexicon::detect(&e.text) != e.lang)
        .map(|e| e.text.as_str())
        .collect();
    let rate = 1.0 - wrong.len() as f64 / all.len() as f64;
    eprintln!(
        "language detection: {:.1} % of {} ({wrong:?})",
        100.0 * rate,
        all.len()
    );
    assert!(rate >= 0.98, "{rate}");
}
