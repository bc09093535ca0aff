//! `https://HOST/NAME[/VERSION]`: which vault, secret and version an `azure-kv:` reference names.

/// A Key Vault secret and the version asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location<'a> {
    /// `https://HOST[:PORT]`, the vault's URL.
    pub(crate) vault: &'a str,
    /// The secret's name.
    pub(crate) name: &'a str,
    /// A version id, or `None` for the latest.
    pub(crate) version: Option<&'a str>,
}

/// Splits a locator that `SecretRef` has already validated; `None` for one that bypassed it.
pub(crate) fn parse(locator: &str) -> Option<Location<'_>> {
    let rest = locator.strip_prefix("https://")?;
    let host_end = rest.find('/')? + "https://".len();
    let (vault, path) = locator.split_at(host_end);
    let mut segments = path.trim_start_matches('/').split('/');
    let name = segments.next().filter(|n| !n.is_empty())?;
    let version = segments.next().filter(|v| !v.is_empty());
    Some(Location {
        vault,
        name,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_splits_into_vault_name_and_version() {
        assert_eq!(
            parse("https://myvault.vault.azure.net/db-password"),
            Some(Location {
                vault: "https://myvault.vault.azure.net",
                name: "db-password",
                version: None
            })
        );
        assert_eq!(
            parse("https://myvault.vault.azure.net:8443/db/0123abcd"),
            Some(Location {
                vault: "https://myvault.vault.azure.net:8443",
                name: "db",
                version: Some("0123abcd")
            })
        );
        assert_eq!(parse("https://myvault.vault.azure.net"), None);
        assert_eq!(parse("http://myvault.vault.azure.net/db"), None);
    }
}
