//! A global allocator that holds every single allocation to a cap, for the fuzz targets
//! and the corpus test.
//!
//! libFuzzer's `-malloc_limit_mb` is only enforced through a sanitizer's malloc hooks; the
//! targets are built without a sanitizer (`--sanitizer none`, for a fast build), so they
//! enforce the cap themselves with this allocator. Two modes:
//!
//! - [`Mode::Abort`] (the fuzz targets): an allocation over the cap prints its size and
//!   aborts before anything is allocated; libFuzzer records the input as a crash.
//! - [`Mode::Record`] (the corpus test): the allocation goes ahead and the largest one of
//!   the thread is kept, for the test to check after each input ([`take_largest`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What happens to an allocation over the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Print its size and abort the process, before allocating.
    Abort,
    /// Allocate it, and remember it for [`take_largest`].
    Record,
}

/// The allocator: [`System`], with every allocation's size checked against the cap.
pub struct Capped;

static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);
static ABORT: AtomicBool = AtomicBool::new(false);

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// Sets the cap on one allocation, in bytes, and what happens to one over it.
pub fn set_cap(bytes: usize, mode: Mode) {
    ABORT.store(mode == Mode::Abort, Ordering::SeqCst);
    CAP.store(bytes, Ordering::SeqCst);
}

/// The largest allocation over the cap made by this thread since the last call (0 if
/// none), in [`Mode::Record`].
pub fn take_largest() -> usize {
    LARGEST.with(|l| l.replace(0))
}

/// The cap given to libFuzzer as `-malloc_limit_mb=N` on the command line, in bytes.
pub fn cap_from_args() -> Option<usize> {
    std::env::args()
        .find_map(|a| a.strip_prefix("-malloc_limit_mb=")?.parse::<usize>().ok())
        .map(|mb| mb.saturating_mul(1 << 20))
}

fn check(size: usize) {
    if size <= CAP.load(Ordering::Relaxed) {
        return;
    }
    if ABORT.load(Ordering::Relaxed) {
        // No allocation here: the message is written from a buffer on the stack.
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        let mut n = size;
        loop {
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut err = std::io::stderr();
        let _ = err.write_all(b"==resgrad-fuzz== an allocation of ");
        let _ = err.write_all(&buf[at..]);
        let _ = err.write_all(b" bytes, over the cap (-malloc_limit_mb): out of memory\n");
        std::process::abort();
    }
    LARGEST.with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is passed on to `System` unchanged; `check` only reads atomics,
// writes a thread-local `Cell` or aborts.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
