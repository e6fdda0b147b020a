//! The story of server-sent events, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Server-sent events are a plain HTTP response that never ends: the browser opens it once, and the server writes \
           each event down it as a few lines of text, the moment the event exists. It is one way only, and the browser \
           (EventSource) reconnects by itself when the stream ends. Between the two usually sits a proxy or load balancer \
           that cuts connections it thinks are idle; so streams do end, and what matters is what the reader misses while \
           it comes back. Each event can carry an id, and a reconnecting browser sends the last one it got \
           (Last-Event-ID), so that the server can replay the rest.",
    analogy: "A departures board fed by one long cable from the control room. The board never answers back. Caretakers unplug \
              cables that have carried nothing for a while; the board plugs itself back in a few seconds later. A board that \
              remembers the last line it showed asks for everything since; one that does not simply carries on with the next \
              departure, and the ones in between are never shown.",
    when: "Live updates that flow one way: notifications, feeds and scores, progress of a long job, dashboards, tokens of a \
           model's answer. It is plain HTTP, so it passes proxies and reuses their authentication. When the browser has a \
           lot to say back, or needs binary frames, use WebSockets; for updates every few minutes, polling is simpler.",
    mistakes: &[
        "Leaving out event ids: a stream cut by a proxy, a deploy or a phone switching networks comes back without what \
         happened meanwhile, and nobody notices.",
        "Keeping no history to replay: Last-Event-ID helps only if the server still has the events after that id.",
        "A quiet stream behind a proxy with an idle timeout: it is cut over and over. Write a comment line (a keep-alive) \
         more often than the shortest timeout on the way.",
        "Using it for talking back: the browser's messages need ordinary requests beside the stream, or a WebSocket.",
        "Forgetting that each stream holds a connection at every hop: a proxy's limit on open connections (and HTTP/1.1's \
         six per site in a browser) is reached long before the server is busy.",
    ],
    try_this: &[
        Step { text: "The proxy drops every stream at 20 s, and the browsers resume without Last-Event-ID: the missed events jump by thousands. Compare with Last-Event-ID on: none missed; the replayed events arrive up to 3 s late, and the p99 shows it.", preset: Some("proxy-reload-no-id"), compare: Some("last_event_id:on") },
        Step { text: "A quiet stream behind a 10 s idle timeout: every few tens of seconds all streams are cut together and the browsers reconnect as one, missing what comes meanwhile. Compare with a keep-alive comment every 5 s: not one cut.", preset: Some("idle-proxy-timeout"), compare: Some("keepalive:5s") },
        Step { text: "Polling every 2 s: hundreds of requests a second however quiet it is, and events a second late on average. Compare with a stream: two milliseconds, and requests only when a browser connects.", preset: Some("polling"), compare: Some("transport:sse") },
        Step { text: "Long polling instead: events as fast as on a stream, but every event answers every waiting poll and each browser asks again at once: thousands of requests a second for five events.", preset: Some("polling"), compare: Some("transport:long-polling") },
    ],
    goals: &[
        Goal { step: 0, text: "Miss no event while the proxy reloads.", measure: "events_missed", at_most: true, value: 0.0, opposite: None },
        Goal { step: 1, text: "Keep every stream open through the quiet spells.", measure: "proxy_cuts", at_most: true, value: 0.0, opposite: None },
        Goal { step: 2, text: "Deliver 99% of events within 100 ms.", measure: "latency.1", at_most: true, value: 100.0, opposite: None },
    ],
};
