//! `RedisCodes`: one-time codes in Redis, single use across every instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use zeroize::Zeroizing;

use super::store::{CodeDigest, CodeStore, CodeStoreUnavailable, StoreFuture};

/// Take and delete in one step on servers before 6.2, which have no `GETDEL`.
const TAKE_SCRIPT: &str =
    "local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v";

/// One-time codes in Redis under `PREFIX` + the hex digest: stored with `SET NX PX` (never
/// overwriting), taken with `GETDEL` (one Lua script on servers older than 6.2), so of any
/// number of concurrent redemptions across instances exactly one wins. Redis holds digests and
/// payloads, never codes.
#[derive(Clone)]
pub struct RedisCodes {
    connection: ConnectionManager,
    prefix: String,
    no_getdel: std::sync::Arc<AtomicBool>,
}

impl RedisCodes {
    /// Codes under keys starting with `prefix` (`"palisade:code:"` is a good one).
    #[must_use]
    pub fn new(connection: ConnectionManager, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
            no_getdel: std::sync::Arc::default(),
        }
    }

    /// Takes records with one Lua script (`GET` then `DEL`) instead of `GETDEL`, as on Redis
    /// before 6.2; chosen by itself when the server answers that it has no `GETDEL`.
    #[must_use]
    pub fn with_script_take(self) -> Self {
        self.no_getdel.store(true, Ordering::Relaxed);
        self
    }

    fn key(&self, digest: &CodeDigest) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut key = String::with_capacity(self.prefix.len() + 64);
        key.push_str(&self.prefix);
        for byte in digest {
            for nibble in [byte >> 4, byte & 0x0f] {
                key.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        }
        key
    }
}

impl std::fmt::Debug for RedisCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCodes")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis failure as the store's error: the kind and category, never a key or value.
fn unavailable(error: &redis::RedisError) -> CodeStoreUnavailable {
    CodeStoreUnavailable::new(format!("redis {:?} ({})", error.kind(), error.category()))
}

impl CodeStore for RedisCodes {
    fn put<'a>(
        &'a self,
        digest: &'a CodeDigest,
        record: Zeroizing<Vec<u8>>,
        lifetime: Duration,
    ) -> StoreFuture<'a, ()> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let millis = u64::try_from(lifetime.as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            let stored: Option<String> = redis::cmd("SET")
                .arg(self.key(digest))
                .arg(record.as_slice())
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .query_async(&mut connection)
                .await
                .map_err(|error| unavailable(&error))?;
            match stored {
                Some(_) => Ok(()),
                None => Err(CodeStoreUnavailable::new("a code with this digest exists")),
            }
        })
    }

    fn take<'a>(&'a self, digest: &'a CodeDigest) -> StoreFuture<'a, Option<Zeroizing<Vec<u8>>>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let key = self.key(digest);
            if !self.no_getdel.load(Ordering::Relaxed) {
                let taken: Result<Option<Vec<u8>>, _> = redis::cmd("GETDEL")
                    .arg(&key)
                    .query_async(&mut connection)
                    .await;
                match taken {
                    Ok(record) => return Ok(record.map(Zeroizing::new)),
                    Err(error)
                        if error.kind()
                            == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError)
                            && error.to_string().contains("unknown command") =>
                    {
                        self.no_getdel.store(true, Ordering::Relaxed);
                    }
                    Err(error) => return Err(unavailable(&error)),
                }
            }
            let taken: Option<Vec<u8>> = redis::Script::new(TAKE_SCRIPT)
                .key(&key)
                .invoke_async(&mut connection)
                .await
                .map_err(|error| unavailable(&error))?;
            Ok(taken.map(Zeroizing::new))
        })
    }
}
