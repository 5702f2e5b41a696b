//! Parameters: values that outlive any one tape.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use ndarray::{ArrayD, Dimension};

use crate::Float;

struct ParamInner<T: Float> {
    id: u64,
    name: RefCell<String>,
    value: RefCell<Rc<ArrayD<T>>>,
}

/// A trainable value with a stable identity, shared by handle (clones are the same param).
///
/// Each training step brings it onto a fresh tape with [`Tape::param`](crate::Tape::param)
/// and reads its gradient as `grads[&param]`; the optimizer then changes it in place with
/// [`Param::update`].
pub struct Param<T: Float = f32> {
    inner: Rc<ParamInner<T>>,
}

impl<T: Float> Clone for Param<T> {
    fn clone(&self) -> Self {
        Param {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<T: Float> Param<T> {
    /// A parameter called `name` holding `value`.
    pub fn new<D: Dimension>(name: impl Into<String>, value: ndarray::Array<T, D>) -> Self {
        Param {
            inner: Rc::new(ParamInner {
                id: super::next_uid(),
                name: RefCell::new(name.into()),
                value: RefCell::new(Rc::new(crate::arrays::standard(value.into_dyn()))),
            }),
        }
    }

    /// A process-wide unique id.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The parameter's name, e.g. `layer1.0.conv1.weight`.
    pub fn name(&self) -> String {
        self.inner.name.borrow().clone()
    }

    /// Renames the parameter (models give their layers' params hierarchical names).
    pub fn set_name(&self, name: impl Into<String>) {
        *self.inner.name.borrow_mut() = name.into();
    }

    /// The current value (a cheap shared handle; it does not change when the param does).
    pub fn value(&self) -> Rc<ArrayD<T>> {
        Rc::clone(&self.inner.value.borrow())
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.inner.value.borrow().shape().to_vec()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.inner.value.borrow().len()
    }

    /// Whether the value has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the value.
    pub fn set<D: Dimension>(&self, value: ndarray::Array<T, D>) {
        *self.inner.value.borrow_mut() = Rc::new(crate::arrays::standard(value.into_dyn()));
    }

    /// Changes the value in place, e.g. an SGD step `p.update(|w| w.scaled_add(-lr, g))`.
    ///
    /// A tape that still holds the old value keeps it (the change copies first), so
    /// gradients already computed stay consistent.
    pub fn update(&self, f: impl FnOnce(&mut ArrayD<T>)) {
        let mut slot = self.inner.value.borrow_mut();
        f(Rc::make_mut(&mut slot));
    }
}

impl<T: Float> fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Param({}, shape {:?})", self.name(), self.shape())
    }
}
