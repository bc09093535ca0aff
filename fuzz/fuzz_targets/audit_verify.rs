//! The audit log verifier on arbitrary files: any bytes, split into up to three files at
//! 0xFF bytes, get a verdict (intact or a break) and never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_audit::{ChainKey, Verifier};
use palisade_secrets::SecretValue;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("palisade-fuzz-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let key = ChainKey::new(&SecretValue::from_string("a fuzzing key of thirty-two bytes!!".into()))
        .expect("a long enough key");
    let mut files = Vec::new();
    for (index, part) in data.split(|b| *b == 0xFF).take(3).enumerate() {
        let path = dir().join(format!("audit-{:020}.jsonl", index * 10 + 1));
        std::fs::write(&path, part).expect("a temporary file");
        files.push(path);
    }
    let _ = Verifier::new().key(&key).verify(&files);
    let _ = Verifier::new().partial().verify(&files);
});
