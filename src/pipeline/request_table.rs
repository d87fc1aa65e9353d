//! The requests in flight of one isolate: a bounded table from [`RequestId`] to the state of a
//! request that waits for the outside world (a signature check, the outage probe, a fetch). A
//! full table refuses the new request, never one already in it; an entry whose answer never
//! comes is dropped at its deadline.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub use crate::machine::RequestId;

/// The bounded table. `T` is the waiting state.
pub struct RequestTable<T> {
    entries: HashMap<RequestId, (i64, T)>,
    deadlines: BinaryHeap<Reverse<(i64, RequestId)>>,
    capacity: usize,
    next_id: RequestId,
}

impl<T> RequestTable<T> {
    /// An empty table that holds at most `capacity` waiting requests.
    pub fn new(capacity: usize) -> RequestTable<T> {
        RequestTable {
            entries: HashMap::new(),
            deadlines: BinaryHeap::new(),
            capacity,
            next_id: 0,
        }
    }

    /// A fresh id (ids in use are skipped, should the counter ever wrap onto one).
    pub fn allocate(&mut self) -> RequestId {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.entries.contains_key(&id) {
                return id;
            }
        }
    }

    /// Parks `value` under `id` until `deadline_ms`; `Err(value)` when the table is full.
    pub fn park(&mut self, id: RequestId, value: T, deadline_ms: i64) -> Result<(), T> {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&id) {
            return Err(value);
        }
        self.entries.insert(id, (deadline_ms, value));
        self.deadlines.push(Reverse((deadline_ms, id)));
        // Taken entries leave their deadline behind; keep the heap from growing without bound.
        if self.deadlines.len() > self.capacity.saturating_mul(4).max(64) {
            self.deadlines = self
                .entries
                .iter()
                .map(|(id, (deadline, _))| Reverse((*deadline, *id)))
                .collect();
        }
        Ok(())
    }

    /// Takes the state parked under `id`, if it is still there.
    pub fn take(&mut self, id: RequestId) -> Option<T> {
        self.entries.remove(&id).map(|(_, value)| value)
    }

    /// Drops every entry whose deadline has passed; returns how many.
    pub fn sweep(&mut self, now_ms: i64) -> usize {
        let mut dropped = 0;
        while let Some(Reverse((deadline, id))) = self.deadlines.peek().copied() {
            if deadline > now_ms {
                break;
            }
            self.deadlines.pop();
            // Only an entry parked with this very deadline (not re-parked since) goes.
            if self.entries.get(&id).is_some_and(|(d, _)| *d == deadline) {
                self.entries.remove(&id);
                dropped += 1;
            }
        }
        dropped
    }

    /// The number of requests waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no request is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most requests that may wait at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::RequestTable;

    #[test]
    fn full_table_refuses_the_new_entry_and_keeps_the_others() {
        let mut t = RequestTable::new(2);
        let (a, b, c) = (t.allocate(), t.allocate(), t.allocate());
        assert!(t.park(a, "a", 100).is_ok());
        assert!(t.park(b, "b", 100).is_ok());
        assert_eq!(t.park(c, "c", 100), Err("c"));
        assert_eq!(t.take(a), Some("a"));
        assert!(t.park(c, "c", 100).is_ok());
        assert_eq!(t.take(b), Some("b"));
        assert_eq!(t.take(b), None);
    }

    #[test]
    fn entries_are_dropped_at_their_deadline_and_re_parking_moves_it() {
        let mut t = RequestTable::new(8);
        let (a, b) = (t.allocate(), t.allocate());
        t.park(a, 1, 10).ok();
        t.park(b, 2, 20).ok();
        assert_eq!(t.sweep(9), 0);
        assert_eq!(t.sweep(10), 1);
        assert_eq!(t.take(a), None);
        // Re-parked with a later deadline: the old deadline no longer drops it.
        assert_eq!(t.take(b), Some(2));
        t.park(b, 3, 50).ok();
        assert_eq!(t.sweep(30), 0);
        assert_eq!(t.take(b), Some(3));
    }

    #[test]
    fn the_deadline_heap_stays_bounded() {
        let mut t = RequestTable::new(4);
        for _ in 0..1000 {
            let id = t.allocate();
            t.park(id, (), i64::MAX).ok();
            t.take(id);
        }
        assert!(t.deadlines.len() <= 64);
        assert!(t.is_empty());
    }
}
