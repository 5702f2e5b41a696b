//! The differentiable ops: their forward functions live in the files of this module,
//! the [`Op`](crate::Op) each records is named in [`crate::op`], and their backward rules all
//! live in one table, [`crate::backward`].
//!
//! Every op is a method on [`Var`](crate::Var) (`a.matmul(&b)`, `x.relu()`), most with a
//! `try_` twin that returns a [`Result`](crate::Result) instead of panicking on bad shapes.

/// Defines the panicking form of an op from its `try_` form: same arguments, and a panic
/// whose message is the error's (naming the op, the shapes, the rule and the call site).
macro_rules! or_panic {
    ($(#[$doc:meta])* $name:ident => $try_name:ident($($arg:ident: $ty:ty),*)) => {
        $(#[$doc])*
        ///
        /// Panics with the error message of the `try_` form of this op.
        #[track_caller]
        pub fn $name(&self, $($arg: $ty),*) -> Var<T> {
            crate::error::or_panic(self.$try_name($($arg),*))
        }
    };
}

mod conv;
mod custom;
mod elementwise;
mod linalg;
mod loss;
mod norm;
mod pool;
mod reduce;
mod shape;

pub use norm::RunningStats;
pub use shape::{concat, stack, try_concat, try_stack};
