//! The invariant, from the trace: a browser that resumes with its last event id (a stream
//! with Last-Event-ID, a poll with its cursor) misses nothing the server still keeps (the
//! latest `history` events; older ones are gone, and missed, whatever the browser says).
//! The checker keeps, per
//! browser, the last event id it holds by its own reckoning: a stream brings every event
//! the proxy writes while it is open (`Write`), from the id its accept said on; a poll's
//! answer brings what it says. When the answer to a resumed request starts past the next
//! id the browser needs, the events between are missed; one of them still kept is a
//! violation. A request without an id is a new
//! page (a reader arriving, or every page after the browsers' node came back).

use super::nodes::{ACCEPT, CLOSE, CONNECT, FRESH, POLL, POLLED, RESET, code, cursor_of, first_sent};
use crate::scenes::clients::slot_of;
use crate::check::Checker;
use crate::msg::{Kind, NodeId};
use crate::time::format_duration;
use crate::trace::Record;

#[derive(Clone, Copy, Default)]
struct Reader {
    /// The request (stream or poll) it waits on or streams on.
    conn: u64,
    /// Its request carried its last event id.
    resumed: bool,
    streaming: bool,
    seen: u32,
}

impl Reader {
    /// Its stream ended (cut, or reset): it holds what the proxy wrote until then.
    fn stream_ended(&mut self, head: u32) {
        if self.streaming {
            self.streaming = false;
            self.seen = self.seen.max(head);
        }
    }
}

pub struct NothingMissed {
    name: &'static str,
    browsers: NodeId,
    proxy: NodeId,
    readers: Vec<Reader>,
    history: u32,
    /// The latest event id the proxy wrote to the streams.
    head: u32,
}

impl NothingMissed {
    /// `streaming`: every browser starts with its stream `first_conn(i)` open.
    pub fn new(name: &'static str, browsers: NodeId, proxy: NodeId, clients: usize, history: u32, first_conn: Option<fn(usize) -> u64>) -> Self {
        let readers = (0..clients).map(|i| Reader { conn: first_conn.map_or(0, |f| f(i)), resumed: false, streaming: first_conn.is_some(), seen: 0 }).collect();
        NothingMissed { name, browsers, proxy, readers, history, head: 0 }
    }

    fn reader(&mut self, conn: u64) -> Option<&mut Reader> {
        self.readers.get_mut(slot_of(conn)).filter(|r| r.conn == conn)
    }
}

impl Checker for NothingMissed {
    fn name(&self) -> &'static str {
        self.name
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        if let Record::State { node, state: FRESH, .. } = *r {
            if node == self.browsers {
                self.readers.iter_mut().for_each(|r| r.streaming = false);
            }
            return;
        }
        // What each side wrote, whether it arrived or not (a stream in order, as TCP's).
        let Some((t, from, to, msg, _)) = r.message() else { return };
        if msg.kind == Kind::Write && from == self.proxy && msg.tag > 0 {
            self.head = self.head.max(msg.tag);
            return;
        }
        if msg.kind != Kind::Call {
            return;
        }
        let head = self.head;
        if from == self.browsers && to == self.proxy {
            if let Some(reader) = self.readers.get_mut(slot_of(msg.key)) {
                match msg.tag {
                    CONNECT | POLL => {
                        reader.conn = msg.key;
                        reader.resumed = cursor_of(msg.value).is_some();
                    }
                    CLOSE => reader.streaming = false,
                    // The proxy died: its streams were reset (a bounce names the browsers
                    // as the sender).
                    RESET if reader.conn == msg.key => reader.stream_ended(head),
                    _ => {}
                }
            }
            return;
        }
        if from != self.proxy || to != self.browsers {
            return;
        }
        let (name, history) = (self.name, self.history);
        let Some(reader) = self.reader(msg.key) else { return };
        match code(msg.tag) {
            ACCEPT | POLLED => {
                let first = first_sent(msg.tag, msg.value);
                // The answer's latest id tells which events the server still kept.
                let kept = (msg.value + 1).saturating_sub(history).max(reader.seen + 1);
                if reader.resumed && first > kept {
                    let to = first - 1;
                    violations.push(format!("{name}: browser {} resumed after event {} and got events from {first} on at {}: {} missed that the server still kept ({kept}..{to})", slot_of(msg.key), reader.seen, format_duration(t), to - kept + 1));
                }
                reader.seen = if reader.resumed { reader.seen.max(msg.value) } else { msg.value };
                reader.streaming = code(msg.tag) == ACCEPT;
            }
            CLOSE => reader.stream_ended(head),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::nodes::{answer_tag, cursor_value};
    use super::*;
    use crate::msg::{Msg, ReqId};
    use crate::time::Micros;

    const B: NodeId = 0;
    const P: NodeId = 1;
    const C: u64 = 1 << 20;

    fn send(t: Micros, from: NodeId, to: NodeId, kind: Kind, tag: u32, key: u64, value: u32) -> Record {
        Record::Send { t0: t, t1: t + 1_000, from, to, msg: Msg { kind, req: ReqId(0), key, tag, value } }
    }
    fn event(t: Micros, id: u32) -> Record {
        send(t, P, B, Kind::Write, id, 1, 0)
    }
    /// The proxy cuts (or the browser asks on) connection `key`.
    fn call(t: Micros, from: NodeId, code: u32, key: u64, value: u32) -> Record {
        send(t, from, if from == B { P } else { B }, Kind::Call, code, key, value)
    }
    /// An answer bringing events `first..=latest`.
    fn answer(t: Micros, code: u32, key: u64, first: u32, latest: u32) -> Record {
        send(t, P, B, Kind::Call, answer_tag(code, latest + 1 - first), key, latest)
    }

    fn run(history: &[Record]) -> Vec<String> {
        let mut c = NothingMissed::new("nothing missed", B, P, 1, 3, Some(|i| C | i as u64));
        let mut v = Vec::new();
        history.iter().for_each(|r| c.on_record(r, &mut v));
        v
    }

    #[test]
    fn a_resumed_stream_that_replays_from_the_next_id_misses_nothing() {
        let cut = call(3, P, CLOSE, C, 2);
        let resume = call(4, B, CONNECT, 2 * C, cursor_value(Some(2)));
        // Events 3 and 4 happened meanwhile: the accept replays them (first 3, latest 4).
        let accept = answer(5, ACCEPT, 2 * C, 3, 4);
        assert!(run(&[event(1, 1), event(2, 2), cut, resume, accept, event(6, 5)]).is_empty());
        // Cut by the proxy's death: the same.
        let reset = Record::Bounce { t0: 3, t1: 3, from: P, to: B, msg: Msg { kind: Kind::Call, req: ReqId(0), key: C, tag: RESET, value: 2 } };
        assert!(run(&[event(1, 1), event(2, 2), reset, resume, accept]).is_empty());
        // A new page (no id) starts from now.
        let fresh = call(4, B, CONNECT, 2 * C, cursor_value(None));
        assert!(run(&[event(1, 1), event(2, 2), cut, fresh, answer(5, ACCEPT, 2 * C, 5, 4)]).is_empty());
    }

    #[test]
    fn a_resumed_request_answered_past_the_next_id_is_caught() {
        let cut = call(3, P, CLOSE, C, 2);
        let resume = call(4, B, CONNECT, 2 * C, cursor_value(Some(2)));
        // The server started from 4: event 3 is lost to the browser.
        let v = run(&[event(1, 1), event(2, 2), cut, resume, answer(5, ACCEPT, 2 * C, 4, 4)]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("browser 0 resumed after event 2 and got events from 4 on at 5us: 1 missed that the server still kept (3..3)"), "{v:?}");
        // The server keeps the latest 3: with 7 the latest, 3 and 4 are gone, 5 is not.
        assert!(run(&[event(1, 1), event(2, 2), cut, resume, answer(5, ACCEPT, 2 * C, 5, 7)]).is_empty());
        assert_eq!(run(&[event(1, 1), event(2, 2), cut, resume, answer(5, ACCEPT, 2 * C, 6, 7)]).len(), 1);
        // The browser claimed an id it never got (1, though it had 2): still judged by
        // what it was sent. Replaying from 2 is fine; a poll answered from 5 is not.
        let poll = call(6, B, POLL, 3 * C, cursor_value(Some(1)));
        assert!(run(&[event(1, 1), event(2, 2), cut, poll, answer(7, POLLED, 3 * C, 2, 4)]).is_empty());
        assert_eq!(run(&[event(1, 1), event(2, 2), cut, poll, answer(7, POLLED, 3 * C, 5, 6)]).len(), 1);
    }

    #[test]
    fn an_answer_says_its_first_event_and_a_request_its_cursor() {
        for (first, latest) in [(1, 0), (5, 4), (3, 4), (1, 1_000_000)] {
            assert_eq!(first_sent(answer_tag(ACCEPT, latest + 1 - first), latest), first);
            assert_eq!(code(answer_tag(POLLED, latest + 1 - first)), POLLED);
        }
        assert_eq!((cursor_of(cursor_value(None)), cursor_of(cursor_value(Some(0))), cursor_of(cursor_value(Some(7)))), (None, Some(0), Some(7)));
    }
}
