//! The fallback embedding used while the model is missing: a signed feature-hashing of
//! accent-folded words and character trigrams (no model, deterministic, ~µs per text).
//! It only captures shared words, but keeps recommendations working and testable without
//! the model; vectors of the two kinds are never compared (the index keeps them apart).

use sha2::{Digest, Sha256};

/// Dimensions of the fallback vectors.
pub const DIM: usize = 384;
/// The stored model name of fallback vectors.
pub const MODEL: &str = "hashing-v1";

fn fold(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ç' => 'c',
        other => other,
    }
}

fn bucket(feature: &str) -> (usize, f32) {
    let digest = Sha256::digest(feature.as_bytes());
    let n = u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    (
        (n % DIM as u64) as usize,
        if n >> 63 == 0 { 1.0 } else { -1.0 },
    )
}

/// Words of a text, lower-cased and accent-folded (single letters dropped).
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .chars()
        .map(fold)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1)
        .map(str::to_owned)
        .collect()
}

/// The L2-normalized fallback vector of `text` (all zeros for a text without words).
pub fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIM];
    for word in words(text) {
        let (i, s) = bucket(&format!("w:{word}"));
        v[i] += s;
        let padded: Vec<char> = format!("#{word}#").chars().collect();
        for t in padded.windows(3) {
            let (i, s) = bucket(&format!("t:{}", t.iter().collect::<String>()));
            v[i] += 0.3 * s;
        }
    }
    normalize(&mut v);
    v
}

/// Scales `v` to unit length (leaves a zero vector alone).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_words_make_texts_similar() {
        let a = embed("Renault SUV compact électrique");
        let b = embed("renault suv compact electrique");
        let c = embed("Marinière en coton");
        assert!(comptoir_ml::cosine(&a, &b) > 0.99);
        assert!(comptoir_ml::cosine(&a, &c) < 0.3);
        assert_eq!(embed("  ").iter().filter(|x| **x != 0.0).count(), 0);
        assert_eq!(a.len(), DIM);
    }
}
