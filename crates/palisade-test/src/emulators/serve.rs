//! Serving an axum router on loopback, over plain HTTP or TLS, with a request log.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::TestCertificate;

/// One request an emulator answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The status the emulator answered.
    pub status: u16,
}

/// A running emulator: its address and its request log. Dropping it stops the server.
#[derive(Debug)]
pub struct Served {
    address: SocketAddr,
    tls: bool,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl Served {
    /// Serves `router` on a free loopback port; over TLS with `certificate` when given.
    /// Must be called inside a Tokio runtime, which runs the server.
    ///
    /// # Errors
    /// When no port can be bound or the certificate cannot be used.
    pub async fn start(router: Router, certificate: Option<&TestCertificate>) -> io::Result<Self> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let recording = Arc::clone(&log);
        let router = router.layer(axum::middleware::from_fn(move |request, next| {
            record(Arc::clone(&recording), request, next)
        }));
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let task = match certificate {
            None => tokio::spawn(async move {
                let _ended = axum::serve(listener, router).await;
            }),
            Some(certificate) => {
                let acceptor = TlsAcceptor::from(certificate.server_config()?);
                let listener = TlsListener { listener, acceptor };
                tokio::spawn(async move {
                    let _ended = axum::serve(listener, router).await;
                })
            }
        };
        Ok(Self {
            address,
            tls: certificate.is_some(),
            log,
            task,
        })
    }

    /// `http://127.0.0.1:PORT` or `https://localhost:PORT` (TLS needs the name the certificate
    /// holds).
    #[must_use]
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.address.port())
        } else {
            format!("http://{}", self.address)
        }
    }

    /// The socket address.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every request answered so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests matched `filter`.
    pub fn count(&self, filter: impl Fn(&Recorded) -> bool) -> usize {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|r| filter(r))
            .count()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(log: Arc<Mutex<Vec<Recorded>>>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let response = next.run(request).await;
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Recorded {
            method,
            path,
            query,
            status: response.status().as_u16(),
        });
    response
}

/// A TCP listener that completes the TLS handshake before handing a connection to axum; a
/// failed handshake (a client that does not trust the certificate) drops that connection
/// and the listener goes on.
struct TlsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.listener.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
