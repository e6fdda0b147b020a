//! Command-line parsing, by hand: every mistake becomes one line naming what was wrong.

use clusterlab_sim::time::{Micros, parse_duration};
use clusterlab_sim::{Limit, RunSpec};

/// Which event-log entries `run --log` prints: all, or those of one kind or one node.
#[derive(Clone, Debug, PartialEq)]
pub struct LogFilter(pub Option<String>);

/// `run --diagram FROM..TO FILE`: the space-time diagram of that window, as SVG.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagramTo {
    pub from: Micros,
    pub to: Micros,
    pub file: String,
}

pub enum Command {
    List,
    Describe(String),
    Run { spec: RunSpec, json: bool, log: Option<LogFilter>, diagram: Option<DiagramTo> },
    Bench { requests: u64, json: bool, peer: bool, repeats: u32 },
    Help,
}

pub const USAGE: &str = "usage:
  clusterlab list
  clusterlab describe ID
  clusterlab run ID [--preset NAME] [--set KNOB=VALUE]... [--seed N] [--requests N | --until 60s] [--at \"TIME ENTRY\"]... [--json] [--log | --log-only KIND_OR_NODE]
                 [--diagram FROM..TO FILE.svg]
  clusterlab bench [--requests N] [--peer] [--repeats N] [--json]

--at (or --fault) adds an entry to the run's schedule, replayed exactly:
  a fault       '10s kill server-2', '5s slow server-1 x4', '5s hang b', '20s revive b',
                '3s partition a,b|c', '9s heal'
  a knob change '20s set arrival_rate=5000' (knobs that can change while a run plays;
                'clusterlab describe ID' marks them 'live')
  an action     of the scene's own, e.g. '30s add-shard' ('clusterlab describe ID' lists them)

--log prints the run's event log (faults, knob changes, actions, state changes, invariant
violations, in words) before the report; --log-only WORD only the entries of that kind
(fault, knob, action, state, violation) or that node.

--diagram 10s..12s out.svg writes the space-time diagram of that window: one line per
node, time running down, every message sent in it an arrow from sender to receiver (lost
ones end in a cross, refused ones come back); past 400 messages, one request in N.

bench runs every scene's defaults with the page's trace ring attached: warm-up runs for
1.5 s, then the best of --repeats runs (default 5; with 1, a single run and no warm-up,
for profilers). --peer runs instead the workload cargo xtask bench also runs in SimPy, with
the ring drained every 32,000 events as the page drains it every frame (32,000 events are a
frame at the top speed), then with the ring never drained, and reports the mean of the runs
too.";

pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut it = args.iter();
    let Some(verb) = it.next() else { return Ok(Command::Help) };
    match verb.as_str() {
        "list" => none_left(it).map(|_| Command::List),
        "describe" => {
            let id = it.next().ok_or("describe needs a scene id (see 'clusterlab list')")?;
            none_left(it).map(|_| Command::Describe(id.clone()))
        }
        "run" => parse_run(it),
        "bench" => {
            let (mut requests, mut json, mut peer, mut repeats) = (1_000_000, false, false, 5);
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--requests" => requests = count(it.next(), "--requests")?,
                    "--json" => json = true,
                    "--peer" => peer = true,
                    "--repeats" => repeats = u32::try_from(count(it.next(), "--repeats")?).map_err(|_| "--repeats: too many".to_string())?,
                    other => return Err(format!("bench: unknown option '{other}'")),
                }
            }
            Ok(Command::Bench { requests, json, peer, repeats })
        }
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(format!("unknown command '{other}' (list, describe, run, bench)")),
    }
}

fn none_left<'a>(mut it: impl Iterator<Item = &'a String>) -> Result<(), String> {
    match it.next() {
        Some(extra) => Err(format!("unexpected argument '{extra}'")),
        None => Ok(()),
    }
}

fn count(v: Option<&String>, flag: &str) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a number"))?;
    match v.replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag}: '{v}' is not a positive whole number")),
    }
}

fn parse_run<'a>(mut it: impl Iterator<Item = &'a String>) -> Result<Command, String> {
    let id = it.next().ok_or("run needs a scene id (see 'clusterlab list')")?;
    let mut spec = RunSpec::new(id);
    let mut json = false;
    let mut log = None;
    let mut diagram = None;
    let mut limit_set = false;
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--set" => {
                let kv = value("--set")?;
                let (k, v) = kv.split_once('=').ok_or_else(|| format!("--set '{kv}': expected KNOB=VALUE"))?;
                spec.set.push((k.trim().to_string(), v.trim().to_string()));
            }
            "--seed" => {
                let v = value("--seed")?;
                spec.seed = v.parse().map_err(|_| format!("--seed: '{v}' is not a whole number from 0 to 2^64-1"))?;
            }
            "--requests" | "--until" if limit_set => return Err("give one of --requests or --until, once".into()),
            "--requests" => {
                spec.limit = Limit::Requests(count(Some(&value("--requests")?), "--requests")?);
                limit_set = true;
            }
            "--until" => {
                let v = value("--until")?;
                let t = parse_duration(&v).map_err(|e| format!("--until: {e}"))?;
                if t == 0 {
                    return Err("--until must be after 0".into());
                }
                spec.limit = Limit::Until(t);
                limit_set = true;
            }
            "--fault" | "--at" => spec.faults.push(value(a)?),
            "--preset" => {
                // A preset's knobs and schedule, in place: later --set and --at add to them.
                let name = value("--preset")?;
                let scene = clusterlab_sim::scene::find(id).map_err(|e| e.0)?;
                let presets = &scene.info().presets;
                let p = presets.iter().find(|p| p.name == name).ok_or_else(|| {
                    let names: Vec<&str> = presets.iter().map(|p| p.name).collect();
                    format!("--preset: scene '{id}' has no preset '{name}' (presets: {})", names.join(", "))
                })?;
                spec.set.extend(p.set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
                spec.faults.extend(p.faults.iter().map(|f| f.to_string()));
            }
            "--json" => json = true,
            "--log" => log = Some(LogFilter(None)),
            "--log-only" => log = Some(LogFilter(Some(value("--log-only")?))),
            "--diagram" => {
                let window = value("--diagram")?;
                let file = value("--diagram")?;
                let (from, to) = window.split_once("..").ok_or_else(|| format!("--diagram '{window}': expected a window FROM..TO, e.g. 10s..12s"))?;
                let (from, to) = (parse_duration(from).map_err(|e| format!("--diagram: {e}"))?, parse_duration(to).map_err(|e| format!("--diagram: {e}"))?);
                if from >= to {
                    return Err(format!("--diagram '{window}': the window must end after it starts"));
                }
                if !file.ends_with(".svg") {
                    return Err(format!("--diagram: '{file}' is not an .svg file name"));
                }
                diagram = Some(DiagramTo { from, to, file });
            }
            other => return Err(format!("run: unknown option '{other}'")),
        }
    }
    Ok(Command::Run { spec, json, log, diagram })
}
