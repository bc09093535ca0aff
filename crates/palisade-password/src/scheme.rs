//! `HashScheme`: which format a stored hash is in.

use std::fmt;

/// The format of a stored hash, as [`Passwords::verify`](crate::Passwords::verify)
/// recognised it. Only [`Argon2id`](Self::Argon2id) is current; every other scheme asks for a
/// rehash after a successful verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashScheme {
    /// `$argon2id$v=19$m=..,t=..,p=..$salt$hash` (PHC): what this crate writes.
    Argon2id,
    /// `$argon2i$...` (PHC).
    Argon2i,
    /// `$argon2d$...` (PHC).
    Argon2d,
    /// `$2a$`, `$2b$`, `$2y$` (and `$2x$`) bcrypt: PHP, Apache's `htpasswd -B`, passlib, Python's
    /// `bcrypt`.
    Bcrypt,
    /// passlib's `$bcrypt-sha256$` (versions 1 and 2).
    PasslibBcryptSha256,
    /// `$pbkdf2-sha256$i=..,l=..$salt$hash` (PHC).
    Pbkdf2Sha256,
    /// `$pbkdf2-sha512$i=..,l=..$salt$hash` (PHC).
    Pbkdf2Sha512,
    /// passlib's `$pbkdf2-sha256$ROUNDS$salt$hash` (adapted base64).
    PasslibPbkdf2Sha256,
    /// passlib's `$pbkdf2-sha512$ROUNDS$salt$hash` (adapted base64).
    PasslibPbkdf2Sha512,
    /// `$scrypt$ln=..,r=..,p=..$salt$hash` (PHC; passlib writes this form too).
    Scrypt,
    /// Django's `pbkdf2_sha256$ITERATIONS$salt$hash`.
    DjangoPbkdf2Sha256,
    /// Django's `argon2$argon2id$...`.
    DjangoArgon2,
    /// Django's `bcrypt_sha256$$2b$...`.
    DjangoBcryptSha256,
    /// Django's `scrypt$N$salt$r$p$hash`.
    DjangoScrypt,
}

impl HashScheme {
    /// A short, stable name (used by the CLI's JSON output).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Argon2i => "argon2i",
            Self::Argon2d => "argon2d",
            Self::Bcrypt => "bcrypt",
            Self::PasslibBcryptSha256 => "passlib-bcrypt-sha256",
            Self::Pbkdf2Sha256 => "pbkdf2-sha256",
            Self::Pbkdf2Sha512 => "pbkdf2-sha512",
            Self::PasslibPbkdf2Sha256 => "passlib-pbkdf2-sha256",
            Self::PasslibPbkdf2Sha512 => "passlib-pbkdf2-sha512",
            Self::Scrypt => "scrypt",
            Self::DjangoPbkdf2Sha256 => "django-pbkdf2-sha256",
            Self::DjangoArgon2 => "django-argon2",
            Self::DjangoBcryptSha256 => "django-bcrypt-sha256",
            Self::DjangoScrypt => "django-scrypt",
        }
    }
}

impl fmt::Display for HashScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
