//! Timeouts of one fixed length, kept in a FIFO with a single armed timer: a request
//! costs no event of its own unless it actually times out.

use crate::component::Ctx;
use crate::time::Micros;
use std::collections::VecDeque;

pub struct Deadlines {
    fifo: VecDeque<(Micros, u64)>,
    /// When the earliest timer this helper has set will fire.
    armed_at: Option<Micros>,
    timer_token: u64,
    /// The list `fire` hands out, back from `recycle`: its memory serves every firing.
    spare: Vec<u64>,
}

impl Deadlines {
    /// `timer_token` is the token this helper's timer fires with; the owner routes it here.
    pub fn new(timer_token: u64) -> Self {
        Deadlines { fifo: VecDeque::new(), armed_at: None, timer_token, spare: Vec::new() }
    }

    #[inline]
    pub fn add(&mut self, ctx: &mut Ctx, after_us: Micros, token: u64) {
        let at = ctx.now() + after_us;
        // Equal lengths keep the FIFO sorted, so this is nearly always a push at the back;
        // anything else is placed where it belongs.
        if self.fifo.back().is_none_or(|(t, _)| *t <= at) {
            self.fifo.push_back((at, token));
        } else {
            self.insert(at, token);
        }
        // Armed for an earlier deadline already, unless the FIFO was empty.
        if self.armed_at.is_none_or(|a| at < a) {
            self.arm(ctx, after_us, at);
        }
    }

    #[inline(never)]
    fn insert(&mut self, at: Micros, token: u64) {
        let pos = self.fifo.partition_point(|(t, _)| *t <= at);
        self.fifo.insert(pos, (at, token));
    }

    #[inline(never)]
    fn arm(&mut self, ctx: &mut Ctx, after_us: Micros, at: Micros) {
        ctx.set_timer(after_us, self.timer_token);
        self.armed_at = Some(at);
    }

    /// On this helper's timer: the tokens whose time has come and that are still
    /// `pending`, in the order they were added; re-arms for the first pending one left.
    /// Hand the list back with `recycle` once it is dealt with.
    pub fn fire(&mut self, ctx: &mut Ctx, pending: impl Fn(&Ctx, u64) -> bool) -> Vec<u64> {
        let mut expired = std::mem::take(&mut self.spare);
        let now = ctx.now();
        while let Some(&(at, token)) = self.fifo.front() {
            if at <= now {
                self.fifo.pop_front();
                if pending(ctx, token) {
                    expired.push(token);
                }
            } else if !pending(ctx, token) {
                self.fifo.pop_front();
            } else {
                break;
            }
        }
        if self.armed_at.is_some_and(|a| a <= now) {
            self.armed_at = None;
        }
        if let Some(&(at, _)) = self.fifo.front()
            && self.armed_at.is_none_or(|a| at < a)
        {
            ctx.set_timer(at - now, self.timer_token);
            self.armed_at = Some(at);
        }
        expired
    }

    /// Takes back the list `fire` handed out, so that the next firing needs no allocation.
    pub fn recycle(&mut self, mut expired: Vec<u64>) {
        expired.clear();
        self.spare = expired;
    }

    pub fn clear(&mut self) {
        self.fifo.clear();
        self.armed_at = None;
    }

    pub fn len(&self) -> usize {
        self.fifo.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fifo.is_empty()
    }
}
