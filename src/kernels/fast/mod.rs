//! Fast kernels, `f32` only: blocked, vectorised, parallel. Each names its reference.

mod conv;
pub mod gemm;

pub use conv::{conv2d_backward_input, conv2d_backward_weight, conv2d_forward, im2col};
