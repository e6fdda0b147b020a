//! A scene's story, as data the page shows: what it is, an analogy, when to use it, the
//! common mistakes, and "try this" steps that set up the experiment in one click. Each
//! scene's story lives in a file of its own under `narratives/`.

pub struct Step {
    pub text: &'static str,
    /// A preset of the scene to load, if the step sets something up.
    pub preset: Option<&'static str>,
    /// A comparison to show beside it (`knob:value`), if any.
    pub compare: Option<&'static str>,
}

pub struct Narrative {
    pub what: &'static str,
    pub analogy: &'static str,
    pub when: &'static str,
    pub mistakes: &'static [&'static str],
    pub try_this: &'static [Step],
    /// Goals set to the reader, each on one step.
    pub goals: &'static [Goal],
}

/// A goal over one of the run's measures (the report's `metrics`): met when the measure
/// is at most (or at least) the value. On a step with a comparison it judges the compared
/// side (B, the knob changed); on a plain step, the run the step sets up.
pub struct Goal {
    /// The step (of `try_this`) that carries it.
    pub step: usize,
    pub text: &'static str,
    pub measure: &'static str,
    pub at_most: bool,
    pub value: f64,
    /// For a plain step, the knob change (`knob:value`) that misses the goal: what the
    /// goal's test runs against it. A comparison's other side plays that part otherwise.
    pub opposite: Option<&'static str>,
}

/// How a goal stands against a run's measures.
#[derive(Clone, Debug, PartialEq)]
pub enum GoalState {
    Met,
    /// The measure and its value, which fell short.
    Missed(&'static str, f64),
    /// The run does not have the measure yet (or it is not a number).
    Unknown,
}

impl Goal {
    /// `measure` names a number of the metrics, or one item of a list (`scanned_by_kind.1`).
    pub fn check(&self, metrics: &serde_json::Map<String, serde_json::Value>) -> GoalState {
        let value = match self.measure.split_once('.') {
            Some((name, i)) => metrics.get(name).and_then(|v| v.get(i.parse::<usize>().ok()?)),
            None => metrics.get(self.measure),
        };
        let Some(got) = value.and_then(serde_json::Value::as_f64) else { return GoalState::Unknown };
        let met = if self.at_most { got <= self.value } else { got >= self.value };
        if met { GoalState::Met } else { GoalState::Missed(self.measure, got) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_reads_a_number_or_an_item_of_a_list_and_says_what_fell_short() {
        let metrics = serde_json::json!({ "p": 3.5, "by_kind": [8.0, 1.5, 8.0], "word": "—" });
        let metrics = metrics.as_object().unwrap();
        let goal = |measure, at_most, value| Goal { step: 0, text: "", measure, at_most, value, opposite: None };
        assert_eq!(goal("p", true, 4.0).check(metrics), GoalState::Met);
        assert_eq!(goal("p", false, 4.0).check(metrics), GoalState::Missed("p", 3.5));
        assert_eq!(goal("by_kind.1", true, 2.0).check(metrics), GoalState::Met);
        assert_eq!(goal("by_kind.0", true, 2.0).check(metrics), GoalState::Missed("by_kind.0", 8.0));
        for unknown in ["word", "absent", "by_kind.9", "p.0"] {
            assert_eq!(goal(unknown, true, 1.0).check(metrics), GoalState::Unknown, "{unknown}");
        }
    }
}
