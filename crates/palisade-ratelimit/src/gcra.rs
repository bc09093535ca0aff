//! The GCRA decision, as governor makes it, over several limits at once and all-or-nothing.
//!
//! State is one theoretical arrival time (TAT) per limit, in nanoseconds since the limiter's
//! epoch. A TAT of 0 means "no state": every time is at or after 0, so it is read exactly as
//! governor reads a missing state (`tat.unwrap_or(now)`).

use std::cmp;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_clock::Clock;

use crate::Limit;
use crate::decision::{Admitted, InsufficientCapacity, NotUntil};
use crate::spec::MAX_LIMITS;

/// One limit's GCRA constants, computed from its governor `Quota` the way governor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// The weight of one request: the refill interval, at least 1 ns.
    t: u64,
    /// The tolerance: `t × (burst − 1)`.
    tau: u64,
}

impl Gcra {
    pub(crate) fn new(limit: &Limit) -> Self {
        let quota = limit.quota();
        let t = nanos(cmp::max(
            quota.replenish_interval(),
            Duration::from_nanos(1),
        ));
        let tau = t.saturating_mul(u64::from(quota.burst_size().get() - 1));
        Self { t, tau }
    }

    /// The TAT after admitting `n` cells at `t0`, or the earliest time they could pass.
    #[inline]
    fn test(self, tat: u64, t0: u64, extra: u64) -> Result<u64, u64> {
        let earliest = tat.saturating_add(extra).saturating_sub(self.tau);
        if t0 < earliest {
            Err(earliest)
        } else {
            Ok(cmp::max(tat, t0)
                .saturating_add(self.t)
                .saturating_add(extra))
        }
    }

    /// Whole requests that could pass at `t0` with this TAT.
    fn remaining(self, tat: u64, t0: u64) -> u32 {
        let headroom = t0
            .saturating_add(self.tau)
            .saturating_add(self.t)
            .saturating_sub(cmp::max(tat, t0));
        u32::try_from(headroom / self.t).unwrap_or(u32::MAX)
    }
}

/// A spec compiled for deciding: its limits and their GCRA constants, in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rules {
    limits: Box<[(Limit, Gcra)]>,
}

impl Rules {
    pub(crate) fn new(limits: &[Limit]) -> Self {
        Self {
            limits: limits.iter().map(|l| (*l, Gcra::new(l))).collect(),
        }
    }

    /// How many TATs a client's state holds.
    pub(crate) fn width(&self) -> usize {
        self.limits.len()
    }

    /// Each limit's emission interval then each one's tolerance, in microseconds, as text: the
    /// arguments the Redis script reads.
    #[cfg(feature = "redis")]
    pub(crate) fn script_arguments(&self) -> Vec<String> {
        let micros = |nanos: u64| format!("{:.3}", nanos as f64 / 1_000.0);
        let intervals = self.limits.iter().map(|(_, gcra)| micros(gcra.t));
        let tolerances = self.limits.iter().map(|(_, gcra)| micros(gcra.tau));
        intervals.chain(tolerances).collect()
    }

    /// The verdict a Redis script reply describes: `[1, full_in...]` in microseconds when
    /// admitted, `[0, wait, limit number]` when refused; `None` when the reply has another shape.
    #[cfg(feature = "redis")]
    pub(crate) fn verdict_from_reply(&self, reply: &[i64]) -> Option<Verdict> {
        let nanos = |micros: i64| u64::try_from(micros).ok().map(|m| m.saturating_mul(1_000));
        match reply {
            [1, full_in @ ..] if full_in.len() == self.width() => {
                let tats: Option<Vec<u64>> = full_in.iter().map(|&m| nanos(m)).collect();
                Some(Verdict::Admitted(self.snapshot(&tats?, 0)))
            }
            [0, wait, number] => {
                let index = usize::try_from(*number).ok()?.checked_sub(1)?;
                let &(limit, _) = self.limits.get(index)?;
                let wait = nanos(*wait)?;
                Some(Verdict::NotUntil { wait, limit })
            }
            _ => None,
        }
    }

    /// The limits, in spec order.
    #[cfg(feature = "redis")]
    pub(crate) fn limits(&self) -> impl Iterator<Item = &Limit> {
        self.limits.iter().map(|(limit, _)| limit)
    }

    /// Whether `n` cells can ever pass: no more than any limit's burst.
    pub(crate) fn capacity_for(&self, n: NonZeroU32) -> Result<(), InsufficientCapacity> {
        match self.limits.iter().find(|(limit, _)| n > limit.count()) {
            Some((limit, _)) => Err(InsufficientCapacity::new(n, *limit)),
            None => Ok(()),
        }
    }

    /// Decides `n` cells at `t0` against `tats` (one per limit, updated only when every limit
    /// admits them). Call [`capacity_for`](Self::capacity_for) first.
    pub(crate) fn decide(&self, tats: &mut [u64], t0: u64, n: NonZeroU32) -> Verdict {
        let mut refused: Option<(u64, Limit)> = None;
        let mut proposed = [0_u64; MAX_LIMITS];
        for ((limit, gcra), (tat, next)) in self.limits.iter().zip(tats.iter().zip(&mut proposed)) {
            let extra = gcra.t.saturating_mul(u64::from(n.get() - 1));
            match gcra.test(*tat, t0, extra) {
                Ok(new_tat) => *next = new_tat,
                Err(earliest) => {
                    if refused.is_none_or(|(latest, _)| earliest > latest) {
                        refused = Some((earliest, *limit));
                    }
                }
            }
        }
        if let Some((earliest, limit)) = refused {
            return Verdict::NotUntil {
                wait: earliest - t0,
                limit,
            };
        }
        for (tat, next) in tats.iter_mut().zip(proposed) {
            *tat = next;
        }
        Verdict::Admitted(self.snapshot(tats, t0))
    }

    /// Decides `n` cells at `t0` for a spec of one limit whose TAT is `tat`, lock-free: the
    /// TAT moves by compare-and-swap, as governor's in-memory state does.
    #[inline]
    pub(crate) fn decide_atomic(&self, tat: &AtomicU64, t0: u64, n: NonZeroU32) -> Verdict {
        let Some(&(limit, gcra)) = self.limits.first() else {
            return Verdict::Admitted(self.snapshot(&[], t0));
        };
        let extra = gcra.t.saturating_mul(u64::from(n.get() - 1));
        let mut current = tat.load(Ordering::Relaxed);
        loop {
            match gcra.test(current, t0, extra) {
                Err(earliest) => {
                    return Verdict::NotUntil {
                        wait: earliest - t0,
                        limit,
                    };
                }
                Ok(next) => {
                    match tat.compare_exchange_weak(
                        current,
                        next,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            return Verdict::Admitted(Snapshot {
                                gcra,
                                tat: next,
                                t0,
                                limit,
                            });
                        }
                        Err(actual) => current = actual,
                    }
                }
            }
        }
    }

    /// The state of the tightest limit: fewest remaining, then longest until full.
    pub(crate) fn snapshot(&self, tats: &[u64], t0: u64) -> Snapshot {
        let mut states = self
            .limits
            .iter()
            .zip(tats)
            .map(|(&(limit, gcra), &tat)| Snapshot {
                gcra,
                tat,
                t0,
                limit,
            });
        let first = states.next().unwrap_or(Snapshot {
            gcra: Gcra { t: 1, tau: 0 },
            tat: t0,
            t0,
            limit: Limit::new(NonZeroU32::MIN, NonZeroU32::MIN, crate::Unit::Second),
        });
        // One limit (the common case) needs no comparison, and so no division.
        states.fold(first, |best, here| {
            let key = |s: &Snapshot| (s.remaining(), cmp::Reverse(s.full_in()));
            if key(&here) < key(&best) { here } else { best }
        })
    }

    /// What a client with no history sees: every limit at its full burst.
    pub(crate) fn fresh(&self) -> Admitted {
        let zeros = [0; MAX_LIMITS];
        self.snapshot(zeros.get(..self.width()).unwrap_or_default(), 0)
            .into()
    }

    /// The time from which forgetting this state loses nothing: the latest TAT.
    pub(crate) fn settled_at(tats: &[u64]) -> u64 {
        tats.iter().copied().max().unwrap_or(0)
    }
}

/// What [`Rules::decide`] found (a wait in nanoseconds); the limiters turn it into the public
/// shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Admitted(Snapshot),
    NotUntil { wait: u64, limit: Limit },
}

/// The tightest limit's state after a decision; the figures are worked out only when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    gcra: Gcra,
    tat: u64,
    t0: u64,
    pub(crate) limit: Limit,
}

impl Snapshot {
    /// Whole requests that could pass now.
    pub(crate) fn remaining(&self) -> u32 {
        self.gcra.remaining(self.tat, self.t0)
    }

    /// Nanoseconds until the limit is back to its full burst.
    pub(crate) fn full_in(&self) -> u64 {
        self.tat.saturating_sub(self.t0)
    }
}

impl From<Snapshot> for Admitted {
    fn from(snapshot: Snapshot) -> Self {
        Self::new(snapshot)
    }
}

impl Verdict {
    /// The public shape; a refusal's earliest instant is read off `clock`.
    #[inline]
    pub(crate) fn into_result(self, clock: &dyn Clock) -> Result<Admitted, NotUntil> {
        match self {
            Self::Admitted(snapshot) => Ok(snapshot.into()),
            Self::NotUntil { wait, limit, .. } => Err(not_until(clock, wait, limit)),
        }
    }
}

/// A refusal, read off the clock: out of line, off an admitted request's path.
#[cold]
#[inline(never)]
fn not_until(clock: &dyn Clock, wait: u64, limit: Limit) -> NotUntil {
    let wait = Duration::from_nanos(wait);
    NotUntil::new(clock.now() + wait, wait, limit)
}

/// A duration as whole nanoseconds, saturating (584 years).
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(spec: &str) -> Rules {
        let spec: crate::Spec = spec.parse().unwrap_or_else(|e| unreachable!("{e}"));
        Rules::new(spec.limits())
    }

    const ONE: NonZeroU32 = NonZeroU32::MIN;
    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn a_burst_passes_then_one_request_per_refill_interval() {
        let rules = rules("5/minute");
        let mut tats = [0];
        for left in (0..5).rev() {
            match rules.decide(&mut tats, 0, ONE) {
                Verdict::Admitted(s) => assert_eq!(s.remaining(), left),
                other @ Verdict::NotUntil { .. } => unreachable!("{other:?}"),
            }
        }
        assert_eq!(
            rules.decide(&mut tats, 0, ONE),
            Verdict::NotUntil {
                wait: 12 * SECOND,
                limit: "5/minute".parse().unwrap_or_else(|e| unreachable!("{e}")),
            }
        );
        assert!(matches!(
            rules.decide(&mut tats, 12 * SECOND, ONE),
            Verdict::Admitted(_)
        ));
    }

    #[test]
    fn a_refusal_by_one_limit_spends_nothing_from_the_others() {
        let rules = rules("10/second; 2/minute");
        let mut tats = [0, 0];
        assert!(matches!(
            rules.decide(&mut tats, 0, ONE),
            Verdict::Admitted(_)
        ));
        assert!(matches!(
            rules.decide(&mut tats, 0, ONE),
            Verdict::Admitted(_)
        ));
        let before = tats;
        assert!(matches!(
            rules.decide(&mut tats, 0, ONE),
            Verdict::NotUntil { .. }
        ));
        assert_eq!(tats, before, "the per-second limit kept its quota");
    }

    #[test]
    fn the_tightest_limit_is_reported() {
        let rules = rules("10/second; 2/minute");
        let mut tats = [0, 0];
        match rules.decide(&mut tats, 0, ONE) {
            Verdict::Admitted(s) => {
                assert_eq!(s.remaining(), 1);
                assert_eq!(s.limit.to_string(), "2/minute");
            }
            other @ Verdict::NotUntil { .. } => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn more_than_the_burst_can_never_pass() {
        let rules = rules("10/second; 3/minute");
        let four = NonZeroU32::new(4).unwrap_or(ONE);
        let err = rules.capacity_for(four).err();
        assert_eq!(err.map(|e| e.limit().to_string()), Some("3/minute".into()));
        assert!(
            rules
                .capacity_for(NonZeroU32::new(3).unwrap_or(ONE))
                .is_ok()
        );
    }

    #[test]
    fn settled_at_is_the_latest_tat() {
        assert_eq!(Rules::settled_at(&[3, 9, 4]), 9);
        assert_eq!(Rules::settled_at(&[]), 0);
    }
}
