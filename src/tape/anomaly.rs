//! Anomaly mode, as `torch.autograd.detect_anomaly`: the first NaN or infinity in a forward
//! value or a backward gradient, named with its op and the source line that created it.

use std::panic::Location;

use ndarray::ArrayD;

use super::{Node, NodeId, Tape, TapeState};
use crate::arrays::non_finite;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::op::Op;

impl<T: Float> Tape<T> {
    /// Anomaly mode, as `torch.autograd.detect_anomaly`: every forward value and every
    /// backward gradient is checked, and the first NaN or infinity is reported with the
    /// op's name and the source line that created it.
    pub fn set_anomaly_mode(&self, on: bool) {
        self.state.borrow_mut().anomaly = on;
    }

    /// The first NaN or infinity that anomaly mode saw in a forward value, if any.
    pub fn first_anomaly(&self) -> Option<Error> {
        self.state.borrow().first_anomaly.clone()
    }
}

/// In anomaly mode, remembers (and prints) the first forward value that is not finite;
/// backward then refuses to run and returns it.
pub(super) fn check_forward<T: Float>(
    st: &mut TapeState<T>,
    op: &Op<T>,
    value: &ArrayD<T>,
    loc: &Location<'_>,
) {
    if !st.anomaly || st.first_anomaly.is_some() {
        return;
    }
    if let Some(what) = non_finite(value) {
        let err = Error::Anomaly {
            phase: "forward",
            op: op.label(),
            node: st.nodes.len(),
            location: loc.to_string(),
            what,
        };
        eprintln!("resgrad {err}");
        st.first_anomaly = Some(err);
    }
}

/// An error naming node `i`'s op if the gradient it passed to its parent `p` is not finite.
pub(super) fn check_gradient<T: Float>(
    node: &Node<T>,
    i: NodeId,
    p: NodeId,
    grad: &ArrayD<T>,
) -> Result<()> {
    match non_finite(grad) {
        None => Ok(()),
        Some(what) => Err(Error::Anomaly {
            phase: "backward",
            op: node.op.label(),
            node: i,
            location: node.location.to_string(),
            what: format!("{what} in the gradient for its input #{p}"),
        }),
    }
}
