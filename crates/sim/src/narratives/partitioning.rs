//! The story of data partitioning, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "One big table is split into partitions inside one database, each holding the rows that share something: a stretch of dates, \
           a hash of the id, a region. A query that names that something is sent only to the partitions that can hold its rows (pruning); \
           one that does not must ask them all. Old data goes by dropping a whole partition instead of deleting rows one by one.",
    analogy: "Filing cabinets labelled by year. 'Invoices from March' means one drawer; 'every invoice from customer 42' means opening them all. \
              Throwing out last decade's invoices is one drawer into the bin.",
    when: "When a table grows until its indexes and scans slow everything down, and most queries filter on the same column: \
           time-series and logs by date, multi-tenant data by customer or region. Pick the column your queries filter on most.",
    mistakes: &[
        "Partitioning on a column queries rarely filter on: every query still asks every partition, now with more overhead.",
        "Hash partitioning data you query by date: recent rows are spread over every partition, so recent queries touch them all.",
        "List partitions on a skewed column: one region's partition outgrows the others and its scans dominate latency.",
        "Deleting old rows one by one from a table partitioned by something else, when dropping a date partition would be instant.",
    ],
    try_this: &[
        Step { text: "Range by date: queries of the last minutes ask one or two partitions, and old partitions are dropped whole.", preset: Some("range-by-date"), compare: None },
        Step { text: "Range against hash: hash answers a lookup by id from one partition but asks all eight for recent rows.", preset: Some("range-by-date"), compare: Some("scheme:hash") },
        Step { text: "List by a skewed region: the first region's partition holds most rows; compare with an even spread (skew 0).", preset: Some("list-by-region-skewed"), compare: Some("skew:0") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Answer a query of the last minutes from two partitions or fewer, on average.",
        measure: "scanned_by_kind.1",
        at_most: true,
        value: 2.0,
        opposite: Some("scheme:hash"),
    }],
};
