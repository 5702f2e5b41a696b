//! Exercises with checkers: the learner writes a piece in a notebook cell, a `check`
//! function says in a sentence what is right or wrong. Checkers never panic, even when the
//! learner's code does: a notebook keeps its variables and goes on.
//!
//! Each exercise ships with a placeholder that runs (and fails the check with a useful
//! message) and a solution in `tests/exercises.rs`, which also shows each checker
//! rejecting a wrong answer.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ndarray::{ArrayD, IxDyn};

use crate::flow::{boundary_gradients, gaussian};
use crate::nn::{
    Bottleneck, Init, MlpNorm, Mode, Module, PreActBlock, ResidualMlpBlock, ShortcutOption,
    StridePlacement, rng,
};
use crate::train::optim::Sgd;
use crate::{CustomOp, Grads, Param, Tape, Var, gradcheck};

/// What a checker found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Which exercise.
    pub exercise: &'static str,
    /// Whether the answer is right.
    pub passed: bool,
    /// One or two sentences: what is right, or what is wrong and where to look.
    pub message: String,
}

impl Verdict {
    fn pass(exercise: &'static str, message: impl Into<String>) -> Self {
        Verdict {
            exercise,
            passed: true,
            message: message.into(),
        }
    }
    fn fail(exercise: &'static str, message: impl Into<String>) -> Self {
        Verdict {
            exercise,
            passed: false,
            message: message.into(),
        }
    }

    /// Shows the verdict in a notebook, green or red.
    pub fn evcxr_display(&self) {
        let color = if self.passed { "#1a7f37" } else { "#b42318" };
        crate::io::evcxr_show_text(&self.to_string(), Some(color));
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            if self.passed { "PASS" } else { "NOT YET" },
            self.exercise,
            self.message
        )
    }
}

/// Runs the learner's code; a panic becomes `Err(message)`, printed nowhere.
fn attempt<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into())
    })
}

fn max_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

mod ch00;
mod ch01;
mod ch02;
mod ch03;
mod ch04;
mod ch05;
mod ch06;
mod ch07;
mod ch08;
mod ch09;
mod ch10;

pub use ch00::*;
pub use ch01::*;
pub use ch02::*;
pub use ch03::*;
pub use ch04::*;
pub use ch05::*;
pub use ch06::*;
pub use ch07::*;
pub use ch08::*;
pub use ch09::*;
pub use ch10::*;

/// Placeholders that run, for the exercises whose answer is a function: the checkers say
/// what is missing.
pub mod placeholders {
    use ndarray::ArrayD;

    use crate::nn::Module;

    /// Exercise 3.1: returns the input shape.
    pub fn conv_shape(x: [usize; 4], _w: [usize; 4], _s: usize, _p: usize) -> [usize; 4] {
        x
    }

    /// Exercise 7.1: no norms yet.
    pub fn gradient_probe(
        _blocks: &[&dyn Module<f64>],
        _x0: &ArrayD<f64>,
        _g: &ArrayD<f64>,
    ) -> Vec<f64> {
        vec![]
    }

    /// Exercise 1.1: only `x * x`.
    pub fn used_three_times(x: &crate::Var<f64>) -> crate::Var<f64> {
        x * x
    }

    /// Exercise 8.1: no mean removed.
    pub fn autocorrelation(g: &[f64], k: usize) -> f64 {
        let num: f64 = g.iter().zip(&g[k..]).map(|(a, b)| a * b).sum();
        num / g.iter().map(|v| v * v).sum::<f64>()
    }

    /// Exercise 6.2: zeroes nothing.
    pub fn zero_init(_block: &crate::nn::BasicBlock<f64>) {}

    /// Exercise 4.1: plain gradient descent, no momentum and no weight decay.
    pub fn sgd_step(
        w: &ArrayD<f64>,
        g: &ArrayD<f64>,
        v: &ArrayD<f64>,
        lr: f64,
        _m: f64,
        _wd: f64,
    ) -> (ArrayD<f64>, ArrayD<f64>) {
        (w - &(g * lr), v.clone())
    }
}
