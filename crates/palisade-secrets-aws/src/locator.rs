//! `NAME`, `NAME@STAGE` and `NAME@VERSION_ID`: which version of an AWS secret a reference names.

/// The version a reference asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Version<'a> {
    /// A staging label (`AWSCURRENT`, `AWSPREVIOUS`, `AWSPENDING` or a custom one).
    Stage(&'a str),
    /// A version id (a UUID).
    Id(&'a str),
}

/// The stage a reference without `@` reads. AWS reads it too when none is given; asking for
/// it explicitly also works around moto 5.2.5, which answers a stage-less get with the
/// version that was current before `update_secret_version_stage`.
pub(crate) const CURRENT: &str = "AWSCURRENT";

/// Splits a locator into the secret id and the version. The part after the last `@` is a
/// version id when it is a UUID, a stage when it is capitals, digits and `_` (as AWS's own
/// labels are); otherwise the `@` belongs to the name (AWS allows `@` in names).
pub(crate) fn split(locator: &str) -> (&str, Version<'_>) {
    if let Some((name, suffix)) = locator.rsplit_once('@')
        && !name.is_empty()
    {
        if is_uuid(suffix) {
            return (name, Version::Id(suffix));
        }
        if !suffix.is_empty()
            && suffix.len() <= 256
            && suffix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return (name, Version::Stage(suffix));
        }
    }
    (locator, Version::Stage(CURRENT))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex, either case.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_last_at() {
        assert_eq!(split("prod/db"), ("prod/db", Version::Stage(CURRENT)));
        assert_eq!(
            split("prod/db@AWSPREVIOUS"),
            ("prod/db", Version::Stage("AWSPREVIOUS"))
        );
        assert_eq!(
            split("prod/db@01234567-89ab-cdef-0123-456789ABCDEF"),
            (
                "prod/db",
                Version::Id("01234567-89ab-cdef-0123-456789ABCDEF")
            )
        );
        assert_eq!(
            split("team@example.com"),
            ("team@example.com", Version::Stage(CURRENT)),
            "an @ followed by a name is part of the name"
        );
        assert_eq!(
            split("team@example.com@AWSPENDING"),
            ("team@example.com", Version::Stage("AWSPENDING"))
        );
        assert_eq!(
            split("@AWSCURRENT"),
            ("@AWSCURRENT", Version::Stage(CURRENT))
        );
    }
}
