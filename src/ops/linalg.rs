//! Matrix products. The GEMM itself is ndarray's `dot` (matrixmultiply): it is not the lesson.

use std::panic::Location;

use crate::arrays::matmul_values;
use crate::error::{Error, Result};
use crate::op::Op;
use crate::{Float, Var};

impl<T: Float> Var<T> {
    /// Matrix product `self @ other`: `[M, K] @ [K, N]`, batched `[B, M, K] @ [B, K, N]`,
    /// or a batch times one matrix, `[B, M, K] @ [K, N]`.
    #[track_caller]
    pub fn try_matmul(&self, other: &Var<T>) -> Result<Var<T>> {
        let loc = Location::caller();
        self.tape.check_same("matmul", &[other], loc)?;
        let (a, b) = (self.shape(), other.shape());
        let err = |rule: String| Error::shape("matmul", &[a, b], rule, loc);
        match (a.len(), b.len()) {
            (2, 2) | (3, 2) if a[a.len() - 1] != b[0] => {
                return Err(err(format!(
                    "the inner dimensions must match: {} columns on the left, {} rows on the right",
                    a[a.len() - 1],
                    b[0]
                )));
            }
            (3, 3) if a[0] != b[0] => {
                return Err(err(format!(
                    "batched matmul needs the same batch size on both sides ({} vs {})",
                    a[0], b[0]
                )));
            }
            (3, 3) if a[2] != b[1] => {
                return Err(err(format!(
                    "the inner dimensions must match: {} columns on the left, {} rows on the right",
                    a[2], b[1]
                )));
            }
            (2, 2) | (3, 3) | (3, 2) => {}
            _ => {
                return Err(err(
                    "matmul takes 2-D @ 2-D, 3-D @ 3-D (batched), or 3-D @ 2-D; reshape first"
                        .into(),
                ));
            }
        }
        let out = matmul_values(&self.value, &other.value);
        Ok(self.tape.record(Op::MatMul, &[self, other], out, loc))
    }

    or_panic!(
        /// Matrix product; see [`try_matmul`](Var::try_matmul) for the shapes it accepts.
        matmul => try_matmul(other: &Var<T>)
    );
}
