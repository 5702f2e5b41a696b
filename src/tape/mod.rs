//! The tape: a Wengert list of every op recorded, in the order it ran.
//!
//! Recording order is a topological order (an op can only use values that already
//! exist), so backward is one loop over the list in reverse: no recursion, no sort.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, Dimension};

use crate::arrays::standard;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::op::Op;

mod anomaly;
mod grads;
mod param;
mod timing;
mod var;

pub use grads::{GradKey, Grads, Keep};
pub use param::Param;
pub use timing::{OpTime, OpTimes};
pub use var::Var;

/// The index of a node on its tape.
pub type NodeId = usize;

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_uid() -> u64 {
    NEXT_UID.fetch_add(1, Ordering::Relaxed)
}

/// The parent ids of a node; most ops have one or two, so they are stored inline.
#[derive(Clone, Debug)]
pub(crate) enum Parents {
    Inline { len: u8, ids: [NodeId; 2] },
    Heap(Vec<NodeId>),
}

impl Parents {
    fn new() -> Self {
        Parents::Inline {
            len: 0,
            ids: [0; 2],
        }
    }

    fn push(&mut self, id: NodeId) {
        match self {
            Parents::Inline { len, ids } if (*len as usize) < 2 => {
                ids[*len as usize] = id;
                *len += 1;
            }
            Parents::Inline { ids, .. } => {
                let mut v = ids.to_vec();
                v.push(id);
                *self = Parents::Heap(v);
            }
            Parents::Heap(v) => v.push(id),
        }
    }

    pub(crate) fn as_slice(&self) -> &[NodeId] {
        match self {
            Parents::Inline { len, ids } => &ids[..*len as usize],
            Parents::Heap(v) => v,
        }
    }
}

/// One recorded op: what made it, from which nodes, its value, and where it was called.
pub(crate) struct Node<T: Float> {
    pub(crate) op: Op<T>,
    pub(crate) parents: Parents,
    pub(crate) value: Rc<ArrayD<T>>,
    pub(crate) requires_grad: bool,
    pub(crate) location: &'static Location<'static>,
}

pub(crate) struct TapeState<T: Float> {
    pub(crate) uid: u64,
    pub(crate) nodes: Vec<Node<T>>,
    /// Parameters brought onto this tape: param id -> its leaf node.
    pub(crate) params: HashMap<u64, NodeId>,
    pub(crate) recording: bool,
    pub(crate) anomaly: bool,
    pub(crate) first_anomaly: Option<Error>,
    /// Times each op when [`Tape::time_ops`] has been called.
    pub(crate) timer: Option<timing::Timer>,
}

/// A tape records ops so that [`Var::backward`] can replay them in reverse.
///
/// `Tape` is a cheap handle (`Rc<RefCell<..>>`): clones share one list. It has no lifetime,
/// so it and its [`Var`]s can be kept between notebook cells. A training loop makes a
/// fresh tape each step; dropping it (and the `Var`s on it) frees the whole graph.
///
/// The element type is `f32` by default ([`Tape::new`]); [`Tape::new_f64`] computes in
/// `f64`, which is what [`gradcheck`](crate::gradcheck()) uses.
///
/// ```
/// use resgrad::{Tape, ndarray::array};
/// let tape = Tape::new();
/// let x = tape.var(array![1.0, 2.0, 3.0]);
/// let y = (&x * &x).sum();            // y = sum(x^2)
/// let grads = y.backward();
/// assert_eq!(grads[&x], array![2.0, 4.0, 6.0].into_dyn()); // dy/dx = 2x
/// ```
pub struct Tape<T: Float = f32> {
    pub(crate) state: Rc<RefCell<TapeState<T>>>,
}

impl<T: Float> Clone for Tape<T> {
    fn clone(&self) -> Self {
        Tape {
            state: Rc::clone(&self.state),
        }
    }
}

impl Tape<f32> {
    /// A new, empty, recording tape computing in `f32`.
    pub fn new() -> Self {
        Self::with_precision()
    }
}

impl Default for Tape<f32> {
    fn default() -> Self {
        Self::new()
    }
}

impl Tape<f64> {
    /// A new, empty, recording tape computing in `f64`.
    pub fn new_f64() -> Self {
        Self::with_precision()
    }
}

impl<T: Float> Tape<T> {
    /// A new, empty, recording tape for the element type `T` (`Tape::<f64>::with_precision()`).
    pub fn with_precision() -> Self {
        Tape {
            state: Rc::new(RefCell::new(TapeState {
                uid: next_uid(),
                nodes: Vec::new(),
                params: HashMap::new(),
                recording: true,
                anomaly: false,
                first_anomaly: None,
                timer: None,
            })),
        }
    }

    pub(crate) fn uid(&self) -> u64 {
        self.state.borrow().uid
    }

    pub(crate) fn same_as(&self, other: &Tape<T>) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }

    /// An input that receives a gradient, like a `torch.tensor(..., requires_grad=True)`.
    #[track_caller]
    pub fn var<D: Dimension>(&self, value: ndarray::Array<T, D>) -> Var<T> {
        self.leaf(
            Op::Leaf { name: None },
            value.into_dyn(),
            true,
            Location::caller(),
        )
    }

    /// A scalar input that receives a gradient.
    #[track_caller]
    pub fn scalar(&self, x: T) -> Var<T> {
        self.leaf(
            Op::Leaf { name: None },
            ArrayD::from_elem(ndarray::IxDyn(&[]), x),
            true,
            Location::caller(),
        )
    }

    /// A value that never receives a gradient: data, labels, masks.
    #[track_caller]
    pub fn constant<D: Dimension>(&self, value: ndarray::Array<T, D>) -> Var<T> {
        self.leaf(Op::Constant, value.into_dyn(), false, Location::caller())
    }

    /// Brings a [`Param`] onto this tape as a leaf. Asking twice gives the same node, so
    /// a parameter used twice accumulates one gradient, found with `grads[&param]`.
    #[track_caller]
    pub fn param(&self, p: &Param<T>) -> Var<T> {
        let loc = Location::caller();
        let value = p.value();
        let mut st = self.state.borrow_mut();
        if !st.recording {
            return Var::new(value, None, self.clone());
        }
        if let Some(&id) = st.params.get(&p.id()) {
            let value = Rc::clone(&st.nodes[id].value);
            return Var::new(value, Some(id), self.clone());
        }
        let id = st.nodes.len();
        if let Some(timer) = st.timer.as_mut() {
            timer.recorded("param");
        }
        st.nodes.push(Node {
            op: Op::Leaf {
                name: Some(p.name()),
            },
            parents: Parents::new(),
            value: Rc::clone(&value),
            requires_grad: true,
            location: loc,
        });
        st.params.insert(p.id(), id);
        Var::new(value, Some(id), self.clone())
    }

    fn leaf(
        &self,
        op: Op<T>,
        value: ArrayD<T>,
        requires_grad: bool,
        loc: &'static Location<'static>,
    ) -> Var<T> {
        let value = Rc::new(standard(value));
        let mut st = self.state.borrow_mut();
        if !st.recording {
            return Var::new(value, None, self.clone());
        }
        let id = st.nodes.len();
        if let Some(timer) = st.timer.as_mut() {
            timer.recorded(op.name());
        }
        st.nodes.push(Node {
            op,
            parents: Parents::new(),
            value: Rc::clone(&value),
            requires_grad,
            location: loc,
        });
        Var::new(value, Some(id), self.clone())
    }

    /// Records the result of an op. Every op's forward ends here.
    pub(crate) fn record(
        &self,
        op: Op<T>,
        inputs: &[&Var<T>],
        value: ArrayD<T>,
        loc: &'static Location<'static>,
    ) -> Var<T> {
        let value = Rc::new(standard(value));
        let mut st = self.state.borrow_mut();
        anomaly::check_forward(&mut st, &op, &value, loc);
        if !st.recording {
            return Var::new(value, None, self.clone());
        }
        let mut parents = Parents::new();
        let mut requires_grad = false;
        for v in inputs {
            let id = match v.node {
                Some(id) => id,
                // Made while not recording: it enters the graph as a constant.
                None => {
                    let id = st.nodes.len();
                    st.nodes.push(Node {
                        op: Op::Constant,
                        parents: Parents::new(),
                        value: Rc::clone(&v.value),
                        requires_grad: false,
                        location: loc,
                    });
                    id
                }
            };
            requires_grad |= st.nodes[id].requires_grad;
            parents.push(id);
        }
        let id = st.nodes.len();
        if let Some(timer) = st.timer.as_mut() {
            timer.recorded(op.name());
        }
        st.nodes.push(Node {
            op,
            parents,
            value: Rc::clone(&value),
            requires_grad,
            location: loc,
        });
        Var::new(value, Some(id), self.clone())
    }

    /// Starts timing this tape's ops, like a small `torch.profiler`: from now on each op's
    /// forward (the time from the previous op's record to its own) and each backward rule
    /// run on this tape are added up per op name. [`Tape::op_times`] reads the sums; a
    /// second call starts again from zero.
    ///
    /// ```
    /// use resgrad::{Tape, ndarray::Array};
    /// let tape = Tape::new();
    /// tape.time_ops();
    /// let x = tape.var(Array::linspace(-1.0, 1.0, 1000));
    /// let loss = x.relu().sum();
    /// let _grads = loss.backward();
    /// let times = tape.op_times().unwrap();
    /// assert_eq!(times.get("relu").unwrap().count, 1);
    /// println!("{times}"); // a table, the slowest op first
    /// ```
    pub fn time_ops(&self) {
        self.state.borrow_mut().timer = Some(timing::Timer::new());
    }

    /// The time spent per op since [`Tape::time_ops`], or `None` if it was not called.
    pub fn op_times(&self) -> Option<OpTimes> {
        self.state.borrow().timer.as_ref().map(|t| t.times.clone())
    }

    /// Runs `f` without recording: ops compute their values and nothing else, as in
    /// `torch.no_grad()`. The `Var`s it makes are constants to any later recorded op.
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let was = std::mem::replace(&mut self.state.borrow_mut().recording, false);
        // Restore even if `f` panics, so a notebook cell that fails leaves the tape usable.
        struct Restore<'a, T: Float>(&'a Tape<T>, bool);
        impl<T: Float> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                self.0.state.borrow_mut().recording = self.1;
            }
        }
        let _restore = Restore(self, was);
        f()
    }

    /// Whether ops are being recorded now.
    pub fn is_recording(&self) -> bool {
        self.state.borrow().recording
    }

    /// Turns recording on or off for every later op (see also [`Tape::no_grad`]).
    pub fn set_recording(&self, on: bool) {
        self.state.borrow_mut().recording = on;
    }

    /// How many nodes are recorded.
    pub fn len(&self) -> usize {
        self.state.borrow().nodes.len()
    }

    /// Whether nothing is recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every operand of `op` lives on this tape.
    pub(crate) fn check_same(
        &self,
        op: &str,
        others: &[&Var<T>],
        loc: &Location<'_>,
    ) -> Result<()> {
        if others.iter().all(|v| v.tape.same_as(self)) {
            Ok(())
        } else {
            Err(Error::argument(
                op,
                "operands were recorded on different tapes; make them on one tape \
                 (a fresh tape per step is fine, but not two at once)",
                loc,
            ))
        }
    }
}

/// A read-only view of one recorded node, for drawing or inspecting a tape
/// ([`Tape::nodes`]). The value is shared with the tape, not copied.
#[derive(Clone)]
pub struct NodeView<T: Float> {
    /// The node's id: its index in recording order.
    pub id: NodeId,
    /// What made it.
    pub op: Op<T>,
    /// The ids of its inputs, all below `id`.
    pub parents: Vec<NodeId>,
    /// Its value.
    pub value: Rc<ArrayD<T>>,
    /// Whether a gradient flows to it (false for constants and what depends only on them).
    pub requires_grad: bool,
    /// The source line that recorded it.
    pub location: &'static Location<'static>,
}

impl<T: Float> Tape<T> {
    /// Every recorded node, in recording order.
    pub fn nodes(&self) -> Vec<NodeView<T>> {
        let st = self.state.borrow();
        st.nodes
            .iter()
            .enumerate()
            .map(|(id, n)| NodeView {
                id,
                op: n.op.clone(),
                parents: n.parents.as_slice().to_vec(),
                value: Rc::clone(&n.value),
                requires_grad: n.requires_grad,
                location: n.location,
            })
            .collect()
    }
}

impl<T: Float> fmt::Display for Tape<T> {
    /// One line per node: id, op, shape, parents, and where it was recorded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        writeln!(f, "Tape<{}> with {} nodes", T::NAME, st.nodes.len())?;
        for (id, n) in st.nodes.iter().enumerate() {
            let parents: Vec<String> = n
                .parents
                .as_slice()
                .iter()
                .map(|p| format!("#{p}"))
                .collect();
            let from = if parents.is_empty() {
                String::new()
            } else {
                format!(" <- {}", parents.join(", "))
            };
            writeln!(
                f,
                "#{id:<4} {:<28} {:<16}{from}",
                n.op.label(),
                format!("{:?}", n.value.shape()),
            )?;
        }
        Ok(())
    }
}

impl<T: Float> fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
