//! Closed forms from queueing theory that scenes compare themselves with.

/// M/M/1 with arrival rate `lambda` and service rate `mu` (per second): the response time
/// is exponential with rate `mu - lambda`. Returns (mean, p95, p99) in microseconds.
pub fn mm1_response_us(lambda: f64, mu: f64) -> Option<(f64, f64, f64)> {
    exp_response_us(mu - lambda)
}

/// Mean number in an M/M/1 system: rho / (1 - rho).
pub fn mm1_in_system(lambda: f64, mu: f64) -> Option<f64> {
    let rho = lambda / mu;
    (rho < 1.0).then(|| rho / (1.0 - rho))
}

/// GI/M/1 with Erlang-k arrivals of total rate `lambda` (what each server sees under
/// round robin over k servers fed by a Poisson stream of rate `k * lambda`): the
/// response time is exponential with rate mu(1 - sigma), where sigma is the root in
/// (0, 1) of sigma = (k lambda / (k lambda + mu (1 - sigma)))^k.
pub fn erlang_m1_response_us(k: u32, lambda: f64, mu: f64) -> Option<(f64, f64, f64)> {
    if lambda >= mu {
        return None;
    }
    let phase = f64::from(k) * lambda;
    let mut sigma = 0.0;
    for _ in 0..10_000 {
        let next = libm::pow(phase / (phase + mu * (1.0 - sigma)), f64::from(k));
        if (next - sigma).abs() < 1e-14 {
            sigma = next;
            break;
        }
        sigma = next;
    }
    exp_response_us(mu * (1.0 - sigma))
}

/// M/M/c with arrival rate `lambda` and `c` servers of rate `mu` (per second): the
/// probability that an arrival waits (Erlang's C formula) and the mean wait in the queue,
/// C / (c mu - lambda), in microseconds. None when the servers cannot keep up.
pub fn mmc_wait(c: u32, lambda: f64, mu: f64) -> Option<(f64, f64)> {
    let a = lambda / mu;
    if c == 0 || a >= f64::from(c) {
        return None;
    }
    // Erlang B by its recurrence (stable for any c), then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    let p_wait = b / (1.0 - rho + rho * b);
    Some((p_wait, p_wait / (f64::from(c) * mu - lambda) * 1e6))
}

fn exp_response_us(rate_per_s: f64) -> Option<(f64, f64, f64)> {
    (rate_per_s > 0.0).then(|| {
        let mean = 1e6 / rate_per_s;
        (mean, mean * libm::log(20.0), mean * libm::log(100.0))
    })
}

/// The LRU hit ratio of a cache of `capacity` entries in front of `keys` keys whose
/// popularity is Zipf(`s`) (s = 0 is uniform), requests independent of one another,
/// by Che's approximation: a key stays cached for a characteristic time T after its
/// last request, T being set by the cache holding `capacity` keys on average,
/// Σ_k (1 − e^(−p_k T)) = capacity; a request then hits with probability
/// Σ_k p_k (1 − e^(−p_k T)). Ranks past the first 2,000 are summed in narrow bands of
/// nearly equal popularity, which keeps a million keys cheap.
pub fn che_lru_hit_ratio(keys: u64, s: f64, capacity: u64) -> f64 {
    if capacity >= keys {
        return 1.0;
    }
    // (popularity weight of one key, how many keys share it)
    let mut bands: Vec<(f64, f64)> = Vec::new();
    let mut k = 1u64;
    while k <= keys {
        let end = if k <= 2_000 { k + 1 } else { ((k as f64 * 1.002) as u64).max(k + 1).min(keys + 1) };
        let mid = (k + end - 1) as f64 / 2.0;
        bands.push((libm::pow(mid, -s), (end - k) as f64));
        k = end;
    }
    let total: f64 = bands.iter().map(|(w, n)| w * n).sum();
    let held = |t: f64| bands.iter().map(|(w, n)| n * -libm::expm1(-w / total * t)).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while held(hi) < capacity as f64 {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if held(mid) < capacity as f64 { lo = mid } else { hi = mid }
    }
    let t = (lo + hi) / 2.0;
    bands.iter().map(|(w, n)| n * w / total * -libm::expm1(-w / total * t)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_one_is_mm1_and_more_phases_wait_less() {
        let a = mm1_response_us(750.0, 1000.0).unwrap();
        let b = erlang_m1_response_us(1, 750.0, 1000.0).unwrap();
        assert!((a.0 - b.0).abs() < 1e-6 && (a.0 - 4000.0).abs() < 1e-6);
        let c = erlang_m1_response_us(4, 750.0, 1000.0).unwrap();
        assert!(c.0 < a.0, "regular arrivals queue less: {c:?}");
        assert_eq!(mm1_in_system(750.0, 1000.0), Some(3.0));
        assert!(mm1_response_us(1000.0, 1000.0).is_none());
    }

    /// Erlang C against values worked by hand: one server is M/M/1 (P(wait) = rho);
    /// two servers at a = 1: P(wait) = 1/3, mean wait 1/3 of a service time.
    #[test]
    fn erlang_c_matches_known_values() {
        let (p, w) = super::mmc_wait(1, 80.0, 100.0).unwrap();
        assert!((p - 0.8).abs() < 1e-12 && (w - 40_000.0).abs() < 1e-6);
        let (p, w) = super::mmc_wait(2, 100.0, 100.0).unwrap();
        assert!((p - 1.0 / 3.0).abs() < 1e-12 && (w - 10_000.0 / 3.0).abs() < 1e-6);
        assert!(super::mmc_wait(4, 400.0, 100.0).is_none());
    }
}
