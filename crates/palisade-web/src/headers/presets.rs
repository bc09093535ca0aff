//! The presets: each a table of exact values from the guidance it follows.

use http::header::{HeaderName, HeaderValue};

use super::{Mode, SecurityHeaders};

/// helmet 8.3's defaults, in helmet's order.
const HELMET: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

/// The OWASP Secure Headers Project's `ci/headers_add.json` (last update 2026-07-19 05:44:10).
const OWASP: &[(&str, &str)] = &[
    ("cache-control", "no-store, max-age=0"),
    ("clear-site-data", "\"cache\",\"cookies\",\"storage\""),
    (
        "content-security-policy",
        "default-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests",
    ),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), keyboard-map=(), magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(self), usb=(), web-share=(), xr-spatial-tracking=(), clipboard-read=(), clipboard-write=(), gamepad=(), hid=(), idle-detection=(), interest-cohort=(), serial=(), unload=()",
    ),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-frame-options", "deny"),
    ("x-permitted-cross-domain-policies", "none"),
];

/// The OWASP Secure Headers Project's `ci/headers_remove.json` (last update 2026-07-19
/// 05:44:10): headers that tell an attacker what runs the service.
const OWASP_REMOVE: &[&str] = &[
    "$wsep",
    "host-header",
    "k-proxy-request",
    "liferay-portal",
    "oraclecommercecloud-version",
    "pega-host",
    "powered-by",
    "product",
    "server",
    "sourcemap",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-atmosphere-error",
    "x-atmosphere-first-request",
    "x-atmosphere-tracking-id",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-spanid",
    "x-b3-traceid",
    "x-beserver",
    "x-backside-transport",
    "x-cf-powered-by",
    "x-cms",
    "x-calculatedbetarget",
    "x-cocoon-version",
    "x-content-encoded-by",
    "x-datadog-origin",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "x-datadog-tags",
    "x-datadog-trace-id",
    "x-diaginfo",
    "x-envoy-attempt-count",
    "x-envoy-external-address",
    "x-envoy-internal",
    "x-envoy-original-dst-host",
    "x-envoy-upstream-service-time",
    "x-feserver",
    "x-framework",
    "x-generated-by",
    "x-generator",
    "x-gitlab-meta",
    "x-jitsi-release",
    "x-joomla-version",
    "x-kong-admin-latency",
    "x-kong-client-latency",
    "x-kong-proxy-latency",
    "x-kong-request-id",
    "x-kong-response-latency",
    "x-kong-third-party-latency",
    "x-kong-total-latency",
    "x-kong-upstream-latency",
    "x-kong-upstream-status",
    "x-kubernetes-pf-flowschema-ui",
    "x-kubernetes-pf-prioritylevel-uid",
    "x-litespeed-cache",
    "x-litespeed-purge",
    "x-litespeed-tag",
    "x-litespeed-vary",
    "x-litespeed-cache-control",
    "x-mod-pagespeed",
    "x-nextjs-cache",
    "x-nextjs-matched-path",
    "x-nextjs-page",
    "x-nextjs-redirect",
    "x-owa-version",
    "x-old-content-length",
    "x-oneagent-js-injection",
    "x-page-speed",
    "x-php-version",
    "x-powered-by",
    "x-powered-by-plesk",
    "x-powered-cms",
    "x-redirect-by",
    "x-server-powered-by",
    "x-sourcefiles",
    "x-sourcemap",
    "x-turbo-charged-by",
    "x-tyk-trace-id",
    "x-umbraco-version",
    "x-varnish-backend",
    "x-varnish-server",
    "x-woodpecker-version",
    "x-dtagentid",
    "x-dthealthcheck",
    "x-dtinjectedservlet",
    "x-ruxit-js-agent",
];

/// The OWASP REST Security Cheat Sheet's headers for every API response.
const API: &[(&str, &str)] = &[
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

/// The reference CRUD back end's documented set.
const INSTACRUD: &[(&str, &str)] = &[
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    ("content-security-policy", "default-src 'self'"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
];

/// What a framework announces about itself, removed by every preset.
const POWERED_BY: &[&str] = &["x-powered-by"];

/// What a framework and a server announce about themselves, removed by the API preset.
const STACK_HEADERS: &[&str] = &["x-powered-by", "server"];

impl SecurityHeaders {
    /// helmet 8.3's defaults byte for byte, with `X-Powered-By` removed (helmet removes it
    /// too), for a service that serves pages.
    #[must_use]
    pub fn helmet() -> Self {
        preset(HELMET, POWERED_BY)
    }

    /// The OWASP Secure Headers Project's recommended set (its `headers_add.json` of
    /// 2026-07-19: `Cache-Control: no-store`, `Clear-Site-Data`, a CSP with
    /// `frame-ancestors 'none'`, cross-origin isolation, every browser feature off in
    /// `Permissions-Policy`, two years of HSTS) and the 87 headers of its
    /// `headers_remove.json` that tell an attacker what runs the service. The strictest
    /// preset: `Clear-Site-Data` on every response signs the user out, so it suits an API
    /// whose every response may end a session only after review; most services start from
    /// [`helmet`](Self::helmet) or [`api`](Self::api).
    #[must_use]
    pub fn owasp() -> Self {
        preset(OWASP, OWASP_REMOVE)
    }

    /// The OWASP REST Security Cheat Sheet's set for JSON APIs: nothing cached, nothing
    /// loaded or framed (`default-src 'none'; frame-ancestors 'none'`), `nosniff`, `DENY`,
    /// HSTS for a year, no referrer; `X-Powered-By` and `Server` removed.
    #[must_use]
    pub fn api() -> Self {
        preset(API, STACK_HEADERS)
    }

    /// The reference CRUD back end's documented set, so a migrating service starts from
    /// what it had: `X-Frame-Options: DENY`, `nosniff`, `X-XSS-Protection: 1; mode=block`,
    /// `Content-Security-Policy: default-src 'self'`, HSTS for a year in production.
    ///
    /// Current guidance has retired one of these: `X-XSS-Protection: 1; mode=block` turned on
    /// the browsers' XSS auditor, which was removed from every browser because it could be
    /// used to leak data from a page (OWASP and helmet now send `0`). Prefer
    /// [`helmet`](Self::helmet) or [`api`](Self::api) once the migration is done.
    #[must_use]
    pub fn instacrud() -> Self {
        preset(INSTACRUD, POWERED_BY)
    }
}

/// A preset from static tables; every entry is a valid header, which the tests check.
fn preset(set: &[(&'static str, &'static str)], remove: &[&'static str]) -> SecurityHeaders {
    SecurityHeaders {
        set: set
            .iter()
            .filter_map(|&(name, value)| {
                Some((
                    HeaderName::from_static_checked(name)?,
                    HeaderValue::from_static(value),
                ))
            })
            .collect(),
        remove: remove
            .iter()
            .filter_map(|&name| HeaderName::from_static_checked(name))
            .collect(),
        mode: Mode::Production,
        csp_nonce: false,
    }
}

/// `HeaderName::from_static` without its panic: `None` for a name that is not lower-case
/// token characters (the tests check that none of the tables has one).
trait FromStaticChecked: Sized {
    fn from_static_checked(name: &'static str) -> Option<Self>;
}

impl FromStaticChecked for HeaderName {
    fn from_static_checked(name: &'static str) -> Option<Self> {
        Self::from_bytes(name.as_bytes())
            .ok()
            .filter(|header| header.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_is_a_valid_header() {
        for table in [HELMET, OWASP, API, INSTACRUD] {
            for &(name, value) in table {
                assert!(HeaderName::from_static_checked(name).is_some(), "{name}");
                assert!(HeaderValue::from_str(value).is_ok(), "{name}");
            }
        }
        for &name in OWASP_REMOVE.iter().chain(STACK_HEADERS).chain(POWERED_BY) {
            assert!(HeaderName::from_static_checked(name).is_some(), "{name}");
        }
        assert_eq!(OWASP_REMOVE.len(), 87);
        assert_eq!(SecurityHeaders::owasp().removed().count(), 87);
        assert_eq!(SecurityHeaders::helmet().get("x-xss-protection"), Some("0"));
    }
}
