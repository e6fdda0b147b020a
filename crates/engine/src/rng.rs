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

/// Where the ziggurat's last layer ends and the tail begins, and each layer's area.
const ZIG_R: f64 = 7.697_117_470_131_487;
const ZIG_AREA: f64 = 3.949_659_822_581_572e-3;
/// The scale of a draw's 53 bits.
const ZIG_SCALE: f64 = (1u64 << 53) as f64;

/// The ziggurat's 256 layers for the exponential density: below `inside[i]`, a draw
/// of layer `i` lies wholly under the density; `width[i]` scales 53 bits to the layer's
/// width; `height[i]` is the density at its edge.
struct Ziggurat {
    inside: [u64; 256],
    width: [f64; 256],
    height: [f64; 256],
}

/// Built once, from `libm`, so that every platform gets the same bits.
fn ziggurat() -> &'static Ziggurat {
    static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut z = Ziggurat { inside: [0; 256], width: [0.0; 256], height: [0.0; 256] };
        let (mut edge, mut outer) = (ZIG_R, ZIG_R);
        let q = ZIG_AREA / libm::exp(-edge);
        z.inside[0] = (edge / q * ZIG_SCALE) as u64;
        z.inside[1] = 0;
        z.width[0] = q / ZIG_SCALE;
        z.width[255] = edge / ZIG_SCALE;
        z.height[0] = 1.0;
        z.height[255] = libm::exp(-edge);
        for i in (1..=254).rev() {
            edge = -libm::log(ZIG_AREA / edge + libm::exp(-edge));
            z.inside[i + 1] = (edge / outer * ZIG_SCALE) as u64;
            outer = edge;
            z.height[i] = libm::exp(-edge);
            z.width[i] = edge / ZIG_SCALE;
        }
        z
    })
}

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

    /// Exponential with the given mean, by the ziggurat method (Marsaglia and Tsang,
    /// 2000): 255 times in 256 a table lookup and a multiplication, where `-ln(u)` would
    /// call a logarithm every time. Exact, not an approximation: the layers cover the
    /// density exactly, and the rare draws outside a layer's box are accepted or
    /// rejected against the density itself.
    #[inline(always)]
    pub fn exp(&mut self, mean: f64) -> f64 {
        mean * self.exp1()
    }

    /// Standard exponential (mean 1). A draw's low 8 bits pick the layer and its top 53
    /// bits the point, so the two never share bits.
    #[inline(always)]
    fn exp1(&mut self) -> f64 {
        let z = ziggurat();
        let r = self.next_u64();
        let (layer, u) = ((r & 0xFF) as usize, r >> 11);
        if u < z.inside[layer] {
            return u as f64 * z.width[layer];
        }
        self.exp1_edge(layer, u)
    }

    #[cold]
    fn exp1_edge(&mut self, mut layer: usize, mut u: u64) -> f64 {
        let z = ziggurat();
        loop {
            if layer == 0 {
                // The tail beyond the last layer's edge is exponential again, shifted.
                return ZIG_R - libm::log(self.unit());
            }
            let x = u as f64 * z.width[layer];
            let below = z.height[layer] + self.unit() * (z.height[layer - 1] - z.height[layer]);
            if below < libm::exp(-x) {
                return x;
            }
            let r = self.next_u64();
            (layer, u) = ((r & 0xFF) as usize, r >> 11);
            if u < z.inside[layer] {
                return u as f64 * z.width[layer];
            }
        }
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let r = (-2.0 * libm::log(self.unit())).sqrt();
        r * crate::num::cos_turns(self.unit())
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

    /// The ziggurat draws the exponential law itself: its distribution function matches
    /// 1 - e^-x everywhere (the Kolmogorov distance of a million draws is what sampling
    /// noise allows), the tail past the last layer included, and the moments agree.
    #[test]
    fn ziggurat_draws_are_exponential() {
        let mut r = Rng::new(11, "ziggurat");
        let n = 1_000_000;
        let mut xs: Vec<f64> = (0..n).map(|_| r.exp(1.0)).collect();
        xs.sort_by(f64::total_cmp);
        let d = xs.iter().enumerate().map(|(i, x)| ((i + 1) as f64 / n as f64 - (1.0 - (-x).exp())).abs()).fold(0.0, f64::max);
        // The 99.9% critical value of the Kolmogorov distance is 1.95 / sqrt(n).
        assert!(d < 1.95 / (n as f64).sqrt(), "Kolmogorov distance {d}");
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.005 && (var - 1.0).abs() < 0.01, "mean {mean}, variance {var}");
        // Beyond the last layer (x > 7.7) lies a share e^-7.7 of the draws: about 450 here.
        let tail = xs.iter().filter(|x| **x > ZIG_R).count() as f64;
        let want = n as f64 * (-ZIG_R).exp();
        assert!((tail - want).abs() < 4.0 * want.sqrt(), "tail {tail}, expected {want}");
        assert!(xs[0] >= 0.0 && xs.iter().all(|x| x.is_finite()));
    }
}
