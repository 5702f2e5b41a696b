//! 2-D convolution on the tape (NCHW, as PyTorch).

use std::panic::Location;

use ndarray::{ArrayD, IxDyn};

use crate::arrays::slice;
use crate::error::{Error, Result};
use crate::kernels::{self, Conv2dGeom};
use crate::op::Op;
use crate::{Float, Var};

impl<T: Float> Var<T> {
    /// `conv2d(x, weight) + bias`: input `[N, C_in, H, W]`, weight `[C_out, C_in, kH, kW]`,
    /// bias `[C_out]`, any kernel size, `stride` and zero `padding` (the same on both axes).
    /// The output is `[N, C_out, (H + 2p - kH)/s + 1, (W + 2p - kW)/s + 1]`.
    #[track_caller]
    pub fn try_conv2d(
        &self,
        weight: &Var<T>,
        bias: Option<&Var<T>>,
        stride: usize,
        padding: usize,
    ) -> Result<Var<T>> {
        let loc = Location::caller();
        let mut operands = vec![weight];
        operands.extend(bias);
        self.tape.check_same("conv2d", &operands, loc)?;
        let g = Conv2dGeom::new(self.shape(), weight.shape(), stride, padding)
            .map_err(|rule| Error::shape("conv2d", &[self.shape(), weight.shape()], rule, loc))?;
        if let Some(b) = bias
            && b.shape() != [g.cout]
        {
            return Err(Error::shape(
                "conv2d",
                &[weight.shape(), b.shape()],
                format!(
                    "the bias must have one value per output channel, shape [{}]",
                    g.cout
                ),
                loc,
            ));
        }
        let mut y = ArrayD::zeros(IxDyn(&[g.n, g.cout, g.ho, g.wo]));
        kernels::conv2d_forward(
            slice(&self.value),
            slice(&weight.value),
            bias.map(|b| slice(&b.value)),
            &g,
            y.as_slice_mut().expect("a fresh array is contiguous"),
        );
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let op = Op::Conv2d {
            stride,
            padding,
            has_bias: bias.is_some(),
        };
        Ok(self.tape.record(op, &inputs, y, loc))
    }

    /// `conv2d(x, weight) + bias`; see [`try_conv2d`](Var::try_conv2d).
    ///
    /// Panics with the error message of `try_conv2d`.
    #[track_caller]
    pub fn conv2d(
        &self,
        weight: &Var<T>,
        bias: Option<&Var<T>>,
        stride: usize,
        padding: usize,
    ) -> Var<T> {
        crate::error::or_panic(self.try_conv2d(weight, bias, stride, padding))
    }
}
