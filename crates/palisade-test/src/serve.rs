//! Serving an axum router on loopback, for tests that call it with a real HTTP client.

use std::net::SocketAddr;

/// Serves `router` on a fresh loopback port, recording peer addresses (axum's
/// `ConnectInfo<SocketAddr>`), until the runtime ends; returns the address.
///
/// # Panics
/// When no loopback port can be bound: the test fails.
#[allow(
    clippy::expect_used,
    reason = "a test kit fails the test that cannot listen"
)]
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port to serve the router on");
    let address = listener
        .local_addr()
        .expect("the address of a bound listener");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    address
}
