//! `crud-api --check-config`: every setting resolved and every service reached as the
//! service would at start, without changing anything, each with one line of outcome; the
//! SQL logins checked live for least privilege (the read-write login may write its tables and
//! nothing more, the read-only one may not write at all).

use std::time::Duration;

use palisade_audit::ChainKey;
use palisade_secrets::{Registry, SecretRef, SecretSource as _};
use palisade_sql::{Expect, verify_privileges};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, PgConnection};

use crate::settings::Settings;

/// How long each service may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One check's outcome: what was checked and, on failure, why (never a secret).
#[derive(Debug)]
pub struct Check {
    /// The setting or service.
    pub name: &'static str,
    /// What was found, or what is wrong.
    pub outcome: Result<String, String>,
}

async fn timed<T>(future: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
}

async fn secret(registry: &Registry, reference: Option<&SecretRef>) -> Result<String, String> {
    match reference {
        None => Ok("not set".to_owned()),
        Some(reference) => registry
            .fetch(reference)
            .await
            .map(|_| "resolved".to_owned())
            .map_err(|e| e.to_string()),
    }
}

/// A privilege check of one SQL login, on a connection of its own.
async fn privileges(
    settings: &Settings,
    registry: &Registry,
    name: &'static str,
    expect: Expect,
) -> Result<String, String> {
    let connection = if name == "DATABASE_URL" {
        &settings.database_url
    } else {
        &settings.database_read_only_url
    };
    let dsn = connection
        .resolve_dsn(name, registry, settings.mode.tls_policy())
        .await?;
    let options: PgConnectOptions = dsn
        .expose_secret()
        .parse()
        .map_err(|_| "not a PostgreSQL connection string".to_owned())?;
    let mut connection: PgConnection = options
        .connect()
        .await
        .map_err(|e| palisade_sql::VerifyError::from(e).to_string())?;
    let report = verify_privileges(&mut connection, &expect)
        .await
        .map_err(|e| e.to_string())?;
    if report.excesses.is_empty() {
        Ok(format!("{} can do exactly what it should", report.role))
    } else {
        let excesses: Vec<String> = report.excesses.iter().map(ToString::to_string).collect();
        Err(format!(
            "{} can do more than it should: {}",
            report.role,
            excesses.join("; ")
        ))
    }
}

/// Runs every check.
pub async fn check_config(settings: &Settings) -> Vec<Check> {
    let registry = match crate::state::secret_sources(settings).await {
        Ok(registry) => registry,
        Err(error) => {
            return vec![Check {
                name: "VAULT_ADDR",
                outcome: Err(error.to_string()),
            }];
        }
    };
    let tls = settings.mode.tls_policy();
    let mut checks = vec![
        Check {
            name: "JWT_SECRET",
            outcome: match &settings.jwt_secret {
                None => Ok("not set: a random key per process (tokens end with it)".to_owned()),
                some => timed(secret(&registry, some.as_ref())).await,
            },
        },
        Check {
            name: "JWT_PREVIOUS_SECRET",
            outcome: timed(secret(&registry, settings.jwt_previous_secret.as_ref())).await,
        },
        Check {
            name: "TURNSTILE_SECRET_KEY",
            outcome: timed(secret(&registry, settings.turnstile_secret_key.as_ref())).await,
        },
        Check {
            name: "FIELD_KEY",
            outcome: timed(field_key(&registry, settings.field_key.as_ref())).await,
        },
        Check {
            name: "FIELD_INDEX_KEY",
            outcome: timed(field_key(&registry, settings.field_index_key.as_ref())).await,
        },
        Check {
            name: "AUDIT_KEY",
            outcome: match &settings.audit_key {
                None => Ok("not set".to_owned()),
                Some(reference) => {
                    timed(async {
                        ChainKey::load(&registry, reference)
                            .await
                            .map(|_| "resolved, long enough".to_owned())
                            .map_err(|e| e.to_string())
                    })
                    .await
                }
            },
        },
    ];
    let mongo = timed(async {
        let dsn = settings
            .mongo_url
            .resolve_dsn("MONGO_URL", &registry, tls)
            .await?;
        let client = mongodb::Client::with_uri_str(dsn.expose_secret())
            .await
            .map_err(|_| "not a MongoDB connection string the driver takes".to_owned())?;
        client
            .database(&settings.mongo_db)
            .run_command(bson::doc! {"ping": 1})
            .await
            .map(|_| "reachable".to_owned())
            .map_err(|e| {
                format!(
                    "unreachable ({})",
                    palisade_mongo::DriverError::from(e).status()
                )
            })
    })
    .await;
    checks.push(Check {
        name: "MONGO_URL",
        outcome: mongo,
    });
    let redis = timed(async {
        let info = settings
            .redis_url
            .resolve_redis("REDIS_URL", &registry, tls)
            .await?;
        let client =
            redis::Client::open(info).map_err(|_| "not a Redis connection string".to_owned())?;
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("unreachable ({:?})", e.kind()))?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(|_| "reachable".to_owned())
            .map_err(|e| format!("refused PING ({:?})", e.kind()))
    })
    .await;
    checks.push(Check {
        name: "REDIS_URL",
        outcome: redis,
    });
    checks.push(Check {
        name: "DATABASE_URL",
        outcome: timed(privileges(
            settings,
            &registry,
            "DATABASE_URL",
            Expect::ReadWrite {
                tables: vec!["documents".to_owned()],
            },
        ))
        .await,
    });
    checks.push(Check {
        name: "DATABASE_READ_ONLY_URL",
        outcome: timed(privileges(
            settings,
            &registry,
            "DATABASE_READ_ONLY_URL",
            Expect::ReadOnly,
        ))
        .await,
    });
    checks
}

/// A field key resolves and is 32 bytes (64 hex digits or base64); unset is the development
/// key.
async fn field_key(registry: &Registry, reference: Option<&SecretRef>) -> Result<String, String> {
    let Some(reference) = reference else {
        return Ok("not set: the development key in the temporary directory".to_owned());
    };
    let value = registry.fetch(reference).await.map_err(|e| e.to_string())?;
    palisade_crypt::LocalKeyWrapper::new(1, &value)
        .map(|_| "resolved, a 32-byte key".to_owned())
        .map_err(|e| e.to_string())
}
