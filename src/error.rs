//! Errors a learner can act on: each names the op, the shapes and the rule that was broken.

use std::panic::Location;

use thiserror::Error;

/// Everything that can go wrong in resgrad, as a value.
///
/// The panicking methods (`a.add(&b)`, `&a + &b`, ...) panic with exactly this text; the
/// `try_` methods return it, so a notebook can show it without losing its variables.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// Operands whose shapes break an op's rule.
    #[error("{op}: {rule}; got {shapes} (called at {location})")]
    Shape {
        /// The op that refused its operands, e.g. `"matmul"`.
        op: String,
        /// The operand shapes, formatted as `[2, 3] and [4, 5]`.
        shapes: String,
        /// The rule that was broken, in words.
        rule: String,
        /// Where the op was called from.
        location: String,
    },
    /// An argument other than a shape is out of its range (an axis, a label, a slice bound).
    #[error("{op}: {message} (called at {location})")]
    Argument {
        /// The op.
        op: String,
        /// What is wrong and what is allowed.
        message: String,
        /// Where the op was called from.
        location: String,
    },
    /// A problem with the call to `backward` itself.
    #[error("backward: {0}")]
    Backward(String),
    /// Anomaly mode found a NaN or an infinity.
    #[error(
        "anomaly: the {phase} of op `{op}` (node #{node}, created at {location}) produced {what}"
    )]
    Anomaly {
        /// `"forward"` or `"backward"`.
        phase: &'static str,
        /// The op's name.
        op: String,
        /// The node's id on its tape.
        node: usize,
        /// Where the op was called from.
        location: String,
        /// e.g. `"NaN at index [0, 2]"`.
        what: String,
    },
    /// Training stopped because the loss was no longer a finite number.
    #[error(
        "{run}: training diverged at step {step}: {what} (last finite loss: {last_finite}). {hint}"
    )]
    Diverged {
        /// The run's label (`TrainConfig::label`).
        run: String,
        /// The step whose loss was not finite, counted from 1 as the progress line counts.
        step: usize,
        /// What was not finite: `the loss became NaN`, or a gradient (anomaly mode).
        what: String,
        /// The last finite loss and its step, or why there is none.
        last_finite: String,
        /// What to try, and in anomaly mode the first op that produced a NaN or an infinity.
        hint: String,
    },
    /// A data file could not be read: missing, truncated, a wrong magic number, counts
    /// that do not match.
    #[error("data {path}: {problem}")]
    Data {
        /// The file (or folder).
        path: String,
        /// What is wrong, and what to do about it.
        problem: String,
    },
    /// A checkpoint could not be written or read: an I/O error, a corrupt or truncated
    /// file, a missing or unexpected key, a wrong shape or dtype.
    #[error("checkpoint {path}: {problem}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong, naming the key where there is one.
        problem: String,
    },
}

impl Error {
    /// A data-file problem, naming the file.
    pub(crate) fn data(path: &std::path::Path, problem: impl Into<String>) -> Self {
        Error::Data {
            path: path.display().to_string(),
            problem: problem.into(),
        }
    }

    /// A checkpoint problem, naming the file.
    pub(crate) fn checkpoint(path: &std::path::Path, problem: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.display().to_string(),
            problem: problem.into(),
        }
    }
}

/// Shorthand for `std::result::Result<T, resgrad::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// Formats a list of shapes as `[2, 3] and [4]`.
pub(crate) fn fmt_shapes(shapes: &[&[usize]]) -> String {
    let parts: Vec<String> = shapes.iter().map(|s| format!("{s:?}")).collect();
    match parts.len() {
        0 => String::from("no operands"),
        1 => parts[0].clone(),
        2 => format!("{} and {}", parts[0], parts[1]),
        _ => parts.join(", "),
    }
}

impl Error {
    pub(crate) fn shape(
        op: &str,
        shapes: &[&[usize]],
        rule: impl Into<String>,
        location: &Location<'_>,
    ) -> Self {
        Error::Shape {
            op: op.to_string(),
            shapes: fmt_shapes(shapes),
            rule: rule.into(),
            location: location.to_string(),
        }
    }

    pub(crate) fn argument(op: &str, message: impl Into<String>, location: &Location<'_>) -> Self {
        Error::Argument {
            op: op.to_string(),
            message: message.into(),
            location: location.to_string(),
        }
    }
}

/// The value, or a panic whose message is the error's and whose location is the caller's
/// (every function on the way here is `#[track_caller]`).
#[track_caller]
pub(crate) fn or_panic<V>(r: Result<V>) -> V {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
