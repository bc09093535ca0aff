//! JSON-field selection on arbitrary bytes: never panics, and a refusal's message depends
//! only on how the input failed, never on its content.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{SecretRef, SecretValue, select_field};

static REFERENCE: LazyLock<SecretRef> =
    LazyLock::new(|| SecretRef::parse("vault:secret/db#password").unwrap());

/// The message for each way selection can fail, from canonical inputs.
static MESSAGES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let inputs: [&[u8]; 5] = [b"[]", b"{}", b"\xff", b"{\"password\":1}", b"{\"password\":null}"];
    inputs
        .iter()
        .filter_map(|input| select_field(SecretValue::from_bytes(input.to_vec()), &REFERENCE).err())
        .map(|err| err.to_string())
        .collect()
});

fuzz_target!(|content: &[u8]| {
    match select_field(SecretValue::from_bytes(content.to_vec()), &REFERENCE) {
        Ok(value) => assert!(value.len() <= content.len()),
        Err(err) => {
            let message = err.to_string();
            assert!(MESSAGES.contains(&message), "unexpected message: {message}");
        }
    }
});
