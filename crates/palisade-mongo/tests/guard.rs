//! The filter guard: the allow-list at every depth, paths in rejections, limits, scalar-only
//! and typed fields, and known NoSQL-injection payloads.
//!
//! Payload sources: OWASP Web Security Testing Guide, "Testing for NoSQL Injection"
//! (WSTG-INPV-05: `$where` strings, `$ne`/`$gt` operator injection); PayloadsAllTheThings,
//! "NoSQL Injection" (`[$ne]=` query-string forms, `$regex` extraction, `$where` sleep);
//! HackTricks, "NoSQL injection" (`$regex` ReDoS, `$expr`, `$function`); the
//! express-mongo-sanitize README (operator keys in JSON bodies and query strings).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use bson::{Bson, Document, Regex, doc};
use palisade_mongo::{FilterPolicy, Limits, Problem};

fn rejected(filter: Document) -> (Problem, String) {
    let err = FilterPolicy::default().guard(&filter).unwrap_err();
    (err.problem().clone(), err.path().to_owned())
}

fn operator(name: &str) -> Problem {
    Problem::OperatorNotAllowed {
        operator: name.to_owned(),
    }
}

#[test]
fn allowed_operators_pass_at_every_depth() {
    let filter = doc! {
        "$or": [
            {"age": {"$gte": 18, "$lt": 65}},
            {"$and": [{"tags": {"$all": ["a", "b"]}}, {"tags": {"$size": 2}}]},
            {"$nor": [{"deleted": {"$exists": true}}]},
        ],
        "scores": {"$elemMatch": {"$gte": 80, "$lt": 85}},
        "items": {"$elemMatch": {"sku": {"$in": ["x", "y"]}, "qty": {"$not": {"$gt": 5}}}},
        "kind": {"$type": ["string", "int"]},
        "name": {"$ne": null, "$nin": ["root"]},
        "address": {"city": "Oslo", "zip": "0150"},
    };
    let guarded = FilterPolicy::default().guard(&filter).unwrap();
    assert_eq!(guarded.document(), &filter);
}

#[test]
fn forbidden_operators_are_named_with_their_path() {
    let cases = [
        (doc! {"$where": "this.a > 1"}, "$where", "filter.$where"),
        (
            doc! {"$expr": {"$gt": ["$a", "$b"]}},
            "$expr",
            "filter.$expr",
        ),
        (
            doc! {"name": {"$regex": "^a"}},
            "$regex",
            "filter.name.$regex",
        ),
        (doc! {"$text": {"$search": "x"}}, "$text", "filter.$text"),
        (
            doc! {"$jsonSchema": {}},
            "$jsonSchema",
            "filter.$jsonSchema",
        ),
        (
            doc! {"$or": [{"a": 1}, {"name": {"$where": "1"}}]},
            "$where",
            "filter.$or[1].name.$where",
        ),
        (
            doc! {"a": {"$elemMatch": {"b": {"$function": {"body": "x", "args": [], "lang": "js"}}}}},
            "$function",
            "filter.a.$elemMatch.b.$function",
        ),
        (
            doc! {"a": {"$not": {"$accumulator": {}}}},
            "$accumulator",
            "filter.a.$not.$accumulator",
        ),
        (doc! {"a": {"$lookup": {}}}, "$lookup", "filter.a.$lookup"),
        (doc! {"a": {"$nope": 1}}, "$nope", "filter.a.$nope"),
        // A sub-document in an operand cannot smuggle an operator.
        (
            doc! {"a": {"$in": [{"$where": "1"}]}},
            "$where",
            "filter.a.$in[0].$where",
        ),
        (
            doc! {"a": {"$eq": {"b": {"$gt": ""}}}},
            "$gt",
            "filter.a.$eq.b.$gt",
        ),
        (
            doc! {"a": {"$all": [{"$elemMatch": {"$where": "1"}}]}},
            "$where",
            "filter.a.$all[0].$elemMatch.$where",
        ),
    ];
    for (filter, name, path) in cases {
        assert_eq!(
            rejected(filter),
            (operator(name), path.to_owned()),
            "{path}"
        );
    }
}

#[test]
fn javascript_and_regex_values_are_refused() {
    let (problem, path) = rejected(doc! {"name": Bson::RegularExpression(Regex {
        pattern: "^(a+)+$".into(),
        options: String::new(),
    })});
    assert_eq!(problem, Problem::ValueKindNotAllowed { kind: "regex" });
    assert_eq!(path, "filter.name");
    let (problem, _) = rejected(doc! {"a": {"$eq": Bson::JavaScriptCode("sleep(1)".into())}});
    assert_eq!(problem, Problem::ValueKindNotAllowed { kind: "javascript" });
}

#[test]
fn field_names_with_dollars_or_empty_segments_are_refused() {
    for filter in [doc! {"a.$where": 1}, doc! {"a..b": 1}, doc! {"tags.$[]": 1}] {
        assert_eq!(rejected(filter).0, Problem::FieldNameInvalid);
    }
    // A `$` key deep inside a literal sub-document is an operator in disguise.
    assert_eq!(
        rejected(doc! {"profile": {"name": {"first": {"$ne": 1}}}}),
        (operator("$ne"), "filter.profile.name.first.$ne".to_owned())
    );
}

#[test]
fn operands_of_the_wrong_shape_are_client_errors() {
    for (filter, expected) in [
        (doc! {"a": {"$in": 1}}, "an array"),
        (doc! {"a": {"$size": -1}}, "a non-negative integer"),
        (doc! {"a": {"$exists": "yes"}}, "a boolean"),
        (doc! {"$or": []}, "a non-empty array of filters"),
        (doc! {"a": {"$not": 1}}, "an operator document"),
    ] {
        match rejected(filter).0 {
            Problem::OperandInvalid { expected: e, .. } => assert_eq!(e, expected),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        rejected(doc! {"$or": [1]}).0,
        Problem::ShapeInvalid { .. }
    ));
}

/// A filter nested `levels` deep through `$or` and `$elemMatch`.
fn nested(levels: usize) -> Document {
    let mut filter = doc! {"x": 1};
    for i in 0..levels {
        filter = if i % 2 == 0 {
            doc! {"$or": [filter]}
        } else {
            doc! {"a": {"$elemMatch": filter}}
        };
    }
    filter
}

#[test]
fn limits_bound_depth_keys_arrays_and_strings() {
    let limits = Limits::new(6, 20, 3, 8).unwrap();
    let policy = FilterPolicy::with_limits(limits);
    assert!(policy.guard(&nested(2)).is_ok());
    let deep = policy.guard(&nested(40)).unwrap_err();
    assert_eq!(deep.problem(), &Problem::DepthExceeded { limit: 6 });
    let many: Document = (0..21).map(|i| (format!("k{i}"), Bson::Int32(i))).collect();
    assert_eq!(
        policy.guard(&many).unwrap_err().problem(),
        &Problem::KeysExceeded { limit: 20 }
    );
    let long = policy
        .guard(&doc! {"a": {"$in": [1, 2, 3, 4]}})
        .unwrap_err();
    assert_eq!(long.problem(), &Problem::ArrayTooLong { limit: 3 });
    assert_eq!(long.path(), "filter.a.$in");
    let text = policy.guard(&doc! {"a": "123456789"}).unwrap_err();
    assert_eq!(text.problem(), &Problem::StringTooLong { limit: 8 });
    // The defaults refuse a filter nested far past anything a client needs.
    assert!(FilterPolicy::default().guard(&nested(200)).is_err());
    // Ten nested logical operators (the reference back end's own boundary) pass; fifteen
    // nested documents of any kind do not; arrays of arrays count.
    let mut logical = doc! {"a": 1};
    for i in 0..10 {
        let op = ["$and", "$or", "$nor"][i % 3];
        logical = doc! {op: [logical]};
    }
    assert!(FilterPolicy::default().guard(&logical).is_ok(), "{logical}");
    let mut plain = doc! {"leaf": 1};
    for _ in 0..14 {
        plain = doc! {"x": plain};
    }
    let deep = FilterPolicy::default()
        .guard(&doc! {"a": plain})
        .unwrap_err();
    assert_eq!(deep.problem(), &Problem::DepthExceeded { limit: 14 });
    let mut elem = doc! {"$gt": 1};
    for _ in 0..15 {
        elem = doc! {"$elemMatch": elem};
    }
    assert!(FilterPolicy::default().guard(&doc! {"a": elem}).is_err());
    let mut arrays = Bson::Int32(1);
    for _ in 0..20 {
        arrays = Bson::Array(vec![arrays]);
    }
    assert!(
        FilterPolicy::default()
            .guard(&doc! {"a": {"$in": [arrays]}})
            .is_err()
    );
}

#[test]
fn scalar_only_fields_refuse_operators_and_documents() {
    let policy = FilterPolicy::default()
        .scalar_field("password")
        .scalar_field("email");
    assert!(policy.guard(&doc! {"email": "ann@example.com"}).is_ok());
    for filter in [
        doc! {"password": {"$ne": null}},
        doc! {"email": {"$gt": ""}},
        doc! {"email": {"$in": ["a"]}},
        doc! {"password": {"x": 1}},
        doc! {"$or": [{"email": ["a"]}]},
    ] {
        let err = policy.guard(&filter).unwrap_err();
        assert_eq!(err.problem(), &Problem::ScalarExpected, "{filter}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn a_scalar_field_cannot_be_enumerated_by_negation_elem_match_or_its_parent() {
    let policy = FilterPolicy::default()
        .scalar_field("password")
        .scalar_field("profile.secret")
        .scalar_field("keys.token");
    // Equality, a double negation (equality again) and equality on the parent document pass.
    for filter in [
        doc! {"password": "x"},
        doc! {"$nor": [{"$nor": [{"password": "x"}]}]},
        doc! {"$or": [{"password": "x"}, {"name": {"$ne": "y"}}]},
        doc! {"profile": {"secret": "x", "plan": "pro"}},
        doc! {"profile.secret": "x"},
        doc! {"keys": {"$elemMatch": {"token": "x", "kind": {"$ne": "old"}}}},
    ] {
        assert!(policy.guard(&filter).is_ok(), "{filter}");
    }
    for filter in [
        // `$nor` turns equality into inequality.
        doc! {"$nor": [{"password": "x"}]},
        doc! {"$and": [{"$nor": [{"$or": [{"password": "x"}]}]}]},
        doc! {"$nor": [{"profile.secret": "x"}]},
        // Comparing the parent orders by the scalar inside it.
        doc! {"profile": {"$gt": {}}},
        doc! {"profile": {"$gte": {"secret": "m"}}},
        doc! {"profile": {"$in": [{"secret": "x"}]}},
        doc! {"profile": {"$not": {"$eq": {"secret": "x"}}}},
        // The scalar field named relative to the array it sits in.
        doc! {"keys": {"$elemMatch": {"token": {"$ne": "x"}}}},
        doc! {"keys": {"$elemMatch": {"token": {"$regex": "^a"}}}},
        doc! {"keys": {"$all": [{"$elemMatch": {"token": {"$gt": "a"}}}]}},
        doc! {"$nor": [{"keys": {"$elemMatch": {"token": "x"}}}]},
    ] {
        let err = policy.guard(&filter).unwrap_err();
        assert!(
            matches!(
                err.problem(),
                Problem::ScalarExpected | Problem::OperatorNotAllowed { .. }
            ),
            "{filter}: {err}"
        );
    }
}

/// Array positions and sub-paths reach a scalar field too: `users.0.password` is the first
/// user's password to the server, `tokens.0` an element of a scalar-only array, and
/// `password.hash` lies inside it; an equality with null probes whether it exists.
#[test]
fn scalar_fields_hold_through_array_positions_and_sub_paths() {
    let policy = FilterPolicy::default()
        .scalar_field("users.password")
        .scalar_field("tokens")
        .scalar_field("password");
    for filter in [
        doc! {"users.0.password": {"$gt": "a"}},
        doc! {"users.12.password": {"$ne": null}},
        doc! {"users.0": {"$gte": {"password": "m"}}},
        doc! {"tokens.0": {"$gt": "m"}},
        doc! {"$nor": [{"tokens.1": "x"}]},
        doc! {"password.hash": {"$gt": "m"}},
        doc! {"password.0": {"$regex": "^a"}},
        doc! {"password": null},
        doc! {"$or": [{"users.0.password": null}]},
    ] {
        let err = policy.guard(&filter).unwrap_err();
        assert!(
            matches!(
                err.problem(),
                Problem::ScalarExpected | Problem::OperatorNotAllowed { .. }
            ),
            "{filter}: {err}"
        );
    }
    // A typed pattern does not reopen the inside of a scalar field to ranges.
    let typed = policy.clone().date_field("*_at").object_id_field("*_id");
    for filter in [
        doc! {"password.changed_at": {"$gt": "2020-01-01T00:00:00Z"}},
        doc! {"users.password.x_id": {"$gt": "000000000000000000000000"}},
    ] {
        assert!(typed.guard(&filter).is_err(), "{filter}");
    }
    // Plain equality through a position is still a lookup by value.
    for filter in [
        doc! {"users.0.password": "x"},
        doc! {"tokens.3": "t"},
        doc! {"users.0.name": {"$gt": "a"}},
        doc! {"users.0": {"$elemMatch": {"name": "a"}}},
    ] {
        assert!(policy.guard(&filter).is_ok(), "{filter}");
    }
}

#[test]
fn typed_fields_convert_strings_and_refuse_malformed_values() {
    let policy = FilterPolicy::default()
        .object_id_field("_id")
        .date_field("created_at");
    let guarded = policy
        .guard(&doc! {
            "_id": {"$in": ["65a1b2c3d4e5f60718293a4b"]},
            "created_at": {"$gte": "2026-11-01T00:00:00Z"},
        })
        .unwrap();
    let document = guarded.document();
    let ids = document
        .get_document("_id")
        .unwrap()
        .get_array("$in")
        .unwrap();
    assert!(matches!(ids[0], Bson::ObjectId(_)));
    let since = document.get_document("created_at").unwrap();
    assert!(matches!(since.get("$gte"), Some(Bson::DateTime(_))));
    let bad_id = policy.guard(&doc! {"_id": "65a1b2c3"}).unwrap_err();
    assert_eq!(
        (bad_id.problem(), bad_id.path()),
        (&Problem::ObjectIdInvalid, "filter._id")
    );
    let bad_date = policy
        .guard(&doc! {"created_at": {"$lt": "yesterday"}})
        .unwrap_err();
    assert_eq!(
        (bad_date.problem(), bad_date.path()),
        (&Problem::DateInvalid, "filter.created_at.$lt")
    );
    assert!(policy.guard(&doc! {"created_at": null}).is_ok());
}

/// Known payloads, as the JSON a client sends (or the document a query-string parser such as
/// `qs` decodes `user[$ne]=x` into).
#[test]
fn known_nosql_injection_payloads_are_refused() {
    let payloads = [
        // Operator injection in login bodies (OWASP WSTG-INPV-05, express-mongo-sanitize).
        r#"{"username": "admin", "password": {"$ne": null}}"#,
        r#"{"username": {"$gt": ""}, "password": {"$gt": ""}}"#,
        r#"{"username": "admin", "password": {"$regex": ".*"}}"#,
        // `user[$ne]=x&pass[$ne]=x` decoded by a query-string parser (PayloadsAllTheThings).
        r#"{"user": {"$ne": "x"}, "pass": {"$ne": "x"}}"#,
        r#"{"user": {"$nin": []}, "pass": {"$nin": []}}"#,
        // `$where` strings (OWASP, PayloadsAllTheThings).
        r#"{"$where": "sleep(5000)"}"#,
        r#"{"$where": "this.password.match(/.*/)"}"#,
        r#"{"name": "x", "$where": "function(){ return true; }"}"#,
        // `$regex` extraction and ReDoS (PayloadsAllTheThings, HackTricks).
        r#"{"password": {"$regex": "^a"}}"#,
        r#"{"email": {"$regex": "^(a+)+$", "$options": "i"}}"#,
        // `$expr` and `$function` (HackTricks).
        r#"{"$expr": {"$function": {"body": "function(){return true}", "args": [], "lang": "js"}}}"#,
        r#"{"$or": [{"a": 1}, {"$expr": {"$eq": [1, 1]}}]}"#,
    ];
    let policy = FilterPolicy::default()
        .scalar_field("username")
        .scalar_field("password")
        .scalar_field("user")
        .scalar_field("pass")
        .scalar_field("email");
    for payload in payloads {
        let value: serde_json::Value = serde_json::from_str(payload).unwrap();
        let Bson::Document(filter) = Bson::try_from(value).unwrap() else {
            panic!("{payload} is not a document");
        };
        let err = policy.guard(&filter).unwrap_err();
        assert_eq!(err.status(), 400, "{payload}");
        assert!(
            !err.to_string().contains("sleep") && !err.to_string().contains("^a"),
            "the message quotes the payload: {err}"
        );
    }
}

#[test]
fn operands_the_server_would_reject_are_refused_now() {
    let policy = FilterPolicy::default();
    for filter in [
        doc! {"tags": {"$size": -1}},
        doc! {"tags": {"$size": 1.5}},
        doc! {"tags": {"$size": 1e19}},
        doc! {"a": {"$type": "strnig"}},
        doc! {"a": {"$type": 42}},
        doc! {"a": {"$type": []}},
        doc! {"a": {"$type": ["string", "nope"]}},
    ] {
        let err = policy.guard(&filter).unwrap_err();
        assert_eq!(err.status(), 400, "{filter}");
    }
    for filter in [
        doc! {"tags": {"$size": 0}},
        doc! {"tags": {"$size": 3.0}},
        doc! {"a": {"$type": "string"}},
        doc! {"a": {"$type": ["number", "null"]}},
        doc! {"a": {"$type": 2}},
        doc! {"a": {"$type": -1}},
    ] {
        assert!(policy.guard(&filter).is_ok(), "{filter}");
    }
}
