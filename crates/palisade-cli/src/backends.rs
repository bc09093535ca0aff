//! The cloud secret stores this build of the CLI can read, each configured the way its own
//! command-line tool is (the standard AWS chain; `VAULT_ADDR` and friends; the `AZURE_*`
//! variables of Azure's credential chain), and connected only
//! for a reference that names it, so an `env:` reference never waits on a cloud.

use palisade_secrets::{Registry, SecretRef};

use crate::resolve::ResolveFailure;

/// The standard sources, plus the store `reference`'s scheme names when this build has it.
pub(crate) async fn registry_for(reference: &SecretRef) -> Result<Registry, ResolveFailure> {
    let registry = Registry::standard();
    #[cfg(feature = "aws")]
    if reference.scheme() == &palisade_secrets::ReferenceScheme::AwsSecretsManager {
        use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource};
        let source = AwsSecretsManagerSource::connect(AwsOptions::new())
            .await
            .map_err(|err| ResolveFailure::Usage(err.to_string()))?;
        return Ok(registry.with(
            palisade_secrets::ReferenceScheme::AwsSecretsManager,
            std::sync::Arc::new(source),
        ));
    }
    #[cfg(feature = "vault")]
    if reference.scheme() == &palisade_secrets::ReferenceScheme::Vault {
        return Ok(registry.with(
            palisade_secrets::ReferenceScheme::Vault,
            vault::source().await?,
        ));
    }
    #[cfg(feature = "azure")]
    if reference.scheme() == &palisade_secrets::ReferenceScheme::AzureKeyVault {
        use palisade_secrets_azure::{AzureKeyVaultSource, AzureOptions};
        let source = AzureKeyVaultSource::connect(AzureOptions::from_environment())
            .await
            .map_err(|err| ResolveFailure::Usage(err.to_string()))?;
        return Ok(registry.with(
            palisade_secrets::ReferenceScheme::AzureKeyVault,
            std::sync::Arc::new(source),
        ));
    }
    let _ = reference;
    Ok(registry)
}

/// Vault, configured as the `vault` CLI is: `VAULT_ADDR`, `VAULT_NAMESPACE`, `VAULT_CACERT`,
/// and the token from `VAULT_TOKEN` or else the `~/.vault-token` file `vault login` writes.
#[cfg(feature = "vault")]
mod vault {
    use std::sync::Arc;

    use palisade_secrets::{Registry, SecretRef, SecretSource};
    use palisade_secrets_vault::{VaultOptions, VaultSource};

    use crate::resolve::ResolveFailure;

    pub(super) async fn source() -> Result<Arc<dyn SecretSource>, ResolveFailure> {
        let usage = |message: String| ResolveFailure::Usage(message);
        let address = std::env::var("VAULT_ADDR")
            .map_err(|_| usage("VAULT_ADDR is not set: it names the Vault server".to_owned()))?;
        let mut options =
            VaultOptions::new(address, token_reference()?, Arc::new(Registry::standard()));
        if let Ok(namespace) = std::env::var("VAULT_NAMESPACE") {
            options = options.namespace(namespace);
        }
        if let Ok(ca) = std::env::var("VAULT_CACERT") {
            options = options.ca_certificate(ca);
        }
        let source = VaultSource::connect(options)
            .await
            .map_err(|err| usage(err.to_string()))?;
        Ok(Arc::new(source))
    }

    /// `env:VAULT_TOKEN` when it is set, else `file:~/.vault-token` when that exists.
    fn token_reference() -> Result<SecretRef, ResolveFailure> {
        let missing = || {
            ResolveFailure::Usage("no Vault token: set VAULT_TOKEN or run `vault login`".to_owned())
        };
        if std::env::var_os("VAULT_TOKEN").is_some() {
            return SecretRef::parse("env:VAULT_TOKEN").map_err(|_| missing());
        }
        let home = std::env::var_os("HOME").ok_or_else(missing)?;
        let file = std::path::Path::new(&home).join(".vault-token");
        if !file.is_file() {
            return Err(missing());
        }
        let text = file.to_str().ok_or_else(missing)?;
        SecretRef::parse(&format!("file:{text}")).map_err(|_| missing())
    }
}
