//! Maps and sets keyed by ids (payments, connections, requests): one multiply to hash,
//! where std's default SipHash spends tens of nanoseconds guarding against keys chosen by
//! an attacker, which a simulation's own ids are not. No random seed either, so iteration
//! order is the same on every machine (callers still sort before acting on it).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Fibonacci hashing of one integer: the high bits, which the table uses, mix every bit.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26);
    }
}

pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;
pub type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// Records of ids handed out in order (transactions, sagas), indexed by id from the oldest
/// still kept: where a map would hash, this indexes a ring. Each record keeps when its
/// slot was made, so that old ones can be let go from the front.
pub struct IdWindow<T> {
    items: std::collections::VecDeque<(crate::time::Micros, T)>,
    base: u64,
}

impl<T> Default for IdWindow<T> {
    fn default() -> Self {
        IdWindow { items: std::collections::VecDeque::new(), base: 0 }
    }
}

impl<T: Default> IdWindow<T> {
    /// The record of `id`, made (with any ids skipped before it) at `now` if new; `None`
    /// if it was let go already, or lies implausibly far ahead (not an id handed out).
    pub fn entry(&mut self, id: u64, now: crate::time::Micros) -> Option<&mut T> {
        let at = usize::try_from(id.checked_sub(self.base)?).ok()?;
        if at > self.items.len() + (1 << 20) {
            return None;
        }
        while self.items.len() <= at {
            self.items.push_back((now, T::default()));
        }
        Some(&mut self.items[at].1)
    }

    pub fn get(&self, id: u64) -> Option<&T> {
        let at = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.items.get(at).map(|(_, t)| t)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let at = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.items.get_mut(at).map(|(_, t)| t)
    }

    /// Lets go from the front the records `done` says are finished, and those made
    /// before `before`, stopping at the first that is neither. Returns how many were let
    /// go unfinished, for their age.
    pub fn trim(&mut self, before: crate::time::Micros, mut done: impl FnMut(&T) -> bool) -> usize {
        let mut aged = 0;
        while let Some((made, t)) = self.items.front() {
            if !done(t) {
                if *made >= before {
                    break;
                }
                aged += 1;
            }
            self.items.pop_front();
            self.base += 1;
        }
        aged
    }

    /// Every record kept, oldest first, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.items.iter().enumerate().map(|(i, (_, t))| (self.base + i as u64, t))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::IdWindow;

    #[test]
    fn a_window_indexes_by_id_and_lets_go_from_the_front() {
        let mut w: IdWindow<u32> = IdWindow::default();
        *w.entry(2, 10).unwrap() = 7;
        assert_eq!((w.len(), w.get(0), w.get(2), w.get(3)), (3, Some(&0), Some(&7), None));
        w.trim(0, |t| *t == 0);
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![(2, &7)]);
        assert!(w.entry(1, 20).is_none(), "let go");
        *w.entry(4, 30).unwrap() = 1;
        w.trim(25, |_| false);
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![(3, &0), (4, &1)]);
    }
}
