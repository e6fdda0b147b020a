//! Distributions of durations, parsed from the strings readers type:
//! `const:10ms`, `exp:10ms` (mean), `uniform:5ms..15ms`, `lognormal:10ms,0.5` (median, sigma),
//! `pareto:10ms,2.5` (scale, shape). A bare duration (`10ms`) means `const:10ms`.

use crate::rng::Rng;
use crate::time::{Micros, format_duration, parse_duration};

#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Const(Micros),
    Exp { mean_us: Micros },
    Uniform { lo_us: Micros, hi_us: Micros },
    LogNormal { median_us: Micros, sigma: f64 },
    Pareto { scale_us: Micros, shape: f64 },
}

impl Dist {
    pub fn parse(text: &str) -> Result<Dist, String> {
        let t = text.trim();
        let Some((kind, args)) = t.split_once(':') else {
            return parse_duration(t)
                .map(Dist::Const)
                .map_err(|e| format!("{e}; a distribution looks like const:10ms, exp:10ms, uniform:5ms..15ms, lognormal:10ms,0.5 or pareto:10ms,2.5"));
        };
        // A search for a separator chosen at run time would bring std's code for an empty
        // one, and with it the panic of a string sliced off a character boundary.
        let two = |sep: &str| {
            let at = args.as_bytes().windows(sep.len()).position(|w| w == sep.as_bytes());
            at.and_then(|at| Some((args.get(..at)?, args.get(at + sep.len()..)?)))
                .ok_or_else(|| format!("'{t}': {kind} takes two values separated by '{sep}'"))
        };
        let positive = |name: &str, s: &str| -> Result<f64, String> {
            match crate::num::parse_f64(s.trim()) {
                Some(v) if v > 0.0 && v.is_finite() => Ok(v),
                _ => Err(format!("'{t}': {name} must be a positive number, got '{s}'")),
            }
        };
        match kind {
            "const" => Ok(Dist::Const(parse_duration(args)?)),
            "exp" => Ok(Dist::Exp { mean_us: parse_duration(args)? }),
            "uniform" => {
                let (lo, hi) = two("..")?;
                let (lo_us, hi_us) = (parse_duration(lo)?, parse_duration(hi)?);
                if lo_us > hi_us {
                    return Err(format!("'{t}': the low end is above the high end"));
                }
                Ok(Dist::Uniform { lo_us, hi_us })
            }
            "lognormal" => {
                let (m, s) = two(",")?;
                Ok(Dist::LogNormal { median_us: parse_duration(m)?, sigma: positive("sigma", s)? })
            }
            "pareto" => {
                let (m, s) = two(",")?;
                Ok(Dist::Pareto { scale_us: parse_duration(m)?, shape: positive("shape", s)? })
            }
            _ => Err(format!("'{t}': unknown distribution '{kind}' (const, exp, uniform, lognormal, pareto)")),
        }
    }

    /// One sample, rounded to whole microseconds.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> Micros {
        // A constant (a network without jitter, most often none) costs no call.
        match *self {
            Dist::Const(us) => us,
            _ => self.draw(rng),
        }
    }

    fn draw(&self, rng: &mut Rng) -> Micros {
        let x = match *self {
            Dist::Const(us) => return us,
            Dist::Exp { mean_us } => rng.exp(mean_us as f64),
            Dist::Uniform { lo_us, hi_us } => return lo_us + rng.below(hi_us - lo_us + 1),
            Dist::LogNormal { median_us, sigma } => median_us as f64 * libm::exp(sigma * rng.normal()),
            Dist::Pareto { scale_us, shape } => scale_us as f64 * libm::pow(rng.unit(), -1.0 / shape),
        };
        // Bounded so that a heavy tail cannot overflow virtual time.
        crate::num::round_micros(x.min(1e13))
    }

    /// A distribution with this one's mean and the given coefficient of variation
    /// (standard deviation over mean): constant at 0, exponential at 1, lognormal
    /// otherwise (a heavy tail above 1).
    pub fn with_cv(&self, cv: f64) -> Dist {
        let mean = self.mean_us().min(1e13);
        let us = |x: f64| x.round() as Micros;
        if cv <= 0.0 {
            Dist::Const(us(mean))
        } else if cv == 1.0 {
            Dist::Exp { mean_us: us(mean) }
        } else {
            let sigma = libm::log(1.0 + cv * cv).sqrt();
            Dist::LogNormal { median_us: us(mean / libm::exp(sigma * sigma / 2.0)), sigma }
        }
    }

    /// The distribution's mean in microseconds (infinite for Pareto with shape <= 1).
    pub fn mean_us(&self) -> f64 {
        match *self {
            Dist::Const(us) => us as f64,
            Dist::Exp { mean_us } => mean_us as f64,
            Dist::Uniform { lo_us, hi_us } => (lo_us + hi_us) as f64 / 2.0,
            Dist::LogNormal { median_us, sigma } => median_us as f64 * libm::exp(sigma * sigma / 2.0),
            Dist::Pareto { scale_us, shape } if shape > 1.0 => scale_us as f64 * shape / (shape - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
        }
    }
}

impl std::fmt::Display for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Dist::Const(us) => write!(f, "const:{}", format_duration(us)),
            Dist::Exp { mean_us } => write!(f, "exp:{}", format_duration(mean_us)),
            Dist::Uniform { lo_us, hi_us } => write!(f, "uniform:{}..{}", format_duration(lo_us), format_duration(hi_us)),
            Dist::LogNormal { median_us, sigma } => write!(f, "lognormal:{},{}", format_duration(median_us), crate::num::Short(sigma)),
            Dist::Pareto { scale_us, shape } => write!(f, "pareto:{},{}", format_duration(scale_us), crate::num::Short(shape)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reshaped to a coefficient of variation, a distribution keeps its mean, and its
    /// samples show the spread asked for.
    #[test]
    fn with_cv_keeps_the_mean_and_sets_the_spread() {
        let base = Dist::parse("exp:2ms").unwrap();
        assert_eq!(base.with_cv(1.0), base);
        assert_eq!(base.with_cv(0.0), Dist::Const(2_000));
        let mut rng = Rng::new(3, "cv");
        for cv in [0.5, 2.0, 3.0] {
            let d = base.with_cv(cv);
            assert!((d.mean_us() / 2_000.0 - 1.0).abs() < 0.001, "cv {cv}: mean {}", d.mean_us());
            let n = 400_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64).sqrt();
            assert!((mean / 2_000.0 - 1.0).abs() < 0.03, "cv {cv}: sampled mean {mean}");
            assert!((sd / mean / cv - 1.0).abs() < 0.12, "cv {cv}: sampled cv {}", sd / mean);
        }
    }

    #[test]
    fn parses_and_prints_every_kind() {
        for s in ["const:10ms", "exp:10ms", "uniform:5ms..15ms", "lognormal:10ms,0.5", "pareto:10ms,2.5"] {
            assert_eq!(Dist::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Dist::parse("10ms"), Ok(Dist::Const(10_000)));
    }

    #[test]
    fn bad_strings_name_the_problem() {
        assert!(Dist::parse("gauss:1ms").unwrap_err().contains("unknown distribution"));
        assert!(Dist::parse("uniform:5ms").unwrap_err().contains(".."));
        assert!(Dist::parse("uniform:15ms..5ms").unwrap_err().contains("low end"));
        assert!(Dist::parse("lognormal:1ms,-2").unwrap_err().contains("sigma"));
    }

    #[test]
    fn sample_means_match_the_declared_means() {
        let mut rng = Rng::new(3, "dist");
        for s in ["exp:10ms", "uniform:5ms..15ms", "lognormal:10ms,0.5", "pareto:10ms,3"] {
            let d = Dist::parse(s).unwrap();
            let n = 400_000;
            let mean = (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            let want = d.mean_us();
            assert!((mean / want - 1.0).abs() < 0.02, "{s}: mean {mean} want {want}");
        }
    }
}
