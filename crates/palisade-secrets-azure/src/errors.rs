//! Azure SDK errors as `SecretError`s: what went wrong, never what the secret is.

use azure_core::error::ErrorKind;
use azure_core::http::StatusCode;
use palisade_secrets::{SecretError, SecretRef};

/// Maps a failed `get_secret`.
pub(crate) fn map(error: &azure_core::Error, reference: &SecretRef) -> SecretError {
    let reference = reference.clone();
    match error.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => match *status {
            StatusCode::NotFound => SecretError::NotFound { reference },
            StatusCode::Forbidden
                if raw_response.as_ref().is_some_and(|raw| {
                    inner_code(raw.body()) == Some("SecretDisabled".to_owned())
                }) =>
            {
                SecretError::Disabled { reference }
            }
            StatusCode::Unauthorized | StatusCode::Forbidden => {
                SecretError::AccessDenied { reference }
            }
            status => SecretError::unavailable(
                &reference,
                format!(
                    "Key Vault answered HTTP {} {}",
                    u16::from(status),
                    error_code.as_deref().unwrap_or("without an error code")
                ),
            ),
        },
        ErrorKind::Credential if refused_by_identity_provider(error) => {
            SecretError::AccessDenied { reference }
        }
        ErrorKind::Credential => {
            SecretError::unavailable(&reference, "no access token could be obtained")
        }
        ErrorKind::Connection | ErrorKind::Io => {
            SecretError::unavailable(&reference, "Key Vault could not be reached")
        }
        ErrorKind::DataConversion => {
            SecretError::unavailable(&reference, "Key Vault's answer was not the expected JSON")
        }
        _ => SecretError::unavailable(&reference, "the Key Vault client failed"),
    }
}

/// `error.innererror.code` of a Key Vault error body.
fn inner_code(body: &[u8]) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    body.get("error")?
        .get("innererror")?
        .get("code")?
        .as_str()
        .map(str::to_owned)
}

/// Whether a credential failure is the identity provider saying no (a 4xx from Entra ID: a
/// wrong client secret, an unknown client), as opposed to not answering.
fn refused_by_identity_provider(error: &azure_core::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(azure) = err.downcast_ref::<azure_core::Error>()
            && let ErrorKind::HttpResponse { status, .. } = azure.kind()
        {
            return status.is_client_error();
        }
        current = err.source();
    }
    false
}
