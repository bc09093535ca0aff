//! Which issuers a JWKS verifier accepts: exact ones, and templates with `{tenantid}` for
//! Microsoft Entra ID's multi-tenant endpoints.

use crate::token::{Registered, TokenRefused};

/// The placeholder Entra ID's multi-tenant metadata puts in its issuer.
pub(super) const TENANT_PLACEHOLDER: &str = "{tenantid}";

#[derive(Debug, Clone, Default)]
pub(super) struct Issuers {
    pub(super) exact: Vec<String>,
    pub(super) templates: Vec<String>,
    pub(super) tenants: Vec<String>,
}

impl Issuers {
    pub(super) fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.templates.is_empty()
    }

    /// The token's issuer, when it is one of the accepted ones and the key (when it declares
    /// an issuer) is that issuer's.
    pub(super) fn check(
        &self,
        claims: &Registered,
        key_issuer: Option<&str>,
    ) -> Result<(), TokenRefused> {
        let tenant = claims.tenant_id.as_deref();
        if let Some(key_issuer) = key_issuer {
            let issuer = claims.issuer.as_deref().ok_or(TokenRefused::Claim("iss"))?;
            let expected = match tenant {
                Some(tenant) if is_guid(tenant) => key_issuer.replace(TENANT_PLACEHOLDER, tenant),
                _ => key_issuer.to_owned(),
            };
            // Entra's keys declare the v2 issuer and also sign v1 tokens of the same tenant.
            let entra_v1 = tenant.is_some_and(|tenant| {
                is_guid(tenant)
                    && issuer == format!("https://sts.windows.net/{tenant}/")
                    && expected == format!("https://login.microsoftonline.com/{tenant}/v2.0")
            });
            if expected != issuer && !entra_v1 {
                return Err(TokenRefused::WrongIssuer);
            }
        }
        if self.is_empty() {
            return Ok(());
        }
        let issuer = claims.issuer.as_deref().ok_or(TokenRefused::Claim("iss"))?;
        if self.exact.iter().any(|accepted| accepted == issuer) {
            return Ok(());
        }
        if self.templates.is_empty() {
            return Err(TokenRefused::WrongIssuer);
        }
        // A template issuer needs the token's tenant, a GUID, and (when listed) an allowed one.
        let tenant = tenant
            .filter(|tenant| is_guid(tenant))
            .ok_or(TokenRefused::Claim("tid"))?;
        if !self.tenants.is_empty()
            && !self
                .tenants
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(tenant))
        {
            return Err(TokenRefused::WrongIssuer);
        }
        let matches = self
            .templates
            .iter()
            .any(|template| template.replace(TENANT_PLACEHOLDER, tenant) == issuer);
        if matches {
            Ok(())
        } else {
            Err(TokenRefused::WrongIssuer)
        }
    }
}

/// Whether `text` is a GUID in its usual 8-4-4-4-12 hex form.
pub(super) fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, len)| {
            group.len() == len && group.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_only() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        for bad in [
            "",
            "common",
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4/",
            "../../x-86f1-41af-91ab-2d7cd011db47",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }
}
