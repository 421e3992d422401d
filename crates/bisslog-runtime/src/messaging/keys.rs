//! Order by key: which deliveries of a consumer may run now, and which
//! wait behind an earlier message of their key.
//!
//! A pure bookkeeping structure, generic over what is held so that it is
//! tested without a broker. A key is *active* while one of its messages
//! runs; the later messages of an active key wait here, in arrival order,
//! and the next one starts when the running one is settled. Nothing bounds
//! the queue of one key by itself: the runner bounds the total held
//! (running and waiting) by the subscription's prefetch, and stops taking
//! deliveries at that bound, so the keys held and the messages waiting are
//! both at most the prefetch.

use std::collections::{HashMap, VecDeque};

/// The running keys and, for each, the messages waiting behind it.
#[derive(Debug)]
pub(crate) struct Keys<T> {
    /// Every active key, with what waits behind its running message (an
    /// empty queue: only the running one).
    active: HashMap<String, VecDeque<T>>,
    /// The sum of the waiting queues' lengths.
    waiting: usize,
}

impl<T> Default for Keys<T> {
    fn default() -> Self {
        Self {
            active: HashMap::new(),
            waiting: 0,
        }
    }
}

impl<T> Keys<T> {
    /// Offers `item` of `key`: returned when it may run now (its key is
    /// now active), or kept to wait behind the running message of its
    /// key (`None`).
    pub(crate) fn admit(&mut self, key: &str, item: T) -> Option<T> {
        match self.active.get_mut(key) {
            Some(queue) => {
                queue.push_back(item);
                self.waiting += 1;
                None
            }
            None => {
                self.active.insert(key.to_owned(), VecDeque::new());
                Some(item)
            }
        }
    }

    /// The running message of `key` is settled: the next of the key to
    /// run (the key stays active), or `None` (the key is free).
    pub(crate) fn done(&mut self, key: &str) -> Option<T> {
        let queue = self.active.get_mut(key)?;
        match queue.pop_front() {
            Some(next) => {
                self.waiting -= 1;
                Some(next)
            }
            None => {
                self.active.remove(key);
                None
            }
        }
    }

    /// The running message of `key` is settled and no more of the key will
    /// run: everything waiting behind it, in arrival order, and the key is
    /// free.
    pub(crate) fn done_all(&mut self, key: &str) -> VecDeque<T> {
        let queue = self.active.remove(key).unwrap_or_default();
        self.waiting -= queue.len();
        queue
    }

    /// Whether a message of `key` is running.
    pub(crate) fn is_active(&self, key: &str) -> bool {
        self.active.contains_key(key)
    }

    /// How many messages wait behind a running one.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// How many keys have a message running.
    #[cfg(test)]
    pub(crate) fn active(&self) -> usize {
        self.active.len()
    }

    /// Every waiting message, in no particular order.
    pub(crate) fn iter_waiting(&self) -> impl Iterator<Item = &T> {
        self.active.values().flatten()
    }

    /// Takes every waiting message, leaving each key active with nothing
    /// behind it.
    pub(crate) fn take_waiting(&mut self) -> Vec<T> {
        self.waiting = 0;
        self.active.values_mut().flat_map(std::mem::take).collect()
    }
}

/// The ordering key in a payload at `path` (`partition: event.<path>`):
/// a string as it is, a number or a boolean as its JSON text. A payload
/// that is not JSON, has no such member, or has `null`, an object or an
/// array there gives no key: the message is not ordered.
pub(crate) fn payload_key(payload: &[u8], path: &[String]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?;
    let body = crate::mapper::Body::parse(text).ok()?;
    let raw = body.get(path)?;
    match serde_json::from_str::<serde_json::Value>(raw.get()).ok()? {
        serde_json::Value::String(key) => Some(key),
        key @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => Some(key.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_member_is_a_key_when_it_is_a_scalar() {
        let path = |p: &str| -> Vec<String> { p.split('.').map(str::to_owned).collect() };
        let payload =
            br#"{"company": {"id": "c-7", "n": 12, "ok": true, "none": null, "list": [1]}}"#;
        assert_eq!(
            payload_key(payload, &path("company.id")).as_deref(),
            Some("c-7")
        );
        assert_eq!(
            payload_key(payload, &path("company.n")).as_deref(),
            Some("12")
        );
        assert_eq!(
            payload_key(payload, &path("company.ok")).as_deref(),
            Some("true")
        );
        assert_eq!(payload_key(payload, &path("company.none")), None);
        assert_eq!(payload_key(payload, &path("company.list")), None);
        assert_eq!(payload_key(payload, &path("company")), None);
        assert_eq!(payload_key(payload, &path("nobody")), None);
        assert_eq!(
            payload_key(br#"{"id": "a\"b"}"#, &path("id")).as_deref(),
            Some("a\"b")
        );
        assert_eq!(payload_key(b"not json", &path("id")), None);
        assert_eq!(payload_key(b"\xff", &path("id")), None);
    }

    #[test]
    fn a_key_runs_one_message_at_a_time_in_arrival_order() {
        let mut keys = Keys::default();
        assert_eq!(keys.admit("a", 1), Some(1));
        assert_eq!(keys.admit("a", 2), None);
        assert_eq!(keys.admit("a", 3), None);
        assert_eq!(keys.waiting(), 2);
        assert_eq!(keys.done("a"), Some(2));
        assert_eq!(keys.admit("a", 4), None);
        assert_eq!(keys.done("a"), Some(3));
        assert_eq!(keys.done("a"), Some(4));
        assert_eq!(keys.waiting(), 0);
        assert!(keys.is_active("a"), "4 is running");
        assert_eq!(keys.done("a"), None);
        assert!(!keys.is_active("a"));
        assert_eq!(keys.admit("a", 5), Some(5), "a free key runs at once");
    }

    #[test]
    fn different_keys_run_side_by_side() {
        let mut keys = Keys::default();
        assert_eq!(keys.admit("a", 1), Some(1));
        assert_eq!(keys.admit("b", 2), Some(2));
        assert_eq!(keys.admit("a", 3), None);
        assert_eq!(keys.admit("c", 4), Some(4));
        assert_eq!(keys.active(), 3);
        assert_eq!(keys.done("b"), None);
        assert_eq!(keys.done("c"), None);
        assert_eq!(keys.active(), 1);
        assert_eq!(keys.done("a"), Some(3));
    }

    #[test]
    fn done_all_hands_back_the_waiting_in_order_and_frees_the_key() {
        let mut keys = Keys::default();
        keys.admit("a", 1);
        keys.admit("a", 2);
        keys.admit("a", 3);
        keys.admit("b", 4);
        keys.admit("b", 5);
        assert_eq!(keys.waiting(), 3);
        assert_eq!(Vec::from(keys.done_all("a")), [2, 3]);
        assert!(!keys.is_active("a"));
        assert_eq!(keys.waiting(), 1);
        assert!(keys.done_all("nobody").is_empty());
        let mut all: Vec<_> = keys.iter_waiting().copied().collect();
        all.sort_unstable();
        assert_eq!(all, [5]);
        assert_eq!(keys.take_waiting(), [5]);
        assert_eq!(keys.waiting(), 0);
        assert!(keys.is_active("b"), "4 still runs");
        assert_eq!(keys.done("b"), None);
    }

    #[test]
    fn done_of_a_key_that_is_not_running_is_nothing() {
        let mut keys: Keys<u32> = Keys::default();
        assert_eq!(keys.done("a"), None);
        assert_eq!(keys.waiting(), 0);
        assert_eq!(keys.active(), 0);
    }
}
