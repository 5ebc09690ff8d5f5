//! `hf:` sources against a local server that speaks the hub's file protocol: the requests
//! hf-hub makes of the public hub, `GET /{repo}/resolve/{revision}/{file}` with a one-byte
//! range for the metadata (etag, commit, size), then the file from its resume point.
#![cfg(feature = "hub")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use comptoir_ml::store::{
    self, HubClient, ModelFile, ModelSpec, Progress, PullOptions, Source, SourceError, StoreError,
};
use sha2::{Digest, Sha256};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serves `files` of one repository at one revision and records every request line.
struct Hub {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Hub {
    fn start(repo: &str, revision: &str, files: HashMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let prefix = format!("/{repo}/resolve/{revision}/");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &prefix, &files, &seen);
            }
        });
        Self { base, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

fn answer(
    mut stream: TcpStream,
    prefix: &str,
    files: &HashMap<String, Vec<u8>>,
    seen: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // `Range: bytes=START-[END]`
    let mut range: (usize, Option<usize>) = (0, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("range: bytes=") {
            let (start, end) = v.trim().split_once('-').unwrap_or(("0", ""));
            range = (start.parse().unwrap_or(0), end.parse().ok());
        }
    }
    seen.lock().expect("lock").push(line.trim().to_owned());
    let path = line.split_whitespace().nth(1).unwrap_or_default();
    let Some(body) = path.strip_prefix(prefix).and_then(|name| files.get(name)) else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nx-error-code: EntryNotFound\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        return;
    };
    let start = range.0.min(body.len());
    let end = range.1.map_or(body.len(), |e| (e + 1).min(body.len()));
    let part = &body[start..end];
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\netag: \"{}\"\r\nx-repo-commit: {COMMIT}\r\ncontent-range: bytes {start}-{}/{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        hex(&Sha256::digest(body)),
        end.saturating_sub(1),
        body.len(),
        part.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(part);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A two-file model (one of them past the 1 MiB progress step) and the hub holding it.
fn model_on_hub() -> (ModelSpec, Hub) {
    let weights: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let tokenizer = br#"{"model": {"type": "Unigram"}}"#.to_vec();
    let spec = ModelSpec {
        name: "tiny-e5".into(),
        files: vec![
            ModelFile {
                name: "model.e5s1".into(),
                sha256: hex(&Sha256::digest(&weights)),
            },
            ModelFile {
                name: "tokenizer.json".into(),
                sha256: hex(&Sha256::digest(&tokenizer)),
            },
        ],
        sources: vec![],
    };
    let files = HashMap::from([
        ("model.e5s1".to_owned(), weights),
        ("tokenizer.json".to_owned(), tokenizer),
    ]);
    (spec, Hub::start("comptoir/tiny-e5", "v1", files))
}

fn options(hub: &Hub, cache: &std::path::Path) -> PullOptions {
    PullOptions {
        hub: HubClient {
            endpoint: Some(hub.base.clone()),
            cache_dir: Some(cache.to_path_buf()),
        },
        ..PullOptions::default()
    }
}

#[test]
fn a_hub_source_after_a_failing_one_fetches_and_verifies() {
    let (spec, hub) = model_on_hub();
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = spec
        .with_sources(&[
            format!("dir:{}", tmp.path().join("nowhere").display()),
            "hf:comptoir/tiny-e5@v1".into(),
        ])
        .expect("sources");
    let models = tmp.path().join("models");
    let mut events = Vec::new();
    let dir = store::pull_with(
        &models,
        &spec,
        &options(&hub, &tmp.path().join("hub-cache")),
        &mut |p| events.push(p),
    )
    .expect("pull from the hub");
    assert_eq!(store::verify(&models, &spec).expect("verify"), dir);
    assert_eq!(
        std::fs::read(dir.join("tokenizer.json")).expect("read"),
        br#"{"model": {"type": "Unigram"}}"#
    );
    // The directory failed first, then the hub answered, with progress on the way.
    assert!(
        matches!(&events[1], Progress::SourceFailed { source, .. } if source.starts_with("dir:")),
        "{events:?}"
    );
    assert!(events.contains(&Progress::Trying {
        source: "hf:comptoir/tiny-e5@v1".into()
    }));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Progress::Bytes { file, done, total: Some(3_000_000) } if file == "model.e5s1" && *done >= 1 << 20)),
        "{events:?}"
    );
    let listed = store::list(&models).expect("list");
    assert_eq!(listed[0].source, "hf:comptoir/tiny-e5@v1");
    let requests = hub.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /comptoir/tiny-e5/resolve/v1/model.e5s1 ")),
        "{requests:?}"
    );
}

#[test]
fn a_hub_file_that_does_not_match_its_checksum_is_refused() {
    let (mut spec, hub) = model_on_hub();
    spec.files[0].sha256 = "0".repeat(64);
    spec.sources = vec![Source::Hub {
        repo: "comptoir/tiny-e5".into(),
        revision: "v1".into(),
    }];
    let tmp = tempfile::tempdir().expect("tmp");
    let models = tmp.path().join("models");
    let err = store::pull_with(
        &models,
        &spec,
        &options(&hub, &tmp.path().join("hub-cache")),
        &mut |_| {},
    )
    .expect_err("a corrupt file");
    match &err {
        StoreError::AllSourcesFailed { failures, .. } => {
            assert!(
                matches!(failures[0].1, SourceError::Checksum { .. }),
                "{err}"
            )
        }
        other => panic!("unexpected {other}"),
    }
    assert!(!models.join("tiny-e5/model.e5s1").exists());
    assert!(store::verify(&models, &spec).is_err());
}

#[test]
fn an_unknown_hub_repository_or_an_unreachable_hub_is_a_clear_failure() {
    let (mut spec, hub) = model_on_hub();
    let tmp = tempfile::tempdir().expect("tmp");
    spec.sources = vec![Source::Hub {
        repo: "comptoir/elsewhere".into(),
        revision: "main".into(),
    }];
    let err = store::pull_with(
        &tmp.path().join("models"),
        &spec,
        &options(&hub, &tmp.path().join("c1")),
        &mut |_| {},
    )
    .expect_err("no such repository");
    assert!(
        err.to_string().contains("hf:comptoir/elsewhere@main"),
        "{err}"
    );
    assert!(err.to_string().contains("404"), "{err}");

    // Nothing listens on port 9 of the loopback: the hub is unreachable.
    let closed = PullOptions {
        hub: HubClient {
            endpoint: Some("http://127.0.0.1:9".into()),
            cache_dir: Some(tmp.path().join("c2")),
        },
        ..PullOptions::default()
    };
    let err = store::pull_with(&tmp.path().join("models"), &spec, &closed, &mut |_| {})
        .expect_err("unreachable hub");
    assert!(
        matches!(&err, StoreError::AllSourcesFailed { failures, .. } if matches!(failures[0].1, SourceError::Hub(_))),
        "{err}"
    );
}
