#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod blind;
#[cfg(feature = "bson")]
mod bson_form;
mod columns;
mod context;
mod derived;
mod encoding;
mod encrypted;
mod envelope;
mod error;
mod format;
pub mod hazmat;
mod key_cache;
mod keys;
mod local;
mod nonce;
mod options;
mod plaintext;
mod shared_error;
mod store;
mod wrapper;

pub use algorithm::Algorithm;
pub use blind::BlindIndex;
#[cfg(feature = "bson")]
#[cfg_attr(docsrs, doc(cfg(feature = "bson")))]
pub use bson_form::{BLIND_INDEX_SUFFIX, EncryptedFields, FieldPlace, from_binary, to_binary};
pub use columns::{ColumnRole, EncryptedColumns};
pub use context::{Context, MAX_CONTEXT_ENTRIES, MAX_CONTEXT_NAME, MAX_CONTEXT_VALUE};
pub use derived::DerivedKeys;
pub use encrypted::Encrypted;
pub use envelope::Envelope;
pub use error::{BoxError, CryptError, Result};
pub use format::{
    Ciphertext, FORMAT_VERSION, HeaderInfo, MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN, NONCE_LEN,
    TAG_LEN, decode_text,
};
pub use keys::{DATA_KEY_LEN, DataKey, DataKeyId, KeyName, KeyScope};
pub use local::LocalKeyWrapper;
pub use options::EnvelopeOptions;
pub use plaintext::{Decrypted, Plaintext};
pub use store::{DataKeyStore, MemoryKeyStore, StoredKey};
pub use wrapper::{GeneratedKey, KeyFuture, KeyWrapper, WrapContext, WrappedKey};
