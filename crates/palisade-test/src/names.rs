//! Names for what tests create in shared services.

/// A name no other test, process or earlier run uses, for keys and objects a test creates in
/// a shared service: `TEST-PID-NANOS`.
///
/// ```
/// let a = palisade_test::unique_name("cache");
/// assert!(a.starts_with("cache-"));
/// assert_ne!(a, palisade_test::unique_name("cache"));
/// ```
#[must_use]
pub fn unique_name(test: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{test}-{}-{nanos}-{count}", std::process::id())
}
