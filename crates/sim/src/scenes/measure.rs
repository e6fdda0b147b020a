//! Small helpers every scene's measures use: rounding as the report shows numbers,
//! shares, imbalance, and the object a probe's `json!` builds.

use serde_json::{Map, Value as Json};

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

/// A probe's measures, from the object its `json!` wrote.
pub fn measures(json: Json) -> Map<String, Json> {
    match json {
        Json::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("value".to_string(), other);
            m
        }
    }
}
