//! `comptoir reco reindex`: recomputes every product embedding (or one organization's)
//! with the model in effect, stores them and reloads the index, drawing a progress bar on
//! standard error.

use std::io::Write;

use comptoir_catalog::entities::products;
use comptoir_kernel::AppState;
use comptoir_kernel::ids::OrgId;
use sea_orm::{EntityTrait, QuerySelect};

const WIDTH: usize = 30;

/// One progress line: `[#####     ] done/total label`.
pub fn bar(done: usize, total: usize, label: &str) -> String {
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    format!(
        "[{}{}] {done}/{total} {label}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

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
            eprint!("\r{}", bar(done, total, &label));
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

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_progress() {
        assert!(bar(0, 10, "x").starts_with(&format!("[{}]", " ".repeat(30))));
        assert!(bar(5, 10, "x").starts_with(&format!(
            "[{}{}] 5/10",
            "#".repeat(15),
            " ".repeat(15)
        )));
        assert!(bar(0, 0, "x").starts_with(&format!("[{}]", "#".repeat(30))));
    }
}
