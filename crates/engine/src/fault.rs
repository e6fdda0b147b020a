//! The schedule is data: `(time, entry)` values that a URL, a click, the CLI or a property
//! test produce alike. An entry is a fault (`10s kill server-2`, `5s slow server-1 x4`,
//! `5s hang b`, `20s revive b`, `3s partition a,b|c`, `9s heal`), a change of a live knob
//! (`20s set arrival_rate=5000`) or an action of the scene (`30s add-server`,
//! `12s flush cache`). Text is parsed here; whether a knob or an action exists in a
//! scene is checked when the entry joins a run's schedule (`World::schedule_fault`).

use crate::error::{Error, Result};
use crate::time::{Micros, format_duration, parse_duration};

#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The node's process dies: its connections are reset and it answers nothing.
    Kill(String),
    /// A dead, hung or slowed node comes back healthy, with empty state.
    Revive(String),
    /// The node does its work this many times slower.
    Slow(String, f64),
    /// The node freezes: it accepts connections and never answers.
    Hang(String),
    /// Nodes in different groups cannot reach each other; unnamed nodes reach everyone.
    Partition(Vec<Vec<String>>),
    Heal,
    /// A live knob takes a new value.
    Set(String, String),
    /// One of the scene's own actions, with its argument if it takes one.
    Action(String, Option<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    pub at_us: Micros,
    pub fault: Fault,
}

const USAGE: &str = "a schedule entry looks like '10s kill server-2', '5s slow server-1 x4', '5s hang b', '20s revive b', \
                     '3s partition a,b|c', '9s heal', '20s set arrival_rate=5000' or a scene action such as '30s add-server'";

impl std::str::FromStr for ScheduledFault {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::new(format!("fault '{text}': {why}; {USAGE}"));
        let mut words = text.split_whitespace();
        let at_us = parse_duration(words.next().ok_or_else(|| bad("empty"))?).map_err(|e| bad(&e))?;
        let verb = words.next().ok_or_else(|| bad("no action after the time"))?;
        let mut node = || words.next().map(str::to_string).ok_or_else(|| bad(&format!("'{verb}' needs a node name")));
        let fault = match verb {
            "kill" => Fault::Kill(node()?),
            "revive" => Fault::Revive(node()?),
            "hang" => Fault::Hang(node()?),
            "slow" => {
                let name = node()?;
                let factor_text = words.next().ok_or_else(|| bad("'slow' needs a factor such as x4"))?;
                let factor = crate::num::parse_f64(factor_text.trim_start_matches('x').trim_end_matches('x'))
                    .ok_or_else(|| bad(&format!("'{factor_text}' is not a factor such as x4")))?;
                if !(0.01..=1000.0).contains(&factor) {
                    return Err(bad("the slow factor must be between x0.01 and x1000"));
                }
                Fault::Slow(name, factor)
            }
            "partition" => {
                let spec = words.next().ok_or_else(|| bad("'partition' needs groups such as a,b|c"))?;
                let groups: Vec<Vec<String>> =
                    spec.split('|').map(|g| g.split(',').filter(|n| !n.is_empty()).map(str::to_string).collect()).collect();
                if groups.len() < 2 || groups.iter().any(Vec::is_empty) {
                    return Err(bad("a partition needs at least two non-empty groups separated by '|'"));
                }
                Fault::Partition(groups)
            }
            "heal" => Fault::Heal,
            "set" => {
                let assignment = words.next().ok_or_else(|| bad("'set' needs KNOB=VALUE"))?;
                let (knob, value) = assignment.split_once('=').ok_or_else(|| bad(&format!("'{assignment}' should be KNOB=VALUE")))?;
                if knob.is_empty() || value.is_empty() {
                    return Err(bad(&format!("'{assignment}' should be KNOB=VALUE")));
                }
                Fault::Set(knob.to_string(), value.to_string())
            }
            action => {
                let named = action.chars().all(|c| c.is_ascii_lowercase() || c == '-') && action.starts_with(|c: char| c.is_ascii_lowercase());
                if !named {
                    return Err(bad(&format!("'{action}' is not an action name")));
                }
                Fault::Action(action.to_string(), words.next().map(str::to_string))
            }
        };
        if let Some(extra) = words.next() {
            return Err(bad(&format!("unexpected '{extra}'")));
        }
        Ok(ScheduledFault { at_us, fault })
    }
}

impl Fault {
    /// The nodes this fault names, for validation against a scene's topology.
    pub fn nodes(&self) -> Vec<&str> {
        match self {
            Fault::Kill(n) | Fault::Revive(n) | Fault::Slow(n, _) | Fault::Hang(n) => vec![n.as_str()],
            Fault::Partition(groups) => groups.iter().flatten().map(String::as_str).collect(),
            Fault::Heal | Fault::Set(..) | Fault::Action(..) => vec![],
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Kill(n) => write!(f, "kill {n}"),
            Fault::Revive(n) => write!(f, "revive {n}"),
            Fault::Hang(n) => write!(f, "hang {n}"),
            Fault::Slow(n, x) => write!(f, "slow {n} x{}", crate::num::Short(*x)),
            Fault::Partition(groups) => {
                let text: Vec<String> = groups.iter().map(|g| g.join(",")).collect();
                write!(f, "partition {}", text.join("|"))
            }
            Fault::Heal => write!(f, "heal"),
            Fault::Set(k, v) => write!(f, "set {k}={v}"),
            Fault::Action(a, Some(arg)) => write!(f, "{a} {arg}"),
            Fault::Action(a, None) => write!(f, "{a}"),
        }
    }
}

impl std::fmt::Display for ScheduledFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", format_duration(self.at_us), self.fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_fault() {
        for s in [
            "10s kill server-2",
            "5s slow server-1 x4",
            "500ms hang b",
            "20s revive b",
            "3s partition a,b|c",
            "9s heal",
            "20s set arrival_rate=5000",
            "30s add-server",
            "12s flush cache",
        ] {
            let f: ScheduledFault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
    }

    #[test]
    fn bad_faults_say_why() {
        for (s, why) in [
            ("", "empty"),
            ("10s", "no action"),
            ("10s Explode x", "not an action name"),
            ("10s set", "KNOB=VALUE"),
            ("10s set rate", "KNOB=VALUE"),
            ("10s set =5", "KNOB=VALUE"),
            ("10s kill", "needs a node"),
            ("10s slow a", "factor"),
            ("10s slow a x0", "between"),
            ("10s partition a", "two non-empty"),
            ("10x kill a", "unknown unit"),
            ("1s heal now", "unexpected"),
        ] {
            let e = s.parse::<ScheduledFault>().unwrap_err().0;
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
