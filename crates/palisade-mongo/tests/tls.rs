//! The driver over real TLS: the TLS-only SecantusDB of `cargo xtask services up`
//! (`mongodb-tls`), whose certificate the test CA issued for `localhost`. A verified
//! connection works end to end through `ScopedCollection`; the wrong host name and plain
//! text are refused, and palisade-secrets judges each connection string the same way.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use bson::{Document, doc};
use futures_util::TryStreamExt as _;
use mongodb::Client;
use palisade_mongo::{Scope, ScopedCollection};
use palisade_secrets::{Dsn, TlsPolicy};
use palisade_test::{Service, unique_name};

/// The server's URL with the CA and a short server selection, so a refused handshake fails
/// the call instead of waiting the driver's default 30 s.
fn url(host: &str, tls: bool) -> String {
    let ca = Service::MongodbTls.field("tls_ca").unwrap();
    let base = Service::MongodbTls
        .url()
        .replacen("//localhost:", &format!("//{host}:"), 1);
    let base = if tls {
        format!("{base}&tlsCAFile={ca}")
    } else {
        base.replacen("&tls=true", "", 1)
    };
    format!("{base}&serverSelectionTimeoutMS=1500")
}

#[tokio::test]
async fn verified_tls_works_and_the_wrong_host_or_plain_text_is_refused() {
    let verified = url("localhost", true);
    let dsn = Dsn::parse(&verified).unwrap();
    dsn.check_tls(TlsPolicy::Production).unwrap();
    let client = Client::with_uri_str(dsn.expose_secret()).await.unwrap();
    let notes = ScopedCollection::new(
        client
            .database(&unique_name("tls"))
            .collection::<Document>("notes"),
        Scope::new("user_id", "u-1"),
    );
    notes.insert_one(&doc! {"title": "over TLS"}).await.unwrap();
    let found: Vec<Document> = notes
        .find(doc! {}, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get_str("user_id").unwrap(), "u-1");

    // The certificate names localhost only.
    let wrong_host = Client::with_uri_str(url("127.0.0.1", true)).await.unwrap();
    let refused = wrong_host
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap_err();
    assert!(
        matches!(
            *refused.kind,
            mongodb::error::ErrorKind::ServerSelection { .. }
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("certificate"), "{refused}");

    // Plain text to a TLS-only server: no handshake, and the DSN check says why first.
    let plain = url("localhost", false);
    assert!(
        Dsn::parse(&plain)
            .unwrap()
            .check_tls(TlsPolicy::Production)
            .is_ok(),
        "localhost is local: the DSN check has nothing to refuse"
    );
    let remote_plain = plain.replacen("//localhost:", "//db.example.com:", 1);
    assert!(
        Dsn::parse(&remote_plain)
            .unwrap()
            .check_tls(TlsPolicy::Production)
            .is_err()
    );
    let refused = Client::with_uri_str(&plain)
        .await
        .unwrap()
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap_err();
    assert!(
        matches!(
            *refused.kind,
            mongodb::error::ErrorKind::ServerSelection { .. }
        ),
        "{refused}"
    );
}
