//! Catalog at 100,000 products: CSV import throughput, list/filter/search latency, deep
//! cursor pages, export, and reservations. SQLite in a temporary file by default;
//! `COMPTOIR_BENCH_DATABASE_URL=postgres://…/dbname` (an empty database) for PostgreSQL.
//! `CATALOG_BENCH_PRODUCTS` changes the size. Prints CSV lines for bench/RESULTS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use comptoir_catalog::model::ProductStatus;
use comptoir_catalog::service;
use comptoir_catalog::views::*;
use comptoir_kernel::auth::{AuthVia, Caller, Role};
use comptoir_kernel::ids::{OrgId, UserId};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = comptoir_kernel::db::migrations::migrations();
        all.extend(comptoir_catalog::migrations());
        all
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1e3
}

async fn measure<F, Fut>(name: &str, runs: usize, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut samples = Vec::with_capacity(runs);
    let mut items = 0;
    for i in 0..runs {
        let t = Instant::now();
        items = f(i).await;
        samples.push(t.elapsed());
    }
    let p50 = percentile(&mut samples, 0.5);
    let p95 = percentile(&mut samples, 0.95);
    println!("{name},{runs},{items},{p50:.2},{p95:.2}");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let n: usize = std::env::var("CATALOG_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("COMPTOIR_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()));
    let db = comptoir_kernel::db::connect(&url, 8).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let org = OrgId(
        comptoir_kernel::tenancy::service::create_org(&db, "Bench", None)
            .await
            .unwrap()
            .id,
    );
    let caller = Caller {
        org_id: org,
        user_id: UserId::new(),
        role: Role::Owner,
        region_id: None,
        store_id: None,
        via: AuthVia::AccessToken,
    };
    println!(
        "# engine {}, {n} products",
        if url.starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        }
    );

    // 3 roots × 10 children, 2 product types, 4 locations.
    let mut leaves = Vec::new();
    let mut roots = Vec::new();
    for r in 0..3 {
        let root = service::create_category(
            &db,
            &caller,
            CategoryInput {
                code: format!("root-{r}"),
                name: format!("Root {r}"),
                parent_id: None,
            },
        )
        .await
        .unwrap();
        for c in 0..10 {
            service::create_category(
                &db,
                &caller,
                CategoryInput {
                    code: format!("cat-{r}-{c}"),
                    name: format!("Cat {r}-{c}"),
                    parent_id: Some(root.id),
                },
            )
            .await
            .unwrap();
            leaves.push(format!("cat-{r}-{c}"));
        }
        roots.push(root.id);
    }
    let attrs = vec![AttributeDef {
        name: "storage_gb".into(),
        kind: comptoir_catalog::model::AttrType::Integer,
        required: true,
    }];
    service::create_product_type(
        &db,
        &caller,
        ProductTypeInput {
            code: "smartphone".into(),
            name: "Smartphone".into(),
            attributes: attrs,
        },
    )
    .await
    .unwrap();
    for l in 0..4 {
        let kind = if l == 0 {
            comptoir_catalog::model::LocationKind::Warehouse
        } else {
            comptoir_catalog::model::LocationKind::Store
        };
        service::create_location(
            &db,
            &caller,
            LocationInput {
                code: format!("LOC-{l}"),
                name: format!("Location {l}"),
                kind,
                region: None,
                address: None,
                latitude: None,
                longitude: None,
            },
        )
        .await
        .unwrap();
    }

    let mut csv = String::from(
        "sku,name,brand,category,product_type,sale_price,vat_rate,status,attr.storage_gb\n",
    );
    for i in 0..n {
        let (ptype, storage) = if i % 2 == 0 {
            ("smartphone", ["64", "128", "256"][i % 3])
        } else {
            ("", "")
        };
        csv.push_str(&format!(
            "SKU-{i:06},Produit {i} modèle {},Marque {},{},{ptype},\"{},{:02}\",20,{},{storage}\n",
            i % 977,
            i % 50,
            leaves[i % leaves.len()],
            5 + i % 2000,
            i % 100,
            ["active", "draft", "archived"][i % 3]
        ));
    }
    println!("operation,runs,items,p50_ms,p95_ms");
    let t = Instant::now();
    let id = service::start_import(&db, &caller, ImportOptions::default(), csv)
        .await
        .unwrap();
    let import = service::run_import(&db, org, id).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(import.accepted_rows as usize, n, "{:?}", import.error);
    println!(
        "import_products_csv,1,{n},{:.0},{:.0}  # {:.0} rows/s",
        secs * 1e3,
        secs * 1e3,
        n as f64 / secs
    );

    let stock_rows = n / 5;
    let mut stock = String::from("sku,location,on_hand,low_stock_threshold\n");
    for i in 0..stock_rows {
        stock.push_str(&format!("SKU-{:06},LOC-{},{},5\n", i * 5, i % 4, i % 40));
    }
    let t = Instant::now();
    let id = service::start_import(
        &db,
        &caller,
        ImportOptions {
            kind: Some(comptoir_catalog::model::ImportKind::Stock),
            ..Default::default()
        },
        stock,
    )
    .await
    .unwrap();
    let import = service::run_import(&db, org, id).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "import_stock_csv,1,{},{:.0},{:.0}  # {:.0} rows/s",
        import.accepted_rows,
        secs * 1e3,
        secs * 1e3,
        import.accepted_rows as f64 / secs
    );

    let list = |f: ProductFilter| {
        let db = db.clone();
        async move {
            service::list_products(&db, org, &f)
                .await
                .unwrap()
                .items
                .len()
        }
    };
    measure("list_first_page_50", 50, |_| list(ProductFilter::default())).await;
    measure("search_text", 30, |i| {
        list(ProductFilter {
            q: Some(format!("modèle {}", 100 + i)),
            ..Default::default()
        })
    })
    .await;
    measure("category_subtree", 30, |i| {
        list(ProductFilter {
            category_id: Some(roots[i % 3]),
            ..Default::default()
        })
    })
    .await;
    measure("price_range_active", 30, |i| {
        list(ProductFilter {
            min_price: Some(format!("{}", 100 + i)),
            max_price: Some(format!("{}", 300 + i)),
            status: Some(ProductStatus::Active),
            ..Default::default()
        })
    })
    .await;
    measure("in_stock", 30, |_| {
        list(ProductFilter {
            in_stock: Some(true),
            ..Default::default()
        })
    })
    .await;
    // Page 200 of 50 (10,000 products deep) by walking the cursor.
    let mut cursor = None;
    let mut pages = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let page = service::list_products(
            &db,
            org,
            &ProductFilter {
                cursor: cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        pages.push(t.elapsed());
        cursor = page.next_cursor;
    }
    println!(
        "cursor_pages_1_to_200,200,50,{:.2},{:.2}",
        percentile(&mut pages, 0.5),
        percentile(&mut pages, 0.95)
    );
    measure("export_csv_one_root_category", 3, |i| {
        let db = db.clone();
        let f = ProductFilter {
            category_id: Some(roots[i % 3]),
            ..Default::default()
        };
        async move {
            service::export_products_csv(&db, org, &f)
                .await
                .unwrap()
                .lines()
                .count()
                - 1
        }
    })
    .await;

    let levels = service::list_stock(
        &db,
        org,
        &StockFilter {
            limit: Some(1000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let stocked: Vec<_> = levels
        .iter()
        .filter(|l| l.available >= 10)
        .take(200)
        .cloned()
        .collect();
    measure("reserve_then_release", 200, |i| {
        let db = db.clone();
        let l = stocked[i % stocked.len()].clone();
        async move {
            let line = ReserveLine {
                product_id: l.product_id,
                location_id: l.location_id,
                quantity: 1,
            };
            let r = service::reserve(&db, org, None, &[line], None)
                .await
                .unwrap();
            service::release(&db, org, None, r.id).await.unwrap();
            1
        }
    })
    .await;
    let target = stocked[0].clone();
    let t = Instant::now();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let line = ReserveLine {
                    product_id: target.product_id,
                    location_id: target.location_id,
                    quantity: 1,
                };
                service::reserve(&db, org, None, &[line], None)
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "concurrent_reserve_same_level,200,{ok},{:.0},{:.0}  # {:.0} attempts/s, {ok} succeeded of {} available",
        secs * 1e3,
        secs * 1e3,
        200.0 / secs,
        target.available
    );
}
