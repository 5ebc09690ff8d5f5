//! The progress line every long command draws on standard error (imports, reindexing,
//! model downloads): `[#####     ] done/total label`.

const WIDTH: usize = 30;

/// One progress line; a zero total draws a full bar (nothing to do is done).
pub fn bar(done: u64, total: u64, label: &str) -> String {
    let filled = (done.saturating_mul(WIDTH as u64))
        .checked_div(total)
        .map_or(WIDTH, |f| usize::try_from(f).unwrap_or(WIDTH))
        .min(WIDTH);
    format!(
        "[{}{}] {done}/{total} {label}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_progress() {
        assert!(bar(0, 10, "x").starts_with(&format!("[{}]", " ".repeat(30))));
        assert_eq!(
            bar(5, 10, "rows"),
            format!("[{}{}] 5/10 rows", "#".repeat(15), " ".repeat(15))
        );
        assert!(bar(0, 0, "x").starts_with(&format!("[{}]", "#".repeat(30))));
        // More done than the total (a stale total) never overflows the bar.
        assert!(bar(12, 10, "x").starts_with(&format!("[{}]", "#".repeat(30))));
        assert!(bar(u64::MAX, 2, "x").starts_with(&format!("[{}]", "#".repeat(30))));
    }
}
