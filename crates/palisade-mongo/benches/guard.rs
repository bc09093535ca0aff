//! `guard` + `Scope::filter` on typical client filters (about 10 keys, 3 levels of operators),
//! against express-mongo-sanitize walking the same filters in Node, in the same run.
//!
//! Needs `cargo xtask services up` (it installs the pinned Node package into `target/node`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly"
)]

use std::path::PathBuf;

use bson::oid::ObjectId;
use bson::{Bson, Document};
use palisade_mongo::{FilterPolicy, Scope};
use palisade_test::bench::{Row, report, time_consuming};

/// Filters a CRUD back end receives: lists with status sets, ranges, `$or` of alternatives,
/// tag sets and `$elemMatch` on line items. Each has 9 to 12 keys at three levels.
const FILTERS: &str = r#"[
  {"status": {"$in": ["open", "pending"]}, "$or": [{"priority": {"$gte": 2}}, {"assignee": "u-7"}],
   "created_at": {"$gte": "2026-01-01T00:00:00Z", "$lt": "2026-02-01T00:00:00Z"}},
  {"$and": [{"team": "core"}, {"$or": [{"tags": {"$all": ["bug", "p1"]}}, {"tags": {"$size": 0}}]}],
   "archived": {"$ne": true}, "score": {"$gt": 10}},
  {"items": {"$elemMatch": {"sku": {"$in": ["a-1", "b-2"]}, "qty": {"$gte": 2}}},
   "customer.country": "NL", "total": {"$gte": 100, "$lte": 500}, "paid": true},
  {"$nor": [{"state": "deleted"}, {"state": "spam"}], "owner_group": {"$in": ["g1", "g2", "g3"]},
   "due": {"$exists": true}, "kind": {"$not": {"$in": ["draft", "template"]}}}
]"#;

/// express-mongo-sanitize's nanoseconds per filter in `mode` (`sanitize` or `dry-run`), from
/// `benches/sanitize.js`.
fn peer_ns(mode: &str) -> f64 {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/sanitize.js");
    palisade_test::node::run(&script, "express-mongo-sanitize", &[mode], FILTERS)
        .trim()
        .parse()
        .unwrap()
}

fn filters() -> Vec<Document> {
    let json: serde_json::Value = serde_json::from_str(FILTERS).unwrap();
    match Bson::try_from(json).unwrap() {
        Bson::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Bson::Document(filter) => filter,
                other => panic!("not a filter: {other}"),
            })
            .collect(),
        other => panic!("not a list: {other}"),
    }
}

/// The median of three runs of each, alternating, the peer running in another process.
fn alternate(mut ours: impl FnMut() -> f64, mut peer: impl FnMut() -> f64) -> (f64, f64) {
    let (mut ours_ns, mut peer_ns) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        peer_ns.push(peer());
        ours_ns.push(ours());
    }
    ours_ns.sort_by(f64::total_cmp);
    peer_ns.sort_by(f64::total_cmp);
    (ours_ns[1], peer_ns[1])
}

fn main() {
    let filters = filters();
    // A user id as MongoDB back ends keep them; the scalar-only field is the one the filters
    // compare (typed fields would add a conversion the peer does not do).
    let owner = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
    let policy = FilterPolicy::default().scalar_field("assignee");
    let scope = Scope::new("user_id", owner);
    for filter in &filters {
        assert!(policy.guard(filter).is_ok(), "the guard refuses {filter}");
    }
    // Each call gets its own copy of a filter, as a handler owns the filter it parsed; the
    // copies are made outside the timing, as the peer's are.
    let mut next = 0;
    let mut copy = || {
        next += 1;
        filters[next % filters.len()].clone()
    };
    let (guard_ns, sanitize_ns) = alternate(
        || time_consuming(&mut copy, |filter| policy.guard_owned(filter).unwrap()),
        || peer_ns("sanitize"),
    );
    let dry_run_ns = peer_ns("dry-run");
    report(&Row {
        krate: "palisade-mongo",
        name: "guard of a typical filter (owned; about 10 keys, 3 levels)".into(),
        figure: guard_ns,
        unit: "ns/op",
        peer: format!(
            "express-mongo-sanitize 2.2.0 sanitize() in Node (dryRun walk: {dry_run_ns:.0} ns)"
        ),
        peer_figure: Some(sanitize_ns),
        target: "<= 1/3 of the peer".into(),
        met: guard_ns * 3.0 <= sanitize_ns,
    });
    let (scoped_ns, sanitize_ns) = alternate(
        || {
            time_consuming(&mut copy, |filter| {
                scope.filter(policy.guard_owned(filter).unwrap())
            })
        },
        || peer_ns("sanitize"),
    );
    report(&Row {
        krate: "palisade-mongo",
        name: "guard + scope of a typical filter (owned)".into(),
        figure: scoped_ns,
        unit: "ns/op",
        peer: "express-mongo-sanitize 2.2.0 sanitize() in Node (no scoping)".into(),
        peer_figure: Some(sanitize_ns),
        // Scoping wraps the filter in `$and` on purpose (the client's filter stays whole),
        // which costs what bson charges for a new two-key document: five allocations and two
        // SipHash hashes, about 140 ns, as much as `doc!` building the same document by hand.
        // The peer scopes nothing; the guard's own share is the 1/3 above.
        target: "<= 0.6x the peer".into(),
        met: scoped_ns <= 0.6 * sanitize_ns,
    });
}
