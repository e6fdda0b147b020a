//! Fixed-memory time series: at most `cap` points; when full, neighbouring points are
//! averaged in pairs and each point then stands for twice the time.

use crate::time::{Micros, US_PER_S};

/// One more in the count of the second of virtual time that holds `now` (counts per
/// second: requests sent, connection attempts, reconnections).
pub fn tally(per_second: &mut Vec<u32>, now: Micros) {
    let second = (now / US_PER_S) as usize;
    if per_second.len() <= second {
        per_second.resize(second + 1, 0);
    }
    per_second[second] += 1;
}

/// The count of the last whole second before `now` (NaN during the first second).
pub fn last_whole_second(per_second: &[u32], now: Micros) -> f64 {
    match (now / US_PER_S) as usize {
        0 => f64::NAN,
        second => f64::from(per_second.get(second - 1).copied().unwrap_or(0)),
    }
}

pub struct Series {
    pub names: Vec<String>,
    /// Virtual time one stored point stands for.
    pub interval_us: Micros,
    base_interval_us: Micros,
    cap: usize,
    columns: Vec<Vec<f64>>,
    pending: Vec<f64>,
    pending_n: u32,
}

impl Series {
    pub fn new(names: Vec<String>, interval_us: Micros, cap: usize) -> Self {
        let n = names.len();
        Series {
            names,
            interval_us,
            base_interval_us: interval_us,
            cap: cap.max(2) & !1,
            columns: vec![Vec::new(); n],
            pending: vec![0.0; n],
            pending_n: 0,
        }
    }

    /// Adds one sample taken every `base_interval_us`.
    pub fn push(&mut self, row: &[f64]) {
        for (p, v) in self.pending.iter_mut().zip(row) {
            *p += v;
        }
        self.pending_n += 1;
        if u64::from(self.pending_n) * self.base_interval_us < self.interval_us {
            return;
        }
        let n = f64::from(self.pending_n);
        for (c, p) in self.columns.iter_mut().zip(self.pending.iter_mut()) {
            c.push(*p / n);
            *p = 0.0;
        }
        self.pending_n = 0;
        if self.len() == self.cap {
            for c in &mut self.columns {
                let halved: Vec<f64> = c.chunks(2).map(|p| p.iter().sum::<f64>() / p.len() as f64).collect();
                *c = halved;
            }
            self.interval_us *= 2;
        }
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names.iter().position(|n| n == name).map(|i| self.columns[i].as_slice())
    }

    /// The series as CSV: virtual time in seconds at the end of each point's interval
    /// first, then a column per series; a point with no value (NaN) is left empty.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("t_s");
        for n in &self.names {
            out.push(',');
            out.push_str(n);
        }
        out.push('\n');
        let dt = self.interval_us as f64 / 1e6;
        for i in 0..self.len() {
            out.push_str(&crate::num::Short((i as f64 + 1.0) * dt).to_string());
            for c in &self.columns {
                out.push(',');
                if c[i].is_finite() {
                    out.push_str(&crate::num::Short(c[i]).to_string());
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_and_averages_are_kept() {
        let mut s = Series::new(vec!["x".into()], 10, 8);
        for i in 0..1000 {
            s.push(&[i as f64]);
        }
        assert!(s.len() <= 8);
        let col = s.column("x").unwrap();
        // Every stored point is the mean of the consecutive samples it stands for.
        let per_point = (s.interval_us / 10) as usize;
        assert_eq!(col[0], (0..per_point).sum::<usize>() as f64 / per_point as f64);
    }

    #[test]
    fn csv_has_time_first_a_column_per_series_and_gaps_for_no_value() {
        let mut s = Series::new(vec!["rps".into(), "fail_p50_ms".into()], 500_000, 8);
        s.push(&[10.0, f64::NAN]);
        s.push(&[12.5, 3.0]);
        assert_eq!(s.to_csv(), "t_s,rps,fail_p50_ms\n0.5,10,\n1,12.5,3\n");
    }
}
