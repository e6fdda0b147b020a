//! The story of WebSockets, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A WebSocket is one long-lived connection per client, over which the server can push a message the moment it \
           exists, instead of the client asking again and again. A chat of many servers needs a backplane (a pub/sub \
           channel) so that a message reaching one gateway gets to the members of its room on every other. Holding \
           connections has its own work: noticing clients that are gone without saying so (heartbeats), and surviving \
           the moment a gateway dies and all its clients come back at once.",
    analogy: "A switchboard with an open line to every subscriber. Nobody has to ring every minute to ask for news, but the \
              operator must check now and then that a silent line still has someone on it, and when one switchboard burns \
              down, its thousand subscribers all dial the others in the same second.",
    when: "Chat, live collaboration, multiplayer games, dashboards and notifications: many small messages that should arrive \
           in milliseconds, in both directions. For rare updates, or one direction only, polling or server-sent events are \
           simpler to run.",
    mistakes: &[
        "No heartbeats: a client that loses its network never closes its connection; the server keeps it, its memory and its \
         share of every broadcast, for ever.",
        "Reconnecting at once, every client together, after a server dies: the surviving servers are flooded with handshakes \
         they refuse, and every refusal comes straight back. Back off exponentially, with random jitter.",
        "Keeping room membership in one gateway's memory: a chat over several gateways needs a backplane (or sticky routing) \
         so that everyone in a room gets every message.",
        "Counting on every message arriving: while a client reconnects, what its room says is lost to it unless the server \
         keeps a history to replay on reconnect.",
        "Forgetting that each open connection costs: a handshake's work to make, memory to keep, a file descriptor, and a \
         frame for every broadcast.",
    ],
    try_this: &[
        Step { text: "Gateway-1 dies at 20 s and its clients reconnect at once: the attempts chart spikes to thousands a second, most of them refused. Compare with backoff and jitter: the same clients back, with the attempts spread over a few seconds.", preset: Some("gateway-dies-immediate"), compare: Some("reconnect:backoff-jitter") },
        Step { text: "No heartbeats, and clients that vanish: the leaked connections climb and each still gets its room's messages. Compare with a 10 s heartbeat: silent connections are closed within 30 s.", preset: Some("no-heartbeats"), compare: Some("heartbeat:10s") },
        Step { text: "Short polling every 2 s: hundreds of requests a second whether or not anyone talks, and messages a second late on average. Compare with WebSockets: milliseconds, and requests only when someone writes.", preset: Some("polling"), compare: Some("transport:websocket") },
        Step { text: "Backoff with jitter after the same death: the clients come back a little later each, without a storm.", preset: Some("gateway-dies-backoff"), compare: None },
    ],
    goals: &[
        Goal { step: 0, text: "Keep connection attempts under 1000 a second while gateway-1's clients reconnect.", measure: "reconnect_peak", at_most: true, value: 1000.0, opposite: None },
        Goal { step: 1, text: "Leave no connection open whose client is gone.", measure: "leaked_connections", at_most: true, value: 0.0, opposite: None },
        Goal { step: 2, text: "Deliver 99% of messages within 100 ms.", measure: "message_latency.1", at_most: true, value: 100.0, opposite: None },
    ],
};
