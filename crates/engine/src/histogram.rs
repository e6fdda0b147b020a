//! A fixed-memory log-linear histogram (HDR-style): 128 sub-buckets per power of two,
//! so any percentile is within 0.4% of the true value, whatever the count.

use crate::time::Micros;

const SUB_BITS: u32 = 7;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = SUB + (64 - SUB_BITS as usize) * SUB;

#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    /// Bit `i % 64` of word `i / 64`: whether bucket `i` holds anything. A histogram of a
    /// short window holds a few values spread over many buckets; reading and clearing
    /// it then costs what it holds, not the span of its buckets.
    used: Box<[u64]>,
    count: u64,
    sum: u128,
    max: Micros,
    /// Lowest and highest bucket touched, so that a clear costs what was used.
    lo: usize,
    hi: usize,
}

#[inline]
fn index_of(v: u64) -> usize {
    if v < 2 * SUB as u64 {
        return v as usize;
    }
    let magnitude = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = magnitude - SUB_BITS;
    let sub = (v >> shift) as usize - SUB; // 0..SUB
    SUB + shift as usize * SUB + sub
}

/// The middle of bucket `i`.
fn value_at(i: usize) -> f64 {
    if i < 2 * SUB {
        return i as f64;
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    let low = ((SUB + sub) as u64) << shift;
    low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram { counts: vec![0; BUCKETS].into_boxed_slice(), used: vec![0; BUCKETS.div_ceil(64)].into_boxed_slice(), count: 0, sum: 0, max: 0, lo: BUCKETS, hi: 0 }
    }

    #[inline]
    pub fn record(&mut self, v: Micros) {
        self.record_n(v, 1);
    }

    /// Records `n` samples of `v` (the same frame written to `n` connections, say).
    #[inline]
    pub fn record_n(&mut self, v: Micros, n: u64) {
        let i = index_of(v);
        self.counts[i] += n;
        self.used[i / 64] |= 1 << (i % 64);
        self.count += n;
        self.sum += u128::from(v) * u128::from(n);
        self.max = self.max.max(v);
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max(&self) -> Micros {
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum as f64 / self.count as f64 }
    }

    /// How many recorded values are below `v` (to the bucket's precision).
    pub fn count_below(&self, v: Micros) -> u64 {
        let end = index_of(v).min(self.hi + 1);
        if self.lo >= end { 0 } else { self.counts[self.lo..end].iter().sum() }
    }

    /// The value at quantile `q` in 0..=1 (0 when empty).
    pub fn quantile(&self, q: f64) -> f64 {
        self.quantiles([q])[0]
    }

    /// Several quantiles, in increasing order of `qs`, in one pass over the buckets.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        let mut out = [self.max as f64; N];
        if self.count == 0 {
            return [0.0; N];
        }
        let ranks = qs.map(|q| ((q * self.count as f64).ceil() as u64).clamp(1, self.count));
        // Bucket indices first, values after: the scan stays a few integer operations a bucket.
        let mut found = [usize::MAX; N];
        let (mut k, mut seen) = (0, 0);
        Self::each_used(&self.used, self.lo, self.hi, |i| {
            seen += self.counts[i];
            while k < N && seen >= ranks[k] {
                found[k] = i;
                k += 1;
            }
            k < N
        });
        for (o, i) in out.iter_mut().zip(found) {
            if i != usize::MAX {
                *o = value_at(i).min(self.max as f64);
            }
        }
        out
    }

    /// Calls `f` on each bucket that holds anything, in order, while it returns true.
    fn each_used(used: &[u64], lo: usize, hi: usize, mut f: impl FnMut(usize) -> bool) {
        if lo > hi {
            return;
        }
        for w in lo / 64..=hi / 64 {
            let mut bits = used[w];
            while bits != 0 {
                if !f(w * 64 + bits.trailing_zeros() as usize) {
                    return;
                }
                bits &= bits - 1;
            }
        }
    }

    pub fn clear(&mut self) {
        let counts = &mut self.counts;
        Self::each_used(&self.used, self.lo, self.hi, |i| {
            counts[i] = 0;
            true
        });
        if self.lo <= self.hi {
            self.used[self.lo / 64..=self.hi / 64].fill(0);
        }
        *self = Histogram { counts: std::mem::take(&mut self.counts), used: std::mem::take(&mut self.used), count: 0, sum: 0, max: 0, lo: BUCKETS, hi: 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_monotone() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let i = index_of(v);
            assert!(i >= last && i < BUCKETS, "v={v}");
            last = i;
        }
    }

    #[test]
    fn percentiles_within_half_a_percent() {
        let mut h = Histogram::new();
        for v in 1..=1_000_000u64 {
            h.record(v);
        }
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            let want = q * 1e6;
            let got = h.quantile(q);
            assert!((got / want - 1.0).abs() < 0.005, "q={q} got {got} want {want}");
        }
        assert_eq!(h.max(), 1_000_000);
        assert!((h.mean() - 500_000.5).abs() < 1e-6);
        assert_eq!(h.count_below(0), 0);
        assert_eq!(h.count_below(101), 100);
        assert!(h.count_below(500_000).abs_diff(499_999) < 2_500, "{}", h.count_below(500_000));
        assert_eq!(h.count_below(u64::MAX), 1_000_000);
        h.clear();
        assert_eq!((h.count(), h.quantile(0.5), h.count_below(9)), (0, 0.0, 0));
    }

    /// One pass gives each quantile's nearest-rank value (within the bucket's precision),
    /// also when several fall in one bucket or the sample is tiny.
    #[test]
    fn quantiles_in_one_pass_match_the_sorted_sample() {
        let mut rng = crate::rng::Rng::new(3, "histogram");
        // One histogram, cleared between samples as a series window is: what a clear
        // leaves behind must not show in the next.
        let mut h = Histogram::new();
        for n in [1usize, 2, 3, 10, 99, 5000, 4, 1] {
            h.clear();
            let mut values: Vec<u64> = (0..n).map(|_| rng.exp(20_000.0) as u64).collect();
            values.iter().for_each(|v| h.record(*v));
            values.sort_unstable();
            let qs = [0.0, 0.5, 0.95, 0.99, 0.999, 1.0];
            for (q, got) in qs.into_iter().zip(h.quantiles(qs)) {
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
                let want = values[rank - 1] as f64;
                assert!((got - want).abs() <= want * 0.004 + 0.5, "n={n} q={q}: got {got}, sorted sample says {want}");
            }
        }
    }
}
