//! A component's own table of live entries (jobs, forwarded requests), with generations
//! so that a key to a removed entry never finds the entry that reused its place.
//! Components must not key their state by ledger slots: a client that times out frees
//! its slot for the next request while the component may still be working on the old one.

pub struct Slab<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { entries: Vec::new(), free: Vec::new(), live: 0 }
    }
}

/// Index in the low 32 bits, generation above.
pub type Key = u64;

pub fn index_of(key: Key) -> u32 {
    key as u32
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> Key {
        self.live += 1;
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.entries.push((0, None));
                (self.entries.len() - 1) as u32
            }
        };
        let e = &mut self.entries[i as usize];
        e.1 = Some(value);
        u64::from(e.0) << 32 | u64::from(i)
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(index_of(key) as usize) {
            Some((g, Some(v))) if u64::from(*g) == key >> 32 => Some(v),
            _ => None,
        }
    }

    pub fn get(&self, key: Key) -> Option<&T> {
        match self.entries.get(index_of(key) as usize) {
            Some((g, Some(v))) if u64::from(*g) == key >> 32 => Some(v),
            _ => None,
        }
    }

    /// The key of the entry now at `index`, if one lives there.
    pub fn key_at(&self, index: u32) -> Option<Key> {
        self.live_at(index).map(|(key, _)| key)
    }

    /// The entry now at `index` with its key, if one lives there.
    pub fn live_at(&self, index: u32) -> Option<(Key, &T)> {
        match self.entries.get(index as usize) {
            Some((g, Some(v))) => Some((u64::from(*g) << 32 | u64::from(index), v)),
            _ => None,
        }
    }

    pub fn contains(&self, key: Key) -> bool {
        matches!(self.entries.get(index_of(key) as usize), Some((g, Some(_))) if u64::from(*g) == key >> 32)
    }

    pub fn remove(&mut self, key: Key) -> Option<T> {
        let (g, slot) = self.entries.get_mut(index_of(key) as usize)?;
        if u64::from(*g) != key >> 32 || slot.is_none() {
            return None;
        }
        *g = g.wrapping_add(1);
        self.free.push(index_of(key));
        self.live -= 1;
        slot.take()
    }

    /// Removes every entry, handing each to `f`.
    pub fn drain(&mut self, mut f: impl FnMut(T)) {
        for (i, (g, slot)) in self.entries.iter_mut().enumerate() {
            if let Some(v) = slot.take() {
                *g = g.wrapping_add(1);
                self.free.push(i as u32);
                f(v);
            }
        }
        self.live = 0;
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_miss_reused_places() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(index_of(a), index_of(b));
        assert!(s.get_mut(a).is_none() && s.remove(a).is_none());
        assert_eq!(s.get_mut(b), Some(&mut "b"));
        let mut seen = vec![];
        s.drain(|v| seen.push(v));
        assert_eq!((seen, s.len()), (vec!["b"], 0));
    }
}
