//! CSV header mapping: canonical column names, their French/English aliases, and the
//! explicit `map=` option.

use std::collections::HashMap;

use crate::model::ImportKind;

/// Canonical product columns, in export order (attributes follow as `attr.<name>`).
pub const PRODUCT_COLUMNS: &[&str] = &[
    "sku",
    "name",
    "description",
    "brand",
    "category",
    "product_type",
    "purchase_price",
    "sale_price",
    "currency",
    "vat_rate",
    "availability",
    "status",
    "images",
];

/// Canonical stock columns.
pub const STOCK_COLUMNS: &[&str] = &["sku", "location", "on_hand", "low_stock_threshold"];

/// Prefix of attribute columns (`attr.storage_gb`).
pub const ATTR_PREFIX: &str = "attr.";

/// What spreadsheet formulas start with. Exported cells that do get a `'` in front, so
/// opening an export cannot run a formula ("CSV injection"); the import removes it again.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell safe to open in a spreadsheet.
pub fn defuse(cell: String) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The value of a cell written by [`defuse`].
pub fn undefuse(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

const ALIASES: &[(&str, &str)] = &[
    ("ref", "sku"),
    ("reference", "sku"),
    ("nom", "name"),
    ("title", "name"),
    ("titre", "name"),
    ("libelle", "name"),
    ("marque", "brand"),
    ("categorie", "category"),
    ("category_code", "category"),
    ("type", "product_type"),
    ("type_produit", "product_type"),
    ("prix_achat", "purchase_price"),
    ("cost", "purchase_price"),
    ("price", "sale_price"),
    ("prix", "sale_price"),
    ("prix_vente", "sale_price"),
    ("devise", "currency"),
    ("vat", "vat_rate"),
    ("tva", "vat_rate"),
    ("disponibilite", "availability"),
    ("statut", "status"),
    ("image", "images"),
    ("location_code", "location"),
    ("entrepot", "location"),
    ("magasin", "location"),
    ("quantity", "on_hand"),
    ("quantite", "on_hand"),
    ("stock", "on_hand"),
    ("threshold", "low_stock_threshold"),
    ("seuil", "low_stock_threshold"),
];

fn fold(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' => 'u',
            'ç' => 'c',
            ' ' | '-' => '_',
            other => other,
        })
        .collect()
}

/// Parses the `map` option: `Their header:our_column,...`.
pub fn parse_map(raw: Option<&str>) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in raw
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (theirs, ours) = pair
            .rsplit_once(':')
            .ok_or_else(|| format!("map entry {pair:?} is not `header:column`"))?;
        out.insert(fold(theirs), ours.trim().to_owned());
    }
    Ok(out)
}

/// Maps each file header to a canonical column; errors name the headers nobody knows.
pub fn map_headers(
    kind: ImportKind,
    headers: &[String],
    explicit: &HashMap<String, String>,
) -> Result<Vec<String>, String> {
    let known: &[&str] = match kind {
        ImportKind::Products => PRODUCT_COLUMNS,
        ImportKind::Stock => STOCK_COLUMNS,
    };
    let mut mapped = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    for header in headers {
        let folded = fold(header);
        let column = explicit
            .get(&folded)
            .cloned()
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(a, _)| *a == folded)
                    .map(|(_, c)| (*c).to_owned())
            })
            .unwrap_or(folded);
        let ok = known.contains(&column.as_str())
            || (kind == ImportKind::Products
                && column.starts_with(ATTR_PREFIX)
                && column.len() > ATTR_PREFIX.len());
        if !ok {
            unknown.push(header.clone());
        }
        if mapped.contains(&column) {
            return Err(format!("two columns map to {column}"));
        }
        mapped.push(column);
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown columns: {} (known: {}; map others with map=Header:column)",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    let required: &[&str] = match kind {
        ImportKind::Products => &["sku", "name", "sale_price"],
        ImportKind::Stock => &["sku", "location", "on_hand"],
    };
    if let Some(missing) = required.iter().find(|r| !mapped.iter().any(|m| m == *r)) {
        return Err(format!("the header has no {missing} column"));
    }
    Ok(mapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn formulas_are_defused_and_restored() {
        for value in ["=SUM(A1:A2)", "+33 6", "-5", "@cmd", "plain", "'quoted", ""] {
            assert_eq!(undefuse(&defuse(value.to_owned())), value);
        }
        assert_eq!(defuse("=1+1".into()), "'=1+1");
        assert_eq!(defuse("1=1".into()), "1=1");
    }

    #[test]
    fn aliases_and_explicit_mapping() {
        let cols = map_headers(
            ImportKind::Products,
            &h(&["Référence", "Nom", "Prix", "attr.storage_gb"]),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(cols, ["sku", "name", "sale_price", "attr.storage_gb"]);
        let map = parse_map(Some("Code article:sku,Libellé produit:name")).unwrap();
        let cols = map_headers(
            ImportKind::Products,
            &h(&["Code article", "Libellé produit", "price"]),
            &map,
        )
        .unwrap();
        assert_eq!(cols, ["sku", "name", "sale_price"]);
        assert!(
            map_headers(ImportKind::Products, &h(&["sku", "name"]), &HashMap::new())
                .unwrap_err()
                .contains("sale_price")
        );
        assert!(
            map_headers(
                ImportKind::Products,
                &h(&["sku", "name", "price", "colour"]),
                &HashMap::new()
            )
            .unwrap_err()
            .contains("colour")
        );
    }
}
