//! Catalog types: typed ids, closed vocabularies, and the parsing of money, rates and
//! labels ("parse, don't validate": services take values that already passed through here).

use std::str::FromStr;

use comptoir_kernel::AppError;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

comptoir_kernel::typed_id!(
    /// A product.
    ProductId
);
comptoir_kernel::typed_id!(
    /// A node of the category tree.
    CategoryId
);
comptoir_kernel::typed_id!(
    /// A brand.
    BrandId
);
comptoir_kernel::typed_id!(
    /// A product type (its attribute definitions).
    ProductTypeId
);
comptoir_kernel::typed_id!(
    /// A warehouse or a store.
    LocationId
);
comptoir_kernel::typed_id!(
    /// A stock reservation (all-or-nothing over its lines).
    ReservationId
);
comptoir_kernel::typed_id!(
    /// A CSV import.
    ImportId
);
comptoir_kernel::typed_id!(
    /// A stock movement (one ledger line).
    MovementId
);

/// Declares a closed vocabulary stored as text: serde, OpenAPI, `as_str`, `parse`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored (and wire) spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored spelling (case-insensitive, trimmed).
            pub fn parse(raw: &str) -> Option<Self> {
                let raw = raw.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(raw))
            }

            /// The allowed spellings, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Where a product is in its life.
    ProductStatus { Draft => "draft", Active => "active", Archived => "archived" }
);
vocabulary!(
    /// Whether a product can be sold (independent of the stock on hand).
    Availability {
        Available => "available",
        OnOrder => "on_order",
        Preorder => "preorder",
        Discontinued => "discontinued",
    }
);
vocabulary!(
    /// A warehouse or a store.
    LocationKind { Warehouse => "warehouse", Store => "store" }
);
vocabulary!(
    /// The type of one product-type attribute.
    AttrType { Text => "text", Integer => "integer", Decimal => "decimal", Boolean => "boolean" }
);
vocabulary!(
    /// What a stock movement did.
    MovementKind {
        /// Goods received (+on hand).
        Receipt => "receipt",
        /// A correction (± on hand).
        Adjustment => "adjustment",
        /// A physical count that set the on-hand quantity.
        Count => "count",
        /// A stock level set by a CSV import.
        Import => "import",
        /// Reserved for an order (+reserved).
        Reserve => "reserve",
        /// A reservation given back (−reserved).
        Release => "release",
        /// A reservation shipped (−on hand, −reserved).
        Ship => "ship",
    }
);
vocabulary!(
    /// What a CSV import loads.
    ImportKind { Products => "products", Stock => "stock" }
);
vocabulary!(
    /// Where an import is.
    ImportStatus { Pending => "pending", Running => "running", Completed => "completed", Failed => "failed" }
);
vocabulary!(
    /// Where a reservation is.
    ReservationStatus { Held => "held", Released => "released", Committed => "committed" }
);

/// Largest amount accepted (exclusive): 10 billion, so `e4` values fit easily in `i64`.
const MAX_AMOUNT: i64 = 10_000_000_000;

/// Parses a decimal written with `.` or `,` ("12.50", "12,50", " 3 "). No exponent, no
/// thousands separator.
pub fn parse_decimal(raw: &str) -> Option<Decimal> {
    let s = raw.trim();
    if s.is_empty() || (s.contains('.') && s.contains(',')) || s.matches([',', '.']).count() > 1 {
        return None;
    }
    let s = s.replace(',', ".");
    if !s
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')))
    {
        return None;
    }
    Decimal::from_str(&s).ok()
}

/// A decimal as stored: ten-thousandths in an `i64`. At most 4 decimals, |value| < 10^10.
pub fn to_e4(value: Decimal) -> Result<i64, &'static str> {
    let value = value.normalize();
    if value.scale() > 4 {
        return Err("at most 4 decimals");
    }
    if value.abs() >= Decimal::from(MAX_AMOUNT) {
        return Err("too large");
    }
    (value * Decimal::from(10_000)).to_i64().ok_or("too large")
}

/// The stored ten-thousandths back as a decimal ("19.99", not "19.9900").
pub fn from_e4(value: i64) -> Decimal {
    Decimal::new(value, 4).normalize()
}

/// A price: ≥ 0, at most 4 decimals.
pub fn price_e4(field: &str, value: Decimal) -> Result<i64, AppError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(AppError::field(field, "must not be negative"));
    }
    to_e4(value).map_err(|reason| AppError::field(field, reason))
}

/// A VAT rate in percent: 0 to 100, at most 4 decimals.
pub fn vat_e4(field: &str, value: Decimal) -> Result<i64, AppError> {
    if value < Decimal::ZERO || value > Decimal::from(100) {
        return Err(AppError::field(
            field,
            "must be a percentage between 0 and 100",
        ));
    }
    to_e4(value).map_err(|reason| AppError::field(field, reason))
}

/// An ISO 4217-looking currency code: three ASCII letters, upper-cased.
pub fn currency(field: &str, raw: &str) -> Result<String, AppError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(AppError::field(
            field,
            "must be a 3-letter currency code such as EUR",
        ))
    }
}

/// A SKU: 1 to 64 characters, no whitespace or control characters.
pub fn sku(field: &str, raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(AppError::field(field, "must not be empty"));
    }
    if value.chars().count() > 64 {
        return Err(AppError::field(field, "must be at most 64 characters"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::field(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A code (categories, product types, locations): 1 to 64 of letters, digits, `-`, `_`, `.`.
pub fn code(field: &str, raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::field(
            field,
            "use 1-64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Optional free text: trimmed, at most `max` characters, no NUL; empty becomes `None`.
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, AppError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(AppError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.contains('\0') {
        return Err(AppError::field(field, "must not contain NUL characters"));
    }
    Ok(Some(value.to_owned()))
}

/// A decimal in JSON, written as a string ("19.99", "19,99") or a number (19.99).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = String, example = "19.99")]
pub struct Amount(pub Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal number such as \"19.99\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                parse_decimal(v)
                    .map(Amount)
                    .ok_or_else(|| E::custom("not a decimal number"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Amount, E> {
                // The shortest representation that round-trips ("19.99", not 19.98999...).
                parse_decimal(&v.to_string())
                    .map(Amount)
                    .ok_or_else(|| E::custom("not a decimal number"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Coordinates in millionths of a degree.
pub fn degrees_e6(field: &str, value: Option<f64>, limit: f64) -> Result<Option<i64>, AppError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v.abs() <= limit => Ok(Some((v * 1e6).round() as i64)),
        Some(_) => Err(AppError::field(
            field,
            format!("must be between -{limit} and {limit}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimals_with_comma_or_dot() {
        assert_eq!(parse_decimal("12,50"), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_decimal(" 12.5 "), Some(Decimal::new(125, 1)));
        assert_eq!(parse_decimal("-3"), Some(Decimal::from(-3)));
        for bad in [
            "", "1.2.3", "1,2.3", "1e5", "12 50", "abc", "1_000", "--1", "0x10",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn prices_and_rates() {
        assert!(price_e4("p", Decimal::new(-1, 2)).is_err());
        assert!(price_e4("p", Decimal::new(12345, 5)).is_err());
        assert_eq!(price_e4("p", Decimal::new(1999, 2)).unwrap(), 199_900);
        assert!(vat_e4("v", Decimal::from(101)).is_err());
        assert_eq!(vat_e4("v", Decimal::new(55, 1)).unwrap(), 55_000);
        assert!(currency("c", "eu").is_err());
        assert_eq!(currency("c", "eur").unwrap(), "EUR");
        assert!(sku("s", "a b").is_err());
        assert!(code("c", "phones/android").is_err());
    }

    proptest! {
        #[test]
        fn e4_round_trips(e4 in -99_999_999_999_999i64..99_999_999_999_999i64) {
            let value = Decimal::new(e4, 4);
            prop_assert_eq!(to_e4(value).unwrap(), e4);
            prop_assert_eq!(from_e4(e4), value.normalize());
        }

        #[test]
        fn parse_decimal_never_panics_and_agrees_on_comma(s in "\\PC{0,20}") {
            let dot = parse_decimal(&s);
            let comma = parse_decimal(&s.replace('.', ","));
            if !s.contains(',') {
                prop_assert_eq!(dot, comma);
            }
        }
    }
}
