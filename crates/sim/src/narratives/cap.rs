//! The story of CAP under a partition, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Data copied across regions, and the network between them breaks. Each side can keep answering, and risk answers that disagree \
           with the other side (available, AP), or refuse what it cannot confirm with a majority (consistent, CP). Both cannot be had \
           while the partition lasts; the choice is which failure your users see.",
    analogy: "Two branches of a bank whose phone line is down. One policy: keep paying out, and sort out overdrafts when the line is back. \
              The other: the branch that cannot reach head office stops paying out until it can.",
    when: "Choose CP where two clients must never see different truths: balances, stock you sell from, locks, unique usernames. \
           Choose AP where answering matters more than agreeing at once, and a merge afterwards is acceptable: carts, likes, timelines, caches.",
    mistakes: &[
        "Believing a network partition is rare: between regions, and between racks, links fail and stall routinely.",
        "Quorums that do not intersect (R + W ≤ N): a read can miss the latest write even with no partition at all.",
        "Last writer wins on clocks of different machines: the 'later' write is whichever clock runs ahead, and the other is silently lost.",
        "Calling a system CP because it uses quorums, without write-back on reads: two readers can still see the value go back in time.",
    ],
    try_this: &[
        Step { text: "CP under a partition: region a answers nothing from 10 s to 30 s; b and c carry on; not one history breaks linearizability.", preset: Some("cp-partition"), compare: None },
        Step { text: "The same partition, CP against AP: AP keeps all three regions answering, and pays in stale reads and histories that are not linearizable.", preset: Some("cp-partition"), compare: Some("mode:ap") },
        Step { text: "AP reconciling by last writer wins against keeping siblings: writes lost on one side, none on the other, where the conflicts wait to be merged.", preset: Some("ap-partition-lww"), compare: Some("conflict:siblings") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Through the partition, break the linearizability of no key's history.",
        measure: "linearizability_violations",
        at_most: true,
        value: 0.0,
        opposite: Some("mode:ap"),
    }],
};
