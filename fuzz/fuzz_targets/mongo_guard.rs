//! The MongoDB guard on arbitrary BSON: never panics; an accepted filter scopes to a
//! conjunction with the owner; a refusal names a path under `filter`; updates, inserts and
//! pipelines built from the same document are checked without panicking either.
#![no_main]

use bson::{Bson, Document, doc};
use libfuzzer_sys::fuzz_target;
use palisade_mongo::{Audit, FilterPolicy, Scope};

fuzz_target!(|content: &[u8]| {
    let Ok(document) = Document::from_reader(content) else {
        return;
    };
    let policy = FilterPolicy::default().scalar_field("password").object_id_field("_id");
    let scope = Scope::new("user_id", "u-1");
    match policy.guard(&document) {
        Ok(guarded) => {
            let scoped = scope.filter(guarded);
            assert!(scoped.contains_key("$and") || scoped == doc! {"user_id": "u-1"});
        }
        Err(rejected) => assert!(rejected.path().starts_with("filter")),
    }
    let _ = scope.update(&document);
    if let Ok(inserted) = scope.insert(&document) {
        assert_eq!(inserted.get("user_id"), Some(&Bson::String("u-1".into())));
    }
    let _ = scope.pipeline(std::slice::from_ref(&document));
    let _ = Audit::new("u-1", bson::DateTime::from_millis(0)).update(&document);
});
