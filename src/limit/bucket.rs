//! The token bucket behind a bandwidth cap: bytes may go as fast as the cap allows, with a burst
//! of at most a quarter second's worth of it (DESIGN.md 5.3).
//!
//! The bucket reads no clock: every call takes `now`, the time since an arbitrary origin on a
//! monotonic clock (the engine's [`Clock`](crate::clock::Clock)), so tests move time by hand.
//!
//! **Decisions.**
//!
//! - *Burst.* The bucket holds at most `rate / 4` bytes (a quarter second), and at least 1 byte,
//!   so that a cap below 4 B/s can still let a byte through.
//! - *Starts full.* A new bucket holds one burst, so a transfer's first read does not wait. The
//!   bound "over any interval `T`, at most `rate × T + burst` bytes" holds from the start, so
//!   starting full does not break the cap, but it does mean one bucket per cap (per job, per
//!   manager), never one per connection or per file, or each would bring its own burst.
//! - *Integer tokens, no drift.* Tokens are counted in nano-bytes (`1 byte = 10⁹` units): one
//!   nanosecond at `r` B/s earns exactly `r` units, so refills are exact and a run of any length
//!   never drifts from `rate × T`. All arithmetic is in `u128` and saturates; the largest
//!   capacity (`u64::MAX / 4` bytes) is far below its range.
//! - *Rounding.* A grant hands out whole bytes and keeps the fraction; a wait rounds up to the
//!   next nanosecond, so sleeping it and asking again always yields a grant.
//! - *A zero rate* is taken as 1 B/s, the smallest cap: the public API never lets 0 through as a
//!   cap (`Some(0)` is `E_INVALIDARG`, a manager's 0 means no cap), and a bucket that never
//!   grants would stall a transfer forever.
//! - *Time going backwards* (a `now` earlier than one seen before) adds no tokens and takes none.

use std::time::Duration;

/// Token units per byte: tokens are nano-bytes, so a nanosecond at `r` B/s earns `r` units.
const UNIT: u128 = 1_000_000_000;

/// The answer of [`TokenBucket::grant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// This many bytes may go now; they are taken from the bucket. `1..=want` and at most the
    /// burst (or 0 when 0 bytes were wanted).
    Now(u64),
    /// No byte may go before this much time has passed (exact to the nanosecond, rounded
    /// up): asking again after it yields [`Grant::Now`].
    Wait(Duration),
}

/// A token bucket for one bandwidth cap (see the [module docs](self)).
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    /// The cap in bytes per second; at least 1.
    rate: u64,
    /// The most tokens, in units: the burst (`rate / 4`, at least 1 byte) times [`UNIT`].
    capacity: u128,
    /// Tokens in units, at most `capacity`, as of `updated`.
    tokens: u128,
    /// The latest `now` seen: the time `tokens` were brought up to date.
    updated: Duration,
}

impl TokenBucket {
    /// A bucket for `bytes_per_second` (0 is taken as 1), full: one burst may go at once.
    pub(crate) fn new(bytes_per_second: u64, now: Duration) -> TokenBucket {
        let rate = bytes_per_second.max(1);
        let capacity = capacity(rate);
        TokenBucket { rate, capacity, tokens: capacity, updated: now }
    }

    /// Changes the cap on a running transfer, effective at once: the tokens earned until `now`
    /// count at the old rate, then clamp to the new burst (so a lowered cap holds from the next
    /// grant on); a raised cap earns its larger burst at the new rate, not as a gift.
    pub(crate) fn set_rate(&mut self, bytes_per_second: u64, now: Duration) {
        self.refill(now);
        self.rate = bytes_per_second.max(1);
        self.capacity = capacity(self.rate);
        self.tokens = self.tokens.min(self.capacity);
    }

    /// The cap in bytes per second (after taking 0 as 1).
    pub(crate) fn rate(&self) -> u64 {
        self.rate
    }

    /// The most bytes one grant can give: `rate / 4`, at least 1.
    pub(crate) fn burst(&self) -> u64 {
        whole_bytes(self.capacity)
    }

    /// Asks to send `want` bytes at `now`: [`Grant::Now`] with `min(want, available)` bytes,
    /// taken from the bucket, when at least one byte is available; otherwise [`Grant::Wait`]
    /// with the time until one is. Wanting 0 bytes is `Now(0)`.
    pub(crate) fn grant(&mut self, want: u64, now: Duration) -> Grant {
        self.refill(now);
        if want == 0 {
            return Grant::Now(0);
        }
        let available = self.tokens / UNIT;
        if available == 0 {
            return Grant::Wait(self.time_to(UNIT, self.tokens));
        }
        let granted = available.min(u128::from(want));
        self.tokens -= granted * UNIT;
        // `granted` is at most `want`, a u64.
        Grant::Now(u64::try_from(granted).unwrap_or(want))
    }

    /// Gives back `unused` bytes of a grant that were not sent (a short read), at `now`; the
    /// bucket never holds more than one burst afterwards.
    pub(crate) fn refund(&mut self, unused: u64, now: Duration) {
        self.refill(now);
        self.tokens = self.tokens.saturating_add(u128::from(unused) * UNIT).min(self.capacity);
    }

    /// How long after `now` until `min(want, burst)` bytes are available, without taking any:
    /// zero when they already are (and for `want == 0`). Rounded up to the nanosecond, so a
    /// [`grant`](TokenBucket::grant) of `want` after that long gets at least that many.
    pub(crate) fn wait_for(&self, want: u64, now: Duration) -> Duration {
        let target = u128::from(want.min(self.burst())) * UNIT;
        self.time_to(target, self.tokens_at(now))
    }

    /// The tokens at `now`: those held plus what the time since `updated` earned, up to the
    /// capacity (a `now` before `updated` earns nothing).
    fn tokens_at(&self, now: Duration) -> u128 {
        let elapsed = now.saturating_sub(self.updated).as_nanos();
        let earned = elapsed.saturating_mul(u128::from(self.rate));
        self.tokens.saturating_add(earned).min(self.capacity)
    }

    /// Brings the tokens up to `now`.
    fn refill(&mut self, now: Duration) {
        self.tokens = self.tokens_at(now);
        self.updated = self.updated.max(now);
    }

    /// The time from holding `tokens` units until holding `target`, rounded up to the
    /// nanosecond. `target` is at most the capacity, so the result is at most a second.
    fn time_to(&self, target: u128, tokens: u128) -> Duration {
        let missing = target.saturating_sub(tokens);
        let nanos = missing.div_ceil(u128::from(self.rate));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// The capacity in units for `rate`: a quarter second of it, at least one byte.
fn capacity(rate: u64) -> u128 {
    u128::from((rate / 4).max(1)) * UNIT
}

/// `units` in whole bytes (fractions dropped); never above `u64::MAX` for a capacity.
fn whole_bytes(units: u128) -> u64 {
    u64::try_from(units / UNIT).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: Duration = Duration::from_millis(1);
    const NS: Duration = Duration::from_nanos(1);

    /// Takes every whole byte available at `now`; returns how many.
    fn drain(bucket: &mut TokenBucket, now: Duration) -> u64 {
        match bucket.grant(u64::MAX, now) {
            Grant::Now(n) => n,
            Grant::Wait(_) => 0,
        }
    }

    #[test]
    fn a_new_bucket_starts_full_with_a_quarter_second_of_burst() {
        let mut bucket = TokenBucket::new(1000, Duration::ZERO);
        assert_eq!((bucket.rate(), bucket.burst()), (1000, 250));
        assert_eq!(bucket.grant(10_000, Duration::ZERO), Grant::Now(250));
        assert_eq!(bucket.grant(1, Duration::ZERO), Grant::Wait(MS));
    }

    #[test]
    fn burst_after_idle_is_a_quarter_second() {
        let mut bucket = TokenBucket::new(1_000_000, Duration::ZERO);
        drain(&mut bucket, Duration::ZERO);
        assert_eq!(bucket.grant(u64::MAX, Duration::from_secs(3600)), Grant::Now(250_000));
        assert!(matches!(bucket.grant(1, Duration::from_secs(3600)), Grant::Wait(_)));
    }

    #[test]
    fn burst_is_at_least_one_byte() {
        for (rate, burst) in [(1, 1), (3, 1), (4, 1), (7, 1), (8, 2), (u64::MAX, u64::MAX / 4)] {
            assert_eq!(TokenBucket::new(rate, Duration::ZERO).burst(), burst, "rate {rate}");
        }
    }

    #[test]
    fn grant_takes_the_smaller_of_want_and_available() {
        let mut bucket = TokenBucket::new(1000, Duration::ZERO);
        assert_eq!(bucket.grant(100, Duration::ZERO), Grant::Now(100));
        assert_eq!(bucket.grant(1000, Duration::ZERO), Grant::Now(150));
        assert_eq!(bucket.grant(0, Duration::ZERO), Grant::Now(0));
        assert_eq!(bucket.grant(5, 3 * MS), Grant::Now(3));
    }

    #[test]
    fn a_lowered_rate_takes_effect_at_the_next_grant() {
        let mut bucket = TokenBucket::new(1_000_000, Duration::ZERO);
        bucket.set_rate(1000, Duration::ZERO);
        assert_eq!(bucket.rate(), 1000);
        assert_eq!(bucket.grant(u64::MAX, Duration::ZERO), Grant::Now(250));
        assert_eq!(bucket.grant(u64::MAX, Duration::ZERO), Grant::Wait(MS));
        assert_eq!(bucket.grant(u64::MAX, 10 * MS), Grant::Now(10));
    }

    #[test]
    fn a_raised_rate_earns_its_burst_at_the_new_rate() {
        let mut bucket = TokenBucket::new(1000, Duration::ZERO);
        drain(&mut bucket, Duration::ZERO);
        bucket.set_rate(1_000_000, 2 * MS); // 2 bytes earned at the old rate
        assert_eq!(bucket.grant(u64::MAX, 3 * MS), Grant::Now(1002));
        assert_eq!(bucket.grant(u64::MAX, Duration::from_secs(10)), Grant::Now(250_000));
    }

    #[test]
    fn sleeping_a_wait_and_asking_again_yields_a_grant() {
        for rate in [1, 3, 7, 1000, 999_999_937, 1_000_000_007, u64::MAX] {
            let mut bucket = TokenBucket::new(rate, Duration::ZERO);
            let mut now = Duration::ZERO;
            for round in 0..50 {
                drain(&mut bucket, now);
                let Grant::Wait(wait) = bucket.grant(1, now) else {
                    panic!("rate {rate}: no wait")
                };
                assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
                assert_eq!(bucket.wait_for(1, now), wait);
                // Not a nanosecond early, and enough: the wait is exact.
                assert!(
                    matches!(bucket.grant(1, now + wait - NS), Grant::Wait(_)),
                    "{rate} {round}"
                );
                now += wait;
                assert_eq!(bucket.grant(1, now), Grant::Now(1), "rate {rate}, round {round}");
                now += NS * (round % 3);
            }
        }
    }

    #[test]
    fn wait_for_is_the_time_until_want_or_burst_without_taking() {
        let mut bucket = TokenBucket::new(1000, Duration::ZERO);
        assert_eq!(bucket.wait_for(250, Duration::ZERO), Duration::ZERO);
        drain(&mut bucket, Duration::ZERO);
        assert_eq!(bucket.wait_for(0, Duration::ZERO), Duration::ZERO);
        assert_eq!(bucket.wait_for(100, Duration::ZERO), 100 * MS);
        assert_eq!(bucket.wait_for(100, 40 * MS), 60 * MS);
        assert_eq!(bucket.wait_for(u64::MAX, Duration::ZERO), 250 * MS); // capped at the burst
        assert_eq!(bucket.wait_for(100, Duration::ZERO), 100 * MS); // nothing was taken
        assert_eq!(bucket.grant(100, 100 * MS), Grant::Now(100));
    }

    #[test]
    fn a_refund_gives_tokens_back_but_never_above_the_burst() {
        let mut bucket = TokenBucket::new(1000, Duration::ZERO);
        assert_eq!(bucket.grant(200, Duration::ZERO), Grant::Now(200));
        bucket.refund(150, Duration::ZERO); // a short read: 50 of the 200 were sent
        assert_eq!(bucket.grant(u64::MAX, Duration::ZERO), Grant::Now(200));
        bucket.refund(u64::MAX, Duration::ZERO);
        assert_eq!(bucket.grant(u64::MAX, Duration::ZERO), Grant::Now(250));
    }

    #[test]
    fn huge_rates_never_overflow_or_panic() {
        let mut bucket = TokenBucket::new(u64::MAX, Duration::ZERO);
        assert_eq!(bucket.grant(u64::MAX, Duration::ZERO), Grant::Now(u64::MAX / 4));
        assert_eq!(bucket.grant(1, Duration::ZERO), Grant::Wait(NS));
        assert_eq!(bucket.wait_for(u64::MAX, Duration::ZERO), 250 * MS);
        assert_eq!(bucket.grant(u64::MAX, Duration::MAX), Grant::Now(u64::MAX / 4));
        bucket.refund(u64::MAX, Duration::MAX);
        bucket.set_rate(u64::MAX, Duration::MAX);
        assert_eq!(bucket.wait_for(u64::MAX, Duration::MAX), Duration::ZERO);
        assert_eq!(bucket.grant(u64::MAX, Duration::MAX), Grant::Now(u64::MAX / 4));
    }

    #[test]
    fn tiny_rates_never_overflow_or_panic() {
        let mut bucket = TokenBucket::new(1, Duration::MAX - Duration::from_secs(2));
        assert_eq!(bucket.grant(u64::MAX, Duration::MAX - Duration::from_secs(2)), Grant::Now(1));
        assert_eq!(bucket.wait_for(u64::MAX, Duration::MAX - Duration::from_secs(2)), 1000 * MS);
        assert_eq!(bucket.grant(5, Duration::MAX), Grant::Now(1)); // the burst is one byte
        assert_eq!(bucket.grant(5, Duration::MAX), Grant::Wait(1000 * MS));
    }

    #[test]
    fn a_zero_rate_is_taken_as_one_byte_per_second() {
        let mut bucket = TokenBucket::new(0, Duration::ZERO);
        assert_eq!((bucket.rate(), bucket.burst()), (1, 1));
        bucket.set_rate(0, Duration::ZERO);
        assert_eq!(bucket.rate(), 1);
        assert_eq!(bucket.grant(10, Duration::ZERO), Grant::Now(1));
        assert_eq!(bucket.grant(10, Duration::ZERO), Grant::Wait(Duration::from_secs(1)));
    }

    #[test]
    fn time_going_backwards_adds_and_takes_nothing() {
        let mut bucket = TokenBucket::new(1000, Duration::from_secs(10));
        drain(&mut bucket, Duration::from_secs(10));
        assert_eq!(bucket.grant(1, Duration::from_secs(5)), Grant::Wait(MS));
        assert_eq!(bucket.wait_for(1, Duration::ZERO), MS);
        assert_eq!(bucket.grant(1, Duration::from_secs(10) + MS), Grant::Now(1));
    }

    #[test]
    fn long_runs_do_not_drift() {
        // 1 000 003 B/s asked every 7 ms earns 7000.021 bytes a step: a float bucket would drift.
        let (rate, step, steps) = (1_000_003u64, 7 * MS, 100_000u32);
        let mut bucket = TokenBucket::new(rate, Duration::ZERO);
        let mut sent = drain(&mut bucket, Duration::ZERO);
        for i in 1..=steps {
            sent += drain(&mut bucket, step * i);
        }
        let elapsed = (step * steps).as_nanos();
        let exact = u128::from(bucket.burst()) + u128::from(rate) * elapsed / UNIT;
        assert_eq!(u128::from(sent), exact);
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Grant(u64),
        /// Gives back this share (out of 256) of the last grant.
        Refund(u8),
        SetRate(u64),
        Step(Duration),
    }

    fn rates() -> impl Strategy<Value = u64> {
        prop_oneof![1u64..16, 1u64..100_000, 1u64..1_000_000_000_000, Just(u64::MAX)]
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            4 => (0u64..1_000_000).prop_map(Op::Grant),
            1 => Just(Op::Grant(u64::MAX)),
            2 => any::<u8>().prop_map(Op::Refund),
            1 => rates().prop_map(Op::SetRate),
            4 => (0u64..2_000_000_000).prop_map(|n| Op::Step(Duration::from_nanos(n))),
        ];
        prop::collection::vec(op, 1..200)
    }

    /// Units the bucket earns from `from` to `to` at the rates in effect (`rates[i]` from
    /// `times[i]` to `times[i + 1]`).
    fn accrued(times: &[Duration], rates: &[u64], from: usize, to: usize) -> u128 {
        (from..to).map(|i| (times[i + 1] - times[i]).as_nanos() * u128::from(rates[i])).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn bytes_sent_never_exceed_rate_times_interval_plus_burst(rate in rates(), ops in ops()) {
            let mut bucket = TokenBucket::new(rate, Duration::ZERO);
            let mut now = Duration::ZERO;
            let mut last_grant = 0u64;
            // After call i: the time, the rate and capacity in effect, the net bytes sent so far.
            // The burst as the design states it, not as the bucket computes it.
            let burst = |rate: u64| u128::from((rate / 4).max(1)) * UNIT;
            let (mut times, mut rates, mut caps, mut sent) =
                (vec![now], vec![bucket.rate()], vec![burst(rate.max(1))], vec![0i128]);
            for op in ops {
                let mut net = *sent.last().unwrap();
                match op {
                    Op::Grant(want) => match bucket.grant(want, now) {
                        Grant::Now(n) => {
                            prop_assert!(n <= want && n <= bucket.burst() && (n > 0 || want == 0));
                            net += i128::from(n);
                            last_grant = n;
                        }
                        Grant::Wait(wait) => {
                            prop_assert!(wait > Duration::ZERO && want > 0);
                            // Sleeping the wait yields a grant (asked of a copy: time stays).
                            let mut probe = bucket.clone();
                            prop_assert!(matches!(probe.grant(want, now + wait), Grant::Now(n) if n > 0));
                        }
                    },
                    Op::Refund(share) => {
                        let unused = u64::try_from(u128::from(last_grant) * u128::from(share) / 256).unwrap_or(0);
                        bucket.refund(unused, now);
                        net -= i128::from(unused);
                        last_grant -= unused;
                    }
                    Op::SetRate(rate) => bucket.set_rate(rate, now),
                    Op::Step(step) => now += step,
                }
                times.push(now);
                rates.push(bucket.rate());
                caps.push(burst(bucket.rate()));
                sent.push(net);
                let k = sent.len() - 1;
                for j in 0..k {
                    let allowed = caps[j] + accrued(&times, &rates, j, k);
                    let moved = sent[k] - sent[j];
                    prop_assert!(moved <= 0 || (moved as u128) * UNIT <= allowed,
                        "{} bytes sent between calls {} and {}, {} units allowed", moved, j, k, allowed);
                }
            }
        }

        #[test]
        fn a_greedy_consumer_gets_at_least_rate_times_interval_minus_one_grant(
            rate in rates(),
            steps in prop::collection::vec((1u64..1_000_000, any::<u8>(), any::<u8>(), rates()), 1..300),
        ) {
            // Always wants more: asks again at once after a grant, sleeps only as long as told
            // (or less), may give back part of a grant (a short read), may change the cap.
            let mut bucket = TokenBucket::new(rate, Duration::ZERO);
            let (mut now, mut net, mut earned) = (Duration::ZERO, 0u128, 0u128);
            for (want, refund, sleep, new_rate) in steps {
                match bucket.grant(want, now) {
                    Grant::Now(n) => {
                        let unused = n / 4 * u64::from(refund % 4);
                        bucket.refund(unused, now);
                        net += u128::from(n - unused);
                    }
                    Grant::Wait(wait) => {
                        if sleep % 8 == 0 {
                            bucket.set_rate(new_rate, now);
                            continue;
                        }
                        let nap = if sleep % 2 == 0 { wait } else { wait * u32::from(sleep) / 256 };
                        earned += nap.as_nanos() * u128::from(bucket.rate());
                        now += nap;
                    }
                }
            }
            net += u128::from(drain(&mut bucket, now));
            // Whole bytes earned over the run, less one: the fraction of a byte still in the bucket.
            prop_assert!((net + 1) * UNIT > earned, "{} bytes sent, {} units earned", net, earned);
        }
    }
}
