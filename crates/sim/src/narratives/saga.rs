//! The story of the saga, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A business transaction that spans several services cannot hold one database lock across all of them. A saga \
           splits it into local steps, each committed at once in its own service, and pairs every step with a compensation \
           that undoes it (cancel the flight, refund the card). When a step fails, the steps already done are compensated in \
           reverse order. The trip is never half booked for long: it ends booked in full, or cancelled in full.",
    analogy: "Planning a holiday by phone. You book the flight, then the hotel; the car rental has nothing left, so you call the \
              hotel to cancel, then the airline. Nobody froze every company's booking system while you called around, and the \
              cancellations are real calls that can fail and must be made again.",
    when: "Long-running workflows across services that each own their data (orders, payments, shipping, bookings), where \
           two-phase commit's locks and blocking are not acceptable. Orchestrate when the flow has many steps or must be \
           seen and resumed as a whole; choreograph small flows between a few services.",
    mistakes: &[
        "Compensations that can fail for good: they must be retried until they succeed, so make them idempotent.",
        "Compensating a step that timed out as if it never ran, or not at all: it may have run, so undo it (an undo of \
         nothing is a no-op).",
        "A step retried after its compensation: the late retry must be refused, or the trip is booked again after being \
         cancelled.",
        "Choreography without an owner: when a service dies with work under way, nobody is waiting for it, and the saga \
         never ends.",
        "Reading a saga's data mid-way as if it were final: between steps other requests see a flight with no hotel (no \
         isolation).",
    ],
    try_this: &[
        Step { text: "Each step fails 10% of the time: about two trips in three book in full (0.9⁴ ≈ 66%), the rest are undone in reverse. The table shows the steps of the latest sagas. Compare with one retry per step.", preset: Some("orchestrated"), compare: Some("retries:1") },
        Step { text: "The orchestrator crashes at 20 s and comes back at 25 s: it resumes every saga from its log, and none is left half done.", preset: Some("orchestrator-crash"), compare: None },
        Step { text: "Choreographed, the hotel service hangs for 10 s: every booking sent to it then is lost, and those sagas never end, their flights booked. Compare with an orchestrator, which times the hotel out and cancels the flights.", preset: Some("hotel-hangs"), compare: Some("style:orchestration") },
        Step { text: "Choreography: the services pass each saga along themselves. Compare with orchestration: the same outcomes.", preset: Some("choreographed"), compare: Some("style:orchestration") },
    ],
    goals: &[
        Goal { step: 0, text: "Book at least 90% of trips in full.", measure: "completed_share", at_most: false, value: 0.9, opposite: None },
        Goal { step: 2, text: "Leave no saga without an outcome while the hotel is down.", measure: "stuck", at_most: true, value: 0.0, opposite: None },
    ],
};
