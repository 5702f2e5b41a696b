//! Fast kernels, `f32` and `f64`: blocked, vectorised, parallel. Each names its reference.
//!
//! The conv kernels are generic over [`gemm::Element`]: the same im2col and blocking run on
//! the `f32` microkernels (`gemm.rs`) and the `f64` ones (`dgemm.rs`). Batch norm and
//! pooling are `f32` only.

mod conv;
pub mod dgemm;
pub mod elementwise;
pub mod gemm;
#[cfg(target_arch = "aarch64")]
mod neon;
mod norm;
mod pool;

pub use conv::{conv2d_backward_input, conv2d_backward_weight, conv2d_forward, im2col};
pub use norm::{batch_norm_apply, batch_norm_backward, channel_stats};
pub use pool::{avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward};
