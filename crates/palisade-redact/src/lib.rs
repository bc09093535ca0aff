#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod detectors;
mod fields;
mod json_line;
mod pair_value;
mod pii;
mod redactor;
mod scan;
mod secret_reader;
mod stream;
#[cfg(feature = "tracing")]
mod tracing_fields;
mod validate;

pub use detectors::{DEFAULT as DEFAULT_DETECTORS, Detector, Mask};
pub use fields::{DEFAULT_SENSITIVE_KEYS, FieldMasker};
pub use pii::{PII as PII_DETECTORS, Profile};
pub use redactor::{Finding, PatternError, Redactor};
pub use scan::{Located, Scanner, SourceKind};
pub use stream::{DEFAULT_MAX_LINE, RedactingWriter, redact_stream};
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use tracing_fields::{EventWriter, RedactingFields, RedactingFormat, RedactingMakeWriter};
