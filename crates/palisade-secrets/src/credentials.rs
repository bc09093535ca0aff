//! `Credentials`: a read-only and a read-write credential, chosen by intent (R-SEC-6).

use std::fmt;

use crate::{SecretError, SecretRef, SecretSource, SecretValue};

/// What the caller is about to do with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Reads only: gets the read-only credential.
    Read,
    /// Writes: gets the read-write credential.
    Write,
}

/// Two named references, one per privilege level, so code that only reads connects with a
/// credential that cannot write (least privilege, R-SEC-6).
///
/// Asking for [`Intent::Read`] when only the write credential is configured is refused unless
/// [`allow_write_for_read`](Self::allow_write_for_read) says that is intended: silently
/// reading with the more powerful credential is how least privilege erodes.
///
/// ```
/// use palisade_secrets::{Credentials, CredentialsError, Intent};
///
/// let both = Credentials::new("env:DB_READ_URL".parse()?, "env:DB_WRITE_URL".parse()?)?;
/// assert_eq!(both.reference(Intent::Read)?.to_string(), "env:DB_READ_URL");
/// assert_eq!(both.reference(Intent::Write)?.to_string(), "env:DB_WRITE_URL");
///
/// let write_only = Credentials::write_only("env:DB_WRITE_URL".parse()?);
/// assert_eq!(write_only.reference(Intent::Read), Err(CredentialsError::ReadCredentialMissing));
/// let relaxed = write_only.allow_write_for_read();
/// assert_eq!(relaxed.reference(Intent::Read)?.to_string(), "env:DB_WRITE_URL");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    read: Option<SecretRef>,
    write: Option<SecretRef>,
    write_for_read: bool,
}

/// Why no credential fits the intent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsError {
    /// Only the read-write credential is configured and reading with it was not allowed.
    ReadCredentialMissing,
    /// Only the read-only credential is configured and the caller wants to write.
    WriteCredentialMissing,
    /// The read and write references name the same secret, so there is no separation.
    SameReference,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReadCredentialMissing => {
                "no read-only credential is configured; configure one, or allow the read-write credential for reads explicitly"
            }
            Self::WriteCredentialMissing => {
                "no read-write credential is configured, and the read-only one cannot write"
            }
            Self::SameReference => {
                "the read-only and read-write credentials are the same secret; use two credentials or configure one"
            }
        })
    }
}

impl std::error::Error for CredentialsError {}

/// Why [`Credentials::resolve`] failed: no credential fits, or the source failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResolveError {
    /// No credential fits the intent.
    Credentials(CredentialsError),
    /// The source could not produce the credential.
    Secret(SecretError),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Credentials(err) => fmt::Display::fmt(err, f),
            Self::Secret(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Credentials(_) => None,
            Self::Secret(err) => std::error::Error::source(err),
        }
    }
}

impl Credentials {
    /// A read-only and a read-write credential.
    ///
    /// # Errors
    /// [`CredentialsError::SameReference`] when both name the same secret.
    pub fn new(read: SecretRef, write: SecretRef) -> Result<Self, CredentialsError> {
        if read == write {
            return Err(CredentialsError::SameReference);
        }
        Ok(Self {
            read: Some(read),
            write: Some(write),
            write_for_read: false,
        })
    }

    /// Only a read-only credential: writes are refused.
    #[must_use]
    pub const fn read_only(read: SecretRef) -> Self {
        Self {
            read: Some(read),
            write: None,
            write_for_read: false,
        }
    }

    /// Only a read-write credential: reads are refused until
    /// [`allow_write_for_read`](Self::allow_write_for_read).
    #[must_use]
    pub const fn write_only(write: SecretRef) -> Self {
        Self {
            read: None,
            write: Some(write),
            write_for_read: false,
        }
    }

    /// Lets reads use the read-write credential when no read-only one is configured.
    #[must_use]
    pub const fn allow_write_for_read(mut self) -> Self {
        self.write_for_read = true;
        self
    }

    /// The reference for `intent`.
    ///
    /// # Errors
    /// [`CredentialsError::ReadCredentialMissing`] or
    /// [`CredentialsError::WriteCredentialMissing`] when no configured credential fits.
    pub fn reference(&self, intent: Intent) -> Result<&SecretRef, CredentialsError> {
        match (intent, &self.read, &self.write) {
            (Intent::Read, Some(read), _) => Ok(read),
            (Intent::Read, None, Some(write)) if self.write_for_read => Ok(write),
            (Intent::Read, None, _) => Err(CredentialsError::ReadCredentialMissing),
            (Intent::Write, _, Some(write)) => Ok(write),
            (Intent::Write, _, None) => Err(CredentialsError::WriteCredentialMissing),
        }
    }

    /// Fetches the credential for `intent` from `source`.
    ///
    /// # Errors
    /// [`ResolveError::Credentials`] when no credential fits, [`ResolveError::Secret`] when
    /// the source fails.
    pub async fn resolve(
        &self,
        source: &dyn SecretSource,
        intent: Intent,
    ) -> Result<SecretValue, ResolveError> {
        let reference = self.reference(intent).map_err(ResolveError::Credentials)?;
        source.fetch(reference).await.map_err(ResolveError::Secret)
    }
}
