//! Where each key lives: the placement of keys on shards by modulo, range or a
//! consistent-hash ring, what a resize moves, and what theory expects of both.

use crate::rng::mix64;

/// Where each key lives: a pure function of the strategy and the shard list, which the
/// router consults for every key and the probe to count what a resize moves.
#[derive(Clone, Debug)]
pub struct ShardMap {
    strategy: &'static str,
    keys: u64,
    vnodes: u32,
    /// Where the ring's points fall depends on it (the run's seed): each seed, another ring.
    salt: u64,
    /// Shard numbers (shard-3 is 3), in placement order.
    shards: Vec<u32>,
    /// Consistent hashing: (ring position, index into `shards`), sorted by position.
    points: Vec<(u64, u32)>,
}

const KEY_SALT: u64 = 0x005E_ED0F_4B1D;

impl ShardMap {
    pub fn new(strategy: &'static str, keys: u64, vnodes: u32, salt: u64, shards: Vec<u32>) -> ShardMap {
        let mut points = Vec::new();
        if strategy == "consistent-hash" {
            for (i, s) in shards.iter().enumerate() {
                points.extend((0..vnodes).map(|v| (mix64(mix64(salt) ^ (u64::from(*s) << 32 | u64::from(v))), i as u32)));
            }
            crate::sort::sort(&mut points);
        }
        ShardMap { strategy, keys: keys.max(1), vnodes, salt, shards, points }
    }

    pub fn strategy(&self) -> &'static str {
        self.strategy
    }

    pub fn keys(&self) -> u64 {
        self.keys
    }

    pub fn shards(&self) -> &[u32] {
        &self.shards
    }

    /// The same placement with another shard list.
    pub fn with_shards(&self, shards: Vec<u32>) -> ShardMap {
        ShardMap::new(self.strategy, self.keys, self.vnodes, self.salt, shards)
    }

    /// Where a key sits on the hash ring.
    fn hash(key: u64) -> u64 {
        mix64(key ^ KEY_SALT)
    }

    /// The index in `shards` of the shard that holds `key`.
    #[inline]
    pub fn owner(&self, key: u64) -> usize {
        let n = self.shards.len() as u64;
        match self.strategy {
            "modulo" => (Self::hash(key) % n) as usize,
            "range" => (u128::from(key.min(self.keys - 1)) * u128::from(n) / u128::from(self.keys)) as usize,
            _ => self.ring_owner(Self::hash(key)),
        }
    }

    fn ring_owner(&self, position: u64) -> usize {
        let i = self.points.partition_point(|(p, _)| *p < position);
        self.points[if i == self.points.len() { 0 } else { i }].1 as usize
    }

    /// The shard number that holds `key`.
    pub fn shard_of(&self, key: u64) -> u32 {
        self.shards[self.owner(key)]
    }

    /// The fraction of all keys each shard holds, in `shards` order (counted key by key).
    pub fn key_shares(&self) -> Vec<f64> {
        let mut counts = vec![0u64; self.shards.len()];
        for k in 0..self.keys {
            counts[self.owner(k)] += 1;
        }
        counts.iter().map(|c| *c as f64 / self.keys as f64).collect()
    }

    /// The fraction of all keys that sit on a different shard in `next` (counted exactly).
    pub fn moved_fraction(&self, next: &ShardMap) -> f64 {
        let moved = (0..self.keys).filter(|k| self.shard_of(*k) != next.shard_of(*k)).count();
        moved as f64 / self.keys as f64
    }

    /// The shard number holding the middle of each of `arcs` equal arcs: of the hash ring
    /// for consistent hashing, of the key space in key order otherwise.
    pub fn arcs(&self, arcs: u64) -> Vec<u32> {
        (0..arcs)
            .map(|a| {
                if self.strategy == "consistent-hash" {
                    let position = ((u128::from(a) * 2 + 1) << 63) / u128::from(arcs);
                    self.shards[self.ring_owner(position as u64)]
                } else {
                    self.shard_of(((2 * a + 1) * self.keys / (2 * arcs)).min(self.keys - 1))
                }
            })
            .collect()
    }

    /// What theory expects a resize from this shard list to `next` to move (uniform keys).
    /// Consistent hashing moves only what the joining shard takes, 1/(n+1), or what the
    /// leaving one held, 1/n (Karger et al.); modulo keeps a key only where h mod n and
    /// h mod m agree, a fraction 1/max(n, m) for m = n ± 1; range re-slices the key space
    /// and keeps the overlap of each shard's old and new slice.
    pub fn expected_moved(&self, next: &ShardMap) -> f64 {
        let (n, m) = (self.shards.len() as f64, next.shards.len() as f64);
        match self.strategy {
            "consistent-hash" if m > n => 1.0 / m,
            "consistent-hash" => 1.0 / n,
            "modulo" if (n - m).abs() == 1.0 => 1.0 - 1.0 / n.max(m),
            "range" => {
                let slice = |list: &[u32], s: u32| list.iter().position(|x| *x == s).map(|i| (i as f64 / list.len() as f64, (i + 1) as f64 / list.len() as f64));
                let kept: f64 = self
                    .shards
                    .iter()
                    .filter_map(|s| Some((slice(&self.shards, *s)?, slice(&next.shards, *s)?)))
                    .map(|((a0, a1), (b0, b1))| (a1.min(b1) - a0.max(b0)).max(0.0))
                    .sum();
                1.0 - kept
            }
            _ => f64::NAN,
        }
    }

    /// The largest key share over the mean that theory expects on average over rings
    /// (uniform keys). Modulo and range split evenly. On a consistent-hash ring each shard
    /// holds `vnodes` arcs between random points, about a Gamma(v) share in units of
    /// 1/(n v): the expectation of the largest of n of them, over their mean.
    pub fn expected_share_imbalance(&self) -> f64 {
        let n = self.shards.len();
        if self.strategy != "consistent-hash" || n == 1 {
            return 1.0;
        }
        expected_max_gamma(n, self.vnodes) / f64::from(self.vnodes)
    }
}

/// E[max of n independent Gamma(v, 1)] = ∫₀^∞ 1 − F(x)ⁿ dx, by the trapezoid rule, with
/// F(x) = 1 − e^(−x) Σ_{k<v} x^k / k! for whole v.
fn expected_max_gamma(n: usize, v: u32) -> f64 {
    let v = f64::from(v);
    let top = v + 12.0 * v.sqrt() + 40.0;
    let steps = 2_000;
    let h = top / steps as f64;
    let tail = |x: f64| -> f64 {
        // P(Gamma > x) = e^(−x) Σ_{k<v} x^k/k!, summed in logs to stay finite.
        if x == 0.0 {
            return 1.0;
        }
        let (mut term, mut sum) = (-x, 0.0);
        for k in 0..v as u32 {
            if k > 0 {
                term += libm::log(x) - libm::log(f64::from(k));
            }
            sum += libm::exp(term);
        }
        sum.min(1.0)
    };
    let f = |x: f64| 1.0 - libm::pow(1.0 - tail(x), n as f64);
    let mut total = (f(0.0) + f(top)) / 2.0;
    for i in 1..steps {
        total += f(i as f64 * h);
    }
    total * h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_max_matches_known_values() {
        // One arc per shard: the largest of n spacings of the ring, E = H_n.
        let h4 = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        assert!((expected_max_gamma(4, 1) - h4).abs() < 1e-3, "{}", expected_max_gamma(4, 1));
        assert!((expected_max_gamma(1, 5) - 5.0).abs() < 1e-3);
    }

    #[test]
    fn modulo_and_range_resizes_move_what_arithmetic_says() {
        let keys = 100_000;
        let four = ShardMap::new("modulo", keys, 1, 0, vec![1, 2, 3, 4]);
        let five = four.with_shards(vec![1, 2, 3, 4, 5]);
        assert!((four.moved_fraction(&five) - 0.8).abs() < 0.01);
        let four = ShardMap::new("range", keys, 1, 0, vec![1, 2, 3, 4]);
        let five = four.with_shards(vec![1, 2, 3, 4, 5]);
        assert!((four.moved_fraction(&five) - four.expected_moved(&five)).abs() < 0.001, "{}", four.expected_moved(&five));
    }
}
