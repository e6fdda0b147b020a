//! What travels between nodes: one small, plain message type shared by every scene.

pub type NodeId = u32;

/// A request's identity: ledger slot in the low 32 bits, the slot's generation above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReqId(pub u64);

impl ReqId {
    #[inline]
    pub fn slot(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }
    #[inline]
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A unit of work entering a node.
    Request,
    /// The work succeeded.
    Response,
    /// The work failed (an error answer, e.g. 500 or 504).
    Error,
    /// Refused for lack of room (503, 429).
    Reject,
    /// A call from a service to its dependency (a read, where data is concerned).
    Call,
    HealthCheck,
    HealthReply,
    /// A call that tests whether a failing dependency is back (a half-open probe).
    Probe,
    /// A request that changes data: `value` is what it writes.
    Write,
    /// A cache's answer that it does not hold the key.
    Miss,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Response => "response",
            Kind::Error => "error",
            Kind::Reject => "reject",
            Kind::Call => "call",
            Kind::HealthCheck => "health-check",
            Kind::HealthReply => "health-reply",
            Kind::Probe => "probe",
            Kind::Write => "write",
            Kind::Miss => "miss",
        }
    }
}

/// `key` is what routing and sharding look at (a user, a client address);
/// `tag` is the sender's own bookkeeping, echoed back in the answer; `value` is the data
/// a write carries or a read returns (a version number), 0 where none travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(16))]
pub struct Msg {
    pub kind: Kind,
    pub req: ReqId,
    pub key: u64,
    pub tag: u32,
    pub value: u32,
}

impl Msg {
    /// A copy read field by field, for a message written a field at a time just before
    /// (an event the last handler pushed, a handler's argument). Copied whole, it is read
    /// in 16-byte chunks, each over several of those writes: the CPU cannot forward
    /// them to the load, which then waits until they reach the cache (measured on the
    /// peer workload: 7-10% of its time, where the copy of each message event stalled).
    #[inline(always)]
    pub(crate) fn fieldwise(&self) -> Msg {
        use std::ptr::read_volatile as r;
        // Volatile, else the compiler merges the loads back into wide ones. SAFETY: each
        // pointer comes from a reference to a field of `self`: valid, aligned, initialised.
        unsafe { Msg { kind: r(&self.kind), req: r(&self.req), key: r(&self.key), tag: r(&self.tag), value: r(&self.value) } }
    }
    pub fn new(kind: Kind, req: ReqId) -> Msg {
        Msg { kind, req, key: 0, tag: 0, value: 0 }
    }
    /// The answer to this message: same request, key and tag.
    pub fn reply(self, kind: Kind) -> Msg {
        Msg { kind, ..self }
    }
    pub fn with_tag(self, tag: u32) -> Msg {
        Msg { tag, ..self }
    }
    pub fn with_value(self, value: u32) -> Msg {
        Msg { value, ..self }
    }
}
