//! Optimizers. SGD as PyTorch defines it (`torch.optim.SGD`): weight decay is added to the
//! gradient, dampening defaults to 0, and the first step fills the momentum buffer with
//! the gradient itself.

use std::collections::HashMap;

use ndarray::{ArrayD, Zip};

use crate::{Float, Grads, Param};

/// Stochastic gradient descent with momentum, Nesterov momentum and weight decay.
///
/// ```text
/// g = grad + weight_decay * p
/// v = g                                  (first step)
/// v = momentum * v + (1 - dampening) * g (after)
/// g = g + momentum * v  if nesterov, else  g = v
/// p = p - lr * g
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<T: Float = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Momentum (0 for plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient in the momentum buffer.
    pub dampening: f64,
    /// L2 weight decay, added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    velocity: HashMap<u64, ArrayD<T>>,
}

impl<T: Float> Sgd<T> {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            velocity: HashMap::new(),
        }
    }

    /// With momentum.
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }

    /// With weight decay.
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }

    /// With Nesterov momentum.
    pub fn nesterov(mut self, on: bool) -> Self {
        self.nesterov = on;
        self
    }

    /// One step on every param that has a gradient in `grads` (others are left alone).
    pub fn step(&mut self, params: &[Param<T>], grads: &Grads<T>) {
        let (lr, mom, damp, wd) = (
            T::cast(self.lr),
            T::cast(self.momentum),
            T::cast(self.dampening),
            T::cast(self.weight_decay),
        );
        for p in params {
            let Some(grad) = grads.get(p) else { continue };
            let mut g = grad.clone();
            if self.weight_decay != 0.0 {
                let w = p.value();
                Zip::from(&mut g).and(&*w).for_each(|g, &w| *g += wd * w);
            }
            if self.momentum != 0.0 {
                match self.velocity.get_mut(&p.id()) {
                    None => {
                        self.velocity.insert(p.id(), g.clone());
                    }
                    Some(v) => Zip::from(&mut *v)
                        .and(&g)
                        .for_each(|v, &g| *v = mom * *v + (T::one() - damp) * g),
                }
                let v = &self.velocity[&p.id()];
                if self.nesterov {
                    Zip::from(&mut g).and(v).for_each(|g, &v| *g += mom * v);
                } else {
                    g.assign(v);
                }
            }
            p.update(|w| Zip::from(w).and(&g).for_each(|w, &g| *w -= lr * g));
        }
    }
}
