//! The order tables (SeaQuery schema builder: one definition, both engines). Everything
//! cascades from the organization; lines, history and outbox rows from their order.
//! `orders.customer_id` has no foreign key: a posted id is checked by the worker (a
//! business rule: unknown → rejected), not refused at intake.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The order slice's migrations, in order.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(M0001Orders)]
}

struct M0001Orders;

impl MigrationName for M0001Orders {
    fn name(&self) -> &str {
        "m20261121_200001_orders"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn fk(from: &str, col: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(a(from))
        .from_col(a(col))
        .to_tbl(a(to))
        .to_col(a("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(a(name))
        .col(pk_uuid(a("id")))
        .col(uuid(a("org_id")))
        .foreign_key(&mut fk(name, "org_id", "orgs"))
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
impl MigrationTrait for M0001Orders {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            tenant_table("order_customers")
                .col(string(a("email")))
                .col(string_null(a("name")))
                .col(json_null(a("addresses")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
            tenant_table("orders")
                .col(string(a("status")))
                .col(uuid_null(a("customer_id")))
                .col(string_null(a("customer_email")))
                .col(json(a("customer")))
                .col(string(a("currency")))
                .col(json_null(a("shipping")))
                .col(string(a("delivery_type")))
                .col(json(a("metadata")))
                .col(big_integer_null(a("total_e4")))
                .col(string_null(a("reason")))
                .col(uuid_null(a("reservation_id")))
                .col(uuid_null(a("location_id")))
                .col(string_null(a("idempotency_key")))
                .col(string(a("request_hash")))
                .col(uuid_null(a("task_id")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
            tenant_table("order_lines")
                .col(uuid(a("order_id")))
                .col(integer(a("position")))
                .col(string(a("sku")))
                .col(uuid_null(a("product_id")))
                .col(big_integer(a("quantity")))
                .col(big_integer_null(a("unit_price_e4")))
                .foreign_key(&mut fk("order_lines", "order_id", "orders"))
                .to_owned(),
            tenant_table("order_history")
                .col(uuid(a("order_id")))
                .col(string_null(a("from_status")))
                .col(string(a("to_status")))
                .col(string(a("actor")))
                .col(uuid_null(a("actor_user_id")))
                .col(string_null(a("reason")))
                .col(timestamp_with_time_zone(a("at")))
                .foreign_key(&mut fk("order_history", "order_id", "orders"))
                .to_owned(),
            tenant_table("order_outbox")
                .col(uuid(a("order_id")))
                .col(string(a("event")))
                .col(json(a("payload")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("published_at")))
                .foreign_key(&mut fk("order_outbox", "order_id", "orders"))
                .to_owned(),
            tenant_table("order_connectors")
                .col(string(a("kind")))
                .col(string(a("base_url")))
                .col(json(a("settings")))
                .col(text_null(a("secret")))
                .col(boolean(a("enabled")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        let indexes = [
            index(
                "ux_order_customers_email",
                "order_customers",
                &["org_id", "email"],
                true,
            ),
            index(
                "ux_orders_idempotency",
                "orders",
                &["org_id", "idempotency_key"],
                true,
            ),
            index(
                "ix_orders_status",
                "orders",
                &["org_id", "status", "id"],
                false,
            ),
            index(
                "ix_orders_customer",
                "orders",
                &["org_id", "customer_email"],
                false,
            ),
            index(
                "ix_orders_created",
                "orders",
                &["org_id", "created_at"],
                false,
            ),
            index(
                "ix_order_lines_order",
                "order_lines",
                &["order_id", "position"],
                false,
            ),
            index(
                "ix_order_history_order",
                "order_history",
                &["order_id", "at"],
                false,
            ),
            index(
                "ix_order_outbox_pending",
                "order_outbox",
                &["published_at", "created_at"],
                false,
            ),
            index(
                "ix_order_outbox_order",
                "order_outbox",
                &["order_id"],
                false,
            ),
            index(
                "ux_order_connectors_kind",
                "order_connectors",
                &["org_id", "kind"],
                true,
            ),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "order_connectors",
            "order_outbox",
            "order_history",
            "order_lines",
            "orders",
            "order_customers",
        ] {
            m.drop_table(Table::drop().table(a(t)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
