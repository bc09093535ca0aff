//! Audit events from every crate the service uses (queries, sign-ins, refused tokens, rate
//! limits, guard refusals, one-time codes, Turnstile) into the log, and, with
//! `AUDIT_LOG_DIR`, into a tamper-evident chained log that `palisade audit verify` checks.

use std::sync::Arc;

use palisade_audit::{Audit, ChainKey, ChainOptions, ChainedLog, TracingSink};
use palisade_secrets::Registry;
use palisade_web::context::ContextActors;

use crate::settings::Settings;

/// Builds the audit handle: events carry the request's user, organization, request id and
/// client address, and go to the tracing log (target `palisade::audit`) and the chained log.
///
/// # Errors
/// A message naming the setting that failed, never the key.
pub(crate) async fn trail(settings: &Settings, registry: &Registry) -> Result<Audit, String> {
    let builder = Audit::builder()
        .actors(Arc::new(ContextActors))
        .sink(TracingSink::new());
    let (Some(dir), Some(reference)) = (&settings.audit_log_dir, &settings.audit_key) else {
        return Ok(builder.build());
    };
    let key = ChainKey::load(registry, reference)
        .await
        .map_err(|e| format!("AUDIT_KEY: {e}"))?;
    let log = ChainedLog::open(dir, key, ChainOptions::default())
        .map_err(|e| format!("AUDIT_LOG_DIR: {e}"))?;
    Ok(builder.sink(log).build())
}
