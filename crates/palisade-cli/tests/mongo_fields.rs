//! `palisade mongo check` with typed fields by pattern, and the harmless forms real clients
//! send (`$comment`, DBRefs, legacy binary).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking, with the location"
)]

mod common;

const ID: &str = "65a1b2c3d4e5f60718293a4b";

#[test]
fn typed_field_patterns_convert_and_name_a_malformed_field() {
    let args = [
        "mongo",
        "check",
        "--lines",
        "--format",
        "json",
        "--object-id-field",
        "*_id",
        "--uuid-field",
        "*_uuid",
        "--date-field",
        "*_at",
    ];
    let input = format!(
        "{{\"client_id\": \"{ID}\", \"sku_uuid\": \"67e55044-10b1-426f-9247-bb680e5fe0c8\", \"created_at\": {{\"$gte\": \"2026-11-01T00:00:00Z\"}}}}\n\
         {{\"client_id\": {{\"$ne\": null}}}}\n\
         {{\"project_id\": \"nope\"}}\n"
    );
    let (code, stdout, stderr) = common::run(&args, &[], None, &input);
    assert_eq!(code, 1, "{stderr}");
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(reports.len(), 3, "{stdout}");
    let converted = &reports[0]["filter"];
    assert_eq!(converted["client_id"]["$oid"], ID);
    assert_eq!(converted["sku_uuid"]["$binary"]["subType"], "04");
    assert!(converted["created_at"]["$gte"]["$date"].is_string());
    assert_eq!(reports[1]["result"], "ok");
    assert_eq!(
        (
            &reports[2]["result"],
            &reports[2]["path"],
            &reports[2]["status"]
        ),
        (
            &serde_json::json!("rejected"),
            &serde_json::json!("filter.project_id"),
            &serde_json::json!(400)
        )
    );
    assert!(!stdout.contains("nope"), "{stdout}");
}

#[test]
fn comments_dbrefs_and_legacy_binary_are_admitted() {
    let input = format!(
        "{{\"$comment\": \"from the dashboard\", \"owner\": {{\"$ref\": \"users\", \"$id\": {{\"$oid\": \"{ID}\"}}}}, \"blob\": {{\"$binary\": \"AAEC\", \"$type\": \"00\"}}}}"
    );
    let (code, stdout, stderr) = common::run(&["mongo", "check"], &[], None, &input);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(r#""blob":{"$binary":{"base64":"AAEC","subType":"00"}}"#),
        "{stdout}"
    );
    let (code, _, stderr) = common::run(
        &["mongo", "check"],
        &[],
        None,
        r#"{"blob": {"$binary": "AAEC", "$type": "00", "$where": "1"}}"#,
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("not valid extended JSON"), "{stderr}");
}
