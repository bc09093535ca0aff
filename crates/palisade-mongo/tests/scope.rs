//! Scoping (R-MDB-2): filters, updates, inserts and pipelines pinned to their owner.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use bson::{Bson, Document, doc};
use palisade_mongo::{FilterPolicy, Problem, Scope};
use proptest::prelude::*;

fn scope() -> Scope {
    Scope::new("user_id", "u-1")
}

fn guarded(filter: Document) -> palisade_mongo::Guarded {
    FilterPolicy::default().guard(&filter).unwrap()
}

#[test]
fn a_scoped_filter_holds_the_clients_filter_in_and_beside_the_owner() {
    assert_eq!(scope().filter(guarded(doc! {})), doc! {"user_id": "u-1"});
    assert_eq!(
        scope().filter(guarded(
            doc! {"$or": [{"user_id": "u-2"}, {"public": true}]}
        )),
        doc! {"$and": [{"$or": [{"user_id": "u-2"}, {"public": true}]}], "user_id": "u-1"}
    );
}

#[test]
fn updates_may_not_touch_the_owner_field() {
    let s = scope();
    assert!(
        s.update(&doc! {"$set": {"name": "x"}, "$inc": {"n": 1}})
            .is_ok()
    );
    for (update, path) in [
        (doc! {"$set": {"user_id": "u-2"}}, "update.$set.user_id"),
        (doc! {"$set": {"user_id.x": 1}}, "update.$set.user_id.x"),
        (doc! {"$unset": {"user_id": ""}}, "update.$unset.user_id"),
        (
            doc! {"$rename": {"user_id": "owner"}},
            "update.$rename.user_id",
        ),
        (
            doc! {"$rename": {"other": "user_id"}},
            "update.$rename.other",
        ),
        (doc! {"user_id": "u-2", "name": "x"}, "update.user_id"),
    ] {
        let err = s.update(&update).unwrap_err();
        assert_eq!(
            (err.problem(), err.path()),
            (&Problem::OwnerFieldWritten, path)
        );
    }
    // A nested owner field is protected from a write to its parent too.
    let nested = Scope::new("owner.id", 7);
    assert!(nested.update(&doc! {"$set": {"owner": {"id": 8}}}).is_err());
}

#[test]
fn update_payloads_refuse_dollar_and_dotted_keys_at_every_depth() {
    let s = scope();
    for (update, path) in [
        (
            doc! {"$set": {"profile": {"a": {"b": {"$where": 1}}}}},
            "update.$set.profile.a.b.$where",
        ),
        (
            doc! {"$set": {"profile": {"a.b": 1}}},
            "update.$set.profile.a.b",
        ),
        (
            doc! {"$push": {"tags": {"$where": "x"}}},
            "update.$push.tags.$where",
        ),
        (doc! {"$merge": {"a": 1}}, "update.$merge"),
        (doc! {"$set": {"name": "x"}, "other": 1}, "update"),
    ] {
        let err = s.update(&update).unwrap_err();
        assert_eq!(err.path(), path, "{update}");
        assert_eq!(err.status(), 400);
    }
    assert!(
        s.update(&doc! {"$push": {"tags": {"$each": ["a", "b"], "$slice": -5}}})
            .is_ok()
    );
    assert!(s.update(&doc! {"$pull": {"scores": {"$lt": 5}}}).is_ok());
    assert!(
        s.update(&doc! {"$pull": {"scores": {"$where": "1"}}})
            .is_err()
    );
}

#[test]
fn replacements_and_inserts_get_the_owner_and_refuse_another() {
    let s = scope();
    assert_eq!(
        s.insert(&doc! {"name": "x"}).unwrap(),
        doc! {"name": "x", "user_id": "u-1"}
    );
    assert_eq!(
        s.insert(&doc! {"name": "x", "user_id": "u-1"}).unwrap(),
        doc! {"name": "x", "user_id": "u-1"}
    );
    let other = s.insert(&doc! {"name": "x", "user_id": "u-2"}).unwrap_err();
    assert_eq!(
        (other.problem(), other.path()),
        (&Problem::OwnerFieldWritten, "document.user_id")
    );
    let smuggled = s
        .insert(&doc! {"profile": {"tags": [{"$gt": 1}]}})
        .unwrap_err();
    assert_eq!(smuggled.path(), "document.profile.tags[0].$gt");
    assert_eq!(
        s.update(&doc! {"name": "y"}).unwrap(),
        doc! {"name": "y", "user_id": "u-1"}
    );
}

#[test]
fn pipelines_start_with_the_owner_match_and_refuse_escapes() {
    let s = scope().allow_lookup("orders");
    let scoped = s
        .pipeline(&[
            doc! {"$match": {"status": "open"}},
            doc! {"$group": {"_id": "$status", "n": {"$sum": 1}}},
            doc! {"$lookup": {"from": "orders", "localField": "_id", "foreignField": "item", "as": "o"}},
        ])
        .unwrap();
    assert_eq!(scoped[0], doc! {"$match": {"user_id": "u-1"}});
    assert_eq!(
        scoped[3]
            .get_document("$lookup")
            .unwrap()
            .get_array("pipeline")
            .unwrap()[0],
        Bson::Document(doc! {"$match": {"user_id": "u-1"}})
    );
    for (stage, path) in [
        (doc! {"$out": "stolen"}, "pipeline[0].$out"),
        (doc! {"$merge": {"into": "x"}}, "pipeline[0].$merge"),
        (doc! {"$unionWith": "users"}, "pipeline[0].$unionWith"),
        (
            doc! {"$graphLookup": {"from": "users"}},
            "pipeline[0].$graphLookup",
        ),
        (
            doc! {"$lookup": {"from": "users", "as": "u"}},
            "pipeline[0].$lookup",
        ),
        (doc! {"$currentOp": {}}, "pipeline[0].$currentOp"),
        (
            doc! {"$match": {"$expr": {"$function": {"body": "x"}}}},
            "pipeline[0].$match.$expr.$function",
        ),
        (
            doc! {"$group": {"_id": null, "x": {"$accumulator": {}}}},
            "pipeline[0].$group.x.$accumulator",
        ),
        (
            doc! {"$match": {"$where": "1"}},
            "pipeline[0].$match.$where",
        ),
        (
            doc! {"$match": {"a": {"$regex": "^x"}}},
            "pipeline[0].$match.a.$regex",
        ),
    ] {
        let err = s.pipeline(std::slice::from_ref(&stage)).unwrap_err();
        assert_eq!(err.path(), path, "{stage}");
    }
    // Facets are checked stage by stage too.
    let facet = s
        .pipeline(&[doc! {"$facet": {"a": [{"$out": "x"}]}}])
        .unwrap_err();
    assert_eq!(facet.path(), "pipeline[0].$facet.a[0].$out");
}

/// Filters built from the allowed operators, with an owner field anywhere in them.
fn filters() -> impl Strategy<Value = Document> {
    let leaf = prop_oneof![
        (0..5i32).prop_map(|n| doc! {"n": n}),
        (0..5i32).prop_map(|n| doc! {"n": {"$gte": n}}),
        "[a-c]{1,2}".prop_map(|u| doc! {"user_id": u}),
        Just(doc! {"user_id": {"$ne": "u-1"}}),
        Just(doc! {"tags": {"$elemMatch": {"$in": ["a", "b"]}}}),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|v| doc! {"$or": v.into_iter().map(Bson::Document).collect::<Vec<_>>()}),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|v| doc! {"$nor": v.into_iter().map(Bson::Document).collect::<Vec<_>>()}),
            prop::collection::vec(inner, 1..3)
                .prop_map(|v| doc! {"$and": v.into_iter().map(Bson::Document).collect::<Vec<_>>()}),
        ]
    })
}

proptest! {
    /// Whatever the client's filter, the scoped filter holds it whole inside `$and` and pins
    /// the owner beside it: no `$or` (or owner key) inside the client's part can widen it.
    #[test]
    fn every_scoped_filter_pins_the_owner_beside_the_clients_filter(filter in filters()) {
        let scoped = scope().filter(FilterPolicy::default().guard(&filter).unwrap());
        prop_assert_eq!(scoped.len(), 2);
        let clauses = scoped.get_array("$and").unwrap();
        prop_assert_eq!(clauses, &vec![Bson::Document(filter)]);
        prop_assert_eq!(scoped.get_str("user_id").unwrap(), "u-1");
    }
}
