//! Chapter 03: Convolution and batch norm.

use super::*;

// ---- 3.1 conv output shape ----

/// Exercise 3.1: the output shape of a convolution, `[N, C_out, H_out, W_out]`, from the input
/// shape, the weight shape, the stride and the padding.
pub fn check_conv_shape(f: impl Fn([usize; 4], [usize; 4], usize, usize) -> [usize; 4]) -> Verdict {
    const E: &str = "3.1 conv output shape";
    let cases = [
        ([2, 3, 32, 32], [16, 3, 3, 3], 1, 1),
        ([1, 16, 32, 32], [32, 16, 3, 3], 2, 1),
        ([4, 3, 224, 224], [64, 3, 7, 7], 2, 3),
        ([1, 8, 7, 5], [4, 8, 1, 1], 2, 0),
    ];
    for (x, w, s, p) in cases {
        let want = [
            x[0],
            w[0],
            (x[2] + 2 * p - w[2]) / s + 1,
            (x[3] + 2 * p - w[3]) / s + 1,
        ];
        match attempt(|| f(x, w, s, p)) {
            Ok(got) if got == want => {}
            Ok(got) => {
                return Verdict::fail(
                    E,
                    format!(
                        "input {x:?}, weight {w:?}, stride {s}, padding {p}: you gave {got:?}, the conv gives {want:?}"
                    ),
                );
            }
            Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
        }
    }
    Verdict::pass(
        E,
        "right for all four cases, strides and paddings included: (H + 2p - k) / s + 1.",
    )
}
