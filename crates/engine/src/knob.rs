//! Knobs: typed specs that the CLI and the page both read, and the validated values
//! of one run (`Params`). Bad text becomes an error naming the knob, the value and
//! what is allowed; it never panics.

use crate::dist::Dist;
use crate::error::{Error, Result};
use crate::num::Short;
use crate::time::{Micros, format_duration, parse_duration};
use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub enum KnobKind {
    Int { min: i64, max: i64 },
    Float { min: f64, max: f64 },
    Choice(&'static [&'static str]),
    Bool,
    Duration { min_us: Micros, max_us: Micros },
    Dist,
    /// Comma-separated numbers, e.g. per-server speeds `1,1,0.25`.
    Floats { min: f64, max: f64, max_len: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct KnobSpec {
    pub name: &'static str,
    pub kind: KnobKind,
    pub default: &'static str,
    pub unit: &'static str,
    /// Whether a run can take a new value while it plays (a schedule entry `20s set
    /// KNOB=VALUE`); a knob that is not live is set before the run starts.
    pub live: bool,
    pub help: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Choice(&'static str),
    Bool(bool),
    Duration(Micros),
    Dist(Dist),
    Floats(Vec<f64>),
}

impl KnobSpec {
    /// What values are allowed, in words, for help text and error messages.
    pub fn allowed(&self) -> String {
        match &self.kind {
            KnobKind::Int { min, max } => format!("a whole number from {min} to {max}"),
            KnobKind::Float { min, max } => format!("a number from {} to {}", Short(*min), Short(*max)),
            KnobKind::Choice(c) => format!("one of {}", c.join(", ")),
            KnobKind::Bool => "on or off".into(),
            KnobKind::Duration { min_us, max_us } => {
                format!("a duration from {} to {}", format_duration(*min_us), format_duration(*max_us))
            }
            KnobKind::Dist => "a distribution such as const:10ms, exp:10ms, uniform:5ms..15ms, lognormal:10ms,0.5".into(),
            KnobKind::Floats { min, max, max_len } => format!("up to {max_len} comma-separated numbers from {} to {}", Short(*min), Short(*max)),
        }
    }

    pub fn parse(&self, text: &str) -> Result<Value> {
        let t = text.trim();
        let bad = || Error::new(format!("knob '{}': '{}' is not allowed; use {}", self.name, text, self.allowed()));
        let number = |s: &str| crate::num::parse_f64(s.trim()).filter(|x| x.is_finite());
        Ok(match &self.kind {
            KnobKind::Int { min, max } => {
                let v: i64 = t.parse().map_err(|_| bad())?;
                if v < *min || v > *max {
                    return Err(bad());
                }
                Value::Int(v)
            }
            KnobKind::Float { min, max } => {
                let v = number(t).ok_or_else(bad)?;
                if v < *min || v > *max {
                    return Err(bad());
                }
                Value::Float(v)
            }
            KnobKind::Choice(choices) => Value::Choice(choices.iter().find(|c| **c == t).ok_or_else(bad)?),
            KnobKind::Bool => match t {
                "on" | "true" | "1" | "yes" => Value::Bool(true),
                "off" | "false" | "0" | "no" => Value::Bool(false),
                _ => return Err(bad()),
            },
            KnobKind::Duration { min_us, max_us } => {
                let v = parse_duration(t).map_err(|_| bad())?;
                if v < *min_us || v > *max_us {
                    return Err(bad());
                }
                Value::Duration(v)
            }
            KnobKind::Dist => {
                let d = Dist::parse(t).map_err(|e| Error::new(format!("knob '{}': '{}' is not a distribution: {e}", self.name, text)))?;
                Value::Dist(d)
            }
            KnobKind::Floats { min, max, max_len } => {
                let vs: Option<Vec<f64>> = t.split(',').map(number).collect();
                let vs = vs.ok_or_else(bad)?;
                if vs.is_empty() || vs.len() > *max_len || vs.iter().any(|v| v < min || v > max) {
                    return Err(bad());
                }
                Value::Floats(vs)
            }
        })
    }
}

impl Value {
    /// The text form, which `KnobSpec::parse` reads back to the same value.
    pub fn to_text(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v) => Short(*v).to_string(),
            Value::Choice(c) => c.to_string(),
            Value::Bool(b) => if *b { "on" } else { "off" }.into(),
            Value::Duration(us) => format_duration(*us),
            Value::Dist(d) => d.to_string(),
            Value::Floats(vs) => vs.iter().map(|v| Short(*v).to_string()).collect::<Vec<_>>().join(","),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Int(v) => Json::from(*v),
            Value::Float(v) => Json::from(*v),
            Value::Bool(b) => Json::from(*b),
            other => Json::from(other.to_text()),
        }
    }
}

/// One run's knob values, in spec order, every one validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    specs: &'static [KnobSpec],
    values: Vec<Value>,
}

impl Params {
    pub fn defaults(specs: &'static [KnobSpec]) -> Params {
        let values = specs.iter().map(|s| s.parse(s.default).expect("a knob's default is valid")).collect();
        Params { specs, values }
    }

    pub fn specs(&self) -> &'static [KnobSpec] {
        self.specs
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.specs.iter().position(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.specs.iter().map(|s| s.name).collect();
            Error::new(format!("unknown knob '{name}' (knobs: {})", names.join(", ")))
        })
    }

    /// Sets one knob from text; on error nothing changes.
    pub fn set(&mut self, name: &str, text: &str) -> Result<()> {
        let i = self.index(name)?;
        self.values[i] = self.specs[i].parse(text)?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> &Value {
        let i = self.index(name).unwrap_or_else(|e| panic!("scene asked for a knob it does not declare: {e}"));
        &self.values[i]
    }

    /// `(name, text)` for every knob that differs from its default, in spec order.
    pub fn changed(&self) -> Vec<(&'static str, String)> {
        let defaults = Params::defaults(self.specs);
        self.specs
            .iter()
            .zip(&self.values)
            .zip(&defaults.values)
            .filter(|((_, v), d)| v != d)
            .map(|((s, v), _)| (s.name, v.to_text()))
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static KnobSpec, &Value)> {
        self.specs.iter().zip(&self.values)
    }

    pub fn to_json(&self) -> serde_json::Map<String, Json> {
        // Inserted one by one: collecting into the map would pull in a stable sort for
        // its key type, some 1.5 KB of wasm each (serde_json's Map is a BTreeMap).
        let mut m = serde_json::Map::new();
        self.iter().for_each(|(s, v)| drop(m.insert(s.name.to_string(), v.to_json())));
        m
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Value::Int(v) => *v,
            v => panic!("knob {name} is {}, not an int", v.to_text()),
        }
    }
    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            Value::Float(v) => *v,
            Value::Int(v) => *v as f64,
            v => panic!("knob {name} is {}, not a number", v.to_text()),
        }
    }
    pub fn choice(&self, name: &str) -> &'static str {
        match self.get(name) {
            Value::Choice(c) => c,
            v => panic!("knob {name} is {}, not a choice", v.to_text()),
        }
    }
    pub fn flag(&self, name: &str) -> bool {
        match self.get(name) {
            Value::Bool(b) => *b,
            v => panic!("knob {name} is {}, not a flag", v.to_text()),
        }
    }
    pub fn duration(&self, name: &str) -> Micros {
        match self.get(name) {
            Value::Duration(us) => *us,
            v => panic!("knob {name} is {}, not a duration", v.to_text()),
        }
    }
    pub fn dist(&self, name: &str) -> Dist {
        match self.get(name) {
            Value::Dist(d) => d.clone(),
            v => panic!("knob {name} is {}, not a distribution", v.to_text()),
        }
    }
    pub fn floats(&self, name: &str) -> Vec<f64> {
        match self.get(name) {
            Value::Floats(vs) => vs.clone(),
            v => panic!("knob {name} is {}, not a list", v.to_text()),
        }
    }
}

/// The common knobs with another default network delay per hop (a scene whose lesson
/// needs hops that take time, such as replicas in distant regions).
pub fn common_knobs_with_latency(rate_default: &'static str, rate_max: f64, latency_default: &'static str) -> Vec<KnobSpec> {
    let mut knobs = common_knobs(rate_default, rate_max);
    for k in knobs.iter_mut().filter(|k| k.name == "net_latency") {
        k.default = latency_default;
    }
    knobs
}

/// The knobs every scene has (patterns.md: `arrival_rate`, `traffic`, `net_latency`,
/// `loss`), each of which can change while a run plays.
pub fn common_knobs(rate_default: &'static str, rate_max: f64) -> Vec<KnobSpec> {
    vec![
        KnobSpec {
            name: "arrival_rate",
            kind: KnobKind::Float { min: 1.0, max: rate_max },
            default: rate_default,
            unit: "req/s",
            live: true,
            help: "Requests per second offered by the clients (Poisson arrivals); with a traffic shape, its reference level.",
        },
        KnobSpec {
            name: "traffic",
            kind: KnobKind::Choice(crate::traffic::Shape::NAMES),
            default: "steady",
            unit: "",
            live: true,
            help: "The shape of the offered load over time: steady; ramp (10% to 100% of arrival_rate over one period, then steady); \
                   spike (4x arrival_rate for a sixth of the period, starting a third of the way in); diurnal (a daily wave from 20% to 180%).",
        },
        KnobSpec {
            name: "traffic_period",
            kind: KnobKind::Duration { min_us: 1_000_000, max_us: 86_400_000_000 },
            default: "60s",
            unit: "",
            live: true,
            help: "The length of one ramp, spike cycle or day of the traffic shape.",
        },
        KnobSpec {
            name: "net_latency",
            kind: KnobKind::Dist,
            default: "const:0",
            unit: "per hop",
            live: true,
            help: "One-way network delay of every hop, as a distribution.",
        },
        KnobSpec {
            name: "loss",
            kind: KnobKind::Float { min: 0.0, max: 1.0 },
            default: "0",
            unit: "fraction",
            live: true,
            help: "Probability that the network drops any one message.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static SPECS: LazyLock<Vec<KnobSpec>> = LazyLock::new(|| {
        let mut k = common_knobs("100", 1e6);
        k.push(KnobSpec { name: "servers", kind: KnobKind::Int { min: 1, max: 64 }, default: "4", unit: "", live: false, help: "" });
        k.push(KnobSpec { name: "policy", kind: KnobKind::Choice(&["random", "round-robin"]), default: "random", unit: "", live: false, help: "" });
        k
    });

    #[test]
    fn errors_name_knob_value_and_range_and_keep_the_old_value() {
        let mut p = Params::defaults(&SPECS);
        let e = p.set("servers", "99").unwrap_err().0;
        assert!(e.contains("'servers'") && e.contains("'99'") && e.contains("1 to 64"), "{e}");
        assert_eq!(p.int("servers"), 4);
        let e = p.set("policy", "fastest").unwrap_err().0;
        assert!(e.contains("random, round-robin"), "{e}");
        let e = p.set("nope", "1").unwrap_err().0;
        assert!(e.contains("unknown knob 'nope'") && e.contains("servers"), "{e}");
        assert!(p.set("net_latency", "gauss:1ms").unwrap_err().0.contains("net_latency"));
    }

    #[test]
    fn text_round_trips_and_changed_lists_only_changes() {
        let mut p = Params::defaults(&SPECS);
        p.set("servers", "8").unwrap();
        p.set("net_latency", "exp:1ms").unwrap();
        assert_eq!(p.changed(), vec![("net_latency", "exp:1ms".to_string()), ("servers", "8".to_string())]);
        for (spec, value) in p.iter() {
            assert_eq!(&spec.parse(&value.to_text()).unwrap(), value);
        }
    }
}
