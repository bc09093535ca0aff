//! Audit fields (R-MDB-4): stamped from the request's context, never from the client.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use bson::{DateTime, doc};
use palisade_mongo::{AUDIT_FIELDS, Audit, Problem};

fn audit() -> (Audit, DateTime) {
    let now = DateTime::from_millis(1_764_000_000_000);
    (Audit::new("u-42", now), now)
}

#[test]
fn inserts_get_all_four_fields_whatever_the_client_sent() {
    let (audit, now) = audit();
    let forged = DateTime::from_millis(0);
    let stamped = audit.insert(doc! {
        "name": "x", "created_by": "admin", "created_at": forged, "updated_by": "admin",
    });
    assert_eq!(
        stamped,
        doc! {"name": "x", "created_by": "u-42", "created_at": now, "updated_by": "u-42", "updated_at": now}
    );
    assert!(AUDIT_FIELDS.iter().all(|f| stamped.contains_key(f)));
}

#[test]
fn updates_are_stamped_and_may_not_write_audit_fields() {
    let (audit, now) = audit();
    assert_eq!(
        audit.update(&doc! {"$inc": {"n": 1}}).unwrap(),
        doc! {"$inc": {"n": 1}, "$set": {"updated_by": "u-42", "updated_at": now}}
    );
    for (update, path) in [
        (
            doc! {"$set": {"updated_by": "admin"}},
            "update.$set.updated_by",
        ),
        (
            doc! {"$unset": {"created_at": ""}},
            "update.$unset.created_at",
        ),
        (
            doc! {"$set": {"created_by.name": "x"}},
            "update.$set.created_by.name",
        ),
        (doc! {"$rename": {"x": "created_by"}}, "update.$rename.x"),
    ] {
        let err = audit.update(&update).unwrap_err();
        assert_eq!(
            (err.problem(), err.path()),
            (&Problem::AuditFieldWritten, path)
        );
    }
    let replacement = audit.update(&doc! {"name": "y"}).unwrap_err();
    assert!(matches!(
        replacement.problem(),
        Problem::ShapeInvalid { .. }
    ));
}
