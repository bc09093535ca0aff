//! Findings per 10,000 files on a real tree nobody here wrote, beside detect-secrets and
//! credsweeper on the same files: a sample of the venv's site-packages (botocore, moto,
//! cfn-lint, sqlmap, SQLAlchemy, ...; `cargo xtask services up` installs it).

use std::path::{Path, PathBuf};

use palisade_redact::{Scanner, SourceKind};
use palisade_test::bench::{Row, report};
use palisade_test::python::{run_script, site_packages};

use crate::{KRATE, script};

/// Every 40th text file of at most 256 KiB, in path order: about 500 files and 5 MB, which
/// the peers scan in about a minute.
const EVERY: usize = 40;
const LARGEST: u64 = 256 << 10;
const TEXT: &[&str] = &[
    "py", "pyi", "json", "txt", "md", "rst", "cfg", "toml", "yaml", "yml", "ini", "html", "po",
];

/// The text files under `dir`, sorted, relative to `root`.
fn text_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            text_files(root, &path, out);
        } else if meta.is_file()
            && meta.len() <= LARGEST
            && path
                .extension()
                .is_some_and(|e| TEXT.iter().any(|t| e.eq_ignore_ascii_case(t)))
        {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

pub(crate) fn run() {
    let root = site_packages();
    let mut files = Vec::new();
    text_files(&root, &root, &mut files);
    let sample: Vec<&String> = files.iter().step_by(EVERY).collect();
    let scanner = Scanner::new();
    let mut ours = 0;
    for rel in &sample {
        let path = root.join(rel);
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for found in scanner.scan(&text, SourceKind::for_path(&path)) {
            ours += 1;
            eprintln!(
                "site-packages: {rel}:{}: {}: {}",
                found.line, found.detector, found.preview
            );
        }
    }
    let listing: String = sample.iter().map(|rel| format!("{rel}\n")).collect();
    let peers: serde_json::Value = serde_json::from_str(&run_script(
        &script(),
        &["tree", root.to_str().unwrap()],
        &listing,
    ))
    .unwrap();
    let files = peers["files"].as_f64().unwrap();
    assert_eq!(
        files as usize,
        sample.len(),
        "the peers read another sample"
    );
    let per_10k = |findings: f64| findings * 10_000.0 / files;
    let best = ["detect-secrets", "credsweeper"]
        .iter()
        .map(|peer| peers[*peer].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    for peer in ["detect-secrets", "credsweeper"] {
        report(&Row {
            krate: KRATE,
            name: format!("findings per 10,000 files of site-packages ({files} sampled)"),
            figure: per_10k(ours as f64),
            unit: "findings",
            peer: peer.into(),
            peer_figure: Some(per_10k(peers[peer].as_f64().unwrap())),
            target: "< best peer".into(),
            met: (ours as f64) < best,
        });
    }
}
