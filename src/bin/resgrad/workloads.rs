//! The workloads `resgrad bench` times, shared with `benches/` and the kernel tests
//! (which include this file by path), so that every measurement runs the same work.

use resgrad::{Tape, Var};

/// The chain every tape measurement runs: `y <- ((y * w).tanh() + x) * 0.5`, four
/// scalar-sized ops per link, so `links` links record `4 * links` nodes.
pub fn scalar_chain(tape: &Tape<f32>, links: usize) -> (Var<f32>, Var<f32>) {
    let x = tape.scalar(0.3);
    let w = tape.scalar(0.9);
    let mut y = x.clone();
    for _ in 0..links {
        y = ((&y * &w).tanh() + &x).scale(0.5);
    }
    (y, w)
}

/// The shapes of `resgrad bench conv`: (Cin, Cout, H=W, k), N = 128, stride 1, same padding.
pub const CONV_SHAPES: [(usize, usize, usize, usize); 4] = [
    (16, 16, 32, 3),
    (32, 32, 16, 3),
    (64, 64, 8, 3),
    (256, 64, 8, 1),
];
