//! Parsing newtypes for platform input: once a value is an `Email`, it is a valid e-mail.

use crate::error::AppError;

/// A normalized (trimmed, lower-cased) e-mail address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        let value = raw.trim().to_lowercase();
        let valid = value.len() <= 254
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && value.matches('@').count() == 1
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
        if valid {
            Ok(Self(value))
        } else {
            Err(AppError::field(field, "not a valid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 256 characters.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        match raw.chars().count() {
            0..10 => Err(AppError::field(field, "must be at least 10 characters")),
            257.. => Err(AppError::field(field, "must be at most 256 characters")),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A short human label (names of people, organizations, keys): 1 to `max` characters,
/// no control characters, trimmed.
pub fn label(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(AppError::field(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(AppError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A URL-safe identifier: lower-case letters, digits and dashes, 2 to 63 characters.
pub fn slug(field: &str, raw: &str) -> Result<String, AppError> {
    let ok = (2..=63).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(AppError::field(
            field,
            "use 2-63 lower-case letters, digits and dashes",
        ))
    }
}

/// A slug made from a display name ("Boutique Élise" → "boutique-elise").
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(|c| fold_accent(c).to_lowercase()) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out
        .trim_end_matches('-')
        .chars()
        .take(63)
        .collect::<String>();
    if out.len() < 2 {
        format!("org-{out}")
    } else {
        out
    }
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
        'î' | 'ï' | 'í' | 'Î' | 'Ï' => 'i',
        'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' => 'o',
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("e", "  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@b.c",
            "a@@b.c",
            "a b@c.d",
            "a@b.c<script>",
            "x@.c",
        ] {
            assert!(Email::parse("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_labels_and_slugs() {
        assert!(NewPassword::parse("p", "short").is_err());
        assert!(NewPassword::parse("p", "long enough!").is_ok());
        assert!(label("n", "  ", 10).is_err());
        assert!(label("n", "a\u{0}b", 10).is_err());
        assert_eq!(label("n", " Ann ", 10).unwrap(), "Ann");
        assert_eq!(slugify("Boutique Élise & Fils"), "boutique-elise-fils");
        assert_eq!(slugify("!"), "org-");
        assert!(slug("s", "ok-slug").is_ok());
        assert!(slug("s", "Bad Slug").is_err());
    }
}
