//! Memory readings for the sessions bench: VmRSS, and live Rust heap bytes
//! (with a high-water mark) counted by a wrapping global allocator.
//! SQLite's own mallocs bypass the counter.

use std::alloc::{GlobalAlloc, Layout, System as SystemAlloc};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Counts live Rust heap bytes and their high-water mark.
struct Counting;

static HEAP: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let now = HEAP.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { SystemAlloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { SystemAlloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { SystemAlloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        unsafe { SystemAlloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// (RSS, Rust heap) in KiB.
pub fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    (rss, HEAP.load(Ordering::Relaxed) as f64 / 1024.0)
}

/// Resets the heap high-water mark to the current live bytes.
pub fn reset_peak() {
    PEAK.store(HEAP.load(Ordering::Relaxed), Ordering::Relaxed);
}

pub fn peak_mib() -> f64 {
    PEAK.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

/// Gives freed heap pages back to the kernel, so RSS shows what is live
/// rather than what glibc kept after a burst.
pub fn trimmed() -> (f64, f64) {
    // SAFETY: malloc_trim only releases free memory; no pointer is touched.
    unsafe { libc::malloc_trim(0) };
    memory()
}

pub fn db_file_mib(dir: &std::path::Path) -> f64 {
    ["coordinator.db", "coordinator.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len() as f64)
        .sum::<f64>()
        / (1024.0 * 1024.0)
}
