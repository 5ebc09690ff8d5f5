//! The lexicon fallback: VADER-style rules over word valences, French and English, with no
//! model and no network (the word lists are compiled in from `lexicons/`).
//!
//! Per word: its valence (−4..4; multi-word phrases first), pushed by up to three preceding
//! intensifiers ("très", "slightly"), flipped and damped by a negation in the three
//! preceding words ("pas", "n'", "not", "never"), emphasised in CAPITALS. A contrast
//! ("mais", "but") halves what comes before it and weighs what follows by 1.5. Exclamation
//! marks amplify. The sum is squashed into [-1, 1] as VADER's "compound" score.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The two languages the lexicons cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

// VADER's empirical constants (vaderSentiment.py).
const NEGATION_SCALAR: f32 = -0.74;
const CAPS_INCREMENT: f32 = 0.733;
const EXCLAMATION_INCREMENT: f32 = 0.292;
const NORMALIZE_ALPHA: f32 = 15.0;
/// Longest phrase (in words) looked up in a lexicon.
const MAX_PHRASE: usize = 4;
/// How many preceding words an intensifier or a negation reaches.
const WINDOW: usize = 3;

struct Lexicon {
    valence: HashMap<String, f32>,
    boosters: HashMap<String, f32>,
    negations: HashSet<String>,
    contrasts: &'static [&'static str],
    /// Function words that tell the language apart.
    stopwords: HashSet<&'static str>,
    lang: Lang,
}

fn tsv(text: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (w, v) = l.split_once('\t')?;
            Some((w.trim().to_lowercase(), v.trim().parse().ok()?))
        })
}

fn words(text: &str) -> HashSet<String> {
    text.lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
}

static EN: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut valence: HashMap<String, f32> =
        tsv(include_str!("../../lexicons/en_vader.tsv")).collect();
    valence.extend(tsv(include_str!("../../lexicons/en_domain.tsv")));
    Lexicon {
        valence,
        boosters: tsv(include_str!("../../lexicons/en_boosters.tsv")).collect(),
        negations: words(include_str!("../../lexicons/en_negations.txt")),
        contrasts: &["but", "however", "although", "though", "yet"],
        stopwords: EN_STOPWORDS.iter().copied().collect(),
        lang: Lang::En,
    }
});

static FR: LazyLock<Lexicon> = LazyLock::new(|| {
    // vadersentiment-fr (−4..4) and textblob-fr adjectives (−1..1, scaled ×4) are averaged
    // where both know a word: each is noisy alone ("cher" is +1.6 in the first: "dear").
    let mut valence: HashMap<String, f32> =
        tsv(include_str!("../../lexicons/fr_vader.tsv")).collect();
    for (w, p) in tsv(include_str!("../../lexicons/fr_textblob.tsv")) {
        let p = p * 4.0;
        valence
            .entry(w)
            .and_modify(|v| *v = (*v + p) / 2.0)
            .or_insert(p);
    }
    valence.extend(tsv(include_str!("../../lexicons/fr_domain.tsv")));
    let mut negations = words(include_str!("../../lexicons/fr_negations.txt"));
    // "plus" is also "more": it only negates after "ne", which is itself a negation here
    // (and "ne ... pas" brackets the verb it negates: "ne fonctionne pas").
    negations.remove("plus");
    negations.extend(["ne", "n", "aucun", "aucune", "guère"].map(String::from));
    Lexicon {
        valence,
        boosters: tsv(include_str!("../../lexicons/fr_boosters.tsv")).collect(),
        negations,
        contrasts: &["mais", "cependant", "pourtant", "toutefois", "néanmoins"],
        stopwords: FR_STOPWORDS.iter().copied().collect(),
        lang: Lang::Fr,
    }
});

const FR_STOPWORDS: &[&str] = &[
    "le", "la", "les", "un", "une", "des", "du", "de", "et", "est", "au", "aux", "pour", "pas",
    "ne", "n", "que", "qui", "ce", "cette", "ces", "il", "elle", "je", "j", "c", "l", "d", "qu",
    "très", "mais", "avec", "sur", "dans", "son", "sa", "ses", "mon", "ma", "mes", "nous", "vous",
    "ils", "trop", "bien", "été", "était", "sont", "ça", "rien", "jamais", "peu", "assez",
    "vraiment", "même", "aussi", "après", "depuis", "chez", "par", "ai", "avons",
];

const EN_STOPWORDS: &[&str] = &[
    "the", "an", "and", "is", "are", "was", "were", "to", "of", "for", "in", "it", "this", "that",
    "with", "not", "but", "very", "my", "i", "you", "have", "has", "had", "be", "been", "they",
    "its", "it's", "at", "too", "so", "just", "than", "would", "after", "from", "does", "doesn't",
    "don't", "didn't", "isn't", "wasn't", "really", "never", "what", "we", "our", "me", "only",
    "bought", "works", "will", "after", "about", "really",
];

/// A token of the text: its lowercase form and whether it was written in capitals.
struct Token {
    word: String,
    shouting: bool,
}

/// French elisions split off their word: "n'est" → "n", "est".
const ELISIONS: &[&str] = &[
    "n", "l", "d", "j", "m", "t", "s", "c", "qu", "jusqu", "lorsqu", "puisqu",
];

fn tokenize(text: &str) -> Vec<Token> {
    let text = text.replace(['’', '`'], "'");
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || ",;:.!?()[]\"«»…/".contains(c)) {
        let raw = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let raw = raw.trim_matches('\'');
        if raw.is_empty() {
            continue;
        }
        let shouting = raw.chars().filter(|c| c.is_alphabetic()).count() > 1
            && raw.chars().all(|c| !c.is_lowercase());
        let lower = raw.to_lowercase();
        if let Some((head, tail)) = lower.split_once('\'')
            && ELISIONS.contains(&head)
            && !tail.is_empty()
        {
            out.push(Token {
                word: head.to_string(),
                shouting: false,
            });
            out.push(Token {
                word: tail.to_string(),
                shouting,
            });
            continue;
        }
        out.push(Token {
            word: lower,
            shouting,
        });
    }
    out
}

/// French or English, from function words and accents; ties go to the language whose
/// lexicon knows more of the words, then to English.
pub fn detect(text: &str) -> Lang {
    let tokens = tokenize(text);
    detect_tokens(text, &tokens)
}

fn detect_tokens(text: &str, tokens: &[Token]) -> Lang {
    let count = |lex: &Lexicon| {
        tokens
            .iter()
            .filter(|t| lex.stopwords.contains(t.word.as_str()))
            .count()
    };
    let accents = text
        .chars()
        .filter(|c| "éèêàçùâîôûœëï".contains(*c))
        .count()
        .min(3);
    let fr = count(&FR) * 2 + accents;
    let en = count(&EN) * 2;
    if fr != en {
        return if fr > en { Lang::Fr } else { Lang::En };
    }
    let known = |lex: &Lexicon| {
        tokens
            .iter()
            .filter(|t| lex.lookup(&t.word).is_some())
            .count()
    };
    if known(&FR) > known(&EN) {
        Lang::Fr
    } else {
        Lang::En
    }
}

impl Lexicon {
    /// The valence of a word, trying simple inflections when the form itself is unknown
    /// (French gender/number: "décevantes" → "décevant"; English plurals).
    fn lookup(&self, word: &str) -> Option<f32> {
        if let Some(v) = self.valence.get(word) {
            return Some(*v);
        }
        let suffixes: &[&str] = match self.lang {
            Lang::Fr => &["es", "s", "e", "x"],
            Lang::En => &["s"],
        };
        suffixes.iter().find_map(|s| {
            let stem = word.strip_suffix(s)?;
            (stem.chars().count() >= 3)
                .then(|| self.valence.get(stem).copied())
                .flatten()
        })
    }

    fn is_negation(&self, word: &str) -> bool {
        self.negations.contains(word) || (self.lang == Lang::En && word.ends_with("n't"))
    }

    /// VADER's compound score in [-1, 1] and how many words carried sentiment.
    fn compound(&self, text: &str, tokens: &[Token]) -> (f32, usize) {
        let mixed_case = tokens.iter().any(|t| t.shouting) && tokens.iter().any(|t| !t.shouting);
        // (index of the first word of the item, valence)
        let mut sentiments: Vec<(usize, f32)> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let word = tokens[i].word.as_str();
            // Phrases first, longest match.
            let phrase = (2..=MAX_PHRASE.min(tokens.len() - i)).rev().find_map(|n| {
                let p = tokens[i..i + n]
                    .iter()
                    .map(|t| t.word.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.valence.get(&p).map(|v| (n, *v))
            });
            let (len, valence) = match phrase {
                Some(found) => found,
                None if self.boosters.contains_key(word) || self.is_negation(word) => {
                    i += 1;
                    continue;
                }
                None => match self.lookup(word) {
                    Some(v) => (1, v),
                    None => {
                        i += 1;
                        continue;
                    }
                },
            };
            let mut v = valence;
            if tokens[i].shouting && mixed_case {
                v += CAPS_INCREMENT * v.signum();
            }
            // A phrase that carries its own negation ("pas terrible") is not negated again.
            let self_negated = len > 1 && self.is_negation(word);
            let mut negated = false;
            for back in 1..=WINDOW.min(i) {
                let prev = tokens[i - back].word.as_str();
                if let Some(b) = self.boosters.get(prev) {
                    let decay = 1.0 - 0.05 * (back - 1) as f32;
                    v += b * decay * v.signum();
                }
                negated |= self.is_negation(prev) && !self_negated;
            }
            // French negation brackets the verb: "ne fonctionne pas", "n'a jamais marché".
            if self.lang == Lang::Fr
                && let Some(next) = tokens.get(i + len)
                && matches!(
                    next.word.as_str(),
                    "pas" | "jamais" | "plus" | "guère" | "rien"
                )
                && i >= 1
                && matches!(tokens[i - 1].word.as_str(), "ne" | "n")
            {
                negated = true;
            }
            if negated {
                v *= NEGATION_SCALAR;
            }
            sentiments.push((i, v));
            i += len;
        }
        let hits = sentiments.len();
        if let Some(c) = tokens
            .iter()
            .position(|t| self.contrasts.contains(&t.word.as_str()))
        {
            for (at, v) in &mut sentiments {
                *v *= if *at < c { 0.5 } else { 1.5 };
            }
        }
        let mut sum: f32 = sentiments.iter().map(|(_, v)| v).sum();
        if sum != 0.0 {
            let bangs = text.matches('!').count().min(4) as f32;
            sum += bangs * EXCLAMATION_INCREMENT * sum.signum();
        }
        if sum == 0.0 {
            return (0.0, hits);
        }
        let compound = sum / (sum * sum + NORMALIZE_ALPHA).sqrt();
        (compound.clamp(-1.0, 1.0), hits)
    }
}

/// The lexicon's verdict on one text: compound score, the language used, and how many
/// words carried sentiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LexiconScore {
    pub compound: f32,
    pub lang: Lang,
    pub hits: usize,
}

/// Scores one text with the lexicon of its detected language.
pub fn score(text: &str) -> LexiconScore {
    let tokens = tokenize(text);
    let lang = detect_tokens(text, &tokens);
    let lex: &Lexicon = match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    };
    let (compound, hits) = lex.compound(text, &tokens);
    LexiconScore {
        compound,
        lang,
        hits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_detection() {
        for fr in [
            "Le produit est arrivé cassé.",
            "Très bon rapport qualité prix, je recommande",
            "Livraison rapide",
            "nul",
            "C'est pas mal du tout",
            "Franchement déçu",
        ] {
            assert_eq!(detect(fr), Lang::Fr, "{fr}");
        }
        for en in [
            "The product arrived broken.",
            "Great value for money, I recommend it",
            "Fast delivery",
            "awful",
            "Not bad at all",
            "Excellent!",
        ] {
            assert_eq!(detect(en), Lang::En, "{en}");
        }
    }

    #[test]
    fn polarity_in_both_languages() {
        for (text, positive) in [
            ("Excellent produit, je suis ravi.", true),
            (
                "Produit décevant, il est tombé en panne au bout d'une semaine.",
                false,
            ),
            (
                "Great phone, the battery lasts forever and the screen is gorgeous.",
                true,
            ),
            ("Terrible quality, it broke after two days.", false),
        ] {
            let s = score(text);
            assert!(s.hits > 0, "{text}");
            assert_eq!(s.compound > 0.0, positive, "{text}: {s:?}");
        }
    }

    #[test]
    fn negation_flips_and_damps() {
        let good = score("Ce vélo est bon.").compound;
        let not_good = score("Ce vélo n'est pas bon.").compound;
        assert!(good > 0.0 && not_good < 0.0, "{good} {not_good}");
        assert!(not_good.abs() < good.abs());
        // The verb bracketed by "ne ... pas".
        assert!(score("Le chargeur ne fonctionne pas correctement.").compound < 0.0);
        assert!(score("It is not good.").compound < 0.0);
        assert!(score("It isn't good.").compound < 0.0);
        assert!(score("Not bad at all.").compound > 0.0);
        assert!(score("Pas mal du tout.").compound > 0.0);
    }

    #[test]
    fn intensifiers_strengthen_and_dampeners_soften() {
        let plain = score("The seat is comfortable.").compound;
        assert!(score("The seat is very comfortable.").compound > plain);
        assert!(score("The seat is slightly comfortable.").compound < plain);
        let plain = score("Le siège est confortable.").compound;
        assert!(score("Le siège est très confortable.").compound > plain);
        assert!(score("Le siège est peu confortable.").compound < plain);
        assert!(
            score("The seat is comfortable!!").compound
                > plain.min(score("The seat is comfortable.").compound)
        );
    }

    #[test]
    fn contrast_weighs_the_second_clause() {
        assert!(score("Beau design mais la batterie est décevante.").compound < 0.0);
        assert!(
            score("La batterie est décevante mais le design est vraiment superbe.").compound > 0.0
        );
        assert!(score("Nice design, but the battery is disappointing.").compound < 0.0);
        assert!(
            score("The battery is disappointing, but the design is truly superb.").compound > 0.0
        );
    }

    #[test]
    fn texts_without_sentiment_are_zero() {
        for text in [
            "",
            "   ",
            "!!!",
            "La boîte contient deux vis.",
            "It comes in a box.",
        ] {
            let s = score(text);
            assert_eq!(s.compound, 0.0, "{text}: {s:?}");
            assert!(s.compound.is_finite());
        }
    }
}
