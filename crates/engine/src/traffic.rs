//! Traffic shapes: how the offered load varies over virtual time, as a factor of the
//! `arrival_rate` knob. Every scene's workload reads them (the common `traffic` knob).

use crate::time::Micros;

/// How high a spike goes, as a multiple of the reference rate, unless a scene says otherwise.
pub const SPIKE: f64 = 4.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Steady,
    /// From 10% to 100% over one period, then steady.
    Ramp,
    /// 4x for a sixth of each period, starting a third of the way into it.
    Spike,
    /// A daily wave around the mean: 20% at the start of each period, 180% halfway.
    Diurnal,
}

impl Shape {
    pub const NAMES: &'static [&'static str] = &["steady", "ramp", "spike", "diurnal"];

    pub fn from_name(name: &str) -> Option<Shape> {
        Some(match name {
            "steady" => Shape::Steady,
            "ramp" => Shape::Ramp,
            "spike" => Shape::Spike,
            "diurnal" => Shape::Diurnal,
            _ => return None,
        })
    }

    /// The rate at `t_us` as a multiple of the reference rate.
    pub fn factor(self, t_us: Micros, period_us: Micros) -> f64 {
        self.factor_with(t_us, period_us, SPIKE)
    }

    /// As `factor`, with a spike `spike` times the reference rate instead of 4.
    pub fn factor_with(self, t_us: Micros, period_us: Micros, spike: f64) -> f64 {
        let period = period_us.max(1);
        match self {
            Shape::Steady => 1.0,
            Shape::Ramp => 0.1 + 0.9 * (t_us as f64 / period as f64).min(1.0),
            Shape::Spike => {
                let phase = t_us % period;
                if (period / 3..period / 3 + period / 6).contains(&phase) { spike } else { 1.0 }
            }
            Shape::Diurnal => {
                let x = (t_us % period) as f64 / period as f64;
                1.0 - 0.8 * crate::num::cos_turns(x)
            }
        }
    }

    /// The largest factor the shape ever reaches: the rate candidates are drawn at.
    pub fn max_factor(self) -> f64 {
        self.max_factor_with(SPIKE)
    }

    pub fn max_factor_with(self, spike: f64) -> f64 {
        match self {
            Shape::Steady | Shape::Ramp => 1.0,
            Shape::Spike => spike.max(1.0),
            Shape::Diurnal => 1.8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_stay_under_their_maximum_and_average_as_documented() {
        let period = 60_000_000;
        for name in Shape::NAMES {
            let s = Shape::from_name(name).unwrap();
            let samples: Vec<f64> = (0..6000).map(|i| s.factor(i * 10_000, period)).collect();
            assert!(samples.iter().all(|f| *f > 0.0 && *f <= s.max_factor() + 1e-12), "{name}");
            let mean = samples.iter().sum::<f64>() / samples.len() as f64;
            let expected = match s {
                Shape::Steady | Shape::Diurnal => 1.0,
                Shape::Ramp => 0.55,
                Shape::Spike => 1.5,
            };
            assert!((mean - expected).abs() < 0.01, "{name}: mean {mean}");
        }
        assert_eq!(Shape::Ramp.factor(2 * period, period), 1.0, "a ramp holds at the top");
        assert_eq!(Shape::Spike.factor(25_000_000, period), 4.0);
        assert!((Shape::Diurnal.factor(period / 2, period) - 1.8).abs() < 1e-12);
    }
}
