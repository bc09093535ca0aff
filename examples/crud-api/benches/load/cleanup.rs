//! The databases a load run makes (`load_<pid>` and one per organization) are dropped when
//! it ends, and any an earlier run left (killed before its end) when the next one starts: a
//! database server that keeps every run's thousands of collections gets slower run by run,
//! and the figures with it.

use palisade_test::Service;

/// Drops the database `prefix` and every one named `prefix_...`; how many.
pub(crate) async fn drop_databases(prefix: &str) -> usize {
    let under = format!("{prefix}_");
    let mongo = mongodb::Client::with_uri_str(&Service::Mongodb.url())
        .await
        .unwrap();
    let names = mongo.list_database_names().await.unwrap();
    let mut dropped = 0;
    for name in names
        .iter()
        .filter(|name| *name == prefix || name.starts_with(&under))
    {
        mongo.database(name).drop().await.unwrap();
        dropped += 1;
    }
    dropped
}
