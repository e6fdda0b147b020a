//! Which key each request touches: uniform over the key space, Zipf popularity (a few hot
//! keys, a long tail), or sequential (ever-growing ids such as timestamps). Scenes that
//! route, store or cache by key share these knobs (`keys`, `key_dist`, `zipf_s`).

use crate::knob::{KnobKind, KnobSpec, Params};
use crate::rng::Rng;

pub const KEY_DISTS: &[&str] = &["uniform", "zipf", "sequential"];

/// The key knobs, with the scene's own default for each.
pub fn key_knobs(keys: &'static str, dist: &'static str, zipf_s: &'static str) -> [KnobSpec; 3] {
    [
        KnobSpec {
            name: "keys",
            kind: KnobKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: keys,
            unit: "",
            live: false,
            help: "How many distinct keys requests touch.",
        },
        KnobSpec {
            name: "key_dist",
            kind: KnobKind::Choice(KEY_DISTS),
            default: dist,
            unit: "",
            live: true,
            help: "How keys are drawn: uniform; zipf (rank k is drawn in proportion to 1/k^zipf_s: a few hot keys); sequential (ids that grow by one per request, like timestamps, wrapping at keys).",
        },
        KnobSpec {
            name: "zipf_s",
            kind: KnobKind::Float { min: 0.0, max: 3.0 },
            default: zipf_s,
            unit: "",
            live: true,
            help: "The Zipf exponent: 0 is uniform, about 1 is typical of web traffic, above 1 a handful of keys dominate.",
        },
    ]
}

/// A stream of keys in `0..n`.
#[derive(Clone, Debug)]
pub enum KeyDist {
    Uniform { n: u64 },
    Zipf { n: u64, zipf: Zipf },
    Sequential { n: u64, next: u64 },
}

impl KeyDist {
    pub fn uniform(n: u64) -> KeyDist {
        KeyDist::Uniform { n: n.max(1) }
    }

    /// The distribution the key knobs describe.
    pub fn from_params(p: &Params) -> KeyDist {
        Self::named(
            p.choice("key_dist"),
            p.int("keys") as u64,
            p.float("zipf_s"),
        )
    }

    pub fn named(name: &str, n: u64, s: f64) -> KeyDist {
        let n = n.max(1);
        match name {
            "zipf" => KeyDist::Zipf {
                n,
                zipf: Zipf::new(n, s),
            },
            "sequential" => KeyDist::Sequential { n, next: 0 },
            _ => KeyDist::Uniform { n },
        }
    }

    /// The same distribution with one knob changed (a live `set`); a sequential stream
    /// keeps its position.
    pub fn with(&self, name: &str, s: f64) -> KeyDist {
        let n = self.len();
        match (self, name) {
            (KeyDist::Sequential { .. }, "sequential") => self.clone(),
            _ => Self::named(name, n, s),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } | KeyDist::Sequential { n, .. } => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn name(&self) -> &'static str {
        match self {
            KeyDist::Uniform { .. } => "uniform",
            KeyDist::Zipf { .. } => "zipf",
            KeyDist::Sequential { .. } => "sequential",
        }
    }

    #[inline]
    pub fn draw(&mut self, rng: &mut Rng) -> u64 {
        match self {
            KeyDist::Uniform { n } => rng.below(*n),
            KeyDist::Zipf { n, zipf } => scatter(zipf.rank(rng) - 1, *n),
            KeyDist::Sequential { n, next } => {
                let k = *next;
                *next = if k + 1 == *n { 0 } else { k + 1 };
                k
            }
        }
    }
}

/// The key of popularity rank `r` (0 the hottest): ranks are scattered over the key space
/// by a bijection, so that hot keys are not neighbours (popularity has nothing to do with
/// a key's position; a range split would otherwise put every hot key on one shard).
pub fn scatter(r: u64, n: u64) -> u64 {
    // 2^31 - 1 is prime and larger than any key count, hence coprime with n.
    ((u128::from(r) * 2_147_483_647) % u128::from(n)) as u64
}

/// Zipf ranks `1..=n` with P(k) ∝ k^-s, drawn in O(1) by rejection-inversion
/// (Hörmann and Derflinger, 1996): invert the integral of the continuous density
/// x^-s, round to the nearest rank, and accept unless the draw fell in the sliver
/// where the continuous envelope exceeds the discrete mass.
#[derive(Clone, Debug)]
pub struct Zipf {
    n: f64,
    s: f64,
    top: f64,
    bottom: f64,
    squeeze: f64,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Zipf {
        let n = n.max(1) as f64;
        let mut z = Zipf {
            n,
            s,
            top: 0.0,
            bottom: 0.0,
            squeeze: 0.0,
        };
        z.top = z.integral(1.5) - 1.0;
        z.bottom = z.integral(n + 0.5);
        z.squeeze = 2.0 - z.inverse(z.integral(2.5) - z.density(2.0));
        z
    }

    fn density(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    /// ∫₁ˣ t^-s dt, written to stay exact as s → 1 (where it becomes ln x).
    fn integral(&self, x: f64) -> f64 {
        let lx = libm::log(x);
        lx * expm1_over((1.0 - self.s) * lx)
    }

    fn inverse(&self, y: f64) -> f64 {
        let t = (y * (1.0 - self.s)).max(-1.0);
        libm::exp(log1p_over(t) * y)
    }

    /// One rank, 1 the most popular.
    pub fn rank(&self, rng: &mut Rng) -> u64 {
        loop {
            let u = self.bottom + rng.unit() * (self.top - self.bottom);
            let x = self.inverse(u);
            // Not f64::clamp: with a bound known only at run time, its check that min <= max
            // brings std's f64 Debug formatting (and its shortest-digits algorithms) into the page.
            let k = (x + 0.5).floor().max(1.0).min(self.n);
            if k - x <= self.squeeze || u >= self.integral(k + 0.5) - self.density(k) {
                return k as u64;
            }
        }
    }
}

/// (e^x - 1) / x, with its limit 1 at 0.
fn expm1_over(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x / 2.0
    }
}

/// ln(1 + x) / x, with its limit 1 at 0.
fn log1p_over(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x / 2.0
    }
}

/// The probability of each rank `1..=n` under Zipf(s), hottest first.
pub fn zipf_probabilities(n: u64, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| libm::pow(k as f64, -s)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_frequencies_match_the_probabilities() {
        for s in [0.0, 0.6, 1.0, 1.4] {
            let n = 50;
            let z = Zipf::new(n, s);
            let mut rng = Rng::new(3, "zipf");
            let draws = 400_000;
            let mut counts = vec![0u64; n as usize];
            for _ in 0..draws {
                counts[z.rank(&mut rng) as usize - 1] += 1;
            }
            for (k, p) in zipf_probabilities(n, s).iter().enumerate() {
                let got = counts[k] as f64 / draws as f64;
                let sd = (p * (1.0 - p) / draws as f64).sqrt();
                assert!(
                    (got - p).abs() < 5.0 * sd + 1e-4,
                    "s={s} rank {}: {got} vs {p}",
                    k + 1
                );
            }
        }
    }

    #[test]
    fn scatter_is_a_bijection_and_sequential_wraps() {
        let n = 1000;
        let mut seen = vec![false; n as usize];
        for r in 0..n {
            seen[scatter(r, n) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        let mut d = KeyDist::named("sequential", 3, 1.0);
        let mut rng = Rng::new(1, "k");
        assert_eq!(
            (0..7).map(|_| d.draw(&mut rng)).collect::<Vec<_>>(),
            vec![0, 1, 2, 0, 1, 2, 0]
        );
    }
}
