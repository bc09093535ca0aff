//! AWS errors as `SecretError`s: what went wrong, never what the secret is.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use palisade_secrets::{SecretError, SecretRef};

/// Error codes that mean the caller's credentials or permissions were refused.
const ACCESS_DENIED: &[&str] = &[
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "MissingAuthenticationTokenException",
];

/// Maps a `GetSecretValue` failure.
pub(crate) fn map(
    error: SdkError<GetSecretValueError, HttpResponse>,
    reference: &SecretRef,
) -> SecretError {
    let reference = reference.clone();
    if let SdkError::ServiceError(service) = &error {
        match service.err() {
            GetSecretValueError::ResourceNotFoundException(_) => {
                return SecretError::NotFound { reference };
            }
            GetSecretValueError::DecryptionFailure(_) => {
                return SecretError::Undecryptable { reference };
            }
            other
                if other
                    .code()
                    .is_some_and(|code| ACCESS_DENIED.contains(&code)) =>
            {
                return SecretError::AccessDenied { reference };
            }
            // A refusal whose body the SDK could not read as an AWS error (moto answers an
            // unknown key with an XML body) is still a refusal: 401 and 403 say so.
            _ if matches!(service.raw().status().as_u16(), 401 | 403) => {
                return SecretError::AccessDenied { reference };
            }
            _ => {}
        }
    }
    // Throttling, 5xx, timeouts, connection failures and anything else: the source did not
    // answer, which a cache may ride out with its stale value.
    SecretError::unavailable(&reference, describe(&error))
}

/// The kind of failure and AWS's error code, never the message (which may quote the request).
fn describe<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        SdkError::TimeoutError(_) => "AWS did not answer in time".to_owned(),
        SdkError::DispatchFailure(_) => "the request could not be sent".to_owned(),
        SdkError::ResponseError(_) => "the response could not be read".to_owned(),
        SdkError::ServiceError(service) => format!(
            "AWS answered {}",
            service.err().code().unwrap_or("an error without a code")
        ),
        _ => "the request failed".to_owned(),
    }
}
