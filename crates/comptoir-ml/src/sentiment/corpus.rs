//! The labelled review corpus (`data/sentiment/reviews.tsv`, compiled in) and the
//! evaluation report used by the trainer, the tests and the README figures.

use std::collections::BTreeMap;
use std::fmt;

use super::SentimentLabel;
use super::lexicon::Lang;

/// The corpus shipped with the crate.
pub const REVIEWS_TSV: &str = include_str!("../../data/sentiment/reviews.tsv");

/// Which side of the fixed split a sentence is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// One labelled sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub id: String,
    pub lang: Lang,
    pub label: SentimentLabel,
    pub domain: String,
    pub split: Split,
    pub text: String,
}

/// Parses the corpus format (a header line, then `id lang label domain split text`,
/// tab-separated); errors name the line.
pub fn parse(tsv: &str) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let [id, lang, label, domain, split, text] = f[..] else {
            return Err(format!("line {}: expected 6 tab-separated fields", n + 1));
        };
        let lang = match lang {
            "en" => Lang::En,
            "fr" => Lang::Fr,
            other => return Err(format!("line {}: unknown language {other:?}", n + 1)),
        };
        let split = match split {
            "train" => Split::Train,
            "test" => Split::Test,
            other => return Err(format!("line {}: unknown split {other:?}", n + 1)),
        };
        let label = label.parse().map_err(|e| format!("line {}: {e}", n + 1))?;
        if text.trim().is_empty() {
            return Err(format!("line {}: empty text", n + 1));
        }
        out.push(Example {
            id: id.to_string(),
            lang,
            label,
            domain: domain.to_string(),
            split,
            text: text.to_string(),
        });
    }
    Ok(out)
}

/// The shipped corpus, parsed.
pub fn reviews() -> Vec<Example> {
    parse(REVIEWS_TSV).unwrap_or_default()
}

/// Accuracy per language and precision/recall per class of predictions on examples.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// (lang, true label, predicted label) → count
    counts: BTreeMap<(&'static str, usize, usize), usize>,
}

fn lang_name(l: Lang) -> &'static str {
    match l {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

fn index(l: SentimentLabel) -> usize {
    SentimentLabel::ALL
        .iter()
        .position(|x| *x == l)
        .unwrap_or(1)
}

impl Report {
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a Example, SentimentLabel)>) -> Self {
        let mut counts = BTreeMap::new();
        for (e, predicted) in pairs {
            *counts
                .entry((lang_name(e.lang), index(e.label), index(predicted)))
                .or_insert(0) += 1;
        }
        Self { counts }
    }

    fn sum(&self, keep: impl Fn(&str, usize, usize) -> bool) -> usize {
        self.counts
            .iter()
            .filter(|((l, t, p), _)| keep(l, *t, *p))
            .map(|(_, n)| n)
            .sum()
    }

    /// Share of correct predictions for a language (`None`: both).
    pub fn accuracy(&self, lang: Option<Lang>) -> f64 {
        let want = lang.map(lang_name);
        let in_lang = |l: &str| want.is_none_or(|w| w == l);
        let total = self.sum(|l, _, _| in_lang(l));
        let right = self.sum(|l, t, p| in_lang(l) && t == p);
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }

    /// Number of examples of a language (`None`: both).
    pub fn total(&self, lang: Option<Lang>) -> usize {
        let want = lang.map(lang_name);
        self.sum(|l, _, _| want.is_none_or(|w| w == l))
    }

    /// Precision and recall of one class within a language (`None`: both).
    pub fn precision_recall(&self, lang: Option<Lang>, label: SentimentLabel) -> (f64, f64) {
        let want = lang.map(lang_name);
        let c = index(label);
        let in_lang = |l: &str| want.is_none_or(|w| w == l);
        let tp = self.sum(|l, t, p| in_lang(l) && t == c && p == c) as f64;
        let predicted = self.sum(|l, _, p| in_lang(l) && p == c) as f64;
        let actual = self.sum(|l, t, _| in_lang(l) && t == c) as f64;
        let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
        (ratio(tp, predicted), ratio(tp, actual))
    }
}

impl fmt::Display for Report {
    /// A Markdown table: per language, accuracy then precision/recall of each class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| language | n | accuracy | negative P / R | neutral P / R | positive P / R |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|")?;
        for (name, lang) in [
            ("French", Some(Lang::Fr)),
            ("English", Some(Lang::En)),
            ("both", None),
        ] {
            write!(
                f,
                "| {name} | {} | {:.1} % |",
                self.total(lang),
                100.0 * self.accuracy(lang)
            )?;
            for label in SentimentLabel::ALL {
                let (p, r) = self.precision_recall(lang, label);
                write!(f, " {:.0} % / {:.0} % |", 100.0 * p, 100.0 * r)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_corpus_is_well_formed() {
        let all = parse(REVIEWS_TSV).expect("reviews.tsv parses");
        assert!(all.len() >= 1_500, "{} sentences", all.len());
        let mut ids = std::collections::HashSet::new();
        for e in &all {
            assert!(ids.insert(e.id.as_str()), "duplicate id {}", e.id);
        }
        for lang in [Lang::En, Lang::Fr] {
            for label in SentimentLabel::ALL {
                for split in [Split::Train, Split::Test] {
                    let n = all
                        .iter()
                        .filter(|e| e.lang == lang && e.label == label && e.split == split)
                        .count();
                    let floor = if split == Split::Test { 40 } else { 150 };
                    assert!(n >= floor, "{lang:?} {label:?} {split:?}: {n}");
                }
            }
        }
        let vehicles = [
            "car",
            "ev",
            "motorcycle",
            "ebike",
            "scooter",
            "van",
            "truck",
            "tires",
        ];
        assert!(
            all.iter()
                .filter(|e| vehicles.contains(&e.domain.as_str()))
                .count()
                >= 200
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let header = "id\tlang\tlabel\tdomain\tsplit\ttext\n";
        let err = parse(&format!("{header}a\tde\tpositive\tcar\ttrain\tGut")).unwrap_err();
        assert!(err.contains("line 2") && err.contains("language"), "{err}");
        assert!(parse(&format!("{header}a\ten\tgreat\tcar\ttrain\tx")).is_err());
        assert!(parse(&format!("{header}a\ten\tpositive\tcar\tdev\tx")).is_err());
        assert!(parse(&format!("{header}a\ten\tpositive\tcar\ttrain")).is_err());
        assert!(parse(&format!("{header}a\ten\tpositive\tcar\ttrain\t ")).is_err());
    }

    #[test]
    fn report_counts() {
        let e = |lang, label| Example {
            id: String::new(),
            lang,
            label,
            domain: String::new(),
            split: Split::Test,
            text: String::new(),
        };
        let (pos, neg) = (SentimentLabel::Positive, SentimentLabel::Negative);
        let examples = [
            e(Lang::Fr, pos),
            e(Lang::Fr, neg),
            e(Lang::En, pos),
            e(Lang::En, pos),
        ];
        let preds = [pos, pos, pos, neg];
        let r = Report::new(examples.iter().zip(preds));
        assert_eq!(r.accuracy(Some(Lang::Fr)), 0.5);
        assert_eq!(r.accuracy(Some(Lang::En)), 0.5);
        assert_eq!(r.accuracy(None), 0.5);
        assert_eq!(r.precision_recall(Some(Lang::Fr), pos), (0.5, 1.0));
        assert_eq!(r.precision_recall(None, neg), (0.0, 0.0));
        assert!(r.to_string().contains("| French | 2 | 50.0 % |"));
    }
}
