//! Transaction ids: one per use-case call, unique across processes,
//! cheap to make.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The id of one use-case call. Generated ids look like UUIDs (random per
/// process, then sequential through a mixing function, so they never
/// repeat within a process and collide across processes only by chance);
/// ids received from callers (`x-transaction-id`) are kept as given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TransactionId(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Generated(u128),
    Given(Arc<str>),
}

/// The longest transaction id accepted from a caller.
pub const MAX_TRANSACTION_ID_LEN: usize = 128;

impl TransactionId {
    /// A new, unique id.
    pub fn generate() -> Self {
        let mut value = random_u128();
        // Mark it as a random (version 4, variant 1) UUID.
        value = (value & !(0xF << 76)) | (0x4 << 76);
        value = (value & !(0x3 << 62)) | (0x2 << 62);
        TransactionId(Repr::Generated(value))
    }

    /// The id as text, formatted without `core::fmt` (entry points need
    /// it for every request).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Repr::Given(id) => std::borrow::Cow::Borrowed(id),
            Repr::Generated(v) => {
                let text = uuid_text(*v);
                // The bytes are ASCII hexadecimal digits and dashes, so the
                // UTF-8 check passes; a copy, not a char-by-char collect.
                std::borrow::Cow::Owned(
                    std::str::from_utf8(&text)
                        .map(str::to_owned)
                        .unwrap_or_default(),
                )
            }
        }
    }

    /// An id received from a caller, when it is 1 to 128 visible ASCII
    /// characters; anything else is refused so ids cannot forge log lines.
    pub fn parse(given: &str) -> Option<Self> {
        let valid = !given.is_empty()
            && given.len() <= MAX_TRANSACTION_ID_LEN
            && given.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| TransactionId(Repr::Given(Arc::from(given))))
    }
}

/// The 8-4-4-4-12 hexadecimal form, written by hand: ids are formatted
/// for every request, and `core::fmt`'s padding machinery is slow.
fn uuid_text(value: u128) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Where each of the 16 bytes' two digits go, around the dashes at 8,
    // 13, 18 and 23: a table instead of a check per digit.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut out = [b'-'; 36];
    for (byte, at) in value.to_be_bytes().into_iter().zip(AT) {
        out[at] = HEX[usize::from(byte >> 4)];
        out[at + 1] = HEX[usize::from(byte & 0xF)];
    }
    out
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Given(id) => f.write_str(id),
            Repr::Generated(v) => {
                let text = uuid_text(*v);
                f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
            }
        }
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

/// 128 bits that differ on every call and between processes: a seed from
/// the operating system's randomness, mixed with a counter. Not for
/// secrets; for ids (transactions, spans).
pub(crate) fn random_u128() -> u128 {
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let &(high, low) = SEED.get_or_init(|| {
        // RandomState is seeded from the operating system's randomness.
        let state = std::collections::hash_map::RandomState::new();
        let mut a = state.build_hasher();
        a.write_u64(0x0062_6973_736c_6f67);
        let mut b = state.build_hasher();
        b.write_u64(std::process::id().into());
        (a.finish(), b.finish())
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed_low = splitmix64(low ^ n);
    let mixed_high = splitmix64(high.wrapping_add(n));
    (u128::from(mixed_high) << 64) | u128::from(mixed_low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_uuid_shaped() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| TransactionId::generate().to_string())
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
    }

    #[test]
    fn uuid_text_puts_every_digit_and_dash_in_place() {
        let text = uuid_text(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        assert_eq!(&text, b"01234567-89ab-cdef-fedc-ba9876543210");
    }

    #[test]
    fn text_and_display_agree() {
        let id = TransactionId::generate();
        assert_eq!(id.text(), id.to_string());
        let given = TransactionId::parse("abc").unwrap();
        assert_eq!(given.text(), "abc");
    }

    #[test]
    fn the_hand_written_form_matches_the_standard_one() {
        let v: u128 = 0x0123_4567_89ab_4def_8123_4567_89ab_cdef;
        assert_eq!(&uuid_text(v), b"01234567-89ab-4def-8123-456789abcdef");
    }

    #[test]
    fn caller_ids_are_checked() {
        assert_eq!(
            TransactionId::parse("abc-123")
                .map(|t| t.to_string())
                .as_deref(),
            Some("abc-123")
        );
        assert!(TransactionId::parse("").is_none());
        assert!(TransactionId::parse("has space").is_none());
        assert!(TransactionId::parse("line\nbreak").is_none());
        assert!(TransactionId::parse(&"x".repeat(129)).is_none());
    }
}
