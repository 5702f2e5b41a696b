//! A small gzip file whose header is wrong, or promises more than the file holds, is refused
//! before it is inflated: the loader reads the header first and never allocates what the
//! content would take.
//!
//! Measured exactly by a counting global allocator that tracks the peak (this file is its
//! own test binary, with one test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicIsize, Ordering};

use resgrad::data;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counters only update atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst) + layout.size() as isize;
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The peak of live bytes above the level when `f` started.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let r = f();
    (r, PEAK.load(Ordering::SeqCst) - base)
}

/// 64 MiB of content, gzipped (about 64 KiB), starting with a 16-byte header.
fn bomb(header: [u32; 4]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for v in header {
        e.write_all(&v.to_be_bytes()).unwrap();
    }
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    e.finish().unwrap()
}

#[test]
fn a_bad_gzip_header_is_refused_before_the_file_is_inflated() {
    let dir = std::env::temp_dir().join(format!("resgrad-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let labels = dir.join("labels");
    let mut lb = Vec::new();
    for v in [0x801u32, 1] {
        lb.extend_from_slice(&v.to_be_bytes());
    }
    lb.push(0);
    std::fs::write(&labels, lb).unwrap();

    // A label file's magic in an image file: refused after reading 16 bytes.
    let wrong_magic = dir.join("wrong-magic.gz");
    std::fs::write(&wrong_magic, bomb([0x801, 1, 8, 8])).unwrap();
    // A header that promises 2^32 - 1 images of 65535 x 65535: more than any file holds.
    let huge = dir.join("huge.gz");
    std::fs::write(&huge, bomb([0x803, u32::MAX, 65535, 65535])).unwrap();

    for (path, words) in [
        (&wrong_magic, &["magic"][..]),
        (&huge, &["promises", "4294967295 images"][..]),
    ] {
        let (result, peak) = peak_during(|| data::idx_pair(path, &labels));
        let msg = result.unwrap_err().to_string();
        for w in words {
            assert!(msg.contains(w), "`{w}` not in: {msg}");
        }
        // Inflating the file would take 64 MiB; the loader must stay far below.
        assert!(
            peak < 4 << 20,
            "{}: {peak} bytes were allocated to refuse it",
            path.display()
        );
    }

    // The control: the same 64 MiB read in full does allocate it, so the bound above can
    // tell a loader that inflates first from one that reads the header first.
    let (_, peak) = peak_during(|| {
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&wrong_magic).unwrap()),
            &mut out,
        )
        .unwrap();
        out.len()
    });
    assert!(
        peak >= 64 << 20,
        "inflating in full allocated only {peak} bytes"
    );
}
