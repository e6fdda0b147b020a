//! A scene: one pattern on the virtual cluster. It declares its knobs, actions and
//! presets, how it is drawn (`view`) and its story (`narrative`), all as plain data; it
//! builds its topology from knob values, and reports its own measures.

use crate::error::{Error, Result};
use crate::fault::{Fault, ScheduledFault};
use crate::knob::{KnobSpec, Params};
use crate::narrative::Narrative;
use crate::view::SceneView;
use crate::world::World;
use serde_json::{Map, Value as Json};

/// A named starting point: knob values and a fault schedule.
pub struct Preset {
    pub name: &'static str,
    pub title: &'static str,
    pub about: &'static str,
    pub set: &'static [(&'static str, &'static str)],
    pub faults: &'static [&'static str],
}

/// Something a scene can do while it plays, as a schedule entry (`30s add-server`).
pub struct ActionSpec {
    pub name: &'static str,
    /// What the argument is, in words (`a server's name`), if the action takes one.
    pub arg: Option<&'static str>,
    /// When the argument names a node, the role of the nodes it can name: the page offers
    /// the action in those nodes' menus. An action without argument gets a button.
    pub role: Option<&'static str>,
    pub help: &'static str,
}

pub struct SceneInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub knobs: Vec<KnobSpec>,
    pub actions: &'static [ActionSpec],
    pub presets: &'static [Preset],
    pub view: SceneView,
    pub narrative: &'static Narrative,
}

/// A scene's view into a built world: its measures and its time-series columns.
pub trait Probe {
    fn metrics(&self, w: &World) -> Map<String, Json>;
    /// Names of the extra time-series columns this scene samples.
    fn series_names(&self, _w: &World) -> Vec<String> {
        Vec::new()
    }
    fn sample(&self, _w: &World, _out: &mut Vec<f64>) {}
    /// Closed-form predictions for the current knobs, where theory gives one:
    /// `(name, value)`, e.g. the M/M/1 mean latency of random routing.
    fn theory(&self, _p: &Params) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// Whether one of the scene's actions can be scheduled on this world as it is now
    /// (its name and argument count are already checked): an error names what is wrong.
    fn check_action(&self, _w: &World, _action: &str, _arg: Option<&str>) -> Result<()> {
        Ok(())
    }
    /// Carries out one of the scene's actions, at the scheduled instant.
    fn on_action(&mut self, _w: &mut World, _action: &str, _arg: Option<&str>) {}
    /// Whether the scene's own background work has settled (replicas caught up), so that
    /// a run to the end may stop once every request has ended; the drain deadline still
    /// bounds the wait.
    fn settled(&self, _w: &World) -> bool {
        true
    }
}

pub trait Scene: Sync {
    fn info(&self) -> &'static SceneInfo;
    /// Whether the knobs make sense together (each is valid alone already): an error
    /// names the knobs and their values (a quorum larger than the replicas, say).
    fn check(&self, _p: &Params) -> Result<()> {
        Ok(())
    }
    /// Adds the scene's nodes and checkers to `w`; knob values are already valid.
    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe>;
}

/// Whether a schedule entry fits a scene, as far as its declarations tell: a `set` names
/// a live knob and a value it accepts, an action is one of the scene's with the argument
/// it takes. Node names are checked by the world, which has the nodes.
pub fn check_entry(f: &ScheduledFault, knobs: &[KnobSpec], actions: &[ActionSpec]) -> Result<()> {
    match &f.fault {
        Fault::Set(knob, value) => {
            let spec = knobs.iter().find(|s| s.name == knob).ok_or_else(|| {
                let names: Vec<&str> = knobs.iter().filter(|s| s.live).map(|s| s.name).collect();
                Error::new(format!("'{f}': unknown knob '{knob}' (knobs that can change during a run: {})", names.join(", ")))
            })?;
            if !spec.live {
                return Err(Error::new(format!("'{f}': knob '{knob}' cannot change while the run plays; set it before the run starts")));
            }
            spec.parse(value).map_err(|e| Error::new(format!("'{f}': {}", e.0)))?;
        }
        Fault::Action(name, arg) => {
            let Some(spec) = actions.iter().find(|a| a.name == name) else {
                let names: Vec<&str> = actions.iter().map(|a| a.name).collect();
                let known = if names.is_empty() { "this scene has none".to_string() } else { format!("this scene's: {}", names.join(", ")) };
                return Err(Error::new(format!("'{f}': unknown action '{name}' ({known})")));
            };
            match (spec.arg, arg) {
                (Some(what), None) => return Err(Error::new(format!("'{f}': '{name}' needs {what}"))),
                (None, Some(extra)) => return Err(Error::new(format!("'{f}': '{name}' takes no argument, got '{extra}'"))),
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}
