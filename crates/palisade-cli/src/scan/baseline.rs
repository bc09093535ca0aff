//! The baseline file: findings a team has reviewed and accepted, kept without their secrets.
//!
//! ```json
//! {"version": 1, "salt": "<32 hex digits>",
//!  "findings": [{"path": "tests/fixtures.py", "detector": "secret-pair", "fingerprint": "<32 hex digits>"}]}
//! ```
//!
//! A fingerprint is the first 16 bytes of SHA-256 over the salt, the path, the detector and
//! the secret: it names one secret in one file without storing it, and it does not change when
//! lines move. The salt is random per baseline (kept when the file is rewritten), so a
//! fingerprint cannot be looked up in a table of hashes made in advance.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The only format version.
const VERSION: u64 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Accepted {
    pub(crate) path: String,
    pub(crate) detector: String,
    pub(crate) fingerprint: String,
}

/// A salt and the findings accepted under it.
#[derive(Debug, Clone)]
pub(crate) struct Baseline {
    salt: String,
    accepted: BTreeSet<Accepted>,
}

impl Baseline {
    /// An empty baseline with a fresh random salt.
    pub(crate) fn new() -> Result<Self, String> {
        let mut salt = [0_u8; 16];
        getrandom::fill(&mut salt).map_err(|err| format!("no randomness for the salt: {err}"))?;
        Ok(Self {
            salt: hex(&salt),
            accepted: BTreeSet::new(),
        })
    }

    /// Reads a baseline file; the error names the file and what is wrong, never a fingerprint.
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let text = fs::read_to_string(path)
            .map_err(|err| format!("cannot read the baseline {shown}: {err}"))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|err| format!("the baseline {shown} is not JSON: {err}"))?;
        if value.get("version").and_then(Value::as_u64) != Some(VERSION) {
            return Err(format!("the baseline {shown} is not version {VERSION}"));
        }
        let salt = value
            .get("salt")
            .and_then(Value::as_str)
            .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("the baseline {shown} has no 32-digit hex salt"))?
            .to_owned();
        let entries = value
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("the baseline {shown} has no findings array"))?;
        let accepted = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let field = |name: &str| {
                    entry
                        .get(name)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| format!("the baseline {shown}: findings[{i}] has no {name}"))
                };
                Ok(Accepted {
                    path: field("path")?,
                    detector: field("detector")?,
                    fingerprint: field("fingerprint")?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { salt, accepted })
    }

    /// This baseline's salt with no findings, to be filled again.
    pub(crate) fn emptied(&self) -> Self {
        Self {
            salt: self.salt.clone(),
            accepted: BTreeSet::new(),
        }
    }

    /// The fingerprint of `secret` found by `detector` in `path`.
    pub(crate) fn accepted(&self, path: &str, detector: &str, secret: &str) -> Accepted {
        let mut hash = Sha256::new();
        for part in [self.salt.as_str(), path, detector, secret] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        Accepted {
            path: path.to_owned(),
            detector: detector.to_owned(),
            fingerprint: hex(digest.get(..16).unwrap_or_default()),
        }
    }

    pub(crate) fn contains(&self, accepted: &Accepted) -> bool {
        self.accepted.contains(accepted)
    }

    pub(crate) fn insert(&mut self, accepted: Accepted) {
        self.accepted.insert(accepted);
    }

    /// Writes the baseline, findings sorted, one per line, so that diffs stay small.
    pub(crate) fn write(&self, path: &Path) -> Result<(), String> {
        let mut text = format!(
            "{{\n  \"version\": {VERSION},\n  \"salt\": \"{}\",\n  \"findings\": [",
            self.salt
        );
        for (i, a) in self.accepted.iter().enumerate() {
            let entry =
                json!({"path": a.path, "detector": a.detector, "fingerprint": a.fingerprint});
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(text, "{separator}\n    {entry}");
        }
        text.push_str("\n  ]\n}\n");
        fs::write(path, text)
            .map_err(|err| format!("cannot write the baseline {}: {err}", path.display()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
