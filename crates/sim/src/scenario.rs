//! A scenario: everything a reader can set (scene, knobs, seed, speed, faults, the
//! instant shown), as the URL carries it:
//! `?p=load-balancing&policy=random&seed=7&speed=10&fault=10s%20kill%20server-2&t=12.5s`.
//! Reading never fails: each bad or unknown parameter becomes a notice naming it, that one
//! setting keeps its default, and everything else is kept.

use crate::fault::ScheduledFault;
use crate::knob::Params;
use crate::scene::{SCENES, Scene, check_entry, find};
use crate::num::Short;
use crate::time::{Micros, US_PER_MS, US_PER_S, format_duration, parse_duration};

pub const SPEED_MIN: f64 = 0.1;
pub const SPEED_MAX: f64 = 1000.0;
pub const DEFAULT_SPEED: f64 = 1.0;
/// The latest instant a link can open a run at (`t=`): getting there replays the run.
pub const AT_MAX: Micros = 3_600 * US_PER_S;
const RESERVED: [&str; 8] = ["p", "preset", "seed", "speed", "fault", "embed", "vs", "t"];

#[derive(Clone)]
pub struct Scenario {
    pub scene: &'static dyn Scene,
    pub params: Params,
    pub seed: u64,
    /// Virtual seconds per real second.
    pub speed: f64,
    pub faults: Vec<ScheduledFault>,
    pub embed: bool,
    /// The compare view: the same run with one knob set otherwise (`vs=policy:random`).
    pub compare: Option<(&'static str, String)>,
    /// The instant the run is paused at (`t=12.5s`): a link opens the run there.
    pub at: Option<Micros>,
}

impl PartialEq for Scenario {
    fn eq(&self, o: &Self) -> bool {
        self.scene.info().id == o.scene.info().id
            && self.params == o.params
            && self.seed == o.seed
            && self.speed == o.speed
            && self.faults == o.faults
            && self.embed == o.embed
            && self.compare == o.compare
            && self.at == o.at
    }
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scenario(")?;
        for (k, v) in self.to_pairs() {
            write!(f, " {k}={v}")?;
        }
        write!(f, " )")
    }
}

impl Scenario {
    pub fn new(scene: &'static dyn Scene) -> Scenario {
        Scenario { scene, params: Params::defaults(&scene.info().knobs), seed: 1, speed: DEFAULT_SPEED, faults: Vec::new(), embed: false, compare: None, at: None }
    }

    /// Reads URL parameters (already percent-decoded). Returns the scenario and a notice
    /// for every parameter that was bad or unknown.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Scenario, Vec<String>) {
        let mut notices = Vec::new();
        let scene = match pairs.iter().find(|(k, _)| k == "p") {
            Some((_, id)) => find(id).unwrap_or_else(|e| {
                notices.push(format!("p: {e}; showing {}", SCENES[0].info().id));
                SCENES[0]
            }),
            None => SCENES[0],
        };
        let mut s = Scenario::new(scene);
        // A preset is the starting point, whatever its place in the URL; the other
        // parameters then change it.
        if let Some((_, name)) = pairs.iter().find(|(k, _)| k == "preset") {
            match s.with_preset(name) {
                Some(p) => s = p,
                None => {
                    let names: Vec<&str> = scene.info().presets.iter().map(|p| p.name).collect();
                    notices.push(format!("preset: '{name}' is not one of {}'s presets ({}); using the defaults", scene.info().id, names.join(", ")));
                }
            }
        }
        let mut compare_text = None;
        for (k, v) in pairs {
            match k.as_str() {
                "p" | "preset" => {}
                "embed" => s.embed = v.is_empty() || v == "1" || v == "true",
                "seed" => match v.parse::<u64>() {
                    Ok(seed) => s.seed = seed,
                    Err(_) => notices.push(format!("seed: '{v}' is not a whole number from 0 to 18446744073709551615; using {}", s.seed)),
                },
                "speed" => match crate::num::parse_f64(v) {
                    Some(x) if (SPEED_MIN..=SPEED_MAX).contains(&x) => s.speed = x,
                    _ => notices.push(format!("speed: '{v}' is not a number from {} to {}; using {}", Short(SPEED_MIN), Short(SPEED_MAX), Short(DEFAULT_SPEED))),
                },
                "vs" => compare_text = Some(v.clone()),
                "t" => match parse_duration(v) {
                    Ok(t) if t <= AT_MAX => s.at = Some(t),
                    _ => notices.push(format!("t: '{v}' is not an instant from 0 to {} (e.g. 12.5s); starting from 0 s", format_duration(AT_MAX))),
                },
                "fault" => match v.parse::<ScheduledFault>().and_then(|f| check_entry(&f, &scene.info().knobs, scene.info().actions).map(|_| f)) {
                    Ok(f) => s.faults.push(f),
                    Err(e) => notices.push(format!("{e}; that entry is left out")),
                },
                knob => {
                    if let Err(e) = s.params.set(knob, v) {
                        notices.push(format!("{e}; using the default"));
                    }
                }
            }
        }
        if let Err(e) = scene.check(&s.params) {
            notices.push(format!("{e}; using this scene's defaults"));
            s.params = Params::defaults(&scene.info().knobs);
        }
        // After the knobs, so that the other side is checked against the final values.
        if let Some(text) = compare_text {
            match s.set_compare(&text) {
                Ok(()) => {}
                Err(e) => notices.push(format!("vs: {e}; no comparison shown")),
            }
        }
        (s, notices)
    }

    /// Sets the compare view from `knob:value`; on error nothing changes.
    pub fn set_compare(&mut self, text: &str) -> crate::error::Result<()> {
        let (knob, value) = text.split_once(':').ok_or_else(|| crate::error::Error::new(format!("'{text}' should be KNOB:VALUE, e.g. policy:random")))?;
        let mut other = self.params.clone();
        other.set(knob, value)?;
        self.scene.check(&other)?;
        let spec = self.params.specs().iter().find(|s| s.name == knob).expect("set() checked the name");
        self.compare = Some((spec.name, value.to_string()));
        Ok(())
    }

    /// The other side of the compare view, if one is set and still valid.
    pub fn compared(&self) -> Option<Scenario> {
        let (knob, value) = self.compare.as_ref()?;
        let mut other = Scenario { compare: None, ..self.clone() };
        other.params.set(knob, value).ok()?;
        Some(other)
    }

    /// The URL parameters that reproduce this scenario: only what differs from defaults.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![("p".to_string(), self.scene.info().id.to_string())];
        for (k, v) in self.params.changed() {
            debug_assert!(!RESERVED.contains(&k), "knob names never clash with URL names");
            out.push((k.to_string(), v));
        }
        if self.seed != 1 {
            out.push(("seed".into(), self.seed.to_string()));
        }
        if self.speed != DEFAULT_SPEED {
            out.push(("speed".into(), Short(self.speed).to_string()));
        }
        for f in &self.faults {
            out.push(("fault".into(), f.to_string()));
        }
        if let Some((knob, value)) = &self.compare {
            out.push(("vs".into(), format!("{knob}:{value}")));
        }
        if let Some(t) = self.at {
            out.push(("t".into(), format_duration(t / US_PER_MS * US_PER_MS)));
        }
        if self.embed {
            out.push(("embed".into(), String::new()));
        }
        out
    }

    /// A knob's value as the run has it last: its newest `set` entry in the schedule, or
    /// else its setting.
    pub fn knob_text(&self, knob: &str) -> String {
        let scheduled = self.faults.iter().rev().find_map(|f| match &f.fault {
            crate::fault::Fault::Set(k, v) if k == knob => Some(v.clone()),
            _ => None,
        });
        scheduled.unwrap_or_else(|| self.params.get(knob).to_text())
    }

    /// This scene's default knobs and an empty schedule; seed and speed are kept.
    pub fn with_defaults(&self) -> Scenario {
        Scenario { params: Params::defaults(&self.scene.info().knobs), faults: Vec::new(), compare: None, at: None, ..self.clone() }
    }

    /// Knobs and faults of a preset, on this scene's defaults; seed and speed are kept.
    pub fn with_preset(&self, name: &str) -> Option<Scenario> {
        let preset = self.scene.info().presets.iter().find(|p| p.name == name)?;
        let mut s = Scenario { params: Params::defaults(&self.scene.info().knobs), faults: Vec::new(), at: None, ..self.clone() };
        for (k, v) in preset.set {
            s.params.set(k, v).expect("presets use valid knob values");
        }
        s.faults = preset.faults.iter().map(|f| f.parse().expect("presets use valid faults")).collect();
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn round_trips_through_pairs() {
        let (s, notices) = Scenario::from_pairs(&pairs(&[
            ("p", "circuit-breaker"),
            ("breaker", "off"),
            ("seed", "7"),
            ("speed", "10"),
            ("fault", "10s hang b"),
            ("fault", "40s revive b"),
            ("vs", "breaker:on"),
            ("t", "12.5s"),
            ("embed", ""),
        ]));
        assert!(notices.is_empty(), "{notices:?}");
        let (again, n2) = Scenario::from_pairs(&s.to_pairs());
        assert!(n2.is_empty());
        assert_eq!(again, s);
        assert_eq!(s.faults.len(), 2);
        assert!(s.embed && s.seed == 7 && s.speed == 10.0 && !s.params.flag("breaker"));
        assert_eq!(s.at, Some(12_500_000));
        let other = s.compared().unwrap();
        assert!(other.params.flag("breaker") && other.faults == s.faults && other.seed == s.seed);
    }

    #[test]
    fn a_bad_comparison_is_named_and_left_out() {
        for bad in ["policy", "policy:fastest", "colour:blue"] {
            let (s, notices) = Scenario::from_pairs(&pairs(&[("p", "load-balancing"), ("vs", bad)]));
            assert!(s.compare.is_none());
            assert!(notices[0].starts_with("vs:"), "{notices:?}");
        }
        let (s, _) = Scenario::from_pairs(&pairs(&[("p", "load-balancing"), ("vs", "service_time:exp:2ms")]));
        assert_eq!(s.compare, Some(("service_time", "exp:2ms".to_string())));
    }

    #[test]
    fn each_bad_parameter_is_named_and_the_rest_is_kept() {
        let (s, notices) = Scenario::from_pairs(&pairs(&[
            ("p", "load-balancing"),
            ("servers", "99"),
            ("policy", "random"),
            ("seed", "x"),
            ("speed", "5000"),
            ("fault", "10s explode server-1"),
            ("colour", "blue"),
            ("t", "2h"),
        ]));
        assert_eq!(notices.len(), 6, "{notices:?}");
        for (needle, notice) in ["servers", "seed", "speed", "explode", "colour", "t: '2h'"].iter().zip(&notices) {
            assert!(notice.contains(needle), "{notice}");
        }
        assert_eq!(s.params.choice("policy"), "random", "good settings survive");
        assert_eq!((s.params.int("servers"), s.seed, s.speed, s.at), (4, 1, DEFAULT_SPEED, None), "bad ones keep defaults");
    }

    #[test]
    fn unknown_scene_falls_back_with_a_notice() {
        let (s, notices) = Scenario::from_pairs(&pairs(&[("p", "warp-drive")]));
        assert_eq!(s.scene.info().id, SCENES[0].info().id);
        assert!(notices[0].contains("warp-drive"));
    }

    #[test]
    fn presets_apply_knobs_and_faults() {
        let s = Scenario::new(find("load-balancing").unwrap());
        let p = s.with_preset("dead-server-health-checks").unwrap();
        assert!(p.params.flag("health_checks"));
        assert_eq!(p.faults[0].to_string(), "10500ms kill server-2");
        assert!(s.with_preset("nope").is_none());
    }

    #[test]
    fn a_preset_in_the_url_is_the_starting_point_and_other_parameters_change_it() {
        let (s, notices) = Scenario::from_pairs(&pairs(&[
            ("arrival_rate", "500"),
            ("p", "load-balancing"),
            ("preset", "dead-server-health-checks"),
        ]));
        assert!(notices.is_empty(), "{notices:?}");
        assert!(s.params.flag("health_checks"));
        assert_eq!(s.params.float("arrival_rate"), 500.0);
        assert_eq!(s.faults[0].to_string(), "10500ms kill server-2");
        let (s, notices) = Scenario::from_pairs(&pairs(&[
            ("p", "load-balancing"),
            ("preset", "nope"),
            ("servers", "3"),
        ]));
        assert!(
            notices[0].contains("'nope'") && notices[0].contains("dead-server-health-checks"),
            "{notices:?}"
        );
        assert_eq!(s.params.int("servers"), 3);
    }
}
