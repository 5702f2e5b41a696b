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

    /// The momentum buffer of `p`, if a step has made one.
    pub fn velocity(&self, p: &Param<T>) -> Option<&ArrayD<T>> {
        self.velocity.get(&p.id())
    }

    /// Sets the momentum buffer of `p` (resuming from a checkpoint).
    pub fn set_velocity(&mut self, p: &Param<T>, v: ArrayD<T>) {
        self.velocity.insert(p.id(), v);
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

/// Adam (Kingma and Ba 2015) as `torch.optim.Adam`: weight decay added to the gradient
/// (L2, not AdamW), bias-corrected moments.
#[derive(Debug, Clone)]
pub struct Adam<T: Float = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// L2 weight decay, added to the gradient.
    pub weight_decay: f64,
    step: u64,
    moments: HashMap<u64, (ArrayD<T>, ArrayD<T>)>,
}

impl<T: Float> Adam<T> {
    /// Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8).
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            step: 0,
            moments: HashMap::new(),
        }
    }

    /// One step on every param that has a gradient in `grads`.
    pub fn step(&mut self, params: &[Param<T>], grads: &Grads<T>) {
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.step as i32);
        let c2 = 1.0 - b2.powi(self.step as i32);
        for p in params {
            let Some(grad) = grads.get(p) else { continue };
            let mut g = grad.clone();
            if self.weight_decay != 0.0 {
                let wd = T::cast(self.weight_decay);
                Zip::from(&mut g)
                    .and(&*p.value())
                    .for_each(|g, &w| *g += wd * w);
            }
            let (m, v) = self
                .moments
                .entry(p.id())
                .or_insert_with(|| (ArrayD::zeros(g.raw_dim()), ArrayD::zeros(g.raw_dim())));
            let (tb1, tb2) = (T::cast(b1), T::cast(b2));
            Zip::from(&mut *m)
                .and(&g)
                .for_each(|m, &g| *m = tb1 * *m + (T::one() - tb1) * g);
            Zip::from(&mut *v)
                .and(&g)
                .for_each(|v, &g| *v = tb2 * *v + (T::one() - tb2) * g * g);
            let (lr, eps) = (self.lr, self.eps);
            p.update(|w| {
                Zip::from(w).and(&*m).and(&*v).for_each(|w, &m, &v| {
                    let update = lr * (m.as_f64() / c1) / ((v.as_f64() / c2).sqrt() + eps);
                    *w -= T::cast(update);
                })
            });
        }
    }
}

/// A learning-rate schedule: the rate for step `t` (0-based) from the base rate.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// Divided by `factor` at each of `milestones` (the paper: /10 at 32k and 48k).
    MultiStep {
        /// Steps at which the rate drops.
        milestones: Vec<usize>,
        /// The divisor at each drop.
        factor: f64,
    },
    /// `warmup_lr` for the first `steps` steps, then `then` (ResNet-110: 0.01 for ~400
    /// iterations).
    Warmup {
        /// Steps at the warm-up rate.
        steps: usize,
        /// The warm-up rate.
        warmup_lr: f64,
        /// The schedule after it (its step count starts at 0 after the warm-up).
        then: Box<Schedule>,
    },
    /// Cosine decay from the base rate to 0 over `total` steps.
    Cosine {
        /// Steps to reach 0.
        total: usize,
    },
}

impl Schedule {
    /// The learning rate at step `t` for base rate `base`.
    pub fn lr(&self, base: f64, t: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::MultiStep { milestones, factor } => {
                base / factor.powi(milestones.iter().filter(|&&m| t >= m).count() as i32)
            }
            Schedule::Warmup {
                steps,
                warmup_lr,
                then,
            } => {
                if t < *steps {
                    *warmup_lr
                } else {
                    then.lr(base, t - steps)
                }
            }
            Schedule::Cosine { total } => {
                let f = (t.min(*total) as f64) / (*total).max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * f).cos())
            }
        }
    }
}
