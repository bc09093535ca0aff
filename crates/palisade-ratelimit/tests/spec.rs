//! The text forms users write, their canonical Display, and errors that point at the bad part.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::num::NonZeroU32;
use std::time::Duration;

use palisade_ratelimit::{Limit, Spec, SpecErrorKind, Unit};
use proptest::prelude::*;

fn one(text: &str) -> Limit {
    text.parse().unwrap()
}

#[test]
fn the_forms_users_write_parse() {
    let cases = [
        ("5/minute", 5, 60, "5/minute"),
        ("20/minute", 20, 60, "20/minute"),
        ("10/second", 10, 1, "10/second"),
        ("100 per hour", 100, 3_600, "100/hour"),
        ("1000/day", 1000, 86_400, "1000/day"),
        ("10 per 30 seconds", 10, 30, "10/30 seconds"),
        ("10/30 seconds", 10, 30, "10/30 seconds"),
        ("  7 PER Minutes ", 7, 60, "7/minute"),
        ("3 / 2 hours", 3, 7_200, "3/2 hours"),
        ("1/month", 1, 30 * 86_400, "1/month"),
        ("2 per year", 2, 360 * 86_400, "2/year"),
    ];
    for (text, count, seconds, canonical) in cases {
        let limit = one(text);
        assert_eq!(limit.count().get(), count, "{text}");
        assert_eq!(limit.period(), Duration::from_secs(seconds), "{text}");
        assert_eq!(limit.to_string(), canonical, "{text}");
        assert_eq!(one(canonical), limit, "{text}");
    }
    assert_eq!(one("5/minute").refill_interval(), Duration::from_secs(12));
    assert_eq!(
        one("10 per 30 seconds").refill_interval(),
        Duration::from_secs(3)
    );
    assert_eq!(
        one("3/second").refill_interval(),
        Duration::from_nanos(333_333_333)
    );
}

#[test]
fn several_limits_join_with_any_separator() {
    for text in [
        "5/minute; 100 per hour",
        "5/minute,100/hour",
        "5 per minute | 100/hour",
    ] {
        let spec: Spec = text.parse().unwrap();
        assert_eq!(spec.to_string(), "5/minute; 100/hour", "{text}");
        assert_eq!(spec.limits().first().unwrap().unit(), Unit::Minute);
    }
    let single: Spec = one("5/minute").into();
    assert_eq!(single.limits().len(), 1);
    assert!(Spec::new(vec![]).is_err());
}

#[test]
fn errors_name_the_problem_and_point_at_it() {
    let cases = [
        (
            "",
            SpecErrorKind::EmptyLimit,
            0..0,
            "rate limit spec has an empty limit at bytes 0..0",
        ),
        (
            "5/minute;",
            SpecErrorKind::EmptyLimit,
            9..9,
            "rate limit spec has an empty limit at bytes 9..9",
        ),
        (
            "five/minute",
            SpecErrorKind::CountInvalid,
            0..4,
            "rate limit spec has a count that is not a whole number from 1 `five` at bytes 0..4",
        ),
        (
            "0/minute",
            SpecErrorKind::CountInvalid,
            0..1,
            "rate limit spec has a count that is not a whole number from 1 `0` at bytes 0..1",
        ),
        (
            "-5/minute",
            SpecErrorKind::CountInvalid,
            0..2,
            "rate limit spec has a count that is not a whole number from 1 `-5` at bytes 0..2",
        ),
        (
            "5 minute",
            SpecErrorKind::SeparatorMissing,
            0..8,
            "rate limit spec has no `/` or `per` between count and unit in `5 minute` at bytes 0..8",
        ),
        (
            "1/second; 5/fortnight",
            SpecErrorKind::UnitUnknown,
            12..21,
            "rate limit spec has an unknown unit `fortnight` at bytes 12..21",
        ),
        (
            "5 per 0 seconds",
            SpecErrorKind::MultipleInvalid,
            6..7,
            "rate limit spec has a unit multiple that is not a whole number from 1 `0` at bytes 6..7",
        ),
        (
            "99999999999/second",
            SpecErrorKind::CountInvalid,
            0..11,
            "rate limit spec has a count that is not a whole number from 1 `99999999999` at bytes 0..11",
        ),
    ];
    for (text, kind, span, message) in cases {
        let err = text.parse::<Spec>().unwrap_err();
        assert_eq!(err.kind(), kind, "{text:?}");
        assert_eq!(err.span(), span, "{text:?}");
        assert_eq!(err.to_string(), message, "{text:?}");
    }
    let too_many = vec!["1/second"; 17].join(";");
    assert_eq!(
        too_many.parse::<Spec>().unwrap_err().kind(),
        SpecErrorKind::TooManyLimits { max: 16 }
    );
    assert_eq!(
        "1".repeat(2000).parse::<Spec>().unwrap_err().kind(),
        SpecErrorKind::TooLong { max: 1024 }
    );
    assert_eq!(
        "1/second; 2/minute".parse::<Limit>().unwrap_err().kind(),
        SpecErrorKind::MoreThanOneLimit
    );
}

#[cfg(feature = "serde")]
#[test]
fn serde_uses_the_text_form() {
    let spec: Spec = "5 per minute; 100 per hour".parse().unwrap();
    assert_eq!(
        serde_json::to_string(&spec).unwrap(),
        r#""5/minute; 100/hour""#
    );
    assert_eq!(
        serde_json::from_str::<Spec>(r#""5/minute;100/hour""#).unwrap(),
        spec
    );
    let err = serde_json::from_str::<Spec>(r#""5/fortnight""#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("rate limit spec has an unknown unit `fortnight`"),
        "{err}"
    );
}

fn unit() -> impl Strategy<Value = Unit> {
    prop_oneof![
        Just(Unit::Second),
        Just(Unit::Minute),
        Just(Unit::Hour),
        Just(Unit::Day),
        Just(Unit::Month),
        Just(Unit::Year),
    ]
}

fn limit() -> impl Strategy<Value = Limit> {
    (1..=u32::MAX, 1..=1000u32, unit()).prop_map(|(count, multiple, unit)| {
        Limit::new(
            NonZeroU32::new(count).unwrap(),
            NonZeroU32::new(multiple).unwrap(),
            unit,
        )
    })
}

proptest! {
    #[test]
    fn display_round_trips(limits in proptest::collection::vec(limit(), 1..=16)) {
        let spec = Spec::new(limits).unwrap();
        let text = spec.to_string();
        prop_assert_eq!(text.parse::<Spec>().unwrap(), spec);
    }

    #[test]
    fn arbitrary_text_never_panics_and_spans_stay_inside(text in "\\PC{0,64}") {
        if let Err(err) = text.parse::<Spec>() {
            prop_assert!(err.span().end <= text.len());
            prop_assert!(err.span().start <= err.span().end);
        }
    }
}
