//! The space-time (Lamport) diagram of a window of a run: one vertical line per node,
//! virtual time running down, and every message sent in the window an arrow from its
//! sender, when it left, to its receiver, when it arrived. A lost message ends in a cross
//! where it was lost; a refused one (its receiver dead) goes to the receiver's line and
//! comes back to its sender, who hears at once. Colours are those of the stage's dots.
//!
//! Past `max` messages in the window, it keeps the messages of one request in `every`
//! (the page's sampling of its dots, `trace::sampled`), the smallest `every` that fits,
//! and says so. Messages of no request (heartbeats, a connection's frames) are sampled by
//! their key instead: a connection's messages are kept or left out together. Written as SVG (`Diagram::svg`) for a blog post or a bug report,
//! and drawn by the page, where a click on a message highlights its request's whole path.

use crate::msg::Kind;
use crate::num::{Fixed, Short};
use crate::time::{Micros, format_duration};
use crate::trace::{Record, sampled};
use std::fmt::Write as _;

/// What a dot (or an arrow) stands for, and its colour on the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dot {
    Request,
    Response,
    Error,
    Health,
    Probe,
    Refused,
    Dropped,
    Write,
    Miss,
}

impl Dot {
    pub const ALL: [Dot; 9] = [Dot::Request, Dot::Write, Dot::Response, Dot::Miss, Dot::Error, Dot::Probe, Dot::Health, Dot::Refused, Dot::Dropped];

    pub fn of(kind: Kind) -> Dot {
        match kind {
            Kind::Request | Kind::Call => Dot::Request,
            Kind::Probe => Dot::Probe,
            Kind::Write => Dot::Write,
            Kind::Miss => Dot::Miss,
            Kind::Response => Dot::Response,
            Kind::Error | Kind::Reject => Dot::Error,
            Kind::HealthCheck | Kind::HealthReply => Dot::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dot::Request => "request / call",
            Dot::Response => "success",
            Dot::Error => "error / 503",
            Dot::Health => "health check",
            Dot::Probe => "half-open probe",
            Dot::Refused => "connection refused",
            Dot::Dropped => "lost (loss, partition, hung)",
            Dot::Write => "write",
            Dot::Miss => "cache miss",
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            Dot::Request => "#4cc2ff",
            Dot::Response => "#3ddc84",
            Dot::Error => "#ff9f43",
            Dot::Health => "#8b98a5",
            Dot::Probe => "#ffd43b",
            Dot::Refused => "#ff5c5c",
            Dot::Dropped => "#c77dff",
            Dot::Write => "#ff6b9a",
            Dot::Miss => "#e6edf3",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Arrived,
    Lost,
    Refused,
}

/// One message: sent by `from` at `t0`, to `to`; arrived (or was lost, or refused, its
/// sender told) at `t1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub t0: Micros,
    pub t1: Micros,
    pub from: u32,
    pub to: u32,
    pub dot: Dot,
    pub end: End,
    /// What sampling keeps together: the request, or for messages of none, the key.
    pub thread: u64,
}

impl Arrow {
    /// What it is drawn as: refused and lost messages in their own colours, the rest by kind.
    pub fn shown(&self) -> Dot {
        match self.end {
            End::Arrived => self.dot,
            End::Lost => Dot::Dropped,
            End::Refused => Dot::Refused,
        }
    }

    /// The message a trace record stands for, if it is one.
    pub fn of(r: &Record) -> Option<Arrow> {
        let (t0, t1, from, to, msg, end) = match *r {
            Record::Send { t0, t1, from, to, msg } => (t0, t1, from, to, msg, End::Arrived),
            Record::Bounce { t0, t1, from: dead, to: sender, msg } => (t0, t1, sender, dead, msg, End::Refused),
            Record::Drop { t, from, to, msg, .. } => (t, t, from, to, msg, End::Lost),
            _ => return None,
        };
        // Health checks are drawn with their key as thread, as sampling keeps them all.
        let thread = r.thread().unwrap_or(msg.key | 1 << 63);
        Some(Arrow { t0, t1, from, to, dot: Dot::of(msg.kind), end, thread })
    }
}

/// The messages sent in a window of virtual time, sampled by request to at most `max`.
pub struct Diagram {
    pub from: Micros,
    pub to: Micros,
    /// Every message sent in the window, in the order sent.
    pub all: Vec<Arrow>,
    max: usize,
    /// The messages given were already one request in this many (the page's stage sample).
    pub presampled: u32,
    /// The request (or connection) whose messages stand out, the rest faded.
    pub highlight: Option<u64>,
}

impl Diagram {
    pub fn new(from: Micros, to: Micros, max: usize) -> Diagram {
        Diagram { from, to, all: Vec::new(), max: max.max(1), presampled: 1, highlight: None }
    }

    /// Takes in a trace record; those outside the window are passed over.
    pub fn record(&mut self, r: &Record) {
        if let Some(a) = Arrow::of(r) {
            self.add(a);
        }
    }

    /// Takes in a message; those sent outside the window are passed over.
    pub fn add(&mut self, a: Arrow) {
        if (self.from..self.to).contains(&a.t0) {
            self.all.push(a);
        }
    }

    /// The arrows drawn, and one request in how many they keep.
    pub fn shown(&self) -> (Vec<Arrow>, u32) {
        let mut every = 1u32;
        loop {
            let kept: Vec<Arrow> = self.all.iter().copied().filter(|a| sampled(crate::msg::ReqId(a.thread), every)).collect();
            if kept.len() <= self.max || every >= 1 << 20 {
                return (kept, every);
            }
            every *= 2;
        }
    }

    /// The diagram as a standalone SVG document; `nodes` names the lines, by node id.
    pub fn svg(&self, title: &str, nodes: &[&str]) -> String {
        const TOP: u32 = 70;
        const HEIGHT: u32 = 640;
        let (arrows, every) = self.shown();
        // Node `n`'s line is at x = 150 + 120 n; times run down from TOP, a tenth of a pixel apart.
        let x = |n: u32| 150 + 120 * n;
        let span = self.to.saturating_sub(self.from).max(1) as f64;
        let y = |t: Micros| f64::from(TOP) + (t.clamp(self.from, self.to) - self.from) as f64 / span * f64::from(HEIGHT);
        let at = |v: f64| Fixed(v, 1);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"#0d1117\"/>\n<defs>",
            w = x(nodes.len() as u32) - 40,
            h = TOP + HEIGHT + 30
        );
        for d in Dot::ALL {
            let _ = write!(s, "<marker id=\"m{}\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L8,4L0,8z\" fill=\"{}\"/></marker>", d as u8, d.colour());
        }
        // Each message is a group: what is drawn, and a wide clear stroke along it to click.
        s.push_str("</defs>\n<style>.hit{stroke:transparent;stroke-width:9;fill:none}");
        if self.highlight.is_some() {
            s.push_str(".msg{opacity:.2}.msg.hl{opacity:1;stroke-width:2.5}");
        }
        s.push_str("</style>\n");
        let every = every * self.presampled.max(1);
        let sampled_note = match (every, self.presampled > 1) {
            (1, _) => format!("; {} messages", arrows.len()),
            (_, false) => format!("; one request in {every} shown ({} of {} messages)", arrows.len(), self.all.len()),
            (_, true) => format!("; one request in {every} shown ({} messages)", arrows.len()),
        };
        let _ = writeln!(s, "<text x=\"10\" y=\"20\" fill=\"#e6edf3\" font-size=\"14\">{}: {} to {}{}</text>", escape(title), format_duration(self.from), format_duration(self.to), sampled_note);
        for (i, name) in nodes.iter().enumerate() {
            let xi = x(i as u32);
            let _ = writeln!(s, "<text x=\"{xi}\" y=\"{}\" fill=\"#e6edf3\" text-anchor=\"middle\">{}</text><line x1=\"{xi}\" y1=\"{TOP}\" x2=\"{xi}\" y2=\"{}\" stroke=\"#30363d\"/>", TOP - 12, escape(name), TOP + HEIGHT);
        }
        // Ticks: time since the window's start, in milliseconds.
        for k in 0..=4 {
            let since = (span as Micros) * k / 4;
            let _ = writeln!(s, "<text x=\"82\" y=\"{}\" fill=\"#8b98a5\" text-anchor=\"end\">+{} ms</text>", at(y(self.from + since) + 4.0), Short(since as f64 / 1e3));
        }
        for a in &arrows {
            let (x0, y0, x1, y1) = (x(a.from), at(y(a.t0)), x(a.to), at(y(a.t1)));
            let d = match a.end {
                End::Arrived => format!("M{x0},{y0}L{x1},{y1}"),
                // Lost on the way: halfway across, a cross.
                End::Lost => {
                    let xm = (x0 + x1) / 2;
                    format!("M{x0},{y0}L{xm},{y0}M{},{}l8,8m0,-8l-8,8", xm - 4, at(y(a.t0) - 4.0))
                }
                // Refused: to the dead node's line and back to the sender, told at t1.
                End::Refused => format!("M{x0},{y0}L{x1},{y0}L{x0},{y1}"),
            };
            let hl = if self.highlight == Some(a.thread) { " hl" } else { "" };
            let marker = if a.end == End::Lost { String::new() } else { format!(" marker-end=\"url(#m{})\"", a.shown() as u8) };
            let _ = writeln!(s, "<g class=\"msg{hl}\" data-req=\"{}\"><path d=\"{d}\" stroke=\"{}\" fill=\"none\"{marker}/><path class=\"hit\" d=\"{d}\"/></g>", a.thread, a.shown().colour());
        }
        s.push_str("</svg>\n");
        s
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Msg, ReqId};
    use crate::trace::DropReason;

    fn msg(kind: Kind, req: u64) -> Msg {
        Msg { kind, req: ReqId(req), key: 0, tag: 0, value: 0 }
    }

    #[test]
    fn every_message_in_the_window_is_an_arrow_of_its_own_kind() {
        let mut d = Diagram::new(1_000, 5_000, 100);
        let records = [
            Record::Send { t0: 500, t1: 1_500, from: 0, to: 1, msg: msg(Kind::Request, 1) },
            Record::Send { t0: 1_000, t1: 2_000, from: 0, to: 1, msg: msg(Kind::Request, 2) },
            Record::Send { t0: 2_000, t1: 3_000, from: 1, to: 0, msg: msg(Kind::Response, 2) },
            Record::Drop { t: 2_500, from: 0, to: 2, msg: msg(Kind::Write, 3), why: DropReason::Loss },
            Record::Bounce { t0: 3_000, t1: 3_000, from: 2, to: 0, msg: msg(Kind::Request, 4) },
            Record::End { t: 3_000, req: ReqId(2), outcome: crate::ledger::Outcome::Completed, latency_us: 2_000 },
            Record::Send { t0: 5_000, t1: 6_000, from: 0, to: 1, msg: msg(Kind::Request, 5) },
        ];
        records.iter().for_each(|r| d.record(r));
        assert_eq!(d.all.len(), 4, "sent in [1ms, 5ms): the request at 1ms, its answer, the lost write, the refused call");
        assert_eq!(d.all[1].dot, Dot::Response);
        assert_eq!((d.all[2].end, d.all[3].end), (End::Lost, End::Refused));
        assert_eq!((d.all[3].from, d.all[3].to), (0, 2), "a refused message goes from its sender to the dead node");
        let svg = d.svg("a <test>", &["client", "server", "db"]);
        assert_eq!(svg.matches("class=\"msg").count(), 4);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt;test&gt;: 1ms to 5ms; 4 messages"), "{svg}");
        // Request 2's path stands out: its call and its answer.
        d.highlight = Some(2);
        assert_eq!(d.svg("t", &["client", "server", "db"]).matches("class=\"msg hl\" data-req=\"2\"").count(), 2);
    }

    #[test]
    fn past_the_limit_it_samples_by_request_and_says_so() {
        let mut d = Diagram::new(0, 1_000_000, 50);
        for req in 1..=400u64 {
            d.record(&Record::Send { t0: req * 1_000, t1: req * 1_000 + 500, from: 0, to: 1, msg: msg(Kind::Request, req) });
            d.record(&Record::Send { t0: req * 1_000 + 500, t1: req * 1_000 + 900, from: 1, to: 0, msg: msg(Kind::Response, req) });
        }
        let (shown, every) = d.shown();
        assert!(every > 1 && shown.len() <= 50 && !shown.is_empty(), "{every} {}", shown.len());
        // Whole requests: each kept request keeps both its messages.
        assert_eq!(shown.len() % 2, 0);
        assert!(d.svg("t", &["a", "b"]).contains(&format!("one request in {every} shown ({} of 800 messages)", shown.len())));
        d.presampled = 4;
        assert!(d.svg("t", &["a", "b"]).contains(&format!("one request in {} shown ({} messages)", every * 4, shown.len())));
        // Messages of no request (a thousand connections closed at once) are sampled by key.
        let mut d = Diagram::new(0, 1_000, 50);
        for conn in 1..=1000u64 {
            d.record(&Record::Send { t0: 0, t1: 1, from: 1, to: 0, msg: Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: 3, value: 0 } });
        }
        let (shown, every) = d.shown();
        assert!(every > 1 && shown.len() <= 50 && shown.len() >= 5, "{every} {}", shown.len());
    }
}
