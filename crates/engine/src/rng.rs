//! The one source of randomness: a seeded PCG generator, with named sub-streams.
//!
//! Sampling uses `libm` rather than `f64::ln`, so that the same seed gives the same
//! bits natively and in wasm (platform maths libraries may round differently).

use rand_core::Rng as _;
use rand_pcg::Pcg64Mcg;

pub struct Rng {
    inner: Pcg64Mcg,
}

/// SplitMix64: spreads a seed's bits so that nearby seeds give unrelated streams.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, for deriving stream seeds from names and for trace hashes.
pub fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}
pub const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;

impl Rng {
    /// A generator for `seed`, on the sub-stream called `stream`.
    pub fn new(seed: u64, stream: &str) -> Self {
        let a = mix64(seed ^ fnv1a(stream.as_bytes(), FNV_OFFSET));
        let b = mix64(a);
        // The MCG state must be odd.
        let state = (u128::from(a) << 64 | u128::from(b)) | 1;
        Rng { inner: Pcg64Mcg::new(state) }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in (0, 1]: never 0, so `ln` of it is finite.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; `n` > 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() <= p
    }

    /// Exponential with the given mean.
    #[inline]
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * libm::log(self.unit())
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let r = libm::sqrt(-2.0 * libm::log(self.unit()));
        r * libm::cos(2.0 * core::f64::consts::PI * self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_same_numbers() {
        let mut a = Rng::new(7, "net");
        let mut b = Rng::new(7, "net");
        let mut c = Rng::new(7, "workload");
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
    }

    #[test]
    fn exp_mean_and_below_range() {
        let mut r = Rng::new(1, "t");
        let n = 200_000;
        let mean = (0..n).map(|_| r.exp(10.0)).sum::<f64>() / n as f64;
        assert!((mean - 10.0).abs() < 0.1, "mean {mean}");
        assert!((0..10_000).all(|_| r.below(3) < 3));
    }
}
