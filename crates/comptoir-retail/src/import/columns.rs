//! Which file column holds which field: the canonical names, common aliases, and the
//! mapping saved per source (`{"Their header": "our_column"}`).

use std::collections::HashMap;

/// Canonical columns, in the order of the rejected-rows report.
pub const COLUMNS: &[&str] = &[
    "receipt",
    "store",
    "sold_at",
    "customer",
    "sku",
    "quantity",
    "unit_price",
    "discount",
    "vat_rate",
    "total_excl",
    "total_incl",
];

/// Columns a file must have.
pub const REQUIRED: &[&str] = &[
    "receipt",
    "store",
    "sold_at",
    "sku",
    "quantity",
    "unit_price",
];

const ALIASES: &[(&str, &str)] = &[
    ("receipt_number", "receipt"),
    ("ticket", "receipt"),
    ("numero_ticket", "receipt"),
    ("store_code", "store"),
    ("magasin", "store"),
    ("date", "sold_at"),
    ("datetime", "sold_at"),
    ("timestamp", "sold_at"),
    ("date_vente", "sold_at"),
    ("client", "customer"),
    ("customer_code", "customer"),
    ("product", "sku"),
    ("ref", "sku"),
    ("qty", "quantity"),
    ("quantite", "quantity"),
    ("price", "unit_price"),
    ("prix", "unit_price"),
    ("prix_unitaire", "unit_price"),
    ("remise", "discount"),
    ("vat", "vat_rate"),
    ("tva", "vat_rate"),
    ("total_ht", "total_excl"),
    ("total_ttc", "total_incl"),
];

fn normalize(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .replace(['é', 'è', 'ê'], "e")
        .replace(['à', 'â'], "a")
        .replace([' ', '-', '.'], "_")
}

/// Checks a mapping's targets; returns it with normalized keys.
pub fn check_map(map: &HashMap<String, String>) -> Result<HashMap<String, String>, String> {
    if map.len() > 50 {
        return Err("at most 50 mapped columns".into());
    }
    let mut out = HashMap::new();
    for (theirs, ours) in map {
        if !COLUMNS.contains(&ours.as_str()) {
            return Err(format!(
                "{ours:?} is not a column; expected one of {}",
                COLUMNS.join(", ")
            ));
        }
        if theirs.trim().is_empty() || theirs.len() > 200 {
            return Err("a mapped header is empty or longer than 200 characters".into());
        }
        out.insert(normalize(theirs), ours.clone());
    }
    Ok(out)
}

/// Parses the `map=` option: `Their header:our_column,...`.
pub fn parse_map_option(raw: &str) -> Result<HashMap<String, String>, String> {
    let mut map = HashMap::new();
    for pair in raw.split(',').filter(|p| !p.trim().is_empty()) {
        let (theirs, ours) = pair
            .rsplit_once(':')
            .ok_or_else(|| format!("{pair:?} is not `their header:our_column`"))?;
        map.insert(theirs.trim().to_owned(), ours.trim().to_owned());
    }
    check_map(&map)
}

/// The canonical column of each file column (`None`: ignored), or the missing columns.
pub fn map_headers(
    headers: &[String],
    map: &HashMap<String, String>,
) -> Result<Vec<Option<&'static str>>, String> {
    let mapped: Vec<Option<&'static str>> = headers
        .iter()
        .map(|h| {
            let n = normalize(h);
            let target = map
                .get(&n)
                .map(String::as_str)
                .or_else(|| ALIASES.iter().find(|(a, _)| *a == n).map(|(_, c)| *c))
                .unwrap_or(n.as_str())
                .to_owned();
            COLUMNS.iter().copied().find(|c| *c == target)
        })
        .collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| !mapped.contains(&Some(*r)))
        .collect();
    if missing.is_empty() {
        Ok(mapped)
    } else {
        Err(format!("missing column(s): {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_saved_mappings() {
        let headers: Vec<String> = ["Ticket", "Magasin", "Date", "Article", "Qty", "Prix", "x"]
            .map(String::from)
            .into();
        assert!(map_headers(&headers, &HashMap::new()).is_err());
        let map = parse_map_option("Article:sku").unwrap();
        let cols = map_headers(&headers, &map).unwrap();
        assert_eq!(cols[3], Some("sku"));
        assert_eq!(cols[6], None);
        assert!(parse_map_option("Article:nope").is_err());
        assert!(parse_map_option("no colon").is_err());
    }
}
