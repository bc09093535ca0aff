//! The house rules, enforced by plain `cargo test` as well as `cargo xtask tidy`.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

#[test]
fn the_workspace_is_tidy() {
    let project = xtask::project::Project::locate().unwrap();
    let problems = xtask::tidy::check(&project).unwrap();
    assert!(
        problems.is_empty(),
        "tidy problems:\n{}",
        problems.join("\n")
    );
}
