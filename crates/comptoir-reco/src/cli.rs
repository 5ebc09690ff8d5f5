//! `comptoir reco reindex`: recomputes every product embedding (or one organization's)
//! with the model in effect, stores them and reloads the index, drawing a progress bar on
//! standard error.

use std::io::Write;

use comptoir_catalog::entities::products;
use comptoir_kernel::AppState;
use comptoir_kernel::ids::OrgId;
use comptoir_kernel::progress::bar;
use sea_orm::{EntityTrait, QuerySelect};

/// Rebuilds the embeddings of `org` (every organization with products when `None`).
pub async fn reindex(state: &AppState, org: Option<OrgId>) -> anyhow::Result<()> {
    let orgs = match org {
        Some(org) => vec![org],
        None => products::Entity::find()
            .select_only()
            .column(products::Column::OrgId)
            .distinct()
            .into_tuple::<uuid::Uuid>()
            .all(&state.db)
            .await?
            .into_iter()
            .map(OrgId)
            .collect(),
    };
    let model = crate::embeddings::current_model(state);
    eprintln!("embedding with {model}");
    for org in orgs {
        let label = format!("products of {org}");
        let mut draw = |done: usize, total: usize| {
            eprint!("\r{}", bar(done as u64, total as u64, &label));
            let _ = std::io::stderr().flush();
        };
        let r = crate::embeddings::refresh(state, org, true, &mut draw)
            .await
            .map_err(|e| anyhow::anyhow!("reindexing {org} failed: {}", e.message))?;
        eprintln!();
        crate::recommend::invalidate(state, org).await;
        println!("{org}: {} products embedded", r.embedded);
    }
    Ok(())
}
