//! `AwsKmsKeyWrapper`: palisade-crypt data keys generated and unwrapped by AWS KMS.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use palisade_crypt::{
    CryptError, DataKey, GeneratedKey, KeyFuture, KeyWrapper, WrapContext, WrappedKey,
};

use crate::options::{AwsConfigError, AwsOptions};

/// KMS error codes after which the same call may succeed later.
const RETRYABLE: &[&str] = &[
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
    "ThrottlingException",
    "LimitExceededException",
];

/// KMS error codes that mean the ciphertext or its context is wrong: no oracle, one error.
const UNDECRYPTABLE: &[&str] = &["InvalidCiphertextException", "IncorrectKeyException"];

/// A [`KeyWrapper`] on AWS KMS: `GenerateDataKey` (AES-256) makes each data key, `Decrypt`
/// unwraps it; both carry the [`WrapContext`] as KMS encryption context, so a wrapped key
/// moved to another id, scope or keyring does not decrypt, and CloudTrail records which data
/// key each call was for. The key-encryption key never leaves KMS; KMS's own rotation of it is
/// invisible here (every data key reports version 1).
///
/// ```no_run
/// use std::sync::Arc;
/// use palisade_crypt::{Envelope, KeyName, MemoryKeyStore};
/// use palisade_secrets_aws::{AwsKmsKeyWrapper, AwsOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let kms = AwsKmsKeyWrapper::connect(AwsOptions::new().region("eu-west-1"), "alias/pii").await?;
/// let envelope = Envelope::new(KeyName::new("pii")?, Arc::new(kms), Arc::new(MemoryKeyStore::new()));
/// # Ok(()) }
/// ```
pub struct AwsKmsKeyWrapper {
    client: Client,
    key_id: String,
    calls: AtomicU64,
}

impl AwsKmsKeyWrapper {
    /// A wrapper for the KMS key `key_id` (a key id, ARN or `alias/...`), reached as `options`
    /// describe. Nothing is sent until the first data key.
    ///
    /// # Errors
    /// [`AwsConfigError`] when the endpoint is not usable or no region is configured.
    pub async fn connect(
        options: AwsOptions,
        key_id: impl Into<String>,
    ) -> Result<Self, AwsConfigError> {
        let (config, _) = crate::options::load_config(&options).await?;
        Ok(Self {
            client: Client::new(&config),
            key_id: key_id.into(),
            calls: AtomicU64::new(0),
        })
    }

    /// How many calls this wrapper made to KMS.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    async fn generate_now(&self, context: &WrapContext) -> Result<GeneratedKey, CryptError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let output = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| failure(&e))?;
        let mut plaintext = output
            .plaintext
            .ok_or_else(|| incomplete("GenerateDataKey returned no plaintext key"))?
            .into_inner();
        let blob = output
            .ciphertext_blob
            .ok_or_else(|| incomplete("GenerateDataKey returned no ciphertext blob"))?
            .into_inner();
        Ok(GeneratedKey {
            key: DataKey::from_slice(&mut plaintext)?,
            wrapped: WrappedKey {
                kek_version: 1,
                blob,
            },
        })
    }

    async fn unwrap_now(
        &self,
        wrapped: &WrappedKey,
        context: &WrapContext,
    ) -> Result<DataKey, CryptError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.blob.clone()))
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| failure(&e))?;
        let mut plaintext = output
            .plaintext
            .ok_or_else(|| incomplete("Decrypt returned no plaintext"))?
            .into_inner();
        DataKey::from_slice(&mut plaintext)
    }
}

fn encryption_context(context: &WrapContext) -> HashMap<String, String> {
    context
        .pairs()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// The failure's kind and AWS's error code, never its message (which may quote the request).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct KmsFailure(String);

fn incomplete(what: &str) -> CryptError {
    CryptError::Wrapper {
        wrapper: "aws-kms",
        retryable: true,
        source: Box::new(KmsFailure(what.to_owned())),
    }
}

fn failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> CryptError {
    let (description, retryable) = match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("an error without a code");
            if UNDECRYPTABLE.contains(&code) {
                return CryptError::Undecryptable;
            }
            (format!("KMS answered {code}"), RETRYABLE.contains(&code))
        }
        SdkError::ConstructionFailure(_) => ("the request could not be built".to_owned(), false),
        SdkError::TimeoutError(_) => ("KMS did not answer in time".to_owned(), true),
        SdkError::DispatchFailure(_) => ("the request could not be sent".to_owned(), true),
        SdkError::ResponseError(_) => ("the response could not be read".to_owned(), true),
        _ => ("the request failed".to_owned(), true),
    };
    CryptError::Wrapper {
        wrapper: "aws-kms",
        retryable,
        source: Box::new(KmsFailure(description)),
    }
}

impl KeyWrapper for AwsKmsKeyWrapper {
    fn kind(&self) -> &'static str {
        "aws-kms"
    }

    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey> {
        KeyFuture::new(self.generate_now(context))
    }

    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        KeyFuture::new(self.unwrap_now(wrapped, context))
    }
}

impl fmt::Debug for AwsKmsKeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsKeyWrapper")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
