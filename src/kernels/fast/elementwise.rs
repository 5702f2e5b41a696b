//! Elementwise loops over both cores: a ReLU's mask, a sum of two tensors, a gradient added
//! into another. Each value depends on its own inputs only, so splitting the work changes
//! no result; a small tensor stays on the calling thread, where waking the thread pool
//! would cost more than the loop.
//!
//! The outputs are written once, without being zeroed first (by `written`, below): at a
//! ResNet's sizes a zeroing pass costs as much as the loop that follows it. `written` hands
//! out uninitialised memory and trusts its caller to fill it, so it is private to the fast
//! kernels, whose every call writes each element; code outside cannot call it:
//!
//! ```compile_fail,E0603
//! let v: Vec<f32> = unsafe { resgrad::kernels::fast::elementwise::written(4, |_| {}) };
//! ```

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// Elements per task: below this a loop runs on the calling thread. Under Miri, which runs
/// code some thousand times slower, it is 64, so that the tests reach the split over
/// threads at sizes Miri runs in seconds (`tests/kernels_miri.rs`).
pub const CHUNK: usize = if cfg!(miri) { 64 } else { 1 << 15 };

/// A vector of `len` values written by `fill`, which is given the uninitialised space.
///
/// # Safety
/// `fill` must write every one of the `len` elements (a panic in `fill` is fine: the
/// vector is then dropped empty).
pub(super) unsafe fn written<T>(len: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    fill(&mut v.spare_capacity_mut()[..len]);
    // SAFETY: the caller's `fill` wrote all `len` elements (this function's contract), and
    // `with_capacity(len)` made room for them.
    unsafe { v.set_len(len) };
    v
}

/// `out[i] = f(a[i], b[i])` for two slices of one length.
pub fn map2<T: Copy + Send + Sync>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    assert_eq!(a.len(), b.len(), "map2: the slices differ in length");
    let run = |out: &mut [MaybeUninit<T>], a: &[T], b: &[T]| {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            o.write(f(x, y));
        }
    };
    // SAFETY: `written`'s `fill` must write all of `out`: the chunks of `out` cover it, and
    // `run` writes every element of each, since a chunk of `a` and of `b` has the chunk's
    // length (a and b have out's length: asserted above).
    unsafe {
        written(a.len(), |out| {
            if a.len() <= CHUNK {
                run(out, a, b);
            } else {
                out.par_chunks_mut(CHUNK)
                    .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                    .for_each(|(o, (a, b))| run(o, a, b));
            }
        })
    }
}

/// `out[i] = f(a[i])`.
pub fn map1<T: Copy + Send + Sync>(a: &[T], f: impl Fn(T) -> T + Sync) -> Vec<T> {
    let run = |out: &mut [MaybeUninit<T>], a: &[T]| {
        for (o, &x) in out.iter_mut().zip(a) {
            o.write(f(x));
        }
    };
    // SAFETY: as in `map2`, every chunk of `out` is written whole (`out` has a's length).
    unsafe {
        written(a.len(), |out| {
            if a.len() <= CHUNK {
                run(out, a);
            } else {
                out.par_chunks_mut(CHUNK)
                    .zip(a.par_chunks(CHUNK))
                    .for_each(|(o, a)| run(o, a));
            }
        })
    }
}

/// `acc[i] = f(acc[i], b[i])` in place.
pub fn update2<T: Copy + Send + Sync>(acc: &mut [T], b: &[T], f: impl Fn(T, T) -> T + Sync) {
    assert_eq!(acc.len(), b.len(), "update2: the slices differ in length");
    let run = |acc: &mut [T], b: &[T]| {
        for (a, &y) in acc.iter_mut().zip(b) {
            *a = f(*a, y);
        }
    };
    if acc.len() <= CHUNK {
        run(acc, b);
    } else {
        acc.par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .for_each(|(a, b)| run(a, b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_output_is_its_inputs_function_on_either_side_of_the_chunk_size() {
        for len in [0, 1, 7, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            let a: Vec<f32> = (0..len).map(|i| i as f32 - 100.0).collect();
            let b: Vec<f32> = (0..len).map(|i| (i % 13) as f32).collect();
            let sum = map2(&a, &b, |x, y| x + y);
            assert!(sum.iter().zip(&a).zip(&b).all(|((s, x), y)| *s == x + y));
            let relu = map1(&a, |x| if x > 0.0 { x } else { 0.0 });
            assert!(relu.iter().zip(&a).all(|(r, &x)| *r == x.max(0.0)));
            let mut acc = a.clone();
            update2(&mut acc, &b, |x, y| x * y);
            assert!(acc.iter().zip(&a).zip(&b).all(|((s, x), y)| *s == x * y));
        }
    }
}
