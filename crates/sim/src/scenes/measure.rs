//! Small helpers every scene's measures use: rounding as the report shows numbers,
//! shares, imbalance, and the `measures!` a probe writes.

use serde_json::Value as Json;

/// Three decimal places, as measures are reported.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `part / whole` to three places, or 0 when there is no whole.
pub fn share(part: u64, whole: u64) -> f64 {
    if whole > 0 { round3(part as f64 / whole as f64) } else { 0.0 }
}

/// Microseconds as milliseconds, to one decimal place.
pub fn ms(us: f64) -> f64 {
    (us / 100.0).round() / 10.0
}

/// The largest over the mean (load imbalance, skew): 1 is even; 0 when all are 0.
pub fn max_over_mean(xs: &[f64]) -> f64 {
    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let max = xs.iter().copied().fold(0.0, f64::max);
    if mean > 0.0 { max / mean } else { 0.0 }
}

/// A probe's measures, `"name": value` pairs, each value a `Measure` (numbers, strings,
/// lists of them), taken by reference. Not `json!`: that converts through `to_value`
/// and unwraps, and the unwrap keeps serde_json's `Debug` (with its string escaping and the
/// Unicode tables behind it, 9 KB gzip) in the page.
macro_rules! measures {
    ($($key:literal: $value:expr),* $(,)?) => {{
        let mut m = serde_json::Map::new();
        $( m.insert($key.to_string(), $crate::scenes::measure::Measure::json(&$value)); )*
        m
    }};
}
pub(crate) use measures;

/// What a measure can be: converted to JSON as `serde_json::to_value` would (a float that
/// is not finite becomes null), without a `Result` to unwrap.
pub trait Measure {
    fn json(&self) -> Json;
}

macro_rules! plain_measure {
    ($($t:ty),*) => { $(impl Measure for $t { fn json(&self) -> Json { Json::from(*self) } })* };
}
plain_measure!(u8, u16, u32, u64, usize, i32, i64, f64, bool);

impl Measure for str {
    fn json(&self) -> Json {
        Json::from(self)
    }
}
impl Measure for String {
    fn json(&self) -> Json {
        Json::from(self.as_str())
    }
}
impl Measure for Json {
    fn json(&self) -> Json {
        self.clone()
    }
}
impl<T: Measure + ?Sized> Measure for &T {
    fn json(&self) -> Json {
        (**self).json()
    }
}
impl<T: Measure> Measure for [T] {
    fn json(&self) -> Json {
        Json::Array(self.iter().map(Measure::json).collect())
    }
}
impl<T: Measure, const N: usize> Measure for [T; N] {
    fn json(&self) -> Json {
        self[..].json()
    }
}
impl<T: Measure> Measure for Vec<T> {
    fn json(&self) -> Json {
        self[..].json()
    }
}
impl<T: Measure> Measure for Option<T> {
    fn json(&self) -> Json {
        self.as_ref().map_or(Json::Null, Measure::json)
    }
}
