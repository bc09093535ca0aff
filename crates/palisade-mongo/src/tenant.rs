//! `TenantRouter` (R-MDB-3): each organization's own database, named by rules MongoDB accepts,
//! or its own connection string read through `palisade-secrets`.

use std::fmt;

use palisade_secrets::{RefError, SecretRef};

/// MongoDB's limit on a database name, in bytes ("fewer than 64 characters").
const MAX_DATABASE_NAME: usize = 63;
/// The longest prefix accepted, leaving room for an organization id.
const MAX_PREFIX: usize = 31;
/// Where a connection-string template puts the organization id.
const ORG: &str = "{org}";

/// Why an organization cannot be routed. Names the rule, never the id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantError {
    /// The prefix is empty, longer than 31 bytes, or not `[a-z0-9_]`.
    PrefixInvalid,
    /// The organization id is empty or has a character outside `[a-z0-9_-]` (MongoDB forbids
    /// `/\. "$*<>:|?` and NUL, and database names that differ only in case collide, so only
    /// lower case is routed).
    OrgIdInvalid,
    /// The prefix and the id together reach MongoDB's 64-byte limit.
    NameTooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The connection-string template has no `{org}` or does not make a secret reference.
    TemplateInvalid,
    /// The reference made for this organization does not parse.
    Reference(RefError),
}

impl fmt::Display for TenantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PrefixInvalid => f.write_str(
                "tenant database prefix must be 1 to 31 characters of a-z, 0-9 and _",
            ),
            Self::OrgIdInvalid => f.write_str(
                "organization id must be non-empty lower-case a-z, 0-9, _ or - (MongoDB database names are case-insensitive and forbid /\\. \"$*<>:|?)",
            ),
            Self::NameTooLong { max } => write!(
                f,
                "tenant database name would be longer than MongoDB's {max} bytes"
            ),
            Self::TemplateInvalid => f.write_str(
                "tenant connection template must be a secret reference containing {org}",
            ),
            Self::Reference(_) => f.write_str("tenant connection reference does not parse"),
        }
    }
}

impl std::error::Error for TenantError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Reference(err) => Some(err),
            _ => None,
        }
    }
}

/// Maps an organization id to its database (`org_acme`), or to the secret reference of its
/// own connection string (`vault:secret/tenants/acme#mongodb_uri`).
///
/// ```
/// use palisade_mongo::TenantRouter;
///
/// let router = TenantRouter::new("org_")?;
/// assert_eq!(router.database("acme-eu")?, "org_acme-eu");
/// assert!(router.database("../admin").is_err());
/// assert!(router.database("Acme").is_err());
///
/// let dedicated = router.with_connection_template("vault:secret/tenants/{org}#mongodb_uri")?;
/// assert_eq!(
///     dedicated.connection_ref("acme")?.unwrap().to_string(),
///     "vault:secret/tenants/acme#mongodb_uri"
/// );
/// # Ok::<(), palisade_mongo::TenantError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRouter {
    prefix: String,
    template: Option<String>,
}

impl TenantRouter {
    /// Databases named `prefix` + organization id.
    ///
    /// # Errors
    /// [`TenantError::PrefixInvalid`].
    pub fn new(prefix: &str) -> Result<Self, TenantError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= MAX_PREFIX
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(TenantError::PrefixInvalid);
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            template: None,
        })
    }

    /// Organizations with a dedicated deployment: their connection string is the secret named
    /// by `template` with `{org}` replaced by the organization id.
    ///
    /// # Errors
    /// [`TenantError::TemplateInvalid`] when `{org}` is missing or the template does not make
    /// a reference.
    pub fn with_connection_template(mut self, template: &str) -> Result<Self, TenantError> {
        if !template.contains(ORG) || SecretRef::parse(&template.replace(ORG, "x")).is_err() {
            return Err(TenantError::TemplateInvalid);
        }
        self.template = Some(template.to_owned());
        Ok(self)
    }

    /// Whether organizations have their own connection strings (a template is set).
    #[must_use]
    pub fn has_connection_template(&self) -> bool {
        self.template.is_some()
    }

    /// The organization's database name.
    ///
    /// # Errors
    /// [`TenantError::OrgIdInvalid`] or [`TenantError::NameTooLong`].
    pub fn database(&self, org: &str) -> Result<String, TenantError> {
        validate_org(org)?;
        let name = format!("{}{org}", self.prefix);
        if name.len() > MAX_DATABASE_NAME {
            return Err(TenantError::NameTooLong {
                max: MAX_DATABASE_NAME + 1,
            });
        }
        Ok(name)
    }

    /// The reference of the organization's own connection string, when a template is set.
    ///
    /// # Errors
    /// [`TenantError::OrgIdInvalid`] or [`TenantError::Reference`].
    pub fn connection_ref(&self, org: &str) -> Result<Option<SecretRef>, TenantError> {
        validate_org(org)?;
        self.template
            .as_ref()
            .map(|template| {
                SecretRef::parse(&template.replace(ORG, org)).map_err(TenantError::Reference)
            })
            .transpose()
    }
}

fn validate_org(org: &str) -> Result<(), TenantError> {
    let valid = !org.is_empty()
        && org
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(TenantError::OrgIdInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_follow_mongodbs_rules() {
        let router = TenantRouter::new("org_").unwrap_or_else(|_| unreachable!());
        for bad in [
            "", "a.b", "a/b", "a b", "a$b", "a\0b", "A", "a\\b", "a*b", "é",
        ] {
            assert_eq!(
                router.database(bad),
                Err(TenantError::OrgIdInvalid),
                "{bad:?}"
            );
        }
        let long = "a".repeat(60);
        assert_eq!(
            router.database(&long),
            Err(TenantError::NameTooLong { max: 64 })
        );
        assert_eq!(router.database(&"a".repeat(59)).map(|n| n.len()), Ok(63));
        for bad in ["", "Org_", "org.", &"p".repeat(32)] {
            assert_eq!(TenantRouter::new(bad), Err(TenantError::PrefixInvalid));
        }
    }

    #[test]
    fn templates_need_the_org_placeholder_and_a_reference() {
        let router = TenantRouter::new("t_").unwrap_or_else(|_| unreachable!());
        assert_eq!(
            router
                .clone()
                .with_connection_template("vault:secret/tenants/acme"),
            Err(TenantError::TemplateInvalid)
        );
        assert_eq!(
            router.clone().with_connection_template("{org}"),
            Err(TenantError::TemplateInvalid)
        );
        assert_eq!(router.connection_ref("acme"), Ok(None));
    }
}
