//! Faults are data: a schedule of `(time, fault)` values that a URL, a click, the CLI
//! or a property test produce alike. Text form: `10s kill server-2`, `5s slow server-1 x4`,
//! `5s hang b`, `20s revive b`, `3s partition a,b|c`, `9s heal`.

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
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    pub at_us: Micros,
    pub fault: Fault,
}

const USAGE: &str = "a fault looks like '10s kill server-2', '5s slow server-1 x4', '5s hang b', '20s revive b', '3s partition a,b|c' or '9s heal'";

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
                let factor: f64 = factor_text
                    .trim_start_matches('x')
                    .trim_end_matches('x')
                    .parse()
                    .map_err(|_| bad(&format!("'{factor_text}' is not a factor such as x4")))?;
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
            other => return Err(bad(&format!("unknown action '{other}'"))),
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
            Fault::Heal => vec![],
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Kill(n) => write!(f, "kill {n}"),
            Fault::Revive(n) => write!(f, "revive {n}"),
            Fault::Hang(n) => write!(f, "hang {n}"),
            Fault::Slow(n, x) => write!(f, "slow {n} x{x}"),
            Fault::Partition(groups) => {
                let text: Vec<String> = groups.iter().map(|g| g.join(",")).collect();
                write!(f, "partition {}", text.join("|"))
            }
            Fault::Heal => write!(f, "heal"),
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
        for s in ["10s kill server-2", "5s slow server-1 x4", "500ms hang b", "20s revive b", "3s partition a,b|c", "9s heal"] {
            let f: ScheduledFault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
    }

    #[test]
    fn bad_faults_say_why() {
        for (s, why) in [
            ("", "empty"),
            ("10s", "no action"),
            ("10s explode x", "unknown action"),
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
