//! Identifiers shaped like the API's (`msg_01…`, `toolu_01…`, `req_01…`):
//! a prefix and 24 base-62 characters, unique within the process (the
//! last 12 encode a bijection of a counter).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `prefix` followed by 24 characters that no other call returns.
pub fn next(prefix: &str) -> String {
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut id = String::from(prefix);
    push_base62(&mut id, mix(seed ^ count.rotate_left(32)), 12);
    push_base62(&mut id, mix(count ^ 0x9e37_79b9_7f4a_7c15), 12);
    id
}

/// SplitMix64's finaliser: spreads the bits so ids do not look sequential.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn push_base62(out: &mut String, mut value: u64, width: usize) {
    for _ in 0..width {
        out.push(ALPHABET[(value % 62) as usize] as char);
        value /= 62;
    }
}
