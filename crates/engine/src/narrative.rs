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
}
