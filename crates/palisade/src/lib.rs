#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "clock")]
#[cfg_attr(docsrs, doc(cfg(feature = "clock")))]
pub use palisade_clock as clock;
#[cfg(feature = "mongo")]
#[cfg_attr(docsrs, doc(cfg(feature = "mongo")))]
pub use palisade_mongo as mongo;
#[cfg(feature = "password")]
#[cfg_attr(docsrs, doc(cfg(feature = "password")))]
pub use palisade_password as password;
#[cfg(feature = "problem")]
#[cfg_attr(docsrs, doc(cfg(feature = "problem")))]
pub use palisade_problem as problem;
#[cfg(feature = "ratelimit")]
#[cfg_attr(docsrs, doc(cfg(feature = "ratelimit")))]
pub use palisade_ratelimit as ratelimit;
#[cfg(feature = "redact")]
#[cfg_attr(docsrs, doc(cfg(feature = "redact")))]
pub use palisade_redact as redact;
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub use palisade_secrets as secrets;
#[cfg(feature = "secrets-aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets-aws")))]
pub use palisade_secrets_aws as secrets_aws;
#[cfg(feature = "secrets-azure")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets-azure")))]
pub use palisade_secrets_azure as secrets_azure;
#[cfg(feature = "secrets-vault")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets-vault")))]
pub use palisade_secrets_vault as secrets_vault;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use palisade_sql as sql;
#[cfg(feature = "web")]
#[cfg_attr(docsrs, doc(cfg(feature = "web")))]
pub use palisade_web as web;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use palisade_audit as audit;
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use palisade_auth as auth;
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use palisade_crypt as crypt;
