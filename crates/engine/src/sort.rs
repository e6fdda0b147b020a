//! A heapsort for the few places that sort seldom (a shard ring's points at a resize, a
//! history's forward zones, the page's frame times, what a node holds when it crashes or
//! recovers, a consumer's periodic commits, the periodic sweeps of leases, connections
//! and transactions that time out). The linearizability judge sorts on
//! every check and keeps std's quicksort: there the heapsort cost cap's 1M run 17% (perf). Each element type
//! given to std's `sort_unstable` brings its own copy of a quicksort with small-sort
//! networks, about 3 KB of wasm; this is a few hundred bytes per type, in O(n log n) and
//! no allocation. Not stable, like `sort_unstable`: the callers sort whole values, where
//! equal elements are indistinguishable, so the result is the same as std's.

/// Sorts `v` in place so that no element is `less` than the one before it.
pub fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift_down(v, i, n, &less);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &less);
    }
}

/// Sorts `v` in place by a key, ascending. Not stable: for keys that are unique.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a) < key(b));
}

/// Sorts `v` in place in ascending order.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

/// Moves `v[root]` down the max-heap `v[..end]` to where it belongs.
fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, less: &impl Fn(&T, &T) -> bool) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same result as std's sort, for every length including 0 and 1, with repeats.
        #[test]
        fn sorts_as_std_does(mut xs in proptest::collection::vec((0u64..20, 0u32..5), 0..300)) {
            let mut want = xs.clone();
            want.sort_unstable();
            sort(&mut xs);
            prop_assert_eq!(xs, want);
        }

        #[test]
        fn sorts_floats_by_total_order(mut xs in proptest::collection::vec(-1e6f64..1e6, 0..100)) {
            let mut want = xs.clone();
            want.sort_unstable_by(f64::total_cmp);
            sort_by(&mut xs, |a, b| a.total_cmp(b).is_lt());
            prop_assert_eq!(xs, want);
        }
    }
}
