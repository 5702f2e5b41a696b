//! Ops defined outside the crate: the way a learner adds an op and its backward rule.

use std::panic::Location;
use std::rc::Rc;

use ndarray::ArrayD;

use crate::error::Result;
use crate::op::CustomOp;
use crate::op::Op;
use crate::{Float, Tape, Var};

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
