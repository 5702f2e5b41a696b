//! The backward pass and the container it returns.

use std::collections::HashMap;
use std::fmt;
use std::ops::Index;

use ndarray::ArrayD;

use super::{NodeId, Param, Tape, Var};
use crate::error::{Error, Result};
use crate::float::Float;

/// The gradients of one backward pass, keyed by [`Var`] or [`Param`]: `grads[&x]`.
///
/// Each call to `backward` makes a fresh `Grads`, so calling it twice gives the same
/// answer (no silent accumulation across calls, the classic micrograd bug).
pub struct Grads<T: Float = f32> {
    tape_uid: u64,
    grads: Vec<Option<ArrayD<T>>>,
    params: HashMap<u64, NodeId>,
}

/// Something whose gradient can be looked up in [`Grads`]: a [`Var`] or a [`Param`].
pub trait GradKey<T: Float> {
    /// The node that holds this key's gradient, or why there is none.
    fn node_in(&self, grads: &Grads<T>) -> std::result::Result<NodeId, String>;
}

impl<T: Float> GradKey<T> for Var<T> {
    fn node_in(&self, grads: &Grads<T>) -> std::result::Result<NodeId, String> {
        if self.tape.uid() != grads.tape_uid {
            return Err("this Var lives on a different tape than the one backward ran on".into());
        }
        self.node
            .ok_or_else(|| "this Var was made while the tape was not recording (no_grad)".into())
    }
}

impl<T: Float> GradKey<T> for Param<T> {
    fn node_in(&self, grads: &Grads<T>) -> std::result::Result<NodeId, String> {
        grads.params.get(&self.id()).copied().ok_or_else(|| {
            format!(
                "param `{}` was not brought onto this tape (use tape.param(&p) in the forward pass)",
                self.name()
            )
        })
    }
}

impl<T: Float> Grads<T> {
    /// The gradient for `key`, or `None` if it has none (not on this tape, or the loss
    /// does not depend on it).
    pub fn get<K: GradKey<T>>(&self, key: &K) -> Option<&ArrayD<T>> {
        let id = key.node_in(self).ok()?;
        self.grads.get(id).and_then(Option::as_ref)
    }

    /// Like [`get`](Grads::get), but the reason when there is no gradient.
    pub fn try_get<K: GradKey<T>>(&self, key: &K) -> std::result::Result<&ArrayD<T>, String> {
        let id = key.node_in(self)?;
        self.grads.get(id).and_then(Option::as_ref).ok_or_else(|| {
            format!(
                "node #{id} has no gradient: the value backward started from does not depend \
                 on it (or it was recorded after that value, or it is a constant)"
            )
        })
    }

    /// The gradient of the node with id `id`, if it has one.
    pub fn by_id(&self, id: NodeId) -> Option<&ArrayD<T>> {
        self.grads.get(id).and_then(Option::as_ref)
    }

    /// How many nodes received a gradient.
    pub fn len(&self) -> usize {
        self.grads.iter().filter(|g| g.is_some()).count()
    }

    /// Whether no node received a gradient.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Float, K: GradKey<T>> Index<&K> for Grads<T> {
    type Output = ArrayD<T>;

    /// `grads[&x]`; panics with the reason if `x` has no gradient.
    #[track_caller]
    fn index(&self, key: &K) -> &ArrayD<T> {
        match self.try_get(key) {
            Ok(g) => g,
            Err(why) => panic!("grads[..]: {why}"),
        }
    }
}

impl<T: Float> fmt::Debug for Grads<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grads({} nodes with a gradient)", self.len())
    }
}

/// Which gradients a backward pass keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every node's gradient, so that `grads[&v]` works for any `Var` (the default).
    All,
    /// Only the leaves' (inputs and parameters): intermediate gradients are freed as soon
    /// as they have been passed back, which is what a training step needs and roughly
    /// halves its peak memory.
    Leaves,
}

/// Reverse-mode accumulation from node `root`, seeded with `seed` (= dE/d root).
///
/// Recording order is topological, so one reverse sweep over the ids sees every node
/// after all the nodes that use it: when we reach node `i`, its gradient is complete.
pub(crate) fn run_backward<T: Float>(
    tape: &Tape<T>,
    root: NodeId,
    seed: ArrayD<T>,
    keep: Keep,
) -> Result<Grads<T>> {
    let st = tape.state.borrow();
    if let Some(err) = st.first_anomaly.clone() {
        return Err(err);
    }
    let mut grads: Vec<Option<ArrayD<T>>> = Vec::new();
    grads.resize_with(root + 1, || None);
    grads[root] = Some(seed);

    // When the tape times its ops: (op name, seconds) of each backward rule that ran.
    let mut timed: Option<Vec<(String, f64)>> = st.timer.as_ref().map(|_| Vec::new());
    for i in (0..=root).rev() {
        let node = &st.nodes[i];
        let parents = node.parents.as_slice();
        if parents.is_empty() || !node.requires_grad {
            continue;
        }
        // Every parent id is below i, so the parents' slots sit in `lower`.
        let (lower, upper) = grads.split_at_mut(i);
        let Some(g) = upper[0].as_ref() else { continue };

        let watch = crate::clock::Stopwatch::start();
        let inputs: Vec<&ArrayD<T>> = parents.iter().map(|&p| &*st.nodes[p].value).collect();
        let needs: Vec<bool> = parents.iter().map(|&p| st.nodes[p].requires_grad).collect();
        let parent_grads = crate::backward::backward(&node.op, &inputs, &node.value, g, &needs)
            .map_err(|why| {
                Error::Backward(format!(
                    "op `{}` (node #{i}, created at {}): {why}",
                    node.op.name(),
                    node.location
                ))
            })?;

        for ((&p, pg), &need) in parents.iter().zip(parent_grads).zip(&needs) {
            let Some(pg) = pg else { continue };
            if !need {
                continue;
            }
            if pg.shape() != st.nodes[p].value.shape() {
                return Err(Error::Backward(format!(
                    "op `{}` (node #{i}, created at {}) returned a gradient of shape {:?} for \
                     its input #{p} of shape {:?}; a gradient must have its input's shape",
                    node.op.name(),
                    node.location,
                    pg.shape(),
                    st.nodes[p].value.shape()
                )));
            }
            if st.anomaly {
                super::anomaly::check_gradient(node, i, p, &pg)?;
            }
            match &mut lower[p] {
                // A value used twice: the gradients of both uses add up.
                Some(acc) => match (acc.as_slice_mut(), pg.as_slice()) {
                    (Some(a), Some(b)) if a.len() == b.len() => {
                        crate::kernels::fast::elementwise::update2(a, b, |x, y| x + y)
                    }
                    _ => *acc += &pg,
                },
                slot @ None => *slot = Some(pg),
            }
        }
        if let Some(timed) = timed.as_mut() {
            timed.push((node.op.name().to_string(), watch.seconds()));
        }
        // Node i's gradient is complete and passed on; keep it only if asked to.
        if keep == Keep::Leaves {
            grads[i] = None;
        }
    }
    let out = Grads {
        tape_uid: st.uid,
        grads,
        params: st.params.clone(),
    };
    drop(st);
    if let Some(timed) = timed {
        let mut st = tape.state.borrow_mut();
        if let Some(timer) = st.timer.as_mut() {
            for (op, secs) in timed {
                timer.times.add_backward(&op, secs);
            }
        }
    }
    Ok(out)
}
