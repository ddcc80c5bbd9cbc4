//! File sizes as users read them, in the units Discord's own limits use
//! (MB and KB of 1024).

const KB: u64 = 1024;
const MB: u64 = 1024 * 1024;

/// `n` bytes, rounded to one tenth of a MB, a whole KB or exact.
pub fn byte_size(n: u64) -> String {
    match n {
        n if n >= MB => format!("{:.1} MB", n as f64 / MB as f64),
        n if n >= KB => format!("{:.0} KB", n as f64 / KB as f64),
        n => format!("{n} bytes"),
    }
}

/// A size and the limit it is over. Rounded, a file just over a limit
/// would read as the limit itself ("10.0 MB, up to 10.0 MB"), so when the
/// two would read alike both are given in bytes.
pub fn size_against(size: u64, limit: u64) -> (String, String) {
    let (shown, cap) = (byte_size(size), byte_size(limit));
    if shown != cap {
        return (shown, cap);
    }
    (exact(size), exact(limit))
}

fn exact(n: u64) -> String {
    grouped(n) + " bytes"
}

/// 20000 as "20,000".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_mb_kb_or_bytes() {
        assert_eq!(byte_size(5 * MB), "5.0 MB");
        assert_eq!(byte_size(3 * MB / 2), "1.5 MB");
        assert_eq!(byte_size(2048), "2 KB");
        assert_eq!(byte_size(1023), "1023 bytes");
    }

    #[test]
    fn a_size_just_over_its_limit_never_reads_as_the_limit() {
        assert_eq!(
            size_against(10 * MB + 1, 10 * MB),
            ("10,485,761 bytes".into(), "10,485,760 bytes".into())
        );
        assert_eq!(
            size_against(1_000_001, 1_000_000),
            ("1,000,001 bytes".into(), "1,000,000 bytes".into())
        );
        assert_eq!(
            size_against(12 * MB, 10 * MB),
            ("12.0 MB".into(), "10.0 MB".into())
        );
    }
}
