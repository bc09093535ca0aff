//! `SpanSet`: the parts of a statement where literals are allowed, as a union of spans, so
//! a lookup costs a logarithm whatever the statement's size (a list of spans made a select
//! list of 100,000 constants quadratic).

use std::collections::BTreeMap;

use sqlparser::tokenizer::{Location, Span};

/// A union of spans, kept as disjoint ranges keyed by their start.
#[derive(Debug, Default)]
pub(crate) struct SpanSet {
    ranges: BTreeMap<Location, Location>,
}

impl SpanSet {
    /// Adds `span`, merging it with the ranges it touches.
    pub(crate) fn insert(&mut self, span: Span) {
        let (mut start, mut end) = (span.start, span.end);
        if end < start {
            return;
        }
        // A range that starts before `span` and reaches into it.
        if let Some((&before, &before_end)) = self.ranges.range(..=start).next_back()
            && before_end >= start
        {
            start = before;
            end = end.max(before_end);
        }
        // Ranges that start inside the merged span.
        let inside: Vec<Location> = self.ranges.range(start..=end).map(|(&s, _)| s).collect();
        for key in inside {
            if let Some(range_end) = self.ranges.remove(&key) {
                end = end.max(range_end);
            }
        }
        self.ranges.insert(start, end);
    }

    /// Whether `at` is inside one of the spans.
    pub(crate) fn contains(&self, at: Location) -> bool {
        self.ranges
            .range(..=at)
            .next_back()
            .is_some_and(|(_, &end)| at <= end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(a: u64, b: u64) -> Span {
        Span::new(Location::new(1, a), Location::new(1, b))
    }

    #[test]
    fn nested_overlapping_and_disjoint_spans_merge() {
        let mut set = SpanSet::default();
        set.insert(span(10, 20));
        set.insert(span(12, 14));
        set.insert(span(30, 40));
        set.insert(span(18, 31));
        set.insert(span(50, 55));
        for column in [10, 15, 20, 25, 31, 40, 50, 55] {
            assert!(set.contains(Location::new(1, column)), "{column}");
        }
        for column in [9, 41, 49, 56] {
            assert!(!set.contains(Location::new(1, column)), "{column}");
        }
        assert!(!set.contains(Location::new(2, 15)));
        assert_eq!(set.ranges.len(), 2);
    }
}
