//! The catalog tables, written with SeaQuery's schema builder (one definition, both
//! engines). Foreign keys cascade from the organization; inside the catalog, references are
//! restricted so nothing with stock or a ledger disappears by accident.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The catalog's migrations, in order.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(M0001Catalog)]
}

struct M0001Catalog;

impl MigrationName for M0001Catalog {
    fn name(&self) -> &str {
        "m20261121_100001_catalog"
    }
}

fn fk(from: &str, col: &str, to: &str, cascade: bool) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(Alias::new(from))
        .from_col(Alias::new(col))
        .to_tbl(Alias::new(to))
        .to_col(Alias::new("id"))
        .on_delete(if cascade {
            ForeignKeyAction::Cascade
        } else {
            ForeignKeyAction::Restrict
        })
        .to_owned()
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// `id` and `org_id` (cascading from the organization): every catalog table starts so.
fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(a(name))
        .col(pk_uuid(a("id")))
        .col(uuid(a("org_id")))
        .foreign_key(&mut fk(name, "org_id", "orgs", true))
        .to_owned()
}

fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(a(table));
    for c in cols {
        idx.col(a(c));
    }
    if unique {
        idx.unique();
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Catalog {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            tenant_table("catalog_brands")
                .col(string(a("name")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("catalog_categories")
                .col(string(a("code")))
                .col(string(a("name")))
                .col(uuid_null(a("parent_id")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk(
                    "catalog_categories",
                    "parent_id",
                    "catalog_categories",
                    false,
                ))
                .to_owned(),
            tenant_table("catalog_product_types")
                .col(string(a("code")))
                .col(string(a("name")))
                .col(json(a("attributes")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("catalog_locations")
                .col(string(a("code")))
                .col(string(a("name")))
                .col(string(a("kind")))
                .col(string_null(a("region")))
                .col(string_null(a("address")))
                .col(big_integer_null(a("latitude_e6")))
                .col(big_integer_null(a("longitude_e6")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("catalog_products")
                .col(string(a("sku")))
                .col(string(a("name")))
                .col(text_null(a("description")))
                .col(uuid_null(a("brand_id")))
                .col(uuid_null(a("category_id")))
                .col(uuid_null(a("product_type_id")))
                .col(json(a("attributes")))
                .col(big_integer_null(a("purchase_price_e4")))
                .col(big_integer(a("sale_price_e4")))
                .col(string(a("currency")))
                .col(big_integer(a("vat_rate_e4")))
                .col(string(a("availability")))
                .col(json(a("images")))
                .col(string(a("status")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk(
                    "catalog_products",
                    "brand_id",
                    "catalog_brands",
                    false,
                ))
                .foreign_key(&mut fk(
                    "catalog_products",
                    "category_id",
                    "catalog_categories",
                    false,
                ))
                .foreign_key(&mut fk(
                    "catalog_products",
                    "product_type_id",
                    "catalog_product_types",
                    false,
                ))
                .to_owned(),
            tenant_table("catalog_stock")
                .col(uuid(a("product_id")))
                .col(uuid(a("location_id")))
                .col(big_integer(a("on_hand")))
                .col(big_integer(a("reserved")))
                .col(big_integer_null(a("low_stock_threshold")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk(
                    "catalog_stock",
                    "product_id",
                    "catalog_products",
                    false,
                ))
                .foreign_key(&mut fk(
                    "catalog_stock",
                    "location_id",
                    "catalog_locations",
                    false,
                ))
                .check(Expr::cust("on_hand >= reserved AND reserved >= 0"))
                .to_owned(),
            tenant_table("catalog_movements")
                .col(uuid(a("product_id")))
                .col(uuid(a("location_id")))
                .col(string(a("kind")))
                .col(big_integer(a("quantity")))
                .col(big_integer(a("on_hand_delta")))
                .col(big_integer(a("reserved_delta")))
                .col(string_null(a("reason")))
                .col(uuid_null(a("actor_user_id")))
                .col(string_null(a("reference")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk(
                    "catalog_movements",
                    "product_id",
                    "catalog_products",
                    false,
                ))
                .foreign_key(&mut fk(
                    "catalog_movements",
                    "location_id",
                    "catalog_locations",
                    false,
                ))
                .to_owned(),
            tenant_table("catalog_reservations")
                .col(string(a("status")))
                .col(json(a("lines")))
                .col(string_null(a("reference")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
            tenant_table("catalog_events")
                .col(string(a("kind")))
                .col(uuid_null(a("product_id")))
                .col(uuid_null(a("location_id")))
                .col(json(a("payload")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("catalog_imports")
                .col(string(a("kind")))
                .col(string(a("status")))
                .col(json(a("options")))
                .col(text(a("content")))
                .col(big_integer(a("total_rows")))
                .col(big_integer(a("processed_rows")))
                .col(big_integer(a("accepted_rows")))
                .col(big_integer(a("rejected_rows")))
                .col(text_null(a("error")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .to_owned(),
            tenant_table("catalog_import_rows")
                .col(uuid(a("import_id")))
                .col(big_integer(a("line")))
                .col(string_null(a("column_name")))
                .col(text(a("reason")))
                .col(text(a("raw")))
                .foreign_key(&mut fk(
                    "catalog_import_rows",
                    "import_id",
                    "catalog_imports",
                    true,
                ))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        let indexes = [
            index(
                "ux_catalog_brands_name",
                "catalog_brands",
                &["org_id", "name"],
                true,
            ),
            index(
                "ux_catalog_categories_code",
                "catalog_categories",
                &["org_id", "code"],
                true,
            ),
            index(
                "ux_catalog_product_types_code",
                "catalog_product_types",
                &["org_id", "code"],
                true,
            ),
            index(
                "ux_catalog_locations_code",
                "catalog_locations",
                &["org_id", "code"],
                true,
            ),
            index(
                "ux_catalog_products_sku",
                "catalog_products",
                &["org_id", "sku"],
                true,
            ),
            index(
                "ix_catalog_products_created",
                "catalog_products",
                &["org_id", "created_at", "id"],
                false,
            ),
            index(
                "ix_catalog_products_category",
                "catalog_products",
                &["category_id"],
                false,
            ),
            index(
                "ix_catalog_products_brand",
                "catalog_products",
                &["brand_id"],
                false,
            ),
            index(
                "ix_catalog_products_type",
                "catalog_products",
                &["product_type_id"],
                false,
            ),
            index(
                "ux_catalog_stock_product_location",
                "catalog_stock",
                &["org_id", "product_id", "location_id"],
                true,
            ),
            index(
                "ix_catalog_stock_location",
                "catalog_stock",
                &["location_id"],
                false,
            ),
            index(
                "ix_catalog_movements_product",
                "catalog_movements",
                &["org_id", "product_id", "created_at"],
                false,
            ),
            index(
                "ix_catalog_movements_location",
                "catalog_movements",
                &["location_id"],
                false,
            ),
            index(
                "ix_catalog_events_created",
                "catalog_events",
                &["org_id", "created_at"],
                false,
            ),
            index(
                "ix_catalog_imports_created",
                "catalog_imports",
                &["org_id", "created_at"],
                false,
            ),
            index(
                "ix_catalog_import_rows_import",
                "catalog_import_rows",
                &["import_id", "line"],
                false,
            ),
            index(
                "ix_catalog_categories_parent",
                "catalog_categories",
                &["parent_id"],
                false,
            ),
        ];
        for idx in indexes {
            m.create_index(idx).await?;
        }
        Ok(())
    }
}
