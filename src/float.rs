//! The element type of the engine: `f32` by default, `f64` on request.
//!
//! Training runs in `f32`, as PyTorch does by default. Gradient checks run in `f64`,
//! because finite differences in single precision are too noisy to tell a 1% error in a
//! backward rule from rounding.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

/// A floating-point element type the tape can compute in: implemented for `f32` and `f64`.
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`, for messages.
    const NAME: &'static str;
    /// Converts from `f64`, rounding if needed.
    fn cast(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;
    /// The slice as `f32`, if that is what it holds: how ops pick the fast `f32` kernels.
    fn as_f32(s: &[Self]) -> Option<&[f32]>;
    /// The mutable slice as `f32`, if that is what it holds.
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
    /// The slice as `f64`, if that is what it holds: how ops pick the fast `f64` kernels.
    fn as_f64_slice(s: &[Self]) -> Option<&[f64]>;
    /// The mutable slice as `f64`, if that is what it holds.
    fn as_f64_slice_mut(s: &mut [Self]) -> Option<&mut [f64]>;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn as_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
    fn as_f64_slice(_: &[Self]) -> Option<&[f64]> {
        None
    }
    fn as_f64_slice_mut(_: &mut [Self]) -> Option<&mut [f64]> {
        None
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn as_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }
    fn as_f32_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
    fn as_f64_slice(s: &[Self]) -> Option<&[f64]> {
        Some(s)
    }
    fn as_f64_slice_mut(s: &mut [Self]) -> Option<&mut [f64]> {
        Some(s)
    }
}
