//! Typed get-or-compute caches with a TTL: in-process (moka) by default, in Redis when
//! configured so that every process sees one cache. Entries can be dropped by key or by
//! tag (e.g. every recommendation of an organization). Hits and misses are counted per
//! cache name in `/metrics`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

#[derive(Clone)]
enum Backend {
    Local {
        entries: moka::future::Cache<String, Arc<Vec<u8>>>,
        tags: Arc<Mutex<HashMap<String, HashSet<String>>>>,
    },
    Redis {
        conn: redis::aio::ConnectionManager,
        prefix: String,
    },
}

/// One named cache. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    name: &'static str,
    ttl: Duration,
    backend: Backend,
}

impl Cache {
    /// An in-process cache holding at most `capacity` entries.
    pub fn local(name: &'static str, ttl: Duration, capacity: u64) -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(capacity)
            .time_to_live(ttl)
            .support_invalidation_closures()
            .build();
        Self {
            name,
            ttl,
            backend: Backend::Local {
                entries,
                tags: Default::default(),
            },
        }
    }

    /// A cache in Redis under `<prefix>cache:<name>:`.
    pub fn redis(
        name: &'static str,
        ttl: Duration,
        conn: redis::aio::ConnectionManager,
        prefix: &str,
    ) -> Self {
        Self {
            name,
            ttl,
            backend: Backend::Redis {
                conn,
                prefix: format!("{prefix}cache:{name}:"),
            },
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The cached value of `key`, or `compute()`'s (stored under `key` and `tags`).
    /// A failing cache backend degrades to computing; errors of `compute` are returned and
    /// not cached.
    pub async fn get_or_compute<T, F, Fut>(
        &self,
        key: &str,
        tags: &[&str],
        compute: F,
    ) -> AppResult<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<T>>,
    {
        if let Some(bytes) = self.get_raw(key).await
            && let Ok(value) = serde_json::from_slice(&bytes)
        {
            crate::metrics::cache_lookup(self.name, true);
            return Ok(value);
        }
        crate::metrics::cache_lookup(self.name, false);
        let value = compute().await?;
        let bytes = serde_json::to_vec(&value).map_err(AppError::internal)?;
        self.put_raw(key, tags, bytes).await;
        Ok(value)
    }

    async fn get_raw(&self, key: &str) -> Option<Vec<u8>> {
        match &self.backend {
            Backend::Local { entries, .. } => entries.get(key).await.map(|v| v.as_ref().clone()),
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::cmd("GET")
                    .arg(format!("{prefix}{key}"))
                    .query_async::<Option<Vec<u8>>>(&mut conn)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!(cache = self.name, error = %e, "cache read failed");
                        None
                    })
            }
        }
    }

    async fn put_raw(&self, key: &str, tags: &[&str], bytes: Vec<u8>) {
        match &self.backend {
            Backend::Local {
                entries,
                tags: index,
            } => {
                {
                    let mut index = index.lock().unwrap_or_else(|p| p.into_inner());
                    for tag in tags {
                        index
                            .entry((*tag).to_owned())
                            .or_default()
                            .insert(key.to_owned());
                    }
                }
                entries.insert(key.to_owned(), Arc::new(bytes)).await;
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let ttl_ms = self.ttl.as_millis() as u64;
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(format!("{prefix}{key}"))
                    .arg(bytes)
                    .arg("PX")
                    .arg(ttl_ms)
                    .ignore();
                for tag in tags {
                    let set = format!("{prefix}tag:{tag}");
                    pipe.cmd("SADD").arg(&set).arg(key).ignore();
                    pipe.cmd("PEXPIRE").arg(&set).arg(ttl_ms * 2).ignore();
                }
                if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                    tracing::warn!(cache = self.name, error = %e, "cache write failed");
                }
            }
        }
    }

    pub async fn invalidate(&self, key: &str) {
        match &self.backend {
            Backend::Local { entries, .. } => entries.invalidate(key).await,
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let _ = redis::cmd("DEL")
                    .arg(format!("{prefix}{key}"))
                    .query_async::<()>(&mut conn)
                    .await;
            }
        }
    }

    /// Drops every entry stored with `tag`.
    pub async fn invalidate_tag(&self, tag: &str) {
        match &self.backend {
            Backend::Local { entries, tags } => {
                let keys = tags
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(tag)
                    .unwrap_or_default();
                for key in keys {
                    entries.invalidate(&key).await;
                }
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let set = format!("{prefix}tag:{tag}");
                let keys: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(&set)
                    .query_async(&mut conn)
                    .await
                    .unwrap_or_default();
                let mut pipe = redis::pipe();
                for key in keys {
                    pipe.cmd("DEL").arg(format!("{prefix}{key}")).ignore();
                }
                pipe.cmd("DEL").arg(&set).ignore();
                let _ = pipe.query_async::<()>(&mut conn).await;
            }
        }
    }

    /// Drops every entry whose key starts with `prefix`.
    pub async fn invalidate_prefix(&self, key_prefix: &str) {
        match &self.backend {
            Backend::Local { entries, .. } => {
                let p = key_prefix.to_owned();
                let _ = entries.invalidate_entries_if(move |k, _| k.starts_with(&p));
                entries.run_pending_tasks().await;
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let pattern = format!("{prefix}{}*", key_prefix.replace(['*', '?', '[', ']'], ""));
                let mut cursor: u64 = 0;
                loop {
                    let r: Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500)
                        .query_async(&mut conn)
                        .await;
                    let Ok((next, keys)) = r else { break };
                    if !keys.is_empty() {
                        let _ = redis::cmd("DEL")
                            .arg(keys)
                            .query_async::<()>(&mut conn)
                            .await;
                    }
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
            }
        }
    }
}

/// Creates named caches on the configured backend.
#[derive(Clone, Default)]
pub struct Caches {
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

impl Caches {
    pub fn new(redis: Option<(redis::aio::ConnectionManager, String)>) -> Self {
        Self { redis }
    }

    pub fn cache(&self, name: &'static str, ttl: Duration, local_capacity: u64) -> Cache {
        match &self.redis {
            Some((conn, prefix)) => Cache::redis(name, ttl, conn.clone(), prefix),
            None => Cache::local(name, ttl, local_capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn computes_once_then_hits_until_invalidated() {
        let cache = Cache::local("test", Duration::from_secs(60), 100);
        let calls = AtomicU32::new(0);
        let compute = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, AppError>(vec![1, 2, 3])
        };
        assert_eq!(
            cache
                .get_or_compute("k", &["org:1"], compute)
                .await
                .unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(
            cache
                .get_or_compute("k", &["org:1"], compute)
                .await
                .unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache.invalidate_tag("org:1").await;
        cache.get_or_compute("k", &[], compute).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        cache.invalidate("k").await;
        cache.get_or_compute("k", &[], compute).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        cache.invalidate_prefix("k").await;
        cache.get_or_compute("k", &[], compute).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache = Cache::local("test", Duration::from_secs(60), 100);
        let r: AppResult<u32> = cache
            .get_or_compute("e", &[], || async { Err(AppError::not_found("x")) })
            .await;
        assert!(r.is_err());
        assert_eq!(
            cache
                .get_or_compute("e", &[], || async { Ok::<_, AppError>(7u32) })
                .await
                .unwrap(),
            7
        );
    }
}
