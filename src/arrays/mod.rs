//! Plain array helpers that the ops' forward and their backward rules share: NumPy
//! broadcasting and its reduction, matrix products, sums over axes, stable softmax, layout.
//!
//! Nothing here knows about the tape: these are functions from `ndarray` arrays to arrays,
//! so a notebook can call them on their own (`reduce_to_shape` is the backward of
//! broadcasting, written out). [`randn`] makes a seeded random tensor.

mod broadcast;
mod layout;
mod linalg;
mod random;
mod reduce;
mod softmax;

pub use broadcast::{broadcast_shape, reduce_to_shape};
pub use layout::{non_finite, slice, standard};
pub use linalg::matmul_values;
pub use random::{randn, uniform};
pub use reduce::{keepdim_shape, sum_over};
pub use softmax::{shifted_and_logsumexp, softmax_values};
