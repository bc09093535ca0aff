//! A self-signed certificate for `localhost` and `127.0.0.1`, made at test time with rcgen.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{CertifiedKey, generate_simple_self_signed};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and key made for this test run; the certificate is its own CA, so a client
/// trusts the server by trusting [`pem`](Self::pem) (or the file [`write_pem`](Self::write_pem)
/// makes), and nothing else about the client changes.
pub struct TestCertificate {
    certificate: CertificateDer<'static>,
    key: Vec<u8>,
    pem: String,
}

impl TestCertificate {
    /// A fresh certificate for `localhost` and `127.0.0.1`.
    ///
    /// # Errors
    /// When rcgen cannot make the key or the certificate.
    pub fn for_localhost() -> io::Result<Self> {
        Self::for_names(&["localhost", "127.0.0.1"])
    }

    /// A fresh certificate for these DNS names and IP addresses (`*.vault.azure.net` works).
    ///
    /// # Errors
    /// When rcgen cannot make the key or the certificate.
    pub fn for_names(names: &[&str]) -> io::Result<Self> {
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let CertifiedKey { cert, signing_key } =
            generate_simple_self_signed(names).map_err(io::Error::other)?;
        Ok(Self {
            pem: cert.pem(),
            certificate: cert.der().clone(),
            key: signing_key.serialize_der(),
        })
    }

    /// The certificate in PEM, for a client's trust store.
    #[must_use]
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Writes the certificate's PEM to a new file under `dir` and returns its path.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_pem(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.pem", crate::unique_name("test-ca")));
        std::fs::write(&path, &self.pem)?;
        Ok(path)
    }

    /// A rustls server configuration presenting this certificate.
    pub(crate) fn server_config(&self) -> io::Result<Arc<ServerConfig>> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.certificate.clone()], key)
            .map_err(io::Error::other)?;
        Ok(Arc::new(config))
    }
}

impl std::fmt::Debug for TestCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCertificate").finish_non_exhaustive()
    }
}
