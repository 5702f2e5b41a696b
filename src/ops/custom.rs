//! Ops defined outside the crate: the way a learner adds an op and its backward rule.

use std::panic::Location;
use std::rc::Rc;

use ndarray::ArrayD;

use super::Op;
use crate::error::Result;
use crate::{Float, Tape, Var};

/// An op with a hand-written forward and backward, usable on the tape like a built-in.
///
/// ```
/// use resgrad::{CustomOp, Tape, gradcheck, ndarray::{ArrayD, array}};
///
/// /// y = x^3, dy/dx = 3x^2
/// struct Cube;
/// impl CustomOp<f64> for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> { x[0].mapv(|v| v * v * v) }
///     fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
///         vec![g * &x[0].mapv(|v| 3.0 * v * v)]
///     }
/// }
///
/// let report = gradcheck(|v| v[0].apply(Cube, &[]), &[array![0.5, -1.2].into_dyn()]);
/// assert!(report.passed(), "{report}");
/// ```
pub trait CustomOp<T: Float> {
    /// A short name for the tape's display, graphs and error messages.
    fn name(&self) -> &str;
    /// The output, from the inputs.
    fn forward(&self, inputs: &[&ArrayD<T>]) -> ArrayD<T>;
    /// One gradient per input, each of that input's shape, given the inputs, the output
    /// and the gradient of the output `grad`.
    fn backward(
        &self,
        inputs: &[&ArrayD<T>],
        output: &ArrayD<T>,
        grad: &ArrayD<T>,
    ) -> Vec<ArrayD<T>>;
}

impl<T: Float> Tape<T> {
    /// Records `op` applied to `inputs`.
    #[track_caller]
    pub fn apply<C: CustomOp<T> + 'static>(&self, op: C, inputs: &[&Var<T>]) -> Result<Var<T>> {
        let loc = Location::caller();
        self.check_same(op.name(), inputs, loc)?;
        let values: Vec<&ArrayD<T>> = inputs.iter().map(|v| v.value()).collect();
        let out = op.forward(&values);
        Ok(self.record(Op::Custom(Rc::new(op)), inputs, out, loc))
    }
}

impl<T: Float> Var<T> {
    /// Applies a [`CustomOp`] with `self` as its first input and `others` after it.
    #[track_caller]
    pub fn apply<C: CustomOp<T> + 'static>(&self, op: C, others: &[&Var<T>]) -> Var<T> {
        crate::error::or_panic(self.try_apply(op, others))
    }

    /// [`apply`](Var::apply), returning an error for operands on different tapes.
    #[track_caller]
    pub fn try_apply<C: CustomOp<T> + 'static>(&self, op: C, others: &[&Var<T>]) -> Result<Var<T>> {
        let mut all = vec![self];
        all.extend_from_slice(others);
        self.tape.apply(op, &all)
    }
}

pub(crate) fn custom_backward<T: Float>(
    op: &dyn CustomOp<T>,
    x: &[&ArrayD<T>],
    y: &ArrayD<T>,
    g: &ArrayD<T>,
) -> std::result::Result<Vec<Option<ArrayD<T>>>, String> {
    let gs = op.backward(x, y, g);
    if gs.len() != x.len() {
        return Err(format!(
            "its backward returned {} gradients for {} inputs; return one per input",
            gs.len(),
            x.len()
        ));
    }
    Ok(gs.into_iter().map(Some).collect())
}
