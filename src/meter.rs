//! [`RateMeter`]: a transfer rate and ETA from progress snapshots, and the figures it gives,
//! [`Rate`]. Pure bookkeeping on instants the caller passes in; nothing here reads a clock.

use crate::types::{BG_SIZE_UNKNOWN, BgJobProgress};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window of `RateMeter::new`.
const DEFAULT_WINDOW: Duration = Duration::from_secs(5);
/// The shortest window `RateMeter::with_window` accepts.
const MIN_WINDOW: Duration = Duration::from_millis(100);
/// Snapshots closer together than `window / MERGE_DIVISOR` are merged (see `RateMeter::record`).
const MERGE_DIVISOR: u32 = 20;
/// Until `window / WARM_UP_DIVISOR` has passed since the baseline, bytes are divided by that span.
const WARM_UP_DIVISOR: u32 = 10;
/// The most snapshots kept. Merging keeps every snapshot at least `window / MERGE_DIVISOR` before
/// the one two places later, so one window holds at most `2 * MERGE_DIVISOR + 2` of them, plus the
/// one before the window; the rest is slack, and the limit is enforced all the same.
const MAX_SAMPLES: usize = 2 * MERGE_DIVISOR as usize + 8;

/// One snapshot as the meter keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    at: Instant,
    bytes: u64,
}

/// The figures a [`RateMeter`] gives: the transfer rate over its recent window and the time left.
///
/// `bytes_per_second` is always finite and at least 0; `eta` is `None` while the total size is
/// unknown or the rate is 0, and `Some(Duration::ZERO)` only once every byte is there.
///
/// ```
/// use bgcopy::meter::{Rate, RateMeter};
/// use bgcopy::*;
/// let rate = RateMeter::new().rate(std::time::Instant::now());
/// assert_eq!(rate, Rate { bytes_per_second: 0.0, eta: None }); // nothing recorded yet
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Bytes per second moved during the meter's window (this session's bytes only); 0 while
    /// stalled for a whole window or before two snapshots.
    pub bytes_per_second: f64,
    /// Time left at `bytes_per_second`: `None` while the total is unknown or the rate is 0;
    /// `Some(Duration::ZERO)` once `bytes_transferred` reached `bytes_total`. Never rounds to zero
    /// while bytes remain, and saturates at [`Duration::MAX`].
    pub eta: Option<Duration>,
}

/// A transfer rate and ETA meter fed with progress snapshots.
///
/// Feed it a snapshot and the instant it was taken with [`record`](RateMeter::record), whenever
/// the display refreshes; ask [`rate`](RateMeter::rate) for the figures at a later instant
/// without a new snapshot (they decay while nothing arrives). The meter only reads the snapshots
/// it is given (from [`get_progress`](crate::BackgroundCopyJob::get_progress) or anywhere else):
/// it adds nothing to the transfer itself. Its figures follow the rules users of other tools
/// asked for:
///
/// - **This session's bytes only, over a recent window.** The first snapshot is the baseline:
///   bytes already on disk before a resume do not count, so resuming at 90 % shows neither a huge
///   rate nor an ETA of 0 s. The rate is the bytes moved during the last window divided by the
///   window, never a lifetime average.
/// - **Decays to zero when stalled.** Between two snapshots the bytes count as arriving at an
///   even pace; after the newest snapshot, none arrive. As time passes without bytes the rate
///   falls, and it is exactly 0 once a whole window passed without any.
/// - **No ETA while it would be a guess.** [`Rate::eta`] is `None` while the total is unknown
///   ([`BG_SIZE_UNKNOWN`]) or the rate is 0 (which includes "fewer than two snapshots"), and
///   `Some(Duration::ZERO)` once every byte is there.
/// - **Odd input is handled, not trusted.** Progress going backwards (a file restarted from zero)
///   starts a new baseline; a snapshot taken before the newest one is ignored. No input panics
///   or yields a NaN or infinite figure.
/// - **Bounded memory.** At most a fixed number of snapshots (48) are kept, however often the
///   caller samples.
///
/// ```
/// use bgcopy::meter::{Rate, RateMeter};
/// use bgcopy::*;
/// use std::time::{Duration, Instant};
///
/// let snapshot = |done| BgJobProgress {
///     bytes_total: 1000,
///     bytes_transferred: done,
///     files_total: 1,
///     files_transferred: 0,
/// };
/// let start = Instant::now();
/// let mut meter = RateMeter::new();
///
/// // Resumed at 90 %: the 900 bytes from before are the baseline, not a rate.
/// assert_eq!(meter.record(start, &snapshot(900)), Rate { bytes_per_second: 0.0, eta: None });
///
/// let rate = meter.record(start + Duration::from_secs(1), &snapshot(950));
/// assert_eq!(rate.bytes_per_second, 50.0);
/// assert_eq!(rate.eta, Some(Duration::from_secs(1)));
///
/// // Stalled: a whole window (5 s) later without a byte, the rate is 0 and there is no ETA.
/// let stalled = meter.rate(start + Duration::from_secs(6));
/// assert_eq!(stalled, Rate { bytes_per_second: 0.0, eta: None });
/// ```
#[derive(Debug, Clone)]
pub struct RateMeter {
    /// The length of the recent window; at least `MIN_WINDOW`.
    window: Duration,
    /// This session's snapshots, oldest first: `at` and `bytes` never decrease; at most
    /// `MAX_SAMPLES`; the front is the baseline or the newest snapshot at or before the window.
    samples: VecDeque<Sample>,
    /// `bytes_total` of the newest snapshot.
    total: u64,
}

impl Default for RateMeter {
    /// The same as [`RateMeter::new`].
    fn default() -> Self {
        RateMeter::new()
    }
}

impl RateMeter {
    /// A meter with a 5-second window.
    ///
    /// Five seconds hold several refreshes of a display updating once a second, which smooths
    /// out the bursts of a TCP transfer, and are short enough that a stall shows within seconds
    /// (the rate is 0 five seconds after the last byte). It is the window of grab's moving
    /// average; aria2 uses 10 s, renderers that only smooth a display use 1 s.
    pub fn new() -> RateMeter {
        RateMeter::with_window(DEFAULT_WINDOW)
    }

    /// A meter whose rate is taken over the last `window`.
    ///
    /// A window shorter than 100 ms (including zero, which cannot divide anything) is taken as
    /// 100 ms: a window shorter than the interval between two refreshes of a display would read
    /// 0 most of the time between snapshots.
    ///
    /// ```
    /// use bgcopy::meter::RateMeter;
    /// use bgcopy::*;
    /// use std::time::Duration;
    /// assert_eq!(RateMeter::with_window(Duration::ZERO).window(), Duration::from_millis(100));
    /// assert_eq!(RateMeter::with_window(Duration::from_secs(10)).window(), Duration::from_secs(10));
    /// ```
    pub fn with_window(window: Duration) -> RateMeter {
        RateMeter {
            window: window.max(MIN_WINDOW),
            samples: VecDeque::new(),
            total: BG_SIZE_UNKNOWN,
        }
    }

    /// The window the rate is taken over (after the clamping of
    /// [`with_window`](RateMeter::with_window)).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Feeds the snapshot `progress`, taken at `at`, and returns the figures at `at`.
    ///
    /// - The first snapshot is the baseline: its bytes do not count, and the figures are
    ///   `Rate { bytes_per_second: 0.0, eta: None }` (or an ETA of zero if it is complete).
    /// - A snapshot with fewer bytes than the previous one (a file restarted from zero) becomes
    ///   the new baseline; the rate starts again from there.
    /// - A snapshot taken before the newest one is ignored: the figures are those at the newest
    ///   snapshot's instant.
    /// - A snapshot taken within a twentieth of the window after the one before the newest
    ///   replaces the newest instead of adding to the history, which keeps memory bounded at any
    ///   sampling rate and shifts the window's edge by at most that twentieth.
    ///
    /// During the first tenth of the window after the baseline, the bytes are divided by that
    /// tenth rather than by the (shorter) time that passed, so that one write landing a
    /// millisecond after a resume cannot show an absurd rate; the figure ramps up instead.
    pub fn record(&mut self, at: Instant, progress: &BgJobProgress) -> Rate {
        let sample = Sample { at, bytes: progress.bytes_transferred };
        match self.samples.back().copied() {
            Some(last) if at < last.at => return self.rate(last.at),
            Some(last) if sample.bytes < last.bytes => {
                self.samples.clear();
                self.samples.push_back(sample);
            }
            // The same instant: the newer figure wins (for a lone baseline it stays the baseline).
            Some(last) if at == last.at => {
                if let Some(back) = self.samples.back_mut() {
                    back.bytes = sample.bytes;
                }
            }
            Some(_) => self.push(sample),
            None => self.samples.push_back(sample),
        }
        self.total = progress.bytes_total;
        self.rate(at)
    }

    /// The figures at `at` from the snapshots recorded so far, without a new one.
    ///
    /// No bytes are assumed to have arrived since the newest snapshot, so the rate falls as `at`
    /// moves on and is 0 once `at` is a whole window past it; the ETA grows with it and is `None`
    /// at 0. An `at` before the newest snapshot reads as that snapshot's instant. The ETA uses the
    /// newest snapshot's `bytes_total` and `bytes_transferred`.
    pub fn rate(&self, at: Instant) -> Rate {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return Rate { bytes_per_second: 0.0, eta: None };
        };
        let at = at.max(last.at);
        let moved = match at.checked_sub(self.window) {
            Some(start) if start > first.at => self.bytes_after(start, *last),
            _ => last.bytes.saturating_sub(first.bytes) as f64,
        };
        let span = at.duration_since(first.at).min(self.window).max(self.window / WARM_UP_DIVISOR);
        let bytes_per_second = moved / span.as_secs_f64();
        let eta = if self.total == BG_SIZE_UNKNOWN {
            None
        } else if last.bytes >= self.total {
            Some(Duration::ZERO)
        } else if bytes_per_second > 0.0 {
            let seconds = (self.total - last.bytes) as f64 / bytes_per_second;
            let eta = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
            Some(eta.max(Duration::from_nanos(1)))
        } else {
            None
        };
        Rate { bytes_per_second, eta }
    }

    /// Appends `sample` (later than the newest, with at least its bytes), merging and pruning.
    fn push(&mut self, sample: Sample) {
        let len = self.samples.len();
        let merge_span = self.window / MERGE_DIVISOR;
        // Keeps every kept triple at least `merge_span` wide: the newest one is dropped when the
        // new sample is that close to the one before it (its bytes are in the new sample).
        if len >= 2 && sample.at.duration_since(self.samples[len - 2].at) < merge_span {
            self.samples.pop_back();
        }
        self.samples.push_back(sample);
        // Only the newest sample at or before the window's start is needed for interpolation.
        if let Some(start) = sample.at.checked_sub(self.window) {
            while self.samples.len() >= 2 && self.samples[1].at <= start {
                self.samples.pop_front();
            }
        }
        while self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// Bytes moved after `start`, which lies after the first sample, up to `last`, the newest;
    /// bytes between two samples count as arriving evenly, and none after the newest.
    fn bytes_after(&self, start: Instant, last: Sample) -> f64 {
        // The first sample after `start`; the one before it is at or before `start`.
        let next = self.samples.partition_point(|s| s.at <= start);
        if next == 0 || next == self.samples.len() {
            return 0.0;
        }
        let (before, after) = (self.samples[next - 1], self.samples[next]);
        let segment = after.at.duration_since(before.at).as_secs_f64();
        let inside = after.at.duration_since(start).as_secs_f64();
        // Bytes never decrease from one sample to the next: the subtractions are exact.
        let share =
            after.bytes.saturating_sub(before.bytes) as f64 * (inside / segment).clamp(0.0, 1.0);
        last.bytes.saturating_sub(after.bytes) as f64 + share
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn progress(total: u64, done: u64) -> BgJobProgress {
        BgJobProgress {
            bytes_total: total,
            bytes_transferred: done,
            files_total: 1,
            files_transferred: 0,
        }
    }

    /// Records `(seconds after t0, bytes)` snapshots of a job of `total` bytes; returns the last figures.
    fn feed(meter: &mut RateMeter, t0: Instant, total: u64, samples: &[(f64, u64)]) -> Rate {
        let mut rate = meter.rate(t0);
        for &(secs, done) in samples {
            rate = meter.record(t0 + Duration::from_secs_f64(secs), &progress(total, done));
        }
        rate
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn default_window_is_five_seconds() {
        assert_eq!(RateMeter::new().window(), Duration::from_secs(5));
        assert_eq!(RateMeter::default().window(), Duration::from_secs(5));
    }

    #[test]
    fn a_zero_window_is_clamped_to_a_tenth_of_a_second() {
        assert_eq!(RateMeter::with_window(Duration::ZERO).window(), MIN_WINDOW);
        assert_eq!(RateMeter::with_window(Duration::from_nanos(1)).window(), MIN_WINDOW);
        assert_eq!(RateMeter::with_window(Duration::from_millis(250)).window().as_millis(), 250);
    }

    #[test]
    fn resuming_at_ninety_percent_counts_only_this_sessions_bytes() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let first = meter.record(t0, &progress(1_000_000, 900_000));
        assert_eq!(first, Rate { bytes_per_second: 0.0, eta: None });
        let rate = feed(&mut meter, t0, 1_000_000, &[(1.0, 910_000), (2.0, 920_000)]);
        assert!(close(rate.bytes_per_second, 10_000.0), "{rate:?}");
        assert_eq!(rate.eta, Some(Duration::from_secs(8)));
    }

    #[test]
    fn rate_is_over_the_recent_window_not_the_lifetime() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        // 10 s at 1000 B/s, then 10 s at 100 B/s: the lifetime average would be 550 B/s.
        let mut samples: Vec<(f64, u64)> = (0..=10).map(|s| (s as f64, s * 1000)).collect();
        samples.extend((11..=20).map(|s| (s as f64, 10_000 + (s - 10) * 100)));
        let rate = feed(&mut meter, t0, u64::MAX - 1, &samples);
        assert!(close(rate.bytes_per_second, 100.0), "{rate:?}");
    }

    #[test]
    fn rate_decays_while_stalled_and_is_zero_after_a_whole_window() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let samples: Vec<(f64, u64)> = (0..=10).map(|s| (s as f64, s * 1000)).collect();
        let moving = feed(&mut meter, t0, 100_000, &samples);
        assert!(close(moving.bytes_per_second, 1000.0), "{moving:?}");
        // Stalled from 10 s on, with snapshots still coming in.
        let mut previous = moving.bytes_per_second;
        for tenth in 101..=150 {
            let rate =
                meter.record(t0 + Duration::from_millis(tenth * 100), &progress(100_000, 10_000));
            assert!(rate.bytes_per_second < previous, "{tenth}: {rate:?}");
            previous = rate.bytes_per_second;
        }
        assert_eq!(meter.rate(t0 + 15 * SECOND), Rate { bytes_per_second: 0.0, eta: None });
    }

    #[test]
    fn rate_without_a_new_sample_reflects_the_stall() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let moving = feed(&mut meter, t0, 100_000, &[(0.0, 0), (5.0, 5000)]);
        let later = meter.rate(t0 + 7 * SECOND);
        assert!(close(later.bytes_per_second, 600.0), "{later:?}"); // 3 of the 5 s had bytes
        assert!(later.eta > moving.eta);
        assert_eq!(meter.rate(t0 + 10 * SECOND).bytes_per_second, 0.0);
        assert_eq!(meter.rate(t0 + 1000 * SECOND), Rate { bytes_per_second: 0.0, eta: None });
    }

    #[test]
    fn no_eta_while_the_total_is_unknown() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let rate = feed(&mut meter, t0, BG_SIZE_UNKNOWN, &[(0.0, 0), (1.0, 1000), (2.0, 2000)]);
        assert!(close(rate.bytes_per_second, 1000.0));
        assert_eq!(rate.eta, None);
    }

    #[test]
    fn no_eta_before_two_samples() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        assert_eq!(meter.rate(t0), Rate { bytes_per_second: 0.0, eta: None });
        assert_eq!(meter.record(t0, &progress(100, 10)), Rate { bytes_per_second: 0.0, eta: None });
        assert_eq!(meter.rate(t0 + SECOND), Rate { bytes_per_second: 0.0, eta: None });
    }

    #[test]
    fn no_eta_while_the_rate_is_zero() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let rate = feed(&mut meter, t0, 100, &[(0.0, 10), (1.0, 10), (2.0, 10)]);
        assert_eq!(rate, Rate { bytes_per_second: 0.0, eta: None });
    }

    #[test]
    fn eta_is_zero_once_transferred_equals_total() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        assert_eq!(meter.record(t0, &progress(100, 100)).eta, Some(Duration::ZERO));
        let rate = feed(&mut meter, t0, 200, &[(0.0, 0), (1.0, 200)]);
        assert_eq!(rate.eta, Some(Duration::ZERO));
        // Still done after the rate decayed to zero.
        assert_eq!(meter.rate(t0 + 100 * SECOND).eta, Some(Duration::ZERO));
    }

    #[test]
    fn eta_never_rounds_to_zero_while_bytes_remain() {
        let (t0, mut meter) = (Instant::now(), RateMeter::with_window(MIN_WINDOW));
        let rate = feed(&mut meter, t0, u64::MAX - 1, &[(0.0, 0), (0.1, u64::MAX - 2)]);
        assert!(rate.eta.is_some_and(|eta| eta > Duration::ZERO), "{rate:?}");
    }

    #[test]
    fn progress_going_backwards_resets_the_baseline() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        feed(&mut meter, t0, 10_000, &[(0.0, 0), (1.0, 5000)]);
        // The file restarted from zero: a new baseline, no negative rate.
        let reset = meter.record(t0 + 2 * SECOND, &progress(10_000, 0));
        assert_eq!(reset, Rate { bytes_per_second: 0.0, eta: None });
        let rate = feed(&mut meter, t0, 10_000, &[(3.0, 1000)]);
        assert!(close(rate.bytes_per_second, 1000.0), "{rate:?}");
        assert_eq!(rate.eta, Some(Duration::from_secs(9)));
    }

    #[test]
    fn samples_out_of_order_are_ignored() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let rate = feed(&mut meter, t0 + SECOND, 10_000, &[(0.0, 0), (1.0, 1000)]);
        assert_eq!(meter.record(t0, &progress(10_000, 9000)), rate);
        assert_eq!(meter.record(t0 + 1500 * Duration::from_millis(1), &progress(50, 0)), rate);
        assert_eq!(meter.rate(t0), rate); // an earlier `at` reads as the newest sample's
        assert_eq!(meter.samples.len(), 2);
    }

    #[test]
    fn a_write_right_after_the_baseline_is_damped_by_the_warm_up() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        let rate = feed(&mut meter, t0, 10_000_000, &[(0.0, 0), (0.001, 65_536)]);
        // 64 KiB over the warm-up span (half a second), not over one millisecond.
        assert!(close(rate.bytes_per_second, 131_072.0), "{rate:?}");
    }

    #[test]
    fn memory_stays_bounded_at_any_sampling_rate() {
        let (t0, mut meter) = (Instant::now(), RateMeter::new());
        for micros in 0..200_000u64 {
            meter.record(
                t0 + Duration::from_micros(micros * 50),
                &progress(u64::MAX - 1, micros * 7),
            );
            assert!(meter.samples.len() <= MAX_SAMPLES);
        }
        assert_eq!(MAX_SAMPLES, 48); // as the type's docs say
        // Ten seconds of samples every 50 µs at 140 000 B/s, still measured right.
        let last = t0 + Duration::from_micros(199_999 * 50);
        assert!(close(meter.rate(last).bytes_per_second, 140_000.0), "{:?}", meter.rate(last));
    }

    #[test]
    fn huge_values_and_far_apart_instants_do_not_panic() {
        let t0 = Instant::now();
        let far = t0.checked_add(Duration::from_secs(u32::MAX as u64 * 1000)).unwrap_or(t0);
        for window in [Duration::ZERO, DEFAULT_WINDOW, Duration::MAX] {
            let mut meter = RateMeter::with_window(window);
            for (at, done, total) in
                [(t0, 0, u64::MAX), (t0, u64::MAX, 0), (far, u64::MAX, 1), (far, 0, 0)]
            {
                for rate in [meter.record(at, &progress(total, done)), meter.rate(far)] {
                    assert!(rate.bytes_per_second.is_finite() && rate.bytes_per_second >= 0.0);
                }
            }
            let rate = feed(&mut meter, far, u64::MAX - 1, &[(1e-9, 1), (2e-9, u64::MAX - 2)]);
            assert!(rate.bytes_per_second.is_finite() && rate.eta.is_some(), "{rate:?}");
        }
    }

    /// A random monotone sample sequence: a window, a start, a total, and `(gap, bytes)` steps.
    fn sequences() -> impl Strategy<Value = (Duration, u64, Option<u64>, Vec<(Duration, u64)>)> {
        let window =
            prop_oneof![Just(DEFAULT_WINDOW), (0u64..10_000).prop_map(Duration::from_millis)];
        let gap = prop_oneof![
            Just(Duration::ZERO),
            (0u64..2_000_000).prop_map(Duration::from_nanos),
            (0u64..20_000).prop_map(Duration::from_millis),
        ];
        let bytes = prop_oneof![Just(0u64), 0u64..100_000, 0u64..(1 << 50)];
        let total = prop_oneof![Just(None), (0u64..(1 << 60)).prop_map(Some)];
        (window, 0u64..(1 << 60), total, prop::collection::vec((gap, bytes), 0..200))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn rate_is_finite_bounded_by_the_window_and_eta_follows_the_rules(
            (window, start, total, steps) in sequences(),
            probe in prop::collection::vec(0u64..30_000, 4),
        ) {
            let mut meter = RateMeter::with_window(window);
            let window = meter.window();
            let t0 = Instant::now();
            let mut fed: Vec<(Instant, u64)> = Vec::new();
            let (mut at, mut done) = (t0, start);
            for (gap, more) in steps {
                at += gap;
                done += more;
                let total_bytes = total.map_or(BG_SIZE_UNKNOWN, |extra| start + extra);
                let recorded = meter.record(at, &progress(total_bytes, done));
                fed.push((at, done));
                prop_assert!(meter.samples.len() <= MAX_SAMPLES);
                for rate in std::iter::once(recorded).chain(
                    probe.iter().map(|&ms| meter.rate(at + Duration::from_millis(ms))),
                ) {
                    prop_assert!(rate.bytes_per_second.is_finite() && rate.bytes_per_second >= 0.0);
                }
                for query in std::iter::once(at).chain(probe.iter().map(|&ms| at + Duration::from_millis(ms))) {
                    let rate = meter.rate(query);
                    // Bytes moved after the newest snapshot at or before the window's start (less
                    // the merge span), over the shortest span the meter divides by.
                    let edge = query.checked_sub(window + window / MERGE_DIVISOR);
                    let reference = fed.iter().rev().find(|(t, _)| edge.is_some_and(|e| *t <= e));
                    let since = reference.unwrap_or(&fed[0]).1;
                    let span = query.duration_since(fed[0].0).min(window).max(window / WARM_UP_DIVISOR);
                    let bound = (done - since) as f64 / span.as_secs_f64();
                    prop_assert!(rate.bytes_per_second <= bound * (1.0 + 1e-9) + 1e-9,
                        "{:?} above {} at {:?}", rate, bound, query.duration_since(t0));
                    if fed.len() < 2 {
                        prop_assert_eq!(rate.bytes_per_second, 0.0);
                    }
                    let finished = total.is_some_and(|extra| done >= start + extra);
                    let no_eta = total.is_none() || (!finished && rate.bytes_per_second == 0.0);
                    prop_assert_eq!(rate.eta.is_none(), no_eta, "{:?}", rate);
                    if finished {
                        prop_assert_eq!(rate.eta, Some(Duration::ZERO));
                    }
                }
            }
        }
    }
}
