//! A scene: one pattern on the virtual cluster. It declares its knobs and presets,
//! builds its topology from knob values, and reports its own measures.

use crate::knob::{KnobSpec, Params};
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

pub struct SceneInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub knobs: Vec<KnobSpec>,
    pub presets: Vec<Preset>,
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
}

pub trait Scene: Sync {
    fn info(&self) -> &'static SceneInfo;
    /// Adds the scene's nodes and checkers to `w`; knob values are already valid.
    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe>;
}

pub static SCENES: &[&dyn Scene] = &[&crate::scenes::load_balancing::LoadBalancing, &crate::scenes::circuit_breaker::CircuitBreaker];

pub fn find(id: &str) -> crate::error::Result<&'static dyn Scene> {
    SCENES.iter().copied().find(|s| s.info().id == id).ok_or_else(|| {
        let ids: Vec<&str> = SCENES.iter().map(|s| s.info().id).collect();
        crate::error::Error::new(format!("unknown scene '{id}' (scenes: {})", ids.join(", ")))
    })
}
