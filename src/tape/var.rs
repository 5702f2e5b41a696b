//! `Var`: a handle to one value on a tape.

use std::fmt;
use std::rc::Rc;

use ndarray::ArrayD;

use super::{NodeId, Tape};
use crate::Float;
use crate::error::{Error, Result};

/// A value recorded on a [`Tape`]: a cheap handle (an `Rc` to the value and a node id).
///
/// It has no lifetime, so it can be kept between notebook cells. Ops are methods
/// (`a.matmul(&b)`, `x.relu()`) and operators (`&a + &b`, `&a * 2.0`, `-&a`).
pub struct Var<T: Float = f32> {
    pub(crate) value: Rc<ArrayD<T>>,
    pub(crate) node: Option<NodeId>,
    pub(crate) tape: Tape<T>,
}

impl<T: Float> Clone for Var<T> {
    fn clone(&self) -> Self {
        Var {
            value: Rc::clone(&self.value),
            node: self.node,
            tape: self.tape.clone(),
        }
    }
}

impl<T: Float> Var<T> {
    pub(crate) fn new(value: Rc<ArrayD<T>>, node: Option<NodeId>, tape: Tape<T>) -> Self {
        Var { value, node, tape }
    }

    /// The value.
    pub fn value(&self) -> &ArrayD<T> {
        &self.value
    }

    /// The shape of the value.
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.value.ndim()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the value has no elements.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The single element of a one-element value (a loss, say).
    ///
    /// Panics, naming the shape, if there is not exactly one element.
    #[track_caller]
    pub fn item(&self) -> T {
        match self.value.iter().next() {
            Some(&x) if self.value.len() == 1 => x,
            _ => panic!(
                "item: needs a value with exactly one element, got shape {:?}",
                self.shape()
            ),
        }
    }

    /// The same value, cut off from the graph: ops on it record it as a constant, so no
    /// gradient flows back through it (PyTorch's `x.detach()`). The value is shared, not
    /// copied.
    ///
    /// A residual block whose shortcut is `x.detach()` computes the same function as one
    /// whose shortcut is `x`, but its backward pass has no identity term: the gradient that
    /// reaches `x` is the branch's alone.
    pub fn detach(&self) -> Var<T> {
        Var::new(Rc::clone(&self.value), None, self.tape.clone())
    }

    /// The node id on the tape, or `None` if it was made while not recording.
    pub fn id(&self) -> Option<NodeId> {
        self.node
    }

    /// The tape this value lives on.
    pub fn tape(&self) -> &Tape<T> {
        &self.tape
    }

    /// Whether a gradient can flow to this value from a later op.
    pub fn requires_grad(&self) -> bool {
        self.node
            .is_some_and(|id| self.tape.state.borrow().nodes[id].requires_grad)
    }

    /// Reverse-mode differentiation from this scalar: returns the gradient of this value
    /// with respect to every node on the tape, in a fresh [`Grads`](crate::Grads).
    ///
    /// Panics with [`try_backward`](Var::try_backward)'s error message.
    #[track_caller]
    pub fn backward(&self) -> super::Grads<T> {
        crate::error::or_panic(self.try_backward())
    }

    /// [`backward`](Var::backward), returning the error instead of panicking: the value is
    /// not a scalar, was not recorded, or anomaly mode found a NaN.
    pub fn try_backward(&self) -> Result<super::Grads<T>> {
        if self.value.len() != 1 {
            return Err(Error::Backward(format!(
                "needs a scalar (one element) to start from, got shape {:?}; reduce it first, \
                 e.g. with .sum() or .mean(), or give the upstream gradient with backward_with",
                self.shape()
            )));
        }
        self.try_backward_with(ArrayD::from_elem(self.value.raw_dim(), T::one()))
    }

    /// Backward from a non-scalar value, seeded with the upstream gradient `seed`
    /// (PyTorch's `y.backward(gradient)`): the result is the gradient of `sum(seed * self)`.
    #[track_caller]
    pub fn backward_with(&self, seed: ArrayD<T>) -> super::Grads<T> {
        crate::error::or_panic(self.try_backward_with(seed))
    }

    /// [`backward_with`](Var::backward_with), returning errors.
    pub fn try_backward_with(&self, seed: ArrayD<T>) -> Result<super::Grads<T>> {
        if seed.shape() != self.shape() {
            return Err(Error::Backward(format!(
                "the seed gradient has shape {:?}, but the value has shape {:?}; they must be equal",
                seed.shape(),
                self.shape()
            )));
        }
        let Some(id) = self.node else {
            return Err(Error::Backward(
                "this value was made while the tape was not recording (no_grad), so there is \
                 no graph to go back through"
                    .into(),
            ));
        };
        super::grads::run_backward(&self.tape, id, seed, super::Keep::All)
    }

    /// Backward from this scalar keeping only the leaves' gradients (inputs and params):
    /// what a training step needs, with intermediate gradients freed as it goes.
    #[track_caller]
    pub fn backward_leaves(&self) -> super::Grads<T> {
        crate::error::or_panic(self.try_backward_keeping(super::Keep::Leaves))
    }

    /// Backward from this scalar, keeping the gradients `keep` says.
    pub fn try_backward_keeping(&self, keep: super::Keep) -> Result<super::Grads<T>> {
        if self.value.len() != 1 {
            return self.try_backward();
        }
        let Some(id) = self.node else {
            return self.try_backward();
        };
        super::grads::run_backward(
            &self.tape,
            id,
            ArrayD::from_elem(self.value.raw_dim(), T::one()),
            keep,
        )
    }
}

impl<T: Float> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.node {
            Some(id) => format!("#{id} {}", self.tape.state.borrow().nodes[id].op.label()),
            None => "not recorded".to_string(),
        };
        write!(
            f,
            "Var({op}, shape {:?}, value {:?})",
            self.shape(),
            self.value
        )
    }
}

impl<T: Float> fmt::Display for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.value, f)
    }
}
