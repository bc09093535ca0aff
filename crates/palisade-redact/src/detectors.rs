//! The default detectors: what each one finds, which part of a match is the secret, and the
//! check a match must pass.
//!
//! Every pattern names the secret part `s`; the rest of a match is context that stays (the
//! `password=` before a value, the `user:` and `@host` around a URL's password). Patterns use
//! ASCII classes and ASCII word boundaries (`(?-u:\b)`), so the lazy DFA never has to give up
//! on non-ASCII text.

use crate::validate;

/// How a detected secret is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Replaced by `***`.
    Replace,
    /// Cut to its first 7 characters followed by `...` (R-RED-3: base64 payloads).
    Truncate,
}

/// One kind of secret: its id, pattern, mask and check.
#[derive(Debug, Clone, Copy)]
pub struct Detector {
    /// A stable id (`aws-access-key-id`), reported with each finding.
    pub id: &'static str,
    /// The pattern; the secret is its group `s`.
    pub pattern: &'static str,
    /// How the secret is masked.
    pub mask: Mask,
    /// A check the secret must pass (a checksum, a range). A secret that holds a mask from an
    /// earlier pass is skipped before any check.
    pub check: fn(&str) -> bool,
}

pub(crate) const fn replace(
    id: &'static str,
    pattern: &'static str,
    check: fn(&str) -> bool,
) -> Detector {
    Detector {
        id,
        pattern,
        mask: Mask::Replace,
        check,
    }
}

/// A `password=`, `"api_key":`, `secret =>` key up to its value.
macro_rules! pair_key {
    () => {
        r#"(?i-u:[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|api[_-]?key|access[_-]?key|token|client[_-]?secret|private[_-]?key|credentials?)\\?["']?|(?-u:\b)(?:[A-Za-z0-9.-]*_)?pass)[ \t]*(?:=|:|=>)[ \t]*"#
    };
}

/// The default detectors, most specific first: where two match at the same place, the
/// earlier one reports it.
pub const DEFAULT: &[Detector] = &[
    replace(
        "pem-private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?P<s>(?s:.)*?)-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----",
        validate::always,
    ),
    replace(
        "url-credentials",
        // The password may hold single spaces: SQLAlchemy renders a URL without escaping them.
        // The password runs to the last `@` of the authority, as libpq and the `url` crate
        // read it: it may hold raw `@` and `#`, and spaces (SQLAlchemy renders them as is).
        r"[A-Za-z][A-Za-z0-9+.-]+://[^\s:/@?#]+:(?P<s>[^\s/?]+(?: +[^\s/?]+)*)@",
        validate::always,
    ),
    replace(
        "jwt",
        r"(?-u:\b)(?P<s>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
        validate::jwt,
    ),
    replace(
        "aws-access-key-id",
        r"(?-u:\b)(?P<s>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16})(?-u:\b)",
        validate::always,
    ),
    replace(
        "aws-secret-access-key",
        r#"(?i-u:aws_?secret_?(?:access_?)?key)["']?[ \t]*(?:=|:|=>)[ \t]*["']?(?P<s>[A-Za-z0-9/+]{40})(?-u:\b)"#,
        validate::always,
    ),
    replace(
        "github-token",
        r"(?-u:\b)(?P<s>(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,}))",
        validate::always,
    ),
    replace(
        "gitlab-token",
        r"(?-u:\b)(?P<s>gl(?:pat|dt|ffct|ft|imt|agent|oas|rt|soat|cbt|ptt)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,})",
        validate::always,
    ),
    replace(
        "slack-token",
        r"(?-u:\b)(?P<s>(?:xoxe\.)?xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})",
        validate::always,
    ),
    // Vendor API keys with a fixed prefix or structure (gitleaks' rule families).
    replace(
        "openai-key",
        r"(?-u:\b)(?P<s>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,})",
        validate::always,
    ),
    replace(
        "anthropic-key",
        r"(?-u:\b)(?P<s>sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,})",
        validate::always,
    ),
    replace(
        "huggingface-token",
        r"(?-u:\b)(?P<s>(?:hf_|api_org_)[A-Za-z]{34})(?-u:\b)",
        validate::always,
    ),
    replace(
        "npm-token",
        r"(?-u:\b)(?P<s>npm_[A-Za-z0-9]{36})(?-u:\b)",
        validate::always,
    ),
    replace(
        "pypi-token",
        r"(?-u:\b)(?P<s>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        validate::always,
    ),
    replace(
        "sendgrid-key",
        r"(?-u:\b)(?P<s>SG\.[A-Za-z0-9_=.-]{66})",
        validate::always,
    ),
    replace(
        "twilio-key",
        r"(?-u:\b)(?P<s>SK[0-9a-fA-F]{32})(?-u:\b)",
        validate::always,
    ),
    replace(
        "google-api-key",
        r"(?-u:\b)(?P<s>AIza[A-Za-z0-9_-]{35})",
        validate::always,
    ),
    replace(
        "google-oauth-secret",
        r"(?-u:\b)(?P<s>GOCSPX-[A-Za-z0-9_-]{28})",
        validate::always,
    ),
    replace(
        "azure-ad-client-secret",
        r"(?:^|[^A-Za-z0-9_~.-])(?P<s>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
        validate::always,
    ),
    replace(
        "azure-storage-key",
        r"(?i-u:AccountKey)[ \t]*=[ \t]*(?P<s>[A-Za-z0-9+/]{86}==)",
        validate::always,
    ),
    replace(
        "url-signature",
        // Azure SAS `sig=`, S3 presigned `X-Amz-Signature=`, Google `X-Goog-Signature=`.
        r"[?&](?i-u:sig|x-amz-signature|x-goog-signature|signature)=(?P<s>[A-Za-z0-9%+/=_-]{16,})",
        validate::always,
    ),
    replace(
        "discord-bot-token",
        r"(?-u:\b)(?P<s>[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?-u:\b)",
        validate::always,
    ),
    replace(
        "telegram-bot-token",
        r"(?-u:\b)(?P<s>[0-9]{5,16}:A[A-Za-z0-9_-]{34})(?-u:\b)",
        validate::always,
    ),
    // Tokens whose prefix names their vendor (the fixed-structure families of gitleaks' rule
    // set): 1Password, Adobe, age, Alibaba, ClickHouse, Clojars, Cloudflare, Databricks,
    // Defined Networking, DigitalOcean, Doppler, Dropbox, Duffel, Dynatrace, EasyPost,
    // Facebook, Flutterwave, Fly.io, Frame.io, Grafana, Harness, HashiCorp Terraform, Heroku,
    // Infracost, 42, Linear, MaxMind, New Relic, Notion, Octopus Deploy, OpenShift,
    // Perplexity, Plaid, PlanetScale, Postman, Prefect, Pulumi, ReadMe, RubyGems, Scalingo,
    // Brevo (Sendinblue), Sentry, SettleMint, Shippo, Shopify, Square, Typeform, Vault,
    // Yandex, Mapbox, Twitter bearer tokens, Authress, Mailgun.
    replace(
        "vendor-token",
        concat!(
            r"(?-u:\b)(?P<s>",
            r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
            r"|ops_eyJ[A-Za-z0-9+/]{250,}={0,3}|p8e-[A-Za-z0-9]{32}",
            r"|AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}|LTAI[A-Za-z0-9]{20}",
            r"|4b1d[A-Za-z0-9]{38}|CLOJARS_[A-Za-z0-9]{60}|v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
            r"|dapi[a-f0-9]{32}(?:-[0-9])?|dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}",
            r"|do[opr]_v1_[a-f0-9]{64}|dp\.pt\.[A-Za-z0-9]{43}|sl\.[A-Za-z0-9=_-]{135}",
            r"|duffel_(?:test|live)_[A-Za-z0-9_=-]{43}|dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
            r"|EZ[AT]K[A-Za-z0-9]{54}|EAA[MC][A-Za-z0-9]{100,}",
            r"|FLW(?:SECK|PUBK)_TEST-[A-Ha-h0-9]{12,32}(?:-X)?",
            r"|fo1_[A-Za-z0-9_-]{43}|fm(?:1[ar]|2)_[A-Za-z0-9+/]{100,}={0,3}|fio-u-[A-Za-z0-9_=-]{64}",
            r"|glc_[A-Za-z0-9+/]{32,}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,}={0,3}",
            r"|(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
            r"|HRKU-AA[A-Za-z0-9_-]{58}",
            r"|ico-[A-Za-z0-9]{32}|s-s4t2(?:ud|af)-[A-Fa-f0-9]{64}|lin_(?:api|oauth)_[A-Za-z0-9]{40}",
            r"|NR(?:JS|II|AK)-[A-Za-z0-9-]{19,32}",
            r"|ntn_[0-9]{11}[A-Za-z0-9]{35}|API-[A-Z0-9]{26}|sha256~[A-Za-z0-9_-]{43}",
            r"|pplx-[A-Za-z0-9]{48}",
            r"|access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            r"|pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,}|PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}",
            r"|pnu_[A-Za-z0-9]{36}|pul-[a-f0-9]{40}|rdme_[a-z0-9]{70}|rubygems_[a-f0-9]{48}",
            r"|tk-us-[A-Za-z0-9_-]{48}|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
            r"|sntry[su]_[A-Za-z0-9+/=_]{64,}|sm_[aps]at_[A-Za-z0-9]{16}",
            r"|shippo_(?:live|test)_[A-Fa-f0-9]{40}|shp(?:at|ca|pa|ss)_[A-Fa-f0-9]{32}",
            r"|sq0atp-[A-Za-z0-9_-]{22,}|EAAA[A-Za-z0-9_-]{22,}|hv[bs]\.[A-Za-z0-9_-]{90,}",
            r"|tfp_[A-Za-z0-9_.=-]{59}|t1\.[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]{86,}={0,2}|AQVN[A-Za-z0-9_-]{35,}",
            r"|pk\.[A-Za-z0-9]{60}\.[A-Za-z0-9]{22}|A{22}[A-Za-z0-9%]{80,}",
            r"|(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,}",
            r"|(?:pub)?key-[a-f0-9]{32}|YC[A-Za-z0-9_-]{38}",
            r")",
        ),
        validate::always,
    ),
    replace(
        "gitlab-token",
        r"_gitlab_session=(?P<s>[0-9a-z]{32})",
        validate::always,
    ),
    replace(
        "teams-webhook",
        r"\.webhook\.office\.com/webhookb2/(?P<s>[A-Za-z0-9@/-]{20,})",
        validate::always,
    ),
    replace(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_-]{20,})",
        validate::always,
    ),
    replace(
        "pgp-private-key",
        // Dashes counted, so the pattern's own text is no key block to a scanner.
        r"-{5}BEGIN PGP PRIVATE KEY BLOCK-{5}(?P<s>(?s:.)*?)-{5}END PGP PRIVATE KEY BLOCK-{5}",
        validate::always,
    ),
    replace(
        "stripe-key",
        r"(?-u:\b)(?P<s>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,})",
        validate::always,
    ),
    // An `Authorization` header or field: its value is a credential whatever it looks like.
    replace(
        "authorization",
        r#"(?i-u:authorization)["']?[ \t]*[:=][ \t]*["']?(?:[A-Za-z]+[ \t]+)?(?P<s>[^\s"',;]+)"#,
        validate::always,
    ),
    // A bare `Bearer` or `Basic` (as HTTP writes them, not prose's "basic"): the value must
    // look generated.
    replace(
        "authorization",
        r"(?-u:\b)(?:Bearer|bearer|BEARER|Basic|BASIC)[ \t]+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)",
        validate::credential,
    ),
    // ADO.NET and ODBC connection strings: an unquoted value runs to the next `;` (`&` and
    // spaces included), where a query string would stop at `&`.
    replace(
        "connection-string-password",
        r#";[ \t]*(?i-u:password|pwd)[ \t]*=[ \t]*(?P<s>[^;"'\s{][^;\r\n]*)"#,
        validate::always,
    ),
    // An ADO string that starts with its password (`Password=a b;Server=...`): the value
    // runs to the `;` that follows.
    replace(
        "connection-string-password",
        r#"(?:^|[\r\n])[ \t]*(?i-u:password|pwd)[ \t]*=[ \t]*(?P<s>[^;"'\s{][^;\r\n]*);"#,
        validate::always,
    ),
    // ODBC's braced value, which may hold `;` (`Pwd={a;b}`; `}}` is a literal `}`).
    replace(
        "connection-string-password",
        r"(?:^|;)[ \t]*(?i-u:password|pwd)[ \t]*=[ \t]*\{(?P<s>(?:[^}\r\n]|\}\})*)\}",
        validate::always,
    ),
    // Docker's `config.json` (`"auth": "<base64 user:password>"`) and npm's `_auth=`.
    replace(
        "secret-pair",
        r#""auth"[ \t]*:[ \t]*"(?P<s>[A-Za-z0-9+/]{8,}={0,2})""#,
        validate::always,
    ),
    replace(
        "secret-pair",
        r"(?-u:\b)_auth[ \t]*=[ \t]*(?P<s>[^\s]+)",
        validate::always,
    ),
    // `.netrc`: `machine host [login user] password SECRET`, on one line or several.
    replace(
        "netrc-password",
        r"(?-u:\b)machine[ \t\r\n]+[^ \t\r\n]+(?:[ \t\r\n]+login[ \t\r\n]+[^ \t\r\n]+)?[ \t\r\n]+password[ \t\r\n]+(?P<s>[^ \t\r\n]+)",
        validate::always,
    ),
    // A `Cookie` header carries session tokens: every cookie in it. `Set-Cookie`: the value.
    replace(
        "cookie",
        r"(?-u:\b)(?i-u:cookie)[ \t]*:[ \t]*(?P<s>[^\r\n]+)",
        validate::always,
    ),
    replace(
        "cookie",
        r"(?-u:\b)(?i-u:set-cookie)[ \t]*:[ \t]*[^=;\s]+=(?P<s>[^;\r\n]+)",
        validate::always,
    ),
    // XML elements named like a secret (`<password>`), and NuGet's `ClearTextPassword`.
    replace(
        "xml-secret",
        r"<(?i-u:[A-Za-z0-9_:.-]*(?:password|passwd|secret|token|apikey|api_key))>(?P<s>[^<\s]+)</",
        validate::always,
    ),
    replace(
        "xml-secret",
        r#"(?i-u:key)[ \t]*=[ \t]*"(?i-u:[A-Za-z0-9_:.-]*(?:password|secret|token|apikey))"[ \t]+(?i-u:value)[ \t]*=[ \t]*"(?P<s>[^"]+)""#,
        validate::always,
    ),
    // Command lines: `mysql -pSECRET`, `--password SECRET`.
    replace(
        "command-line-password",
        r"(?-u:\b)(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)(?:[ \t]+[^ \t\r\n]+)*?[ \t]+-p(?P<s>[^ \t\r\n-][^ \t\r\n]*)",
        validate::always,
    ),
    replace(
        "command-line-password",
        r"(?:^|[ \t])--(?i-u:password|passwd|pass)[ \t]+(?P<s>[^ \t\r\n-][^ \t\r\n]*)",
        validate::always,
    ),
    // A pair inside a JSON string (`\"password\":\"...\"`): the value ends at `\"`.
    replace(
        "secret-pair",
        concat!(pair_key!(), r#"\\"(?P<s>[^"\\\r\n]+)\\""#),
        validate::always,
    ),
    // A quoted value runs to its closing quote (spaces and `&` included; a double-quoted one
    // over JSON escapes, and opened by `\"` when it sits inside a JSON string); an unquoted
    // one to the first space or separator.
    replace(
        "secret-pair",
        concat!(
            pair_key!(),
            r#"\\?"(?:(?i-u:bearer|basic|token)[ \t]+)?(?P<s>(?:[^"\\\r\n]|\\.)+)""#
        ),
        validate::always,
    ),
    replace(
        "secret-pair",
        concat!(
            pair_key!(),
            r"'(?:(?i-u:bearer|basic|token)[ \t]+)?(?P<s>[^'\r\n]+)'"
        ),
        validate::always,
    ),
    replace(
        "secret-pair",
        concat!(
            pair_key!(),
            r#"\\?["']?(?:(?i-u:bearer|basic|token)[ \t]+)?(?P<s>[^\s"',;&<>{}\[\]]+)"#
        ),
        validate::always,
    ),
    Detector {
        id: "base64-data-url",
        pattern: r"data:[A-Za-z0-9.+/-]+(?:;[A-Za-z0-9=.-]+)*;base64,(?P<s>[A-Za-z0-9+/]{8,}={0,2})",
        mask: Mask::Truncate,
        check: validate::always,
    },
    replace(
        "card-number",
        // Contiguous, in fours (Visa, Mastercard, Discover), or 4-6-5 (American Express).
        r"(?-u:\b)(?P<s>[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?-u:\b)",
        validate::card_number,
    ),
    replace(
        "us-ssn",
        r"(?-u:\b)(?P<s>[0-9]{3}-[0-9]{2}-[0-9]{4})(?-u:\b)",
        validate::us_ssn,
    ),
    Detector {
        id: "base64-run",
        // A whole run only (after the start or a character outside the alphabet): a suffix of
        // a run the check refused is no new secret, and trying each suffix in turn made
        // redaction quadratic in the run's length. Not a run that runs into a `:` (a URL's
        // scheme, a key), which would hide what follows, nor into a mask, which a second pass
        // would otherwise read as its end.
        pattern: r"(?:^|[^A-Za-z0-9+/])(?P<s>[A-Za-z0-9+/]{64,}={0,2})(?:[^A-Za-z0-9+/=:*]|$)",
        mask: Mask::Truncate,
        check: validate::base64_payload,
    },
];
