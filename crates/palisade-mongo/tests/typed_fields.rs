//! Typed fields by name and by pattern (R-MDB-5: a malformed id is a 400 naming the field,
//! never a server error), and the harmless forms real clients send: a top-level `$comment`,
//! DBRef literals in equality, legacy extended JSON binary.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc, oid::ObjectId};
use palisade_mongo::{FilterPolicy, Problem, document_from_json};
use serde_json::json;

const ID: &str = "65a1b2c3d4e5f60718293a4b";
const UUID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

/// The reference back end's conversion by suffix: `*_id` ObjectIds, `*_uuid` UUIDs, `*_at`
/// dates.
fn by_suffix() -> FilterPolicy {
    FilterPolicy::default()
        .object_id_field("*_id")
        .uuid_field("*_uuid")
        .date_field("*_at")
}

fn refused(policy: &FilterPolicy, filter: Document) -> (Problem, String, u16) {
    let err = policy.guard(&filter).unwrap_err();
    (
        err.problem().clone(),
        err.path().to_owned(),
        err.status().as_u16(),
    )
}

#[test]
fn patterns_type_every_matching_field_at_any_depth() {
    let guarded = by_suffix()
        .guard(&doc! {
            "_id": ID,
            "client_id": {"$in": [ID, null]},
            "$or": [{"project.owner_id": ID}, {"items": {"$elemMatch": {"sku_uuid": UUID}}}],
            "created_at": {"$gte": "2026-11-01T00:00:00Z"},
        })
        .unwrap()
        .into_document();
    assert!(matches!(guarded.get("_id"), Some(Bson::ObjectId(_))));
    let ids = guarded
        .get_document("client_id")
        .unwrap()
        .get_array("$in")
        .unwrap();
    assert_eq!(ids[0], Bson::ObjectId(ObjectId::parse_str(ID).unwrap()));
    assert_eq!(ids[1], Bson::Null);
    let or = guarded.get_array("$or").unwrap();
    let owner = or[0].as_document().unwrap().get("project.owner_id");
    assert!(matches!(owner, Some(Bson::ObjectId(_))));
    let sku = or[1]
        .as_document()
        .unwrap()
        .get_document("items")
        .unwrap()
        .get_document("$elemMatch")
        .unwrap()
        .get("sku_uuid")
        .unwrap();
    assert_eq!(
        sku,
        &Bson::Binary(Binary {
            subtype: BinarySubtype::Uuid,
            bytes: bson::Uuid::parse_str(UUID).unwrap().bytes().to_vec(),
        })
    );
    let since = guarded.get_document("created_at").unwrap().get("$gte");
    assert!(matches!(since, Some(Bson::DateTime(_))));
}

#[test]
fn a_malformed_typed_value_is_a_400_naming_the_field() {
    let policy = by_suffix();
    assert_eq!(
        refused(&policy, doc! {"client_id": "not-an-id"}),
        (Problem::ObjectIdInvalid, "filter.client_id".into(), 400)
    );
    assert_eq!(
        refused(&policy, doc! {"$and": [{"project.owner_id": {"$ne": 7}}]}),
        (
            Problem::ObjectIdInvalid,
            "filter.$and[0].project.owner_id.$ne".into(),
            400
        )
    );
    assert_eq!(
        refused(&policy, doc! {"sku_uuid": "67e55044-10b1"}),
        (Problem::UuidInvalid, "filter.sku_uuid".into(), 400)
    );
    // A binary of another subtype or length is no UUID.
    let md5 = Binary {
        subtype: BinarySubtype::Md5,
        bytes: vec![0; 16],
    };
    assert_eq!(
        refused(&policy, doc! {"sku_uuid": md5}).0,
        Problem::UuidInvalid
    );
    assert_eq!(
        refused(&policy, doc! {"updated_at": {"$lt": "last week"}}),
        (Problem::DateInvalid, "filter.updated_at.$lt".into(), 400)
    );
    let message = policy
        .guard(&doc! {"client_id": "secret-looking-value"})
        .unwrap_err()
        .to_string();
    assert!(!message.contains("secret-looking-value"), "{message}");
}

#[test]
fn typed_fields_hold_inside_all_and_elem_match_on_elements() {
    let policy = by_suffix();
    for (filter, problem) in [
        (
            doc! {"client_id": {"$all": ["bad"]}},
            Problem::ObjectIdInvalid,
        ),
        (
            doc! {"client_id": {"$all": [123]}},
            Problem::ObjectIdInvalid,
        ),
        (
            doc! {"client_id": {"$elemMatch": {"$eq": "bad"}}},
            Problem::ObjectIdInvalid,
        ),
        (
            doc! {"client_id": {"$elemMatch": {"$in": ["bad", 5]}}},
            Problem::ObjectIdInvalid,
        ),
        (
            doc! {"created_at": {"$all": ["not a date"]}},
            Problem::DateInvalid,
        ),
        (
            doc! {"key_uuid": {"$elemMatch": {"$eq": "zzz"}}},
            Problem::UuidInvalid,
        ),
    ] {
        assert_eq!(refused(&policy, filter.clone()).0, problem, "{filter}");
    }
    let guarded = policy
        .guard(&doc! {"client_id": {"$elemMatch": {"$eq": ID}}, "tag_id": {"$all": [ID]}})
        .unwrap()
        .into_document();
    let id = Bson::ObjectId(ObjectId::parse_str(ID).unwrap());
    let elem = guarded
        .get_document("client_id")
        .unwrap()
        .get_document("$elemMatch")
        .unwrap();
    assert_eq!(elem.get("$eq"), Some(&id));
    let all = guarded
        .get_document("tag_id")
        .unwrap()
        .get_array("$all")
        .unwrap();
    assert_eq!(all[0], id);
}

#[test]
fn null_comparisons_and_exists_stay_legitimate_on_typed_fields() {
    let policy = by_suffix();
    for filter in [
        doc! {"client_id": {"$ne": null}},
        doc! {"client_id": null},
        doc! {"client_id": {"$exists": false}},
        doc! {"sku_uuid": {"$in": [null, UUID]}},
        doc! {"deleted_at": {"$eq": null}},
        doc! {"client_id": {"$type": "objectId"}},
    ] {
        assert!(policy.guard(&filter).is_ok(), "{filter}");
    }
}

#[test]
fn exact_names_win_over_patterns_and_later_patterns_over_earlier_ones() {
    // `stripe_id` is a string id, not an ObjectId, though `*_id` would type it.
    let policy = FilterPolicy::default()
        .object_id_field("*_id")
        .scalar_field("stripe_id");
    assert!(policy.guard(&doc! {"stripe_id": "cus_123"}).is_ok());
    assert!(policy.guard(&doc! {"client_id": "cus_123"}).is_err());
    let later = FilterPolicy::default()
        .object_id_field("*_id")
        .uuid_field("*_id");
    assert!(later.guard(&doc! {"client_id": UUID}).is_ok());
    assert!(later.guard(&doc! {"client_id": ID}).is_err());
    // A dotted pattern is matched against the whole path, `*` never crossing a dot.
    let dotted = FilterPolicy::default().date_field("meta.*_at");
    assert!(dotted.guard(&doc! {"meta.created_at": "x"}).is_err());
    assert!(dotted.guard(&doc! {"other.meta.created_at": "x"}).is_ok());
    assert!(dotted.guard(&doc! {"identity": "x"}).is_ok());
}

#[test]
fn a_comment_is_admitted_as_text_only() {
    let policy = FilterPolicy::default();
    assert!(
        policy
            .guard(&doc! {"status": "open", "$comment": "dashboard: open items"})
            .is_ok()
    );
    assert!(
        policy
            .guard(&doc! {"$and": [{"a": 1}, {"$comment": "inner"}]})
            .is_ok()
    );
    for operand in [
        Bson::Document(doc! {"$where": "sleep(1)"}),
        Bson::Int32(1),
        Bson::Array(vec![]),
    ] {
        let err = policy.guard(&doc! {"$comment": operand}).unwrap_err();
        assert_eq!(err.path(), "filter.$comment");
        assert!(matches!(
            err.problem(),
            Problem::OperandInvalid {
                operator: "$comment",
                ..
            }
        ));
    }
    let long = "x".repeat(policy.limits().max_string_len() + 1);
    assert!(matches!(
        policy
            .guard(&doc! {"$comment": long})
            .unwrap_err()
            .problem(),
        Problem::StringTooLong { .. }
    ));
}

#[test]
fn dbref_literals_are_data_and_their_ids_are_walked() {
    let policy = FilterPolicy::default();
    let owner = ObjectId::parse_str(ID).unwrap();
    for filter in [
        doc! {"owner": {"$ref": "users", "$id": owner}},
        doc! {"owner": {"$ref": "users", "$id": owner, "$db": "app"}},
        doc! {"owner": {"$eq": {"$ref": "users", "$id": 7}}},
        doc! {"owner": {"$in": [{"$ref": "users", "$id": "a"}]}},
    ] {
        assert!(policy.guard(&filter).is_ok(), "{filter}");
    }
    // Anything else with `$` keys stays an operator: other orders, extra keys, operators
    // inside the id, a `$ref` that is not a name.
    for filter in [
        doc! {"owner": {"$id": owner, "$ref": "users"}},
        doc! {"owner": {"$ref": "users", "$id": owner, "$where": "1"}},
        doc! {"owner": {"$ref": "users", "$id": {"$gt": ""}}},
        doc! {"owner": {"$ref": {"$ne": 1}, "$id": 1}},
        doc! {"owner": {"$ref": "users", "$id": 1, "$db": 3}},
    ] {
        assert!(policy.guard(&filter).is_err(), "{filter}");
    }
}

#[test]
fn legacy_binary_and_canonical_extended_json_become_bson() {
    let filter = document_from_json(json!({
        "blob": {"$binary": "AAEC", "$type": "0"},
        "digest": {"$in": [{"$binary": {"base64": "AAEC", "subType": "05"}}]},
        "_id": {"$oid": ID},
    }))
    .unwrap();
    assert_eq!(
        filter.get("blob"),
        Some(&Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![0, 1, 2],
        }))
    );
    assert!(FilterPolicy::default().guard(&filter).is_ok());
    for bad in [
        json!({"blob": {"$binary": "!!!", "$type": "00"}}),
        json!({"blob": {"$binary": "AAEC", "$type": "zz"}}),
        json!({"_id": {"$oid": "xyz"}}),
        json!("a string"),
    ] {
        let err = document_from_json(bad).unwrap_err();
        assert_eq!((err.path(), err.status().as_u16()), ("filter", 400));
    }
    // Only a legacy pair is rewritten: a `$binary` next to anything else is not binary.
    let smuggled =
        document_from_json(json!({"x": {"$binary": "AAEC", "$type": "00", "$where": "1"}}));
    assert!(smuggled.is_err());
}

/// R-MDB-5 for writes: a record's typed fields are converted as a filter's are, at any depth
/// and in arrays, and a value that cannot be its type is refused at its path.
#[test]
fn records_have_their_typed_fields_converted_or_refused() {
    let policy = by_suffix();
    let mut record = doc! {
        "title": "Plan",
        "project_id": ID,
        "reviewer_id": [ID, ID],
        "owner": {"account_uuid": UUID, "joined_at": "2026-01-02T03:04:05Z"},
        "links": [{"client_id": ID}, {"client_id": null}],
        "archived_at": null,
        "note_id_text": "free text",
    };
    policy.type_record(&mut record).unwrap();
    let id = ObjectId::parse_str(ID).unwrap();
    assert_eq!(record.get_object_id("project_id").unwrap(), id);
    assert_eq!(
        record.get_array("reviewer_id").unwrap(),
        &vec![Bson::ObjectId(id), Bson::ObjectId(id)]
    );
    let owner = record.get_document("owner").unwrap();
    assert!(matches!(
        owner.get("account_uuid"),
        Some(Bson::Binary(Binary {
            subtype: BinarySubtype::Uuid,
            ..
        }))
    ));
    assert!(matches!(owner.get("joined_at"), Some(Bson::DateTime(_))));
    let links = record.get_array("links").unwrap();
    assert_eq!(
        links[0]
            .as_document()
            .unwrap()
            .get_object_id("client_id")
            .unwrap(),
        id
    );
    assert_eq!(
        links[1].as_document().unwrap().get("client_id"),
        Some(&Bson::Null)
    );
    assert_eq!(record.get("archived_at"), Some(&Bson::Null));
    assert_eq!(record.get_str("note_id_text").unwrap(), "free text");

    for (bad, path) in [
        (doc! {"project_id": "65a1"}, "document.project_id"),
        (doc! {"project_id": {"$ne": null}}, "document.project_id"),
        (doc! {"project_id": 42}, "document.project_id"),
        (doc! {"reviewer_id": [ID, "nope"]}, "document.reviewer_id"),
        (
            doc! {"owner": {"account_uuid": "not-a-uuid"}},
            "document.owner.account_uuid",
        ),
        (
            doc! {"links": [{"client_id": true}]},
            "document.links.client_id",
        ),
        (doc! {"created_at": "yesterday"}, "document.created_at"),
    ] {
        let mut record = bad.clone();
        let refused = policy.type_record(&mut record).unwrap_err();
        assert_eq!(refused.path(), path, "{bad}");
        assert_eq!(refused.status(), 400, "{bad}");
        assert!(
            !refused.to_string().contains("65a1") && !refused.to_string().contains("nope"),
            "{refused}"
        );
    }
}
