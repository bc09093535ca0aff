//! `MOUNT/PATH[?version=N]`: where in Vault a `vault:` reference points.

/// A KV v2 secret and the version asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location<'a> {
    /// The KV v2 mount (the first segment).
    pub(crate) mount: &'a str,
    /// The secret's path under the mount.
    pub(crate) path: &'a str,
    /// A version number, or `None` for the latest.
    pub(crate) version: Option<u64>,
}

/// Splits a locator that `SecretRef` has already validated (a mount and a path, no empty,
/// `.` or `..` segment, at most `?version=N`). `None` only for a locator that bypassed it.
pub(crate) fn parse(locator: &str) -> Option<Location<'_>> {
    let (path, query) = match locator.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (locator, None),
    };
    let (mount, path) = path.split_once('/')?;
    let version = match query {
        None => None,
        Some(query) => Some(query.strip_prefix("version=")?.parse().ok()?),
    };
    Some(Location {
        mount,
        path,
        version: version.filter(|&n| n > 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_segment_is_the_mount_and_the_query_the_version() {
        assert_eq!(
            parse("secret/database/prod"),
            Some(Location {
                mount: "secret",
                path: "database/prod",
                version: None
            })
        );
        assert_eq!(
            parse("kv/app?version=3"),
            Some(Location {
                mount: "kv",
                path: "app",
                version: Some(3)
            })
        );
        assert_eq!(
            parse("kv/app?version=0").map(|l| l.version),
            Some(None),
            "version 0 is Vault's spelling of the latest"
        );
        assert_eq!(parse("kv"), None);
        assert_eq!(parse("kv/app?v=1"), None);
    }
}
