//! Matrix products. The GEMM itself is ndarray's `dot` (matrixmultiply): it is not the lesson.

use std::panic::Location;

use ndarray::{Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3};

use super::Op;
use crate::error::{Error, Result};
use crate::{Float, Var};

pub(crate) fn view2<T: Float>(a: &ArrayD<T>) -> ArrayView2<'_, T> {
    a.view().into_dimensionality::<Ix2>().expect("a 2-D array")
}

pub(crate) fn view3<T: Float>(a: &ArrayD<T>) -> ArrayView3<'_, T> {
    a.view().into_dimensionality::<Ix3>().expect("a 3-D array")
}

/// `a @ b` for the layouts `matmul` accepts; the shapes were checked by the caller.
pub(crate) fn matmul_values<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
    match (a.ndim(), b.ndim()) {
        (2, 2) => view2(a).dot(&view2(b)).into_dyn(),
        (3, 3) => {
            let (a, b) = (view3(a), view3(b));
            let (batch, m, n) = (a.shape()[0], a.shape()[1], b.shape()[2]);
            let mut out = Array3::zeros((batch, m, n));
            for (i, mut o) in out.outer_iter_mut().enumerate() {
                o.assign(&a.index_axis(Axis(0), i).dot(&b.index_axis(Axis(0), i)));
            }
            out.into_dyn()
        }
        (3, 2) => {
            // A batch of matrices times one matrix is one tall matrix product.
            let (batch, m, k) = (a.shape()[0], a.shape()[1], a.shape()[2]);
            let flat = a
                .view()
                .into_shape_with_order((batch * m, k))
                .expect("standard layout");
            let out = flat.dot(&view2(b));
            let n = out.shape()[1];
            out.into_shape_with_order((batch, m, n))
                .expect("standard layout")
                .into_dyn()
        }
        _ => unreachable!("matmul_values: shapes are checked by try_matmul"),
    }
}

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
