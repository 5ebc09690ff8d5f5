//! The retail tables, written with SeaQuery's schema builder (one definition, both engines).
//! Money is stored in ten-thousandths (`*_e4`) like the catalog. The three rollup tables
//! have composite primary keys so that the import can add deltas with one
//! `INSERT ... ON CONFLICT DO UPDATE` per row on either engine.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The retail migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(M0001Retail),
        Box::new(M0002RetailScenarios),
        Box::new(MRetailReports),
    ]
}

struct M0001Retail;

impl MigrationName for M0001Retail {
    fn name(&self) -> &str {
        "m20261121_200001_retail"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn fk(from: &str, col: &str, to: &str, cascade: bool) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(a(from))
        .from_col(a(col))
        .to_tbl(a(to))
        .to_col(a("id"))
        .on_delete(if cascade {
            ForeignKeyAction::Cascade
        } else {
            ForeignKeyAction::Restrict
        })
        .to_owned()
}

fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(a(name))
        .col(pk_uuid(a("id")))
        .col(uuid(a("org_id")))
        .foreign_key(&mut fk(name, "org_id", "orgs", true))
        .to_owned()
}

/// The measures every rollup carries.
fn measures(t: &mut TableCreateStatement) -> TableCreateStatement {
    t.col(big_integer(a("revenue_excl_e4")))
        .col(big_integer(a("revenue_incl_e4")))
        .col(big_integer(a("cost_e4")))
        .col(big_integer(a("units")))
        .col(big_integer(a("transactions")))
        .to_owned()
}

fn rollup(name: &str, keys: &[(&str, bool)]) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(a(name)).col(uuid(a("org_id")));
    let mut pk = Index::create();
    pk.col(a("org_id"));
    for (key, is_date) in keys {
        if *is_date {
            t.col(date(a(key)));
        } else {
            t.col(uuid(a(key)));
        }
        pk.col(a(key));
    }
    t.primary_key(&mut pk)
        .foreign_key(&mut fk(name, "org_id", "orgs", true));
    measures(&mut t)
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
impl MigrationTrait for M0001Retail {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            tenant_table("retail_regions")
                .col(string(a("code")))
                .col(string(a("name")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            // A store is a catalog location of kind `store`: same id.
            tenant_table("retail_stores")
                .col(uuid(a("region_id")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk("retail_stores", "id", "catalog_locations", false))
                .foreign_key(&mut fk(
                    "retail_stores",
                    "region_id",
                    "retail_regions",
                    false,
                ))
                .to_owned(),
            tenant_table("retail_targets")
                .col(uuid(a("store_id")))
                .col(integer(a("year")))
                .col(integer(a("month")))
                .col(big_integer(a("revenue_e4")))
                .foreign_key(&mut fk("retail_targets", "store_id", "retail_stores", true))
                .to_owned(),
            tenant_table("retail_customers")
                .col(string(a("code")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("retail_imports")
                .col(string(a("status")))
                .col(string(a("policy")))
                .col(string(a("source")))
                .col(string(a("format")))
                .col(json(a("options")))
                .col(blob(a("content")))
                .col(big_integer(a("total_rows")))
                .col(big_integer(a("processed_rows")))
                .col(big_integer(a("accepted_rows")))
                .col(big_integer(a("rejected_rows")))
                .col(big_integer(a("receipts")))
                .col(text_null(a("error")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .to_owned(),
            tenant_table("retail_import_rows")
                .col(uuid(a("import_id")))
                .col(big_integer(a("line")))
                .col(string_null(a("column_name")))
                .col(text(a("reason")))
                .col(text(a("raw")))
                .foreign_key(&mut fk(
                    "retail_import_rows",
                    "import_id",
                    "retail_imports",
                    true,
                ))
                .to_owned(),
            tenant_table("retail_mappings")
                .col(string(a("source")))
                .col(json(a("map")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
            tenant_table("retail_sales")
                .col(string(a("receipt")))
                .col(uuid(a("store_id")))
                .col(uuid_null(a("customer_id")))
                .col(timestamp_with_time_zone(a("sold_at")))
                .col(date(a("day")))
                .col(big_integer(a("total_excl_e4")))
                .col(big_integer(a("total_incl_e4")))
                .col(uuid_null(a("import_id")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("retail_sales", "store_id", "retail_stores", false))
                .foreign_key(&mut fk(
                    "retail_sales",
                    "customer_id",
                    "retail_customers",
                    false,
                ))
                .to_owned(),
            tenant_table("retail_sale_lines")
                .col(uuid(a("sale_id")))
                .col(integer(a("line_no")))
                .col(uuid(a("product_id")))
                .col(big_integer(a("quantity")))
                .col(big_integer(a("unit_price_e4")))
                .col(big_integer(a("discount_e4")))
                .col(big_integer(a("vat_rate_e4")))
                .col(big_integer(a("amount_excl_e4")))
                .col(big_integer(a("amount_incl_e4")))
                .col(big_integer(a("cost_e4")))
                .foreign_key(&mut fk(
                    "retail_sale_lines",
                    "sale_id",
                    "retail_sales",
                    true,
                ))
                .foreign_key(&mut fk(
                    "retail_sale_lines",
                    "product_id",
                    "catalog_products",
                    false,
                ))
                .to_owned(),
            rollup(
                "retail_daily",
                &[("store_id", false), ("day", true), ("product_id", false)],
            ),
            rollup("retail_store_daily", &[("store_id", false), ("day", true)]),
            rollup(
                "retail_monthly",
                &[("store_id", false), ("month", true), ("category_id", false)],
            ),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        let indexes = [
            index(
                "ux_retail_regions_code",
                "retail_regions",
                &["org_id", "code"],
                true,
            ),
            index(
                "ix_retail_stores_region",
                "retail_stores",
                &["region_id"],
                false,
            ),
            index(
                "ux_retail_targets_period",
                "retail_targets",
                &["store_id", "year", "month"],
                true,
            ),
            index(
                "ux_retail_customers_code",
                "retail_customers",
                &["org_id", "code"],
                true,
            ),
            index(
                "ix_retail_imports_created",
                "retail_imports",
                &["org_id", "created_at"],
                false,
            ),
            index(
                "ix_retail_import_rows_import",
                "retail_import_rows",
                &["import_id", "line"],
                false,
            ),
            index(
                "ux_retail_mappings_source",
                "retail_mappings",
                &["org_id", "source"],
                true,
            ),
            index(
                "ux_retail_sales_receipt",
                "retail_sales",
                &["org_id", "receipt"],
                true,
            ),
            index(
                "ix_retail_sales_store_day",
                "retail_sales",
                &["store_id", "day"],
                false,
            ),
            index(
                "ix_retail_sale_lines_sale",
                "retail_sale_lines",
                &["sale_id"],
                false,
            ),
            index(
                "ix_retail_sale_lines_product",
                "retail_sale_lines",
                &["product_id"],
                false,
            ),
            index(
                "ix_retail_daily_product",
                "retail_daily",
                &["org_id", "product_id", "day"],
                false,
            ),
            index(
                "ix_retail_monthly_category",
                "retail_monthly",
                &["org_id", "category_id", "month"],
                false,
            ),
        ];
        for idx in indexes {
            m.create_index(idx).await?;
        }
        Ok(())
    }
}

/// Saved what-if scenarios and their immutable versions.
struct M0002RetailScenarios;

impl MigrationName for M0002RetailScenarios {
    fn name(&self) -> &str {
        "m20261121_210001_retail_scenarios"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002RetailScenarios {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("retail_scenarios")
                .col(uuid(a("owner_id")))
                .col(uuid_null(a("scope_region_id")))
                .col(uuid_null(a("scope_store_id")))
                .col(integer(a("latest_version")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .col(timestamp_with_time_zone_null(a("archived_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            tenant_table("retail_scenario_versions")
                .col(uuid(a("scenario_id")))
                .col(integer(a("version")))
                .col(string(a("name")))
                .col(text(a("description")))
                .col(string(a("from_month")))
                .col(integer(a("horizon")))
                .col(string(a("baseline")))
                .col(json(a("levers")))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk(
                    "retail_scenario_versions",
                    "scenario_id",
                    "retail_scenarios",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_retail_scenarios_org",
            "retail_scenarios",
            &["org_id", "updated_at"],
            false,
        ))
        .await?;
        // Two concurrent updates from the same version cannot both become version n + 1.
        m.create_index(index(
            "ux_retail_scenario_versions_version",
            "retail_scenario_versions",
            &["scenario_id", "version"],
            true,
        ))
        .await
    }
}

/// Monthly consolidation reports (their files as blobs, like the imports' uploads), the
/// schedules that produce them, and the record of each scheduled hand-off to the mailer.
struct MRetailReports;

impl MigrationName for MRetailReports {
    fn name(&self) -> &str {
        "m20261121_210001_retail_reports"
    }
}

fn fk_set_null(from: &str, col: &str, to: &str) -> ForeignKeyCreateStatement {
    let mut f = fk(from, col, to, false);
    f.on_delete(ForeignKeyAction::SetNull);
    f
}

#[async_trait::async_trait]
impl MigrationTrait for MRetailReports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            tenant_table("retail_report_schedules")
                .col(integer(a("day_of_month")))
                .col(json(a("recipients")))
                .col(uuid_null(a("region_id")))
                .col(uuid_null(a("store_id")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
            tenant_table("retail_reports")
                .col(date(a("month")))
                .col(uuid_null(a("region_id")))
                .col(uuid_null(a("store_id")))
                .col(string(a("label")))
                .col(string(a("status")))
                .col(text_null(a("error")))
                .col(uuid_null(a("schedule_id")))
                .col(uuid_null(a("task_id")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .foreign_key(&mut fk_set_null(
                    "retail_reports",
                    "schedule_id",
                    "retail_report_schedules",
                ))
                .to_owned(),
            tenant_table("retail_report_files")
                .col(uuid(a("report_id")))
                .col(string(a("format")))
                .col(blob(a("content")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk(
                    "retail_report_files",
                    "report_id",
                    "retail_reports",
                    true,
                ))
                .to_owned(),
            tenant_table("retail_report_deliveries")
                .col(uuid_null(a("schedule_id")))
                .col(uuid(a("report_id")))
                .col(date(a("month")))
                .col(json(a("recipients")))
                .col(string(a("subject")))
                .col(string(a("status")))
                .col(string(a("mailer")))
                .col(text_null(a("error")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("sent_at")))
                .foreign_key(&mut fk_set_null(
                    "retail_report_deliveries",
                    "schedule_id",
                    "retail_report_schedules",
                ))
                .foreign_key(&mut fk(
                    "retail_report_deliveries",
                    "report_id",
                    "retail_reports",
                    true,
                ))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        let indexes = [
            index(
                "ix_retail_reports_created",
                "retail_reports",
                &["org_id", "created_at"],
                false,
            ),
            // One report per schedule and month: the sweep's idempotency (NULLs, i.e.
            // reports asked for through the API, never collide).
            index(
                "ux_retail_reports_schedule_month",
                "retail_reports",
                &["schedule_id", "month"],
                true,
            ),
            index(
                "ux_retail_report_files_format",
                "retail_report_files",
                &["report_id", "format"],
                true,
            ),
            index(
                "ix_retail_report_schedules_org",
                "retail_report_schedules",
                &["org_id", "created_at"],
                false,
            ),
            index(
                "ux_retail_report_deliveries_schedule_month",
                "retail_report_deliveries",
                &["schedule_id", "month"],
                true,
            ),
        ];
        for idx in indexes {
            m.create_index(idx).await?;
        }
        Ok(())
    }
}
