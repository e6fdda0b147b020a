//! The story of idempotency, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "An operation is idempotent when doing it twice has the same effect as doing it once. A payment is not, by nature: \
           charge twice and the customer pays twice. Networks lose answers, so clients retry, and a retry of a payment that \
           went through is a second charge. An idempotency key, made once per payment by the client and sent with every \
           attempt, lets the server recognise the retry and answer it with the first attempt's result instead of charging again.",
    analogy: "A numbered cloakroom ticket: hand in the same ticket twice and you get the same coat back, not a second coat. \
              Without the number, the attendant can only guess whether you have been served already.",
    when: "Any call that changes something and may be retried: payments, orders, bookings, sign-ups, messages to a queue that \
           can deliver twice. Wherever a timeout leaves the caller not knowing whether the change happened.",
    mistakes: &[
        "Making a new key for each attempt instead of each payment: every retry looks new.",
        "Checking for the key before charging and storing it only after: a retry that arrives meanwhile finds nothing and is charged too.",
        "Keeping keys for less time than the client keeps retrying: a late retry is charged again.",
        "Keeping the key store in the server's memory: a crash forgets which payments went through.",
        "Retrying on every error without backoff and jitter: a slow server gets a storm of synchronised retries.",
    ],
    try_this: &[
        Step { text: "A tenth of the answers are lost and the checkout retries: without keys, payments that went through are charged again. Compare with keys.", preset: Some("no-keys"), compare: Some("idempotency_keys:on") },
        Step { text: "The API crashes mid-charge and comes back. Its durable key store keeps every payment charged once; retries get 409 until it has checked with the processor.", preset: Some("crash-mid-charge"), compare: None },
        Step { text: "Keys checked before the charge but stored after it: a charge slower than the retry timeout is charged twice. Lock the key first and it is not.", preset: Some("check-then-charge"), compare: Some("key_lock:on") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Charge no payment twice while a tenth of the answers are lost.",
        measure: "duplicate_charges",
        at_most: true,
        value: 0.0,
        opposite: None,
    }],
};
