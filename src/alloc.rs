//! Keeps glibc's allocator from handing big tensors back to the kernel after every step.
//!
//! glibc serves allocations above its mmap threshold (128 KiB at first) with fresh
//! `mmap`s and returns them with `munmap`, so every training step would page-fault in,
//! and zero, every activation and gradient anew: measured, a third of a ResNet-20 step
//! went to the kernel. Raising the threshold to its maximum (32 MiB on 64-bit) and the
//! trim threshold to its maximum (2 GiB) keeps freed blocks in the heap for the next step, as PyTorch's
//! caching allocator does in its own way.
//!
//! This is a speed concern of training and benchmarks, not of the tape: the trainer and
//! `resgrad bench` opt in through `train::tune_allocator`; a notebook that only records a few ops
//! never needs it. `RESGRAD_NO_MALLOPT=1` turns it off.

/// Raises glibc's mmap and trim thresholds once per process (a no-op elsewhere, and when
/// `RESGRAD_NO_MALLOPT` is set).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn tune() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    // glibc's `int mallopt(int param, int value)` (<malloc.h>), declared with its own types.
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    ONCE.call_once(|| {
        if std::env::var_os("RESGRAD_NO_MALLOPT").is_none() {
            // SAFETY: the declaration above is glibc's (this item is built for glibc only),
            // and mallopt only changes its allocation thresholds; both values are within
            // glibc's documented ranges (mallopt(3)).
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
                mallopt(M_TRIM_THRESHOLD, i32::MAX);
            }
        }
    });
}

/// Raises glibc's mmap and trim thresholds once per process: a no-op off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn tune() {}

/// The machine's memory in bytes (`MemTotal` of `/proc/meminfo`), where the system says.
pub(crate) fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `bytes` in GiB, for messages.
fn gib(bytes: u128) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Refuses, before anything is allocated, `numbers` values of `elem_bytes` each (`None`:
/// more than 2^128) that would not fit in the machine's memory: the error, from `op`,
/// names `what` is being built, what it would need and what the machine has. Passes
/// where the machine's memory is unknown.
pub(crate) fn check_fits(
    op: &'static str,
    what: &str,
    numbers: Option<u128>,
    elem: (usize, &str),
    location: &'static std::panic::Location<'static>,
) -> crate::error::Result<()> {
    let text = (
        what,
        "for its weights alone",
        "choose a smaller depth or width",
    );
    check_fits_for(op, text, numbers, elem, location)
}

/// [`check_fits`] with the words of the error: `what` would need ... `need_for` (what the
/// numbers are), and this machine has ...; `hint` (what to do).
pub(crate) fn check_fits_for(
    op: &'static str,
    (what, need_for, hint): (&str, &str, &str),
    numbers: Option<u128>,
    (elem_bytes, elem_name): (usize, &str),
    location: &'static std::panic::Location<'static>,
) -> crate::error::Result<()> {
    let Some(have) = machine_memory() else {
        return Ok(());
    };
    let need = numbers.and_then(|n| n.checked_mul(elem_bytes as u128));
    match need {
        Some(need) if need <= u128::from(have) => Ok(()),
        _ => Err(crate::error::Error::argument(
            op,
            format!(
                "{what} would need {} {need_for} ({} numbers in {elem_name}), and this \
                 machine has {}; {hint}",
                need.map_or("more than 2^128 bytes".into(), gib),
                numbers.map_or("more than 2^128".into(), |n| n.to_string()),
                gib(u128::from(have)),
            ),
            location,
        )),
    }
}
