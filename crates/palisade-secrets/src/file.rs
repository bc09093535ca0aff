//! `file:PATH`: a secret that is a whole file, such as a Docker or Kubernetes secret mount.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;

use crate::{
    Fetch, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue, select_field,
};

/// Reads `file:PATH[#field]`: the file's content with trailing newlines trimmed.
///
/// Files larger than the size bound are refused (a secret is small; a huge file is a mistake
/// or an attack). A secret file that every user can read is still read, with a warning logged
/// through `tracing` that names the path.
///
/// Reading is synchronous: secret files are small and local, so the fetch is ready at once and
/// allocates no future.
#[derive(Debug, Clone, Copy)]
pub struct FileSource {
    max_bytes: u64,
}

impl FileSource {
    /// The default size bound: 64 KiB.
    pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024;

    /// A file source with the default size bound.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }

    /// A file source that refuses files larger than `max_bytes`.
    #[must_use]
    pub const fn with_max_bytes(max_bytes: u64) -> Self {
        Self { max_bytes }
    }

    fn read(&self, reference: &SecretRef) -> Result<SecretValue, SecretError> {
        if reference.scheme() != &ReferenceScheme::File {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        }
        let io = |cause: std::io::Error| match cause.kind() {
            std::io::ErrorKind::NotFound => SecretError::NotFound {
                reference: reference.clone(),
            },
            _ => SecretError::Io {
                reference: reference.clone(),
                cause,
            },
        };
        let file = File::open(reference.locator()).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if metadata.len() > self.max_bytes {
            return Err(SecretError::TooLarge {
                reference: reference.clone(),
                max: self.max_bytes,
            });
        }
        if metadata.permissions().mode() & 0o004 != 0 {
            tracing::warn!(
                path = reference.locator(),
                "secret file is readable by every user (chmod o-r)"
            );
        }
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        // The file may grow between the size check and the read: read one byte past the bound.
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > self.max_bytes {
            zeroize::Zeroize::zeroize(&mut bytes);
            return Err(SecretError::TooLarge {
                reference: reference.clone(),
                max: self.max_bytes,
            });
        }
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        select_field(SecretValue::from_bytes(bytes), reference)
    }
}

impl Default for FileSource {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretSource for FileSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::ready(self.read(reference))
    }
}
