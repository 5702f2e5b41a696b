//! Elementwise ops: binary ones with NumPy broadcasting, unary ones, and the operators.
//!
//! Their backward rules are in [`crate::backward`].

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::panic::Location;

use ndarray::{ArrayD, Zip};

use crate::arrays::{broadcast_shape, slice};
use crate::error::{Error, Result};
use crate::op::Op;
use crate::{Float, Var};

impl<T: Float> Var<T> {
    fn binary(
        &self,
        other: &Var<T>,
        op: Op<T>,
        f: fn(T, T) -> T,
        loc: &'static Location<'static>,
    ) -> Result<Var<T>> {
        let name = op.name().to_string();
        self.tape.check_same(&name, &[other], loc)?;
        let (a, b) = (&*self.value, &*other.value);
        let out: ArrayD<T> = if a.shape() == b.shape() {
            let v = crate::kernels::fast::elementwise::map2(slice(a), slice(b), f);
            ArrayD::from_shape_vec(a.raw_dim(), v).expect("one value per element")
        } else {
            let shape = broadcast_shape(a.shape(), b.shape()).map_err(|(k, x, y)| {
                Error::shape(
                    &name,
                    &[a.shape(), b.shape()],
                    format!(
                        "shapes must broadcast (NumPy rule: align the trailing axes; each pair \
                         of lengths must be equal, or one of them 1), but axis -{k} has \
                         lengths {x} and {y}"
                    ),
                    loc,
                )
            })?;
            let av = a
                .broadcast(shape.clone())
                .expect("checked by broadcast_shape");
            let bv = b.broadcast(shape).expect("checked by broadcast_shape");
            Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))
        };
        Ok(self.tape.record(op, &[self, other], out, loc))
    }

    fn unary(
        &self,
        op: Op<T>,
        f: impl Fn(T) -> T + Sync,
        loc: &'static Location<'static>,
    ) -> Var<T> {
        let v = crate::kernels::fast::elementwise::map1(slice(&self.value), f);
        let out = ArrayD::from_shape_vec(self.value.raw_dim(), v).expect("one value per element");
        self.tape.record(op, &[self], out, loc)
    }

    /// `self + other`, broadcasting as NumPy does.
    #[track_caller]
    pub fn try_add(&self, other: &Var<T>) -> Result<Var<T>> {
        self.binary(other, Op::Add, |a, b| a + b, Location::caller())
    }

    /// `relu(self + other)` in one op, broadcasting as NumPy does: the same values as
    /// `(self + other).relu()`, bit for bit, but one node on the tape instead of two. The
    /// sum is never kept (the backward reads the relu's mask from this op's output), so a
    /// residual block's last step keeps one activation, not two.
    ///
    /// ```
    /// use resgrad::{Tape, ndarray::array};
    /// let tape = Tape::new();
    /// let (f, x) = (tape.var(array![1.0, -2.0, 0.5]), tape.var(array![-0.5, 1.0, 0.25]));
    /// assert_eq!(f.add_relu(&x).value(), (&f + &x).relu().value());
    /// ```
    #[track_caller]
    pub fn try_add_relu(&self, other: &Var<T>) -> Result<Var<T>> {
        // The same comparison as `Var::relu`, so the values are the pair's to the bit.
        let add_relu = |a: T, b: T| {
            let s = a + b;
            if s > T::zero() { s } else { T::zero() }
        };
        self.binary(other, Op::AddRelu, add_relu, Location::caller())
    }

    /// `self - other`, broadcasting as NumPy does.
    #[track_caller]
    pub fn try_sub(&self, other: &Var<T>) -> Result<Var<T>> {
        self.binary(other, Op::Sub, |a, b| a - b, Location::caller())
    }

    /// `self * other` elementwise, broadcasting as NumPy does.
    #[track_caller]
    pub fn try_mul(&self, other: &Var<T>) -> Result<Var<T>> {
        self.binary(other, Op::Mul, |a, b| a * b, Location::caller())
    }

    /// `self / other` elementwise, broadcasting as NumPy does.
    #[track_caller]
    pub fn try_div(&self, other: &Var<T>) -> Result<Var<T>> {
        self.binary(other, Op::Div, |a, b| a / b, Location::caller())
    }

    or_panic!(
        /// `self + other`, broadcasting as NumPy does. Same as `&a + &b`.
        add => try_add(other: &Var<T>)
    );
    or_panic!(
        /// `relu(self + other)` in one op; see [`try_add_relu`](Var::try_add_relu).
        add_relu => try_add_relu(other: &Var<T>)
    );
    or_panic!(
        /// `self - other`, broadcasting as NumPy does. Same as `&a - &b`.
        sub => try_sub(other: &Var<T>)
    );
    or_panic!(
        /// `self * other` elementwise, broadcasting as NumPy does. Same as `&a * &b`.
        mul => try_mul(other: &Var<T>)
    );
    or_panic!(
        /// `self / other` elementwise, broadcasting as NumPy does. Same as `&a / &b`.
        div => try_div(other: &Var<T>)
    );

    /// `-self`. Same as `-&a`.
    #[track_caller]
    pub fn neg(&self) -> Var<T> {
        self.unary(Op::Neg, |x| -x, Location::caller())
    }

    /// `self + c` for a scalar `c`. Same as `&a + c`.
    #[track_caller]
    pub fn add_scalar(&self, c: T) -> Var<T> {
        self.unary(
            Op::AddScalar(c.as_f64()),
            move |x| x + c,
            Location::caller(),
        )
    }

    /// `self * c` for a scalar `c`. Same as `&a * c`.
    #[track_caller]
    pub fn scale(&self, c: T) -> Var<T> {
        self.unary(
            Op::MulScalar(c.as_f64()),
            move |x| x * c,
            Location::caller(),
        )
    }

    /// `self ^ p` elementwise, for a scalar exponent `p`.
    #[track_caller]
    pub fn powf(&self, p: T) -> Var<T> {
        self.unary(
            Op::PowScalar(p.as_f64()),
            move |x| x.powf(p),
            Location::caller(),
        )
    }

    /// Square root, elementwise.
    #[track_caller]
    pub fn sqrt(&self) -> Var<T> {
        self.unary(Op::Sqrt, T::sqrt, Location::caller())
    }

    /// `e^self`, elementwise.
    #[track_caller]
    pub fn exp(&self) -> Var<T> {
        self.unary(Op::Exp, T::exp, Location::caller())
    }

    /// Natural logarithm, elementwise.
    #[track_caller]
    pub fn log(&self) -> Var<T> {
        self.unary(Op::Log, T::ln, Location::caller())
    }

    /// `max(self, 0)`, elementwise.
    #[track_caller]
    pub fn relu(&self) -> Var<T> {
        self.unary(
            Op::Relu,
            |x| if x > T::zero() { x } else { T::zero() },
            Location::caller(),
        )
    }

    /// The logistic function `1 / (1 + e^-x)`, elementwise.
    #[track_caller]
    pub fn sigmoid(&self) -> Var<T> {
        self.unary(Op::Sigmoid, sigmoid, Location::caller())
    }

    /// Hyperbolic tangent, elementwise.
    #[track_caller]
    pub fn tanh(&self) -> Var<T> {
        self.unary(Op::Tanh, T::tanh, Location::caller())
    }
}

/// The logistic function, written so that neither branch overflows `exp`.
fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

// ---- Operators: `&a + &b`, `a + b`, `&a * 2.0`, `-&a`, `2.0 * &a`, ... ----

macro_rules! binary_operator {
    ($Trait:ident, $method:ident) => {
        impl<T: Float> $Trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                Var::$method(self, rhs)
            }
        }
        impl<T: Float> $Trait<Var<T>> for Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                Var::$method(&self, &rhs)
            }
        }
        impl<T: Float> $Trait<&Var<T>> for Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                Var::$method(&self, rhs)
            }
        }
        impl<T: Float> $Trait<Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, rhs: Var<T>) -> Var<T> {
                Var::$method(self, &rhs)
            }
        }
    };
}

binary_operator!(Add, add);
binary_operator!(Sub, sub);
binary_operator!(Mul, mul);
binary_operator!(Div, div);

/// `var (op) scalar` and `scalar (op) var`, written with the scalar ops.
macro_rules! scalar_operators {
    ($($V:ty),*) => {$(
        impl<T: Float> Add<T> for $V {
            type Output = Var<T>;
            #[track_caller]
            fn add(self, c: T) -> Var<T> { self.add_scalar(c) }
        }
        impl<T: Float> Sub<T> for $V {
            type Output = Var<T>;
            #[track_caller]
            fn sub(self, c: T) -> Var<T> { self.add_scalar(-c) }
        }
        impl<T: Float> Mul<T> for $V {
            type Output = Var<T>;
            #[track_caller]
            fn mul(self, c: T) -> Var<T> { self.scale(c) }
        }
        impl<T: Float> Div<T> for $V {
            type Output = Var<T>;
            #[track_caller]
            fn div(self, c: T) -> Var<T> { self.scale(T::one() / c) }
        }
        impl<T: Float> Neg for $V {
            type Output = Var<T>;
            #[track_caller]
            fn neg(self) -> Var<T> { Var::neg(&self) }
        }
    )*};
}

scalar_operators!(Var<T>, &Var<T>);

/// `scalar (op) var` for the two concrete element types.
macro_rules! scalar_left_operators {
    ($($F:ty),*) => {$(
        impl Add<&Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn add(self, v: &Var<$F>) -> Var<$F> { v.add_scalar(self) }
        }
        impl Sub<&Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn sub(self, v: &Var<$F>) -> Var<$F> { v.neg().add_scalar(self) }
        }
        impl Mul<&Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn mul(self, v: &Var<$F>) -> Var<$F> { v.scale(self) }
        }
        impl Add<Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn add(self, v: Var<$F>) -> Var<$F> { v.add_scalar(self) }
        }
        impl Sub<Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn sub(self, v: Var<$F>) -> Var<$F> { v.neg().add_scalar(self) }
        }
        impl Mul<Var<$F>> for $F {
            type Output = Var<$F>;
            #[track_caller]
            fn mul(self, v: Var<$F>) -> Var<$F> { v.scale(self) }
        }
    )*};
}

scalar_left_operators!(f32, f64);
