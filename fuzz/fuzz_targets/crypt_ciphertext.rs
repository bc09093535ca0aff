//! The ciphertext parser on arbitrary bytes (binary, text and BSON forms): a parse error or a
//! header, never a panic; and a parsed ciphertext never decrypts (no forgery) under a key
//! derived from a fixed local key, whatever the header says.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use palisade_crypt::{Algorithm, Ciphertext, Context, DerivedKeys, Envelope, KeyName};
use palisade_secrets::SecretValue;

fn envelope() -> &'static (tokio::runtime::Runtime, Envelope) {
    static ENVELOPE: OnceLock<(tokio::runtime::Runtime, Envelope)> = OnceLock::new();
    ENVELOPE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let name = KeyName::new("local").expect("a valid name");
        let keys = Arc::new(
            DerivedKeys::new(&SecretValue::from_bytes(vec![7; 32]), name.clone(), 1, Algorithm::Aes256Gcm)
                .expect("a 32-byte key"),
        );
        (runtime, Envelope::new(name, keys.clone(), keys))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Ciphertext::from_text(text);
    }
    let _ = palisade_crypt::from_binary(&bson::Bson::Binary(bson::Binary {
        subtype: bson::spec::BinarySubtype::Encrypted,
        bytes: data.to_vec(),
    }));
    if let Ok(ciphertext) = Ciphertext::from_bytes(data.to_vec()) {
        let header = ciphertext.header();
        assert_eq!(header.plaintext_len, ciphertext.plaintext_len());
        let _ = header.to_string();
        let _ = format!("{ciphertext:?}");
        let (runtime, envelope) = envelope();
        let decrypted = runtime.block_on(envelope.decrypt(&Context::new(), &ciphertext));
        assert!(decrypted.is_err(), "an arbitrary input decrypted");
    }
});
