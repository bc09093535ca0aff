//! Bounded text for events: cut on a character boundary, never inside one.

/// The longest `db.query.text`, in characters (the reference library logs `sql[:500]`).
pub const MAX_QUERY_TEXT_CHARS: usize = 500;

/// The longest `db.query.summary`, in characters (OpenTelemetry's limit for it).
pub const MAX_SUMMARY_CHARS: usize = 255;

/// `text` cut to at most `max` characters, on a character boundary.
pub(crate) fn cut_chars(mut text: String, max: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::cut_chars;

    #[test]
    fn cuts_on_a_character_boundary() {
        assert_eq!(cut_chars("abc".into(), 5), "abc");
        assert_eq!(cut_chars("abcdef".into(), 3), "abc");
        assert_eq!(cut_chars("ééé".into(), 2), "éé");
        assert_eq!(cut_chars("日本語".into(), 0), "");
    }
}
