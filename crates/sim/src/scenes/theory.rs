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

fn exp_response_us(rate_per_s: f64) -> Option<(f64, f64, f64)> {
    (rate_per_s > 0.0).then(|| {
        let mean = 1e6 / rate_per_s;
        (mean, mean * libm::log(20.0), mean * libm::log(100.0))
    })
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
}
