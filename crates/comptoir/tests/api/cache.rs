//! The Redis cache backend behaves like the in-process one and is shared by two handles
//! (as by two processes).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use comptoir_kernel::AppError;
use comptoir_kernel::cache::Cache;

async fn redis() -> redis::aio::ConnectionManager {
    let url = std::env::var("COMPTOIR_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    redis::Client::open(url)
        .unwrap()
        .get_connection_manager()
        .await
        .expect("Redis (scripts/services.sh starts it)")
}

#[tokio::test]
async fn redis_cache_is_shared_and_invalidates_by_key_tag_and_prefix() {
    let prefix = format!("comptoir-test-{}:", uuid::Uuid::new_v4().simple());
    let a = Cache::redis("reco", Duration::from_secs(60), redis().await, &prefix);
    let b = Cache::redis("reco", Duration::from_secs(60), redis().await, &prefix);
    let calls = AtomicU32::new(0);
    let compute = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<_, AppError>(vec!["Clio".to_owned(), "Zoé".to_owned()])
    };
    assert_eq!(
        a.get_or_compute("org:1:q", &["org:1"], compute)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        b.get_or_compute("org:1:q", &["org:1"], compute)
            .await
            .unwrap(),
        vec!["Clio", "Zoé"]
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the second process hit the first one's entry"
    );

    b.invalidate_tag("org:1").await;
    a.get_or_compute("org:1:q", &[], compute).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    a.invalidate("org:1:q").await;
    b.get_or_compute("org:1:q", &[], compute).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    b.get_or_compute("org:2:q", &[], compute).await.unwrap();
    a.invalidate_prefix("org:1:").await;
    b.get_or_compute("org:2:q", &[], compute).await.unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "prefix invalidation spares other keys"
    );
    a.get_or_compute("org:1:q", &[], compute).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}
