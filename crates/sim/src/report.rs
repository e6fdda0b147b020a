//! The report of a run (CLI `--json`, and the page's "download report").

use crate::check::Violation;
use crate::histogram::Histogram;
use crate::ledger::Counts;
use crate::run::Sim;
use serde::Serialize;
use serde_json::{Map, Value as Json};

#[derive(Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram) -> Latency {
        let [p50, p95, p99] = h.quantiles([0.5, 0.95, 0.99]);
        Latency { mean: round2(h.mean()), p50, p95, p99, max: h.max() as f64 }
    }
}

#[derive(Serialize)]
pub struct Invariants {
    pub names: Vec<&'static str>,
    pub checked: u64,
    pub violation_count: u64,
    pub violations: Vec<Violation>,
    /// The command that replays the run, when something was violated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub pattern: &'static str,
    pub seed: u64,
    pub params: Map<String, Json>,
    pub faults: Vec<String>,
    pub virtual_time_us: u64,
    pub events: u64,
    pub wall_ms: f64,
    pub requests: Counts,
    /// Latency of completed requests, in microseconds.
    pub latency_us: Latency,
    /// Latency of the requests that ended otherwise (refused, failed, timed out): how
    /// long a failure took, in microseconds.
    pub failure_latency_us: Latency,
    pub throughput_rps: f64,
    pub metrics: Map<String, Json>,
    pub theory: Map<String, Json>,
    pub invariants: Invariants,
}

impl Report {
    pub fn of(sim: &Sim, wall_ms: f64) -> Report {
        let w = &sim.world;
        let h = w.latency();
        let (violations, violation_count, checked) = w.violations();
        // Throughput over the time arrivals were open, so the drain does not dilute it.
        let span_us = w.arrivals_closed_at().unwrap_or(w.now()).max(1);
        Report {
            pattern: sim.scene.info().id,
            seed: w.seed,
            params: sim.params.to_json(),
            faults: w.faults().iter().map(ToString::to_string).collect(),
            virtual_time_us: w.now(),
            events: w.events(),
            wall_ms,
            requests: w.counts(),
            latency_us: Latency::of(h),
            failure_latency_us: Latency::of(w.failure_latency()),
            throughput_rps: round2(w.counts().completed as f64 * 1e6 / span_us as f64),
            metrics: sim.metrics(),
            theory: {
                // Inserted one by one, as Params::to_json does (collect would sort).
                let mut m = Map::new();
                sim.theory().into_iter().for_each(|(k, v)| drop(m.insert(k.to_string(), Json::from(round2(v)))));
                m
            },
            invariants: Invariants {
                names: w.checker_names(),
                checked,
                violation_count,
                violations: violations.to_vec(),
                reproduce: (violation_count > 0).then(|| sim.reproduce()),
            },
        }
    }

    /// Pretty JSON, laid out as `serde_json::to_string_pretty` lays it out. Written here rather than by
    /// serde_json's writer, which works through `std::io::Write`: that brings std's I/O
    /// errors into the page, and with their `Debug` the string escaping and its Unicode
    /// tables (about 9 KB gzip of a ~300 KB page).
    pub fn to_json(&self) -> String {
        // The top level in the struct's order (the run's identity first); nested objects come
        // out with their keys sorted, as serde_json's map keeps them.
        let fields: [(&str, Json); 14] = [
            ("pattern", Json::from(self.pattern)),
            ("seed", Json::from(self.seed)),
            ("params", Json::Object(self.params.clone())),
            ("faults", Json::from(self.faults.clone())),
            ("virtual_time_us", Json::from(self.virtual_time_us)),
            ("events", Json::from(self.events)),
            ("wall_ms", Json::from(self.wall_ms)),
            ("requests", value(&self.requests)),
            ("latency_us", value(&self.latency_us)),
            ("failure_latency_us", value(&self.failure_latency_us)),
            ("throughput_rps", Json::from(self.throughput_rps)),
            ("metrics", Json::Object(self.metrics.clone())),
            ("theory", Json::Object(self.theory.clone())),
            ("invariants", value(&self.invariants)),
        ];
        let mut out = String::from("{");
        for (i, (k, v)) in fields.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            write_string(k, &mut out);
            out.push_str(": ");
            write_pretty(v, 1, &mut out);
        }
        out.push_str("\n}");
        out
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A part of the report as a JSON value (serde_json's `to_value` needs no writer). It
/// cannot fail (no map here has keys that are not strings); the panic does not write
/// serde_json's error, whose formatting is 1.4 KB of the page's gzip bytes.
fn value<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or_else(|_| panic!("reports serialise"))
}

/// `v` as pretty JSON (two spaces per level) onto `out`.
fn write_pretty(v: &Json, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| (0..depth).for_each(|_| out.push_str("  "));
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => write_string(s, out),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Object(m) if m.is_empty() => out.push_str("{}"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_pretty(item, depth + 1, out);
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_string(k, out);
                out.push_str(": ");
                write_pretty(item, depth + 1, out);
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
        }
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_is_serde_jsons() {
        let v = serde_json::json!({
            "empty": {}, "none": [], "null": null, "yes": true, "n": -3, "big": 18446744073709551615u64,
            "x": 0.1, "y": 1e-7, "z": 2.5e300, "whole": 3.0,
            "text": "quote \" slash \\ nl \n tab \t bell \u{7} del \u{7f} é ✓ 😀",
            "nested": [[1, 2], [], {"a": [{}]}],
        });
        let mut ours = String::new();
        write_pretty(&v, 0, &mut ours);
        assert_eq!(ours, serde_json::to_string_pretty(&v).unwrap());
    }
}
