//! Demo data: a realistic catalog generated deterministically (seeded RNG) — vehicles,
//! smartphones, apparel and accessories with French and English names, a category tree,
//! brands, four locations and stock. `comptoir demo --org SLUG` calls [`load`].

use comptoir_kernel::auth::{AuthVia, Caller, Role};
use comptoir_kernel::ids::{OrgId, UserId};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::entities::products;
use crate::model::*;
use crate::service;
use crate::stock::{Change, Note, apply_level};
use crate::views::*;

/// The seed: the same catalog every time.
pub const SEED: u64 = 20_261_121;

/// What [`load`] created.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    pub categories: usize,
    pub brands: usize,
    pub product_types: usize,
    pub locations: usize,
    pub products: usize,
    pub stock_levels: usize,
}

fn system_caller(org: OrgId) -> Caller {
    Caller {
        org_id: org,
        user_id: UserId(Uuid::nil()),
        role: Role::Owner,
        region_id: None,
        store_id: None,
        via: AuthVia::AccessToken,
    }
}

fn attr(name: &str, kind: AttrType, required: bool) -> AttributeDef {
    AttributeDef {
        name: name.into(),
        kind,
        required,
    }
}

/// One family of products: type, category, brands, models, and how to fill attributes.
struct Family {
    type_code: &'static str,
    category: &'static str,
    brands: &'static [&'static str],
    models: &'static [(&'static str, &'static str)],
    price: (i64, i64),
}

const FAMILIES: &[Family] = &[
    Family {
        type_code: "vehicle",
        category: "cars",
        brands: &["Renault", "Peugeot", "Citroën", "Tesla"],
        models: &[
            ("Citadine électrique", "Electric city car"),
            ("Berline hybride", "Hybrid saloon"),
            ("SUV compact", "Compact SUV"),
            ("Break familial", "Family estate"),
        ],
        price: (14_000, 65_000),
    },
    Family {
        type_code: "vehicle",
        category: "vans",
        brands: &["Renault", "Citroën"],
        models: &[
            ("Fourgon utilitaire", "Panel van"),
            ("Ludospace", "Leisure activity vehicle"),
        ],
        price: (18_000, 42_000),
    },
    Family {
        type_code: "smartphone",
        category: "smartphones",
        brands: &["Apple", "Samsung", "Xiaomi", "Fairphone"],
        models: &[
            ("Smartphone 5G", "5G smartphone"),
            ("Smartphone reconditionné", "Refurbished smartphone"),
            ("Téléphone compact", "Compact phone"),
        ],
        price: (149, 1_399),
    },
    Family {
        type_code: "apparel",
        category: "women",
        brands: &["Petit Bateau", "Patagonia", "Le Slip Français"],
        models: &[
            ("Marinière en coton", "Breton cotton top"),
            ("Veste coupe-vent", "Windbreaker jacket"),
            ("Pull en laine", "Wool jumper"),
        ],
        price: (19, 249),
    },
    Family {
        type_code: "apparel",
        category: "men",
        brands: &["Patagonia", "Le Slip Français", "Decathlon"],
        models: &[
            ("Chemise en lin", "Linen shirt"),
            ("Doudoune légère", "Light down jacket"),
            ("Caleçon made in France", "French-made boxers"),
        ],
        price: (15, 299),
    },
    Family {
        type_code: "accessory",
        category: "accessories",
        brands: &["Apple", "Samsung", "Decathlon"],
        models: &[
            ("Coque de protection", "Protective case"),
            ("Chargeur rapide", "Fast charger"),
            ("Support vélo", "Bike mount"),
        ],
        price: (9, 79),
    },
];

/// Loads the demo catalog into `org` (refused if it already has it).
pub async fn load(db: &DatabaseConnection, org: OrgId) -> AppResult<DemoSummary> {
    let already = scoped::<products::Entity>(org)
        .filter(products::Column::Sku.starts_with("DEMO-"))
        .count(db)
        .await?;
    if already > 0 {
        return Err(AppError::conflict(
            "the demo catalog is already loaded in this organization",
        ));
    }
    let caller = system_caller(org);
    let mut rng = StdRng::seed_from_u64(SEED);

    let mut cat_ids = std::collections::HashMap::new();
    for (code, name, parent) in [
        ("vehicles", "Véhicules / Vehicles", None),
        ("cars", "Voitures / Cars", Some("vehicles")),
        ("vans", "Utilitaires / Vans", Some("vehicles")),
        ("electronics", "Électronique / Electronics", None),
        ("smartphones", "Smartphones", Some("electronics")),
        (
            "accessories",
            "Accessoires / Accessories",
            Some("electronics"),
        ),
        ("apparel", "Vêtements / Apparel", None),
        ("women", "Femme / Women", Some("apparel")),
        ("men", "Homme / Men", Some("apparel")),
    ] {
        let input = CategoryInput {
            code: code.into(),
            name: name.into(),
            parent_id: parent.map(|p| cat_ids[p]),
        };
        let c = service::create_category(db, &caller, input).await?;
        cat_ids.insert(code, c.id);
    }

    let mut brand_ids = std::collections::HashMap::new();
    for f in FAMILIES {
        for b in f.brands {
            if !brand_ids.contains_key(b) {
                let brand =
                    service::create_brand(db, &caller, BrandInput { name: (*b).into() }).await?;
                brand_ids.insert(*b, brand.id);
            }
        }
    }

    let types = [
        (
            "vehicle",
            "Véhicule / Vehicle",
            vec![
                attr("fuel", AttrType::Text, true),
                attr("power_hp", AttrType::Integer, false),
                attr("mileage_km", AttrType::Integer, false),
                attr("year", AttrType::Integer, false),
                attr("electric", AttrType::Boolean, false),
            ],
        ),
        (
            "smartphone",
            "Smartphone",
            vec![
                attr("storage_gb", AttrType::Integer, true),
                attr("screen_in", AttrType::Decimal, false),
                attr("dual_sim", AttrType::Boolean, false),
                attr("color", AttrType::Text, false),
            ],
        ),
        (
            "apparel",
            "Vêtement / Apparel",
            vec![
                attr("size", AttrType::Text, true),
                attr("color", AttrType::Text, false),
                attr("material", AttrType::Text, false),
            ],
        ),
        (
            "accessory",
            "Accessoire / Accessory",
            vec![attr("compatible_with", AttrType::Text, false)],
        ),
    ];
    let mut type_ids = std::collections::HashMap::new();
    for (code, name, attributes) in types {
        let t = service::create_product_type(
            db,
            &caller,
            ProductTypeInput {
                code: code.into(),
                name: name.into(),
                attributes,
            },
        )
        .await?;
        type_ids.insert(code, t.id);
    }

    let mut locations = Vec::new();
    for (code, name, kind, region, address, lat, lon) in [
        (
            "WH-LYON",
            "Entrepôt Lyon Saint-Priest",
            LocationKind::Warehouse,
            "Auvergne-Rhône-Alpes",
            "12 rue de l'Industrie, 69800 Saint-Priest",
            45.6967,
            4.9441,
        ),
        (
            "ST-PARIS",
            "Boutique Paris Rivoli",
            LocationKind::Store,
            "Île-de-France",
            "110 rue de Rivoli, 75001 Paris",
            48.8606,
            2.3461,
        ),
        (
            "ST-BORDEAUX",
            "Boutique Bordeaux Sainte-Catherine",
            LocationKind::Store,
            "Nouvelle-Aquitaine",
            "45 rue Sainte-Catherine, 33000 Bordeaux",
            44.8397,
            -0.5736,
        ),
        (
            "WH-LONDON",
            "London Park Royal warehouse",
            LocationKind::Warehouse,
            "Greater London",
            "Park Royal Road, London NW10",
            51.5290,
            -0.2770,
        ),
    ] {
        let input = LocationInput {
            code: code.into(),
            name: name.into(),
            kind,
            region: Some(region.into()),
            address: Some(address.into()),
            latitude: Some(lat),
            longitude: Some(lon),
        };
        locations.push(service::create_location(db, &caller, input).await?);
    }

    let colors = ["noir", "blanc", "bleu marine", "rouge", "vert sauge"];
    let sizes = ["XS", "S", "M", "L", "XL"];
    let mut product_ids = Vec::new();
    let mut n = 0;
    for f in FAMILIES {
        for brand in f.brands {
            for (fr, en) in f.models {
                n += 1;
                let mut a = Map::new();
                match f.type_code {
                    "vehicle" => {
                        let electric = fr.contains("électrique") || *brand == "Tesla";
                        a.insert(
                            "fuel".into(),
                            json!(if electric {
                                "électrique"
                            } else if rng.random_bool(0.5) {
                                "essence"
                            } else {
                                "hybride"
                            }),
                        );
                        a.insert("power_hp".into(), json!(rng.random_range(70..=400)));
                        a.insert(
                            "mileage_km".into(),
                            json!(rng.random_range(0..=80_000) / 100 * 100),
                        );
                        a.insert("year".into(), json!(rng.random_range(2019..=2026)));
                        a.insert("electric".into(), json!(electric));
                    }
                    "smartphone" => {
                        a.insert(
                            "storage_gb".into(),
                            json!([64, 128, 256, 512][rng.random_range(0..4)]),
                        );
                        a.insert(
                            "screen_in".into(),
                            json!(format!("{:.1}", rng.random_range(58..=69) as f64 / 10.0)),
                        );
                        a.insert("dual_sim".into(), json!(rng.random_bool(0.6)));
                        a.insert(
                            "color".into(),
                            json!(colors[rng.random_range(0..colors.len())]),
                        );
                    }
                    "apparel" => {
                        a.insert(
                            "size".into(),
                            json!(sizes[rng.random_range(0..sizes.len())]),
                        );
                        a.insert(
                            "color".into(),
                            json!(colors[rng.random_range(0..colors.len())]),
                        );
                        a.insert(
                            "material".into(),
                            json!(
                                ["coton bio", "laine mérinos", "lin", "polyester recyclé"]
                                    [rng.random_range(0..4)]
                            ),
                        );
                    }
                    _ => {
                        a.insert(
                            "compatible_with".into(),
                            json!(
                                ["iPhone 15", "Galaxy S24", "universel / universal"]
                                    [rng.random_range(0..3)]
                            ),
                        );
                    }
                }
                let sale = Decimal::new(
                    rng.random_range(f.price.0 * 100..=f.price.1 * 100) / 10 * 10 - 1,
                    2,
                )
                .max(Decimal::ZERO);
                let purchase = (sale * Decimal::new(rng.random_range(45..=75), 2)).round_dp(2);
                let input = ProductInput {
                    sku: format!("DEMO-{}-{n:04}", f.type_code[..3].to_uppercase()),
                    name: format!("{brand} {fr} / {en}"),
                    description: Some(format!("{fr} de la marque {brand}. — {en} by {brand}.")),
                    brand_id: Some(brand_ids[brand]),
                    category_id: Some(cat_ids[f.category]),
                    product_type_id: Some(type_ids[f.type_code]),
                    attributes: a,
                    purchase_price: Some(Amount(purchase)),
                    sale_price: Amount(sale),
                    currency: Some("EUR".into()),
                    vat_rate: Some(Amount(Decimal::from(20))),
                    availability: Some(if rng.random_bool(0.9) {
                        Availability::Available
                    } else {
                        Availability::OnOrder
                    }),
                    images: vec![format!("demo/{}/{n:04}.jpg", f.type_code)],
                    status: Some(if rng.random_bool(0.85) {
                        ProductStatus::Active
                    } else {
                        ProductStatus::Draft
                    }),
                };
                product_ids.push((
                    f.type_code,
                    service::create_product(db, &caller, input).await?.id,
                ));
            }
        }
    }

    let mut levels = 0;
    let txn = comptoir_kernel::db::begin_write(db).await?;
    let note = Note {
        actor: None,
        reason: Some("demo data".into()),
        reference: Some("demo".into()),
    };
    for (kind, product) in &product_ids {
        for location in &locations {
            if rng.random_bool(0.25) {
                continue;
            }
            let max = if *kind == "vehicle" { 6 } else { 120 };
            let on_hand = rng.random_range(0..=max);
            let threshold = Some(if *kind == "vehicle" { 1 } else { 10 });
            apply_level(
                &txn,
                org,
                product.0,
                location.id.0,
                Change::Set(on_hand),
                threshold,
                MovementKind::Receipt,
                &note,
            )
            .await?;
            levels += 1;
        }
    }
    txn.commit().await?;

    Ok(DemoSummary {
        categories: cat_ids.len(),
        brands: brand_ids.len(),
        product_types: type_ids.len(),
        locations: locations.len(),
        products: product_ids.len(),
        stock_levels: levels,
    })
}
