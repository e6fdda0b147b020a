//! The story of monitoring, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A service reports four golden signals: latency (how long answers take), traffic (how many), errors (how many fail) \
           and saturation (how full it is). A scraper collects them every so often, a dashboard draws them, and alert rules \
           page someone when a signal stays past a threshold for a while. What the rule watches decides which incidents \
           anyone hears about, and the scrape interval and the 'for' duration decide how late.",
    analogy: "A smoke detector that samples the air every fifteen seconds and sounds after two bad samples in a row. Put it in \
              the hall (an average over the house) and a fire in one room goes unnoticed for a long time.",
    when: "Always, from the first day in production: a system you cannot see is one you find out about from its users. \
           Alert on what users feel (high percentiles of latency, error rates), not on averages or on machine metrics alone.",
    mistakes: &[
        "Alerting on the mean: an incident that hits one request in twenty barely moves it.",
        "Scraping rarely with a long 'for': every incident is paged minutes after it began.",
        "A 'for' of zero: one noisy scrape pages someone at night.",
        "Dashboards without the error rate next to latency: fast failures look like good news (try an error burst here: the latency rule never sees it).",
    ],
    try_this: &[
        Step { text: "A latency spike on 5% of requests at 20 s, watched by an alert on the mean: it never fires. The same rule on the p99 fires within a scrape and 'for'.", preset: Some("mean-alert"), compare: Some("signal:p99") },
        Step { text: "Saturation scraped every minute with for = 60 s: the alert comes 100 s late. Scraping every 10 s brings it 40 s sooner.", preset: Some("slow-scrapes"), compare: Some("scrape_interval:10s") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Catch the incident: the alert fires.",
        measure: "alerts_fired",
        at_most: false,
        value: 1.0,
        opposite: None,
    }],
};
