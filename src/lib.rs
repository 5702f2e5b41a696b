//! # resgrad
//!
//! Reverse-mode automatic differentiation and residual learning, built from scratch to
//! be read. A [`Tape`] records every op on [`Var`]s; [`Var::backward`] walks it in reverse
//! and returns [`Grads`]. Every backward rule is in one table, [`mod@backward`];
//! [`gradcheck()`] tests any of them, or your own, against finite differences.
//!
//! The modules stand in layers, each importing only what stands below it (the floor plan
//! is `docs/architecture.md`, and `tests/layers.rs` enforces it): [`arrays`] and
//! [`kernels`] at the bottom; then the engine core, [`op`], [`mod@backward`], the tape and
//! [`ops`]; then [`nn`] and [`models`]; then [`train`] and [`flow`], which return numbers;
//! and [`viz`], which draws them.
//!
//! ```
//! use resgrad::{Tape, ndarray::array};
//!
//! let tape = Tape::new();
//! let x = tape.var(array![[1.0, -2.0], [3.0, 0.5]]);
//! let w = tape.var(array![[0.5], [-1.0]]);
//! let y = x.matmul(&w).relu().sum();      // y = sum(relu(x w))
//! let grads = y.backward();
//! println!("{tape}");                      // the tape, one line per node
//! assert_eq!(grads[&w].shape(), &[2, 1]);  // dy/dw has w's shape
//! ```
//!
//! ## In a browser
//!
//! The library also builds for WebAssembly in a browser
//! (`cargo build --release --lib --target wasm32-unknown-unknown`; `scripts/check` builds
//! it), and the engine and the trainer run there: the playground (`playground/`) is that
//! build. The binary, the tests, the benchmarks and the figures ([`viz`], plotters) are
//! native only. What a browser lacks, the library does without:
//! - **threads:** rayon cannot start one there, and runs every parallel loop on the
//!   calling thread. Each reduction adds in fixed chunks, so the numbers do not depend on
//!   the thread count (`tests/threads.rs`).
//! - **a clock:** a run's [`train::History::seconds`] and
//!   [`train::History::images_per_second`] are 0 there; losses, errors and weights never
//!   depend on time.
//! - **random bytes from the system:** resgrad seeds every generator itself, and links
//!   rand without the system source (getrandom).
//! - **JavaScript:** the module imports nothing, so a page loads it with no generated glue;
//!   the progress bar (indicatif) and the figures (plotters), which would import
//!   JavaScript functions, are left out, and the trainer's progress lines go nowhere.
//! - **files:** loading and saving return an error.

#![warn(missing_docs)]

mod alloc;
pub mod arrays;
pub mod backward;
mod clock;
pub mod data;
mod error;
pub mod exercises;
mod float;
pub mod flow;
pub mod gradcheck;
mod io;
pub mod kernels;
pub mod models;
pub mod nn;
pub mod op;
pub mod ops;
pub mod playground;
pub mod stats;
mod tape;
pub mod tensors;
pub mod train;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub mod viz;

pub use arrays::randn;
pub use error::{Error, Result};
pub use float::Float;
pub use gradcheck::{
    GradcheckConfig, GradcheckReport, gradcheck, gradcheck_params, gradcheck_with,
};
pub use io::check_writable_folder;
pub use op::{CustomOp, Op};
pub use ops::{RunningStats, concat, stack, try_concat, try_stack};
pub use tape::{GradKey, Grads, Keep, NodeId, NodeView, OpTime, OpTimes, Param, Tape, Var};
pub use tensors::{load_tensors, save_tensors};

/// Re-exported so that a notebook needs only `:dep resgrad`.
pub use ndarray;
/// Re-exported so that a notebook needs only `:dep resgrad`.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use plotters;

/// The README's examples, compiled and run as doctests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
