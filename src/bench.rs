//! Measurements printed by `resgrad bench ...`. Speed is measured here, never asserted in
//! tests: the machine is shared, so only ratios taken in one run mean much.

use std::hint::black_box;
use std::time::Instant;

use ndarray::{ArrayD, IxDyn};

use crate::Tape;

/// The chain every tape measurement runs: `y <- ((y * w).tanh() + x) * 0.5`, four
/// scalar-sized ops per link, so `links` links record `4 * links` nodes.
pub fn scalar_chain(tape: &Tape<f32>, links: usize) -> (crate::Var<f32>, crate::Var<f32>) {
    let x = tape.scalar(0.3);
    let w = tape.scalar(0.9);
    let mut y = x.clone();
    for _ in 0..links {
        y = ((&y * &w).tanh() + &x).scale(0.5);
    }
    (y, w)
}

/// The same chain on bare 0-d ndarrays: the cost of the arithmetic with no tape at all.
fn bare_chain(links: usize) -> f32 {
    let x = ArrayD::from_elem(IxDyn(&[]), 0.3f32);
    let w = ArrayD::from_elem(IxDyn(&[]), 0.9f32);
    let mut y = x.clone();
    for _ in 0..links {
        y = ((&y * &w).mapv(f32::tanh) + &x) * 0.5;
    }
    y[IxDyn(&[])]
}

/// Nanoseconds per op for one run of each phase.
#[derive(Debug, Clone, Copy)]
pub struct TapeCost {
    /// Bare ndarray arithmetic, no tape.
    pub bare: f64,
    /// Forward on a tape that is not recording (`no_grad`).
    pub no_grad: f64,
    /// Forward, recording.
    pub forward: f64,
    /// Backward over the recorded chain.
    pub backward: f64,
}

/// Times the chain of `ops` scalar-sized ops once in each mode.
pub fn tape_cost(ops: usize) -> TapeCost {
    let links = ops / 4;
    let n = (4 * links) as f64;
    let t = Instant::now();
    black_box(bare_chain(links));
    let bare = t.elapsed().as_nanos() as f64 / n;

    let tape = Tape::new();
    let t = Instant::now();
    tape.no_grad(|| black_box(scalar_chain(&tape, links)));
    let no_grad = t.elapsed().as_nanos() as f64 / n;

    let tape = Tape::new();
    let t = Instant::now();
    let (y, w) = scalar_chain(&tape, links);
    let forward = t.elapsed().as_nanos() as f64 / n;
    let t = Instant::now();
    let grads = y.backward();
    black_box(grads.get(&w));
    let backward = t.elapsed().as_nanos() as f64 / n;
    TapeCost {
        bare,
        no_grad,
        forward,
        backward,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `resgrad bench tape`: the tape's cost per op over `ops` scalar-sized ops, median of
/// `repeats` runs, printed as a table.
pub fn print_tape_cost(ops: usize, repeats: usize) {
    println!(
        "tape cost: a chain of {ops} scalar-sized ops (mul, tanh, add, mul_scalar), f32, median of {repeats} runs"
    );
    tape_cost(ops.min(100_000)); // warm up the allocator and caches
    let runs: Vec<TapeCost> = (0..repeats.max(1)).map(|_| tape_cost(ops)).collect();
    let pick = |f: fn(&TapeCost) -> f64| median(runs.iter().map(f).collect());
    let (bare, no_grad, fwd, bwd) = (
        pick(|c| c.bare),
        pick(|c| c.no_grad),
        pick(|c| c.forward),
        pick(|c| c.backward),
    );
    println!("{:<34} {:>10}", "phase", "ns/op");
    println!("{:<34} {:>10.1}", "bare ndarray, no tape", bare);
    println!(
        "{:<34} {:>10.1}",
        "forward, no_grad (not recording)", no_grad
    );
    println!("{:<34} {:>10.1}", "forward, recording", fwd);
    println!("{:<34} {:>10.1}", "backward", bwd);
    println!("{:<34} {:>10.1}", "forward + backward", fwd + bwd);
}
