//! vaultrs errors as what they mean for a read: denied, not there, or no answer.

use palisade_secrets::{SecretError, SecretRef};
use rustify::errors::ClientError as RestError;
use vaultrs::error::ClientError;

/// What a failed Vault call means.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 403: the token is missing, revoked, expired or not allowed this path.
    Denied,
    /// 404: no such secret, version or mount.
    NotFound,
    /// Anything else: Vault did not give a usable answer.
    Unavailable(&'static str, Option<u16>),
}

impl Failure {
    pub(crate) fn from_client(error: &ClientError) -> Self {
        match error {
            ClientError::APIError { code, .. } => Self::from_status(*code),
            // An error status whose body is not Vault's `{"errors": [...]}`: a KV v2 version
            // that was deleted answers 404 with its metadata instead.
            ClientError::RestClientError {
                source: RestError::ServerResponseError { code, .. },
            } => Self::from_status(*code),
            ClientError::RestClientError { .. } => {
                Self::Unavailable("the request to Vault failed", None)
            }
            ClientError::JsonParseError { .. }
            | ClientError::ResponseEmptyError
            | ClientError::ResponseDataEmptyError => {
                Self::Unavailable("Vault's answer was not the expected JSON", None)
            }
            _ => Self::Unavailable("the Vault client failed", None),
        }
    }

    fn from_status(code: u16) -> Self {
        match code {
            403 => Self::Denied,
            404 => Self::NotFound,
            code => Self::Unavailable("Vault answered", Some(code)),
        }
    }

    /// The error for a read of `reference`; a message names the failure and an HTTP status,
    /// never a response body (which could quote a secret).
    pub(crate) fn into_secret_error(self, reference: &SecretRef) -> SecretError {
        let reference = reference.clone();
        match self {
            Self::Denied => SecretError::AccessDenied { reference },
            Self::NotFound => SecretError::NotFound { reference },
            Self::Unavailable(what, status) => SecretError::unavailable(
                &reference,
                match status {
                    Some(code) => format!("{what} HTTP {code}"),
                    None => what.to_owned(),
                },
            ),
        }
    }
}
