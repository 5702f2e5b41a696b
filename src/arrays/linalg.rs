//! Matrix products on plain arrays. The GEMM itself is ndarray's `dot` (matrixmultiply):
//! it is not the lesson.

use ndarray::{Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3};

use crate::float::Float;

fn view2<T: Float>(a: &ArrayD<T>) -> ArrayView2<'_, T> {
    a.view().into_dimensionality::<Ix2>().expect("a 2-D array")
}

fn view3<T: Float>(a: &ArrayD<T>) -> ArrayView3<'_, T> {
    a.view().into_dimensionality::<Ix3>().expect("a 3-D array")
}

/// `a @ b` for the layouts `matmul` accepts: `[M, K] @ [K, N]`, `[B, M, K] @ [B, K, N]` and
/// `[B, M, K] @ [K, N]`. The shapes must already be checked (`Var::try_matmul` does).
pub fn matmul_values<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
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
        _ => unreachable!(
            "matmul_values: takes 2-D @ 2-D, 3-D @ 3-D or 3-D @ 2-D; check shapes first"
        ),
    }
}
