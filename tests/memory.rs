//! Parameters outlive the tape; graphs do not. A training loop that records a fresh tape
//! each step must hold the same memory at step 1,000 as at step 10.
//!
//! Memory is measured exactly, by a counting global allocator (this file is its own test
//! binary, with one test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use resgrad::ndarray::{Array1, Array2};
use resgrad::{Param, Tape};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counters only update atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
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

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

struct Mlp {
    w1: Param,
    b1: Param,
    w2: Param,
}

impl Mlp {
    fn new() -> Self {
        let w = |r: usize, c: usize, s: f32| {
            Array2::from_shape_fn((r, c), |(i, j)| ((i * c + j) as f32 * s).sin() * 0.1)
        };
        Mlp {
            w1: Param::new("w1", w(16, 64, 0.37)),
            b1: Param::new("b1", Array1::<f32>::zeros(64)),
            w2: Param::new("w2", w(64, 4, 0.11)),
        }
    }

    /// One step: record a fresh tape, backward, SGD update. Returns the tape if asked to
    /// keep it (the leaky variant used as a negative control).
    fn step(&self, x: &Array2<f32>, labels: &[usize], keep: bool) -> Option<Tape> {
        let tape = Tape::new();
        let (w1, b1, w2) = (
            tape.param(&self.w1),
            tape.param(&self.b1),
            tape.param(&self.w2),
        );
        let x = tape.constant(x.clone());
        let loss = (x.matmul(&w1) + &b1)
            .relu()
            .matmul(&w2)
            .cross_entropy(labels);
        let grads = loss.backward();
        let updates: Vec<_> = [&self.w1, &self.b1, &self.w2]
            .iter()
            .map(|p| grads[*p].clone())
            .collect();
        drop(grads);
        drop(loss);
        let kept = keep.then(|| tape.clone());
        drop(tape);
        for (p, g) in [&self.w1, &self.b1, &self.w2].iter().zip(updates) {
            p.update(|w| w.scaled_add(-0.01, &g));
        }
        kept
    }
}

#[test]
fn a_thousand_recorded_and_dropped_steps_keep_memory_flat() {
    let model = Mlp::new();
    let x = Array2::from_shape_fn((32, 16), |(i, j)| ((i * 16 + j) as f32).cos());
    let labels: Vec<usize> = (0..32).map(|i| i % 4).collect();

    let mut at_step_10 = 0;
    for step in 1..=1000 {
        model.step(&x, &labels, false);
        if step == 10 {
            at_step_10 = live();
        }
    }
    let growth = live() - at_step_10;
    assert!(
        growth.abs() <= 1024,
        "memory grew by {growth} bytes over 990 steps"
    );

    // Negative control: keeping each step's tape alive must show up as growth, so the
    // measurement above can see a leak. One step's graph is tens of kilobytes.
    let before = live();
    let kept: Vec<Tape> = (0..20)
        .filter_map(|_| model.step(&x, &labels, true))
        .collect();
    let leaked = live() - before;
    assert!(
        leaked > 20 * 10_000,
        "keeping 20 tapes only grew memory by {leaked} bytes"
    );
    drop(kept);
    assert!(
        (live() - before).abs() <= 1024,
        "dropping the kept tapes freed their memory"
    );
}
