//! The slice's tables, written with SeaQuery's schema builder (one definition, both
//! engines). Every row cascades from its organization; reviews, statistics and embeddings
//! also cascade from their product, so deleting a product leaves nothing behind.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The slice's migrations, in order (after the catalog's).
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(M0001Reviews)]
}

struct M0001Reviews;

impl MigrationName for M0001Reviews {
    fn name(&self) -> &str {
        "m20261121_150001_reco_reviews"
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

/// `id` and `org_id` (cascading from the organization).
fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(a(name))
        .col(pk_uuid(a("id")))
        .col(uuid(a("org_id")))
        .foreign_key(&mut fk(name, "org_id", "orgs"))
        .to_owned()
}

fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(a(table));
    for c in cols {
        idx.col(a(c));
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Reviews {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            tenant_table("reco_reviews")
                .col(uuid(a("product_id")))
                .col(string_null(a("customer_ref")))
                .col(small_integer(a("rating")))
                .col(text(a("comment")))
                .col(string(a("language")))
                .col(integer(a("helpful_votes")).default(0))
                .col(double_null(a("sentiment_score")))
                .col(string_null(a("sentiment_label")))
                .col(double_null(a("sentiment_confidence")))
                .col(string_null(a("sentiment_method")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("scored_at")))
                .foreign_key(&mut fk("reco_reviews", "product_id", "catalog_products"))
                .to_owned(),
            // One row per reviewed product; `id` is the product's id.
            tenant_table("reco_product_stats")
                .col(integer(a("review_count")))
                .col(integer(a("scored_count")))
                .col(double(a("rating_mean")))
                .col(double(a("sentiment_mean")))
                .col(double(a("recent_sentiment_mean")))
                .col(double(a("trend")))
                .col(double(a("reputation")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("reco_product_stats", "id", "catalog_products"))
                .to_owned(),
            // One row per embedded product; `id` is the product's id.
            tenant_table("reco_embeddings")
                .col(string(a("collection")))
                .col(uuid_null(a("product_type_id")))
                .col(string(a("model")))
                .col(integer(a("dim")))
                .col(blob(a("vector")))
                .col(string(a("source_hash")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("reco_embeddings", "id", "catalog_products"))
                .to_owned(),
            // One row per organization that changed its settings; `id` is the org's id.
            tenant_table("reco_settings")
                .col(json(a("weights")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
            tenant_table("reco_review_imports")
                .col(string(a("status")))
                .col(text(a("content")))
                .col(integer(a("total_rows")))
                .col(integer(a("accepted_rows")))
                .col(integer(a("rejected_rows")))
                .col(json(a("rejected")))
                .col(string_null(a("error")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        for idx in [
            index(
                "reco_reviews_product",
                "reco_reviews",
                &["org_id", "product_id", "created_at"],
            ),
            index(
                "reco_reviews_created",
                "reco_reviews",
                &["org_id", "created_at"],
            ),
            index(
                "reco_reviews_unscored",
                "reco_reviews",
                &["org_id", "scored_at"],
            ),
            index(
                "reco_embeddings_collection",
                "reco_embeddings",
                &["org_id", "collection"],
            ),
        ] {
            m.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "reco_review_imports",
            "reco_settings",
            "reco_embeddings",
            "reco_product_stats",
            "reco_reviews",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
