//! The scene's story beside the stage: what it is, an analogy, when to use it, common
//! mistakes, and "try this" steps that set up each experiment in one click, with the
//! goals set to the reader ticked as the run meets them.

use crate::panels::shared;
use leptos::prelude::*;

#[component]
pub fn NarrativePanel() -> impl IntoView {
    let sh = shared();
    let n = sh.scenario.with_untracked(|s| s.scene.info().narrative);
    let steps = n
        .try_this
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (compare, preset) = (step.compare, step.preset);
            let goals = n.goals.iter().filter(|g| g.step == i).map(|goal| view! { <GoalLine goal=goal compared=compare.is_some()/> }).collect_view();
            // A step sets up its preset (or the defaults) and its comparison, if it has either.
            let button = (preset.is_some() || compare.is_some()).then(|| {
                view! {
                    <button
                        class="try"
                        on:click=move |_| {
                            let next = sh.scenario.with_untracked(|s| match preset {
                                Some(p) => s.with_preset(p),
                                None => Some(s.with_defaults()),
                            });
                            if let Some(mut next) = next {
                                next.compare = None;
                                if let Some(c) = compare {
                                    next.set_compare(c).expect("narrative comparisons are valid");
                                }
                                sh.scenario.set(next);
                                sh.playing.set(true);
                            }
                        }
                    >"Set it up"</button>
                }
            });
            view! { <li>{step.text}" "{button}{goals}</li> }
        })
        .collect_view();
    view! {
        <section class="panel narrative" aria-label="About this pattern">
            <h2>"What it is"</h2>
            <p>{n.what}</p>
            <h3>"Think of it as"</h3>
            <p>{n.analogy}</p>
            <h3>"When to use it"</h3>
            <p>{n.when}</p>
            <h3>"Common mistakes"</h3>
            <ul>{n.mistakes.iter().map(|m| view! { <li>{*m}</li> }).collect_view()}</ul>
            <h3>"Try this"</h3>
            <ol class="try-this">{steps}</ol>
        </section>
    }
}

/// A goal set to the reader, ticked when the run's measures meet it (on a comparison,
/// the compared side's), or saying which measure falls short.
#[component]
fn GoalLine(goal: &'static clusterlab_sim::narrative::Goal, compared: bool) -> impl IntoView {
    use clusterlab_sim::narrative::GoalState;
    let sh = shared();
    let state = move || {
        let b = if compared { sh.stats_b.with(|b| b.as_ref().map(|s| goal.check(&s.metrics))) } else { None };
        b.unwrap_or_else(|| sh.stats.with(|s| goal.check(&s.metrics)))
    };
    let mark = move || match state() {
        GoalState::Met => ("met", "✓ met".to_string()),
        GoalState::Missed(m, got) => ("missed", format!("✗ not yet: {m} is {got}")),
        GoalState::Unknown => ("unknown", "waiting for the run's numbers".to_string()),
    };
    view! {
        <p class="goal" data-testid="goal">
            "Goal: "{goal.text}" "
            <span class=move || format!("goal-state {}", mark().0)>{move || mark().1}</span>
        </p>
    }
}
