//! The demo chain (`comptoir demo --org SLUG`, after the demo catalog): 3 regions, 12
//! stores (the catalog's two demo shops and ten new store locations) with monthly revenue
//! targets, and daily sales from the first day of the month two years back to yesterday.
//!
//! Volumes (documented in the README): about 20 receipts per store and day on average
//! (store levels 0.6–1.6, weekday and month seasonality, +4 % a year, ±10 % noise), 1 to
//! 4 lines each, 1.5 % of receipts are returns, 10 % of lines discounted, 30 % of receipts
//! carry a loyalty customer. Vehicles are not sold in the shops; draft products neither.
//! Receipts go through the import's write path ([`crate::import::write_generated`]), one
//! transaction per store and month, so the rollups are maintained exactly as by an import.
//!
//! Deterministic: each (store, day) has its own RNG seeded from [`SEED`], the store and the
//! date, so the same day always gets the same receipts whatever day the demo is loaded.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use comptoir_catalog::entities::{locations, products};
use comptoir_kernel::auth::{AuthVia, Caller, Role};
use comptoir_kernel::ids::{OrgId, UserId};
use comptoir_kernel::tenancy::scoped;
use comptoir_kernel::{AppError, AppResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};
use uuid::Uuid;

use crate::import::validate::{Line, ProductInfo, Receipt, vat_of};
use crate::model::{RegionInput, StoreId, StoreInput, Target, from_e4};
use crate::{rollup, setup};

/// The seed of the demo chain.
pub const SEED: u64 = 20_261_122;

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct ChainOptions {
    /// Mean receipts per store and day for a store of level 1 on an average day.
    pub receipts_per_day: f64,
    /// Sales run from the first day of the month `months` back to the day before `today`.
    pub months: u32,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            receipts_per_day: 20.0,
            months: 24,
        }
    }
}

/// What [`load_chain`] created.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainSummary {
    pub regions: usize,
    pub stores: usize,
    pub targets: usize,
    pub receipts: u64,
    pub lines: u64,
    pub returns: u64,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// Regions: code, name, stores (code, name, level; `None` name: an existing demo shop).
/// A store of the demo chain: code, name (`None`: the catalog's existing shop), level.
type DemoStore = (&'static str, Option<&'static str>, f64);

const CHAIN: &[(&str, &str, &[DemoStore])] = &[
    (
        "NORD",
        "Île-de-France & Nord",
        &[
            ("ST-PARIS", None, 1.6),
            ("ST-LILLE", Some("Boutique Lille Grand Place"), 1.0),
            ("ST-VERSAILLES", Some("Boutique Versailles Parly 2"), 0.75),
            ("ST-REIMS", Some("Boutique Reims Centre"), 0.6),
        ],
    ),
    (
        "OUEST",
        "Ouest & Sud-Ouest",
        &[
            ("ST-BORDEAUX", None, 1.1),
            ("ST-NANTES", Some("Boutique Nantes Atlantis"), 0.9),
            ("ST-RENNES", Some("Boutique Rennes Colombier"), 0.8),
            ("ST-TOULOUSE", Some("Boutique Toulouse Capitole"), 1.0),
        ],
    ),
    (
        "EST",
        "Sud-Est & Est",
        &[
            ("ST-LYON", Some("Boutique Lyon Part-Dieu"), 1.3),
            (
                "ST-MARSEILLE",
                Some("Boutique Marseille Terrasses du Port"),
                1.2,
            ),
            ("ST-NICE", Some("Boutique Nice Masséna"), 0.85),
            ("ST-STRASBOURG", Some("Boutique Strasbourg Kléber"), 0.9),
        ],
    ),
];

/// Monday to Sunday.
const WEEKDAY: [f64; 7] = [0.8, 0.85, 0.95, 0.95, 1.1, 1.45, 0.5];
/// January to December: January sales, a quiet February, summer sales, August holidays,
/// the run-up to Christmas.
const MONTH: [f64; 12] = [
    1.05, 0.85, 0.95, 1.0, 1.0, 1.05, 1.1, 0.85, 0.95, 1.0, 1.15, 1.45,
];

fn system_caller(org: OrgId) -> Caller {
    Caller {
        org_id: org,
        user_id: UserId(Uuid::nil()),
        role: Role::Owner,
        region_id: None,
        store_id: None,
        via: AuthVia::System,
    }
}

/// A product the shops sell, with how often it is picked.
#[derive(Clone, Copy)]
struct Sellable {
    info: ProductInfo,
    price_e4: i64,
    weight: f64,
    max_qty: i64,
}

async fn sellables(db: &DatabaseConnection, org: OrgId) -> AppResult<Vec<Sellable>> {
    let rows = scoped::<products::Entity>(org)
        .filter(products::Column::Sku.starts_with("DEMO-"))
        .filter(products::Column::Status.eq("active"))
        .all(db)
        .await?;
    let mut out: Vec<Sellable> = rows
        .into_iter()
        .filter_map(|p| {
            // SKUs are DEMO-VEH-…, DEMO-SMA-…, DEMO-APP-…, DEMO-ACC-….
            let (weight, max_qty) = match p.sku.get(5..8)? {
                "ACC" => (4.0, 3),
                "APP" => (3.0, 3),
                "SMA" => (0.6, 1),
                _ => return None,
            };
            Some(Sellable {
                info: ProductInfo {
                    id: p.id,
                    vat_e4: p.vat_rate_e4,
                    purchase_e4: p.purchase_price_e4.unwrap_or(0),
                    category: p.category_id.unwrap_or_default(),
                },
                price_e4: p.sale_price_e4,
                weight,
                max_qty,
            })
        })
        .collect();
    out.sort_by_key(|s| s.info.id);
    if out.is_empty() {
        return Err(AppError::conflict(
            "load the demo catalog first: the demo chain sells its products",
        ));
    }
    Ok(out)
}

fn line(rng: &mut StdRng, p: &Sellable, quantity: i64) -> Line {
    let gross = quantity * p.price_e4;
    // One line in ten gets 10 to 20 % off, rounded to the cent.
    let discount_e4 = if quantity > 0 && rng.random_bool(0.1) {
        gross * rng.random_range(10..=20) / 100 / 100 * 100
    } else {
        0
    };
    let excl_e4 = gross - quantity.signum() * discount_e4;
    Line {
        row: 0,
        product: p.info,
        quantity,
        unit_price_e4: p.price_e4,
        discount_e4,
        vat_e4: p.info.vat_e4,
        excl_e4,
        incl_e4: excl_e4 + vat_of(excl_e4, p.info.vat_e4),
        cost_e4: quantity * p.info.purchase_e4,
    }
}

fn pick<'a>(rng: &mut StdRng, products: &'a [Sellable], total_weight: f64) -> &'a Sellable {
    let mut x = rng.random_range(0.0..total_weight);
    for p in products {
        if x < p.weight {
            return p;
        }
        x -= p.weight;
    }
    &products[products.len() - 1]
}

/// The receipts of one store on one day.
fn day_receipts(
    options: &ChainOptions,
    store_index: usize,
    store_code: &str,
    store: Uuid,
    level: f64,
    day: NaiveDate,
    products: &[Sellable],
) -> Vec<Receipt> {
    let seed = SEED
        ^ ((store_index as u64 + 1) << 40)
        ^ u64::try_from(day.num_days_from_ce()).unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let total_weight: f64 = products.iter().map(|p| p.weight).sum();
    let years = f64::from(day.year() - 2020) + f64::from(day.ordinal()) / 365.0;
    let mean = options.receipts_per_day
        * level
        * WEEKDAY[day.weekday().num_days_from_monday() as usize]
        * MONTH[day.month0() as usize]
        * 1.04f64.powf(years - 5.0)
        * rng.random_range(0.9..1.1);
    let count = mean.round().max(0.0) as usize;
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let minute = rng.random_range(9 * 60..20 * 60);
        let sold_at = day
            .and_hms_opt(minute / 60, minute % 60, rng.random_range(0..60))
            .unwrap_or_default()
            .and_utc();
        let lines: Vec<Line> = if rng.random_bool(0.015) {
            let p = pick(&mut rng, products, total_weight);
            vec![line(&mut rng, p, -1)]
        } else {
            let k = [1, 1, 2, 2, 2, 3, 3, 4][rng.random_range(0..8)];
            let mut chosen: Vec<&Sellable> = Vec::with_capacity(k);
            while chosen.len() < k {
                let p = pick(&mut rng, products, total_weight);
                if !chosen.iter().any(|c| c.info.id == p.info.id) {
                    chosen.push(p);
                }
            }
            chosen
                .into_iter()
                .map(|p| {
                    let q = if p.max_qty > 1 && rng.random_bool(0.25) {
                        rng.random_range(2..=p.max_qty)
                    } else {
                        1
                    };
                    line(&mut rng, p, q)
                })
                .collect()
        };
        let customer = rng
            .random_bool(0.3)
            .then(|| format!("DEMO-C{:05}", rng.random_range(0..20_000)));
        out.push(Receipt {
            receipt: format!("{store_code}-{}-{:04}", day.format("%Y%m%d"), n + 1),
            store,
            sold_at,
            customer,
            total_excl_e4: lines.iter().map(|l| l.excl_e4).sum(),
            total_incl_e4: lines.iter().map(|l| l.incl_e4).sum(),
            lines,
        });
    }
    out
}

/// Creates the chain and its sales in `org` (which must have the demo catalog); refused
/// (409) if the demo regions exist. `today` bounds the sales (up to the day before).
pub async fn load_chain(
    db: &DatabaseConnection,
    org: OrgId,
    today: NaiveDate,
    options: ChainOptions,
) -> AppResult<ChainSummary> {
    let caller = system_caller(org);
    let existing = setup::list_regions(db, &caller).await?;
    if existing.iter().any(|r| CHAIN.iter().any(|c| c.0 == r.code)) {
        return Err(AppError::conflict(
            "the demo chain is already loaded in this organization",
        ));
    }
    let products = sellables(db, org).await?;
    let locations: HashMap<String, Uuid> = scoped::<locations::Entity>(org)
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.code, l.id))
        .collect();
    let mut stores: Vec<(String, Uuid, f64)> = Vec::new();
    for (code, name, shops) in CHAIN {
        let region = setup::create_region(
            db,
            &caller,
            RegionInput {
                code: (*code).into(),
                name: (*name).into(),
            },
        )
        .await?;
        for (store_code, store_name, level) in *shops {
            let input = match (store_name, locations.get(*store_code)) {
                (None, Some(id)) => StoreInput {
                    region_id: region.id,
                    location_id: Some(*id),
                    code: None,
                    name: None,
                },
                (None, None) => {
                    return Err(AppError::conflict(format!(
                        "the demo catalog's shop {store_code} is missing"
                    )));
                }
                (Some(name), _) => StoreInput {
                    region_id: region.id,
                    location_id: None,
                    code: Some((*store_code).into()),
                    name: Some((*name).into()),
                },
            };
            let store = setup::create_store(db, &caller, input).await?;
            stores.push(((*store_code).into(), store.id.0, *level));
        }
    }
    let last_day = today - TimeDelta::days(1);
    let first_day = (today.with_day(1).unwrap_or(today)) - Months::new(options.months);
    let categories = rollup::product_categories(db, org).await?;
    let mut summary = ChainSummary {
        regions: CHAIN.len(),
        stores: stores.len(),
        targets: 0,
        receipts: 0,
        lines: 0,
        returns: 0,
        first_day,
        last_day,
    };
    for (index, (code, store, level)) in stores.iter().enumerate() {
        let mut month = first_day;
        let mut revenue_by_month: Vec<(NaiveDate, i64)> = Vec::new();
        while month <= last_day {
            let next = month + Months::new(1);
            let mut receipts = Vec::new();
            let mut day = month;
            while day < next && day <= last_day {
                receipts.extend(day_receipts(
                    &options, index, code, *store, *level, day, &products,
                ));
                day += TimeDelta::days(1);
            }
            summary.receipts += receipts.len() as u64;
            summary.lines += receipts.iter().map(|r| r.lines.len() as u64).sum::<u64>();
            summary.returns += receipts.iter().filter(|r| r.total_excl_e4 < 0).count() as u64;
            let revenue: i64 = receipts.iter().map(|r| r.total_excl_e4).sum();
            revenue_by_month.push((month, revenue));
            crate::import::write_generated(db, org, &receipts, &categories).await?;
            month = next;
        }
        let targets = targets(index, &revenue_by_month, last_day);
        summary.targets += targets.len();
        setup::put_targets(db, &caller, StoreId(*store), targets).await?;
    }
    Ok(summary)
}

/// Monthly targets: each month's actual revenue times 0.92–1.10 (so attainment varies
/// around 100 %), rounded to the hundred; the current, partial month gets last year's
/// same month plus 6 %.
fn targets(store_index: usize, revenue: &[(NaiveDate, i64)], last_day: NaiveDate) -> Vec<Target> {
    let mut rng = StdRng::seed_from_u64(SEED ^ 0x7a26 ^ store_index as u64);
    let by_month: HashMap<NaiveDate, i64> = revenue.iter().copied().collect();
    let current = last_day.with_day(1).unwrap_or(last_day);
    revenue
        .iter()
        .map(|(month, actual)| {
            let month_is_partial =
                *month == current && (last_day + TimeDelta::days(1)).month() == last_day.month();
            let base = if month_is_partial {
                by_month
                    .get(&(*month - Months::new(12)))
                    .map(|ly| *ly as f64 * 1.06)
                    .unwrap_or(*actual as f64)
            } else {
                *actual as f64 * rng.random_range(0.92..1.10)
            };
            // Ten-thousandths → whole hundreds of the currency.
            let hundreds = (base / 1_000_000.0).round() as i64;
            Target {
                year: month.year(),
                month: Some(month.month()),
                revenue: from_e4(hundreds * 1_000_000).max(Decimal::ZERO),
            }
        })
        .collect()
}
