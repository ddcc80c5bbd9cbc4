//! Keeps the daemon's resident memory near its live heap. glibc's malloc
//! gives busy threads arenas of their own and keeps freed pages in them, so
//! without help RSS stays at its high-water mark. The daemon caps the
//! arenas before any thread starts and hands free pages back once sessions
//! idle out (the figures are in docs/PERFORMANCE.md, "Memory"). Elsewhere
//! (musl, macOS) both are no-ops.

use std::time::Duration;

/// Two arenas: one for the main (actix) thread, one shared by the tokio
/// workers and the SQLite thread; one arena would make every thread
/// contend for its lock.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Caps glibc's malloc arenas unless MALLOC_ARENA_MAX already says how
/// many. Call first thing in `main`: glibc creates arenas as threads first
/// allocate, and a cap set later leaves the extra ones in place.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Gives the free pages of every arena back to the kernel; true if any
/// were. Takes each arena's lock in turn, so call it off the actors'
/// thread and not per message.
pub fn release_free() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and madvises glibc's own free lists.
    unsafe {
        libc::malloc_trim(0) == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Releases free pages every `period`, on a blocking thread: a backstop
/// for what the session router's releases do not follow, such as a burst
/// of gateway traffic on a daemon nobody has written to yet.
pub async fn release_every(period: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let _ = tokio::task::spawn_blocking(release_free).await;
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn freed_memory_behind_a_live_block_is_given_back() {
        // Small blocks stay on the heap (not mmap); the last one is kept
        // so that glibc cannot shrink the heap's top on its own.
        let mut blocks: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8; 16 * 1024]).collect();
        let keep = blocks.pop();
        drop(blocks);
        assert!(release_free());
        drop(keep);
    }
}
