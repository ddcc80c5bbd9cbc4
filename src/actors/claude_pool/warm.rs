//! The pool's warm set: idle CLI processes by session, at most `max` of
//! them, the least recently used given up first. Each entry carries a
//! stamp, so an expiry timer set for one use of a session does not close
//! a later one.

use crate::domain::ChannelId;
use std::collections::HashMap;

pub(super) struct WarmSet<T> {
    max: usize,
    entries: HashMap<ChannelId, (T, u64)>,
    next_stamp: u64,
}

impl<T> WarmSet<T> {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            entries: HashMap::new(),
            next_stamp: 0,
        }
    }

    /// Keeps `item` for `key`; returns its stamp and what no longer fits
    /// (the least recently kept first; `item` itself when `max` is 0).
    pub fn put(&mut self, key: ChannelId, item: T) -> (u64, Vec<T>) {
        self.next_stamp += 1;
        let stamp = self.next_stamp;
        let mut out: Vec<T> = self
            .entries
            .insert(key, (item, stamp))
            .map(|(old, _)| old)
            .into_iter()
            .collect();
        out.extend(self.evict());
        (stamp, out)
    }

    /// Keeps at most `max` from now on; returns what no longer fits, the
    /// least recently kept first.
    pub fn set_max(&mut self, max: usize) -> Vec<T> {
        self.max = max;
        self.evict()
    }

    fn evict(&mut self) -> Vec<T> {
        let mut out = Vec::new();
        while self.entries.len() > self.max {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, s))| *s)
                .map(|(k, _)| *k)
            else {
                break;
            };
            out.extend(self.take(oldest));
        }
        out
    }

    pub fn take(&mut self, key: ChannelId) -> Option<T> {
        self.entries.remove(&key).map(|(item, _)| item)
    }

    /// Takes `key`'s item if it is still the one kept with `stamp`.
    pub fn expire(&mut self, key: ChannelId, stamp: u64) -> Option<T> {
        match self.entries.get(&key) {
            Some((_, kept)) if *kept == stamp => self.take(key),
            _ => None,
        }
    }

    pub fn contains(&self, key: ChannelId) -> bool {
        self.entries.contains_key(&key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn drain(&mut self) -> Vec<T> {
        self.entries.drain().map(|(_, (item, _))| item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(n: u64) -> ChannelId {
        ChannelId(n)
    }

    #[test]
    fn past_the_limit_the_least_recently_kept_goes_first() {
        let mut set = WarmSet::new(2);
        assert!(set.put(ch(1), "one").1.is_empty());
        assert!(set.put(ch(2), "two").1.is_empty());
        // Channel 1 is used again: it is now the most recent.
        let one = set.take(ch(1)).unwrap();
        set.put(ch(1), one);
        assert_eq!(set.put(ch(3), "three").1, ["two"]);
        assert!(set.contains(ch(1)) && set.contains(ch(3)) && !set.contains(ch(2)));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn a_lower_limit_gives_up_the_least_recently_kept() {
        let mut set = WarmSet::new(3);
        for (n, name) in [(1, "one"), (2, "two"), (3, "three")] {
            set.put(ch(n), name);
        }
        assert_eq!(set.set_max(1), ["one", "two"]);
        assert!(set.contains(ch(3)));
        assert!(set.put(ch(4), "four").1 == ["three"]);
    }

    #[test]
    fn with_a_limit_of_zero_nothing_is_kept() {
        let mut set = WarmSet::new(0);
        assert_eq!(set.put(ch(1), "one").1, ["one"]);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn an_expiry_closes_only_the_use_it_was_set_for() {
        let mut set = WarmSet::new(4);
        let (first, _) = set.put(ch(1), "first");
        let item = set.take(ch(1)).unwrap();
        let (second, _) = set.put(ch(1), item);
        assert_eq!(set.expire(ch(1), first), None);
        assert_eq!(set.expire(ch(1), second), Some("first"));
        assert_eq!(set.expire(ch(1), second), None);
    }

    #[test]
    fn a_second_item_for_one_key_gives_back_the_first() {
        let mut set = WarmSet::new(4);
        set.put(ch(1), "old");
        assert_eq!(set.put(ch(1), "new").1, ["old"]);
        assert_eq!(set.drain(), ["new"]);
    }
}
