//! The cache's store: a fixed number of entries, an eviction policy, and a TTL.

use crate::rng::Rng;
use crate::time::Micros;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    Lru,
    Lfu,
    Fifo,
    Random,
}

const NIL: u32 = u32::MAX;

struct Entry {
    key: u64,
    value: u32,
    /// When the value was read from the database (or written): the TTL counts from here.
    at: Micros,
    prev: u32,
    next: u32,
    uses: u32,
    dirty: bool,
}

/// A fixed-capacity key-value store with an eviction policy: a slot per entry, a list
/// from the most to the least recently used (or inserted) for LRU and FIFO, and an
/// index by key.
pub struct Store {
    pub capacity: usize,
    eviction: Eviction,
    pub ttl_us: Micros,
    /// By key: its slot + 1, or 0 when absent.
    index: Vec<u32>,
    slots: Vec<Entry>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    rng: Rng,
}

impl Store {
    pub fn new(capacity: usize, eviction: Eviction, ttl_us: Micros, rng: Rng) -> Store {
        Store { capacity: capacity.max(1), eviction, ttl_us, index: Vec::new(), slots: Vec::new(), free: Vec::new(), head: NIL, tail: NIL, rng }
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot_of(&self, key: u64) -> Option<u32> {
        self.index.get(key as usize).and_then(|s| s.checked_sub(1))
    }

    fn unlink(&mut self, s: u32) {
        let (prev, next) = (self.slots[s as usize].prev, self.slots[s as usize].next);
        if prev == NIL { self.head = next } else { self.slots[prev as usize].next = next }
        if next == NIL { self.tail = prev } else { self.slots[next as usize].prev = prev }
    }

    fn push_front(&mut self, s: u32) {
        self.slots[s as usize].prev = NIL;
        self.slots[s as usize].next = self.head;
        if self.head != NIL {
            self.slots[self.head as usize].prev = s;
        }
        self.head = s;
        if self.tail == NIL {
            self.tail = s;
        }
    }

    /// The value of `key`, if held and not expired; a hit counts as a use.
    pub fn get(&mut self, key: u64, now: Micros) -> Option<u32> {
        let s = self.slot_of(key)?;
        if self.ttl_us > 0 && now.saturating_sub(self.slots[s as usize].at) >= self.ttl_us && !self.slots[s as usize].dirty {
            self.remove(key);
            return None;
        }
        let e = &mut self.slots[s as usize];
        e.uses = e.uses.saturating_add(1);
        let value = e.value;
        if self.eviction == Eviction::Lru {
            self.unlink(s);
            self.push_front(s);
        }
        Some(value)
    }

    /// Stores `value` for `key` unless a newer one is held; returns the entry a full
    /// store evicted for it, as (key, value, dirty).
    pub fn put(&mut self, key: u64, value: u32, at: Micros, dirty: bool) -> Option<(u64, u32, bool)> {
        if let Some(s) = self.slot_of(key) {
            let e = &mut self.slots[s as usize];
            if value >= e.value {
                e.value = value;
                e.at = at;
                e.dirty |= dirty;
            }
            return None;
        }
        let evicted = if self.len() >= self.capacity { self.evict() } else { None };
        let entry = Entry { key, value, at, prev: NIL, next: NIL, uses: 1, dirty };
        let s = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = entry;
                s
            }
            None => {
                self.slots.push(entry);
                (self.slots.len() - 1) as u32
            }
        };
        self.push_front(s);
        if self.index.len() <= key as usize {
            self.index.resize(key as usize + 1, 0);
        }
        self.index[key as usize] = s + 1;
        evicted
    }

    fn evict(&mut self) -> Option<(u64, u32, bool)> {
        let victim = match self.eviction {
            Eviction::Lru | Eviction::Fifo => self.tail,
            Eviction::Random => self.random_slot(),
            Eviction::Lfu => {
                let mut best = self.random_slot();
                for _ in 0..4 {
                    let c = self.random_slot();
                    if self.slots[c as usize].uses < self.slots[best as usize].uses {
                        best = c;
                    }
                }
                best
            }
        };
        let e = &self.slots[victim as usize];
        let out = (e.key, e.value, e.dirty);
        self.remove(out.0);
        Some(out)
    }

    /// A random occupied slot (the store is full when it evicts, so nearly every slot is).
    fn random_slot(&mut self) -> u32 {
        loop {
            let s = self.rng.below(self.slots.len() as u64) as u32;
            if self.index.get(self.slots[s as usize].key as usize) == Some(&(s + 1)) {
                return s;
            }
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<(u32, bool)> {
        let s = self.slot_of(key)?;
        self.unlink(s);
        self.index[key as usize] = 0;
        self.free.push(s);
        let e = &self.slots[s as usize];
        Some((e.value, e.dirty))
    }

    /// Empties the store; returns the dirty entries as (key, value).
    pub fn clear(&mut self) -> Vec<(u64, u32)> {
        let dirty = self.dirty();
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
        dirty
    }

    /// The dirty entries as (key, value), marked clean.
    pub fn take_dirty(&mut self) -> Vec<(u64, u32)> {
        let out = self.dirty();
        for (k, _) in &out {
            if let Some(s) = self.slot_of(*k) {
                self.slots[s as usize].dirty = false;
            }
        }
        out
    }

    fn dirty(&self) -> Vec<(u64, u32)> {
        self.slots.iter().enumerate().filter(|(s, e)| e.dirty && self.index.get(e.key as usize) == Some(&(*s as u32 + 1))).map(|(_, e)| (e.key, e.value)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(capacity: usize, eviction: Eviction) -> Store {
        Store::new(capacity, eviction, 0, Rng::new(1, "t"))
    }

    #[test]
    fn lru_evicts_the_least_recently_used_and_fifo_the_oldest() {
        let mut s = store(2, Eviction::Lru);
        s.put(1, 1, 0, false);
        s.put(2, 1, 0, false);
        assert_eq!(s.get(1, 0), Some(1));
        assert_eq!(s.put(3, 1, 0, false), Some((2, 1, false)), "2 was least recently used");
        let mut s = store(2, Eviction::Fifo);
        s.put(1, 1, 0, false);
        s.put(2, 1, 0, false);
        s.get(1, 0);
        assert_eq!(s.put(3, 1, 0, false), Some((1, 1, false)), "1 went in first");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn entries_expire_after_the_ttl_and_older_values_never_replace_newer() {
        let mut s = Store::new(4, Eviction::Lru, 1_000, Rng::new(1, "t"));
        s.put(7, 5, 0, false);
        s.put(7, 3, 10, false);
        assert_eq!(s.get(7, 999), Some(5));
        assert_eq!(s.get(7, 1_000), None, "expired");
        assert!(s.is_empty());
    }
}
