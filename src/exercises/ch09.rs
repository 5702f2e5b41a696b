//! Chapter 09: Bottlenecks and ImageNet ResNets.

use super::*;
use crate::nn::Summary;

// ---- 9.1 the bottleneck ----

/// Exercise 9.1: the forward of a [`Bottleneck`] from its layers (1x1, 3x3, 1x1, each with
/// batch norm; ReLU between; the shortcut added before the last ReLU). Checked on a block
/// that keeps its shape (identity shortcut) and on a downsampling v1.5 block (stride 2 on
/// the 3x3, a projection shortcut), forward and gradient.
pub fn check_bottleneck(f: impl Fn(&Bottleneck<f64>, &Var<f64>) -> Var<f64>) -> Verdict {
    const E: &str = "9.1 bottleneck block";
    let same = Bottleneck::<f64>::new(
        16,
        4,
        1,
        ShortcutOption::B,
        StridePlacement::First1x1,
        &mut rng(3),
    );
    if let Some(problem) = block_mismatch(&same, &[2, 16, 4, 4], |x| f(&same, x)) {
        return Verdict::fail(
            E,
            format!("on a block that keeps its shape (16 channels, stride 1): {problem}"),
        );
    }
    let down = Bottleneck::<f64>::new(
        16,
        8,
        2,
        ShortcutOption::B,
        StridePlacement::Conv3x3,
        &mut rng(6),
    );
    if let Some(problem) = block_mismatch(&down, &[2, 16, 6, 6], |x| f(&down, x)) {
        return Verdict::fail(
            E,
            format!(
                "right on a block that keeps its shape, but on a downsampling block (16 -> 32 \
                 channels, stride 2) {problem}. There the shortcut is the block's own \
                 projection (a 1x1 conv with stride 2, then batch norm): add \
                 `b.shortcut.apply(x, mode)`, not `x`, and let each conv keep its own stride."
            ),
        );
    }
    Verdict::pass(
        E,
        "same output as the library's bottleneck, with the identity and with the projection \
         shortcut, and its gradient checks out.",
    )
}

/// Exercise 9.2: the forward of a [`PreActBlock`] (He et al. 2016: BN, ReLU, conv, BN, ReLU,
/// conv, then + x, nothing after the addition).
pub fn check_preact(f: impl Fn(&PreActBlock<f64>, &Var<f64>) -> Var<f64>) -> Verdict {
    const E: &str = "9.2 pre-activation block";
    let block = PreActBlock::<f64>::new(4, 4, 1, ShortcutOption::A, &mut rng(4));
    match block_mismatch(&block, &[2, 4, 5, 5], |x| f(&block, x)) {
        Some(problem) => Verdict::fail(E, problem),
        None => Verdict::pass(
            E,
            "same output as the library's block, and its gradient checks out.",
        ),
    }
}

/// What is wrong with `learner` as the forward of `block` on a Gaussian input of `shape`
/// (a sentence), or `None` if its output and gradient match the block's.
fn block_mismatch(
    block: &dyn Module<f64>,
    shape: &[usize],
    learner: impl Fn(&Var<f64>) -> Var<f64>,
) -> Option<String> {
    let x = gaussian::<f64>(shape, &mut rng(5));
    let tape = Tape::new_f64();
    let xv = tape.var(x.clone());
    let want = block.forward(&xv, Mode::Train);
    let got = match attempt(|| learner(&xv)) {
        Ok(y) => y,
        Err(err) => return Some(format!("your forward panicked: {err}")),
    };
    if got.shape() != want.shape() {
        return Some(format!(
            "your output has shape {:?}, the block's is {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let d = max_diff(got.value(), want.value());
    if d > 1e-9 {
        return Some(format!(
            "the shapes agree but the values differ by up to {d:.3e}: check the order of BN, \
             ReLU and the addition"
        ));
    }
    let report = match attempt(|| gradcheck(|v| learner(&v[0]), &[x])) {
        Ok(r) => r,
        Err(err) => {
            return Some(format!(
                "your forward panicked in the gradient check: {err}"
            ));
        }
    };
    if !report.passed() {
        return Some(
            "the values are right but a gradient is wrong; is every step a tape op?".into(),
        );
    }
    None
}

// ---- 9.3 the cost of a bottleneck ----

/// The blocks of Exercise 9.3: `(cin, width, stride, placement, side)`.
const COST_CASES: [(usize, usize, usize, StridePlacement, usize); 6] = [
    (256, 64, 1, StridePlacement::First1x1, 56),
    (64, 64, 1, StridePlacement::First1x1, 56),
    (256, 128, 2, StridePlacement::First1x1, 56),
    (256, 128, 2, StridePlacement::Conv3x3, 56),
    (512, 128, 1, StridePlacement::Conv3x3, 28),
    (1024, 512, 2, StridePlacement::Conv3x3, 14),
];

/// The multiply-adds of each layer of the option-B bottleneck `(cin, width, stride,
/// placement)` on one `side x side` image, as the library's summary counts them.
fn bottleneck_rows(
    (cin, width, stride, placement, side): (usize, usize, usize, StridePlacement, usize),
) -> Vec<(String, usize)> {
    let block = Bottleneck::<f32>::new(
        cin,
        width,
        stride,
        ShortcutOption::B,
        placement,
        &mut rng(0),
    );
    Summary::of("bottleneck", &block, &[1, cin, side, side])
        .rows
        .into_iter()
        .filter(|r| r.macs > 0)
        .map(|r| (r.name, r.macs))
        .collect()
}

/// Exercise 9.3: `f(cin, width, stride, placement, side)` returns the multiply-adds of a
/// bottleneck from `cin` to `4 width` channels with option B's shortcut (a projection
/// where the shape changes), on one `side x side` image, its stride placed as
/// `placement`; checked against the library's summary of that block on six blocks of
/// ResNet-50 (v1 and v1.5).
pub fn check_bottleneck_macs(
    f: impl Fn(usize, usize, usize, StridePlacement, usize) -> usize,
) -> Verdict {
    const E: &str = "9.3 the cost of a bottleneck";
    for case in COST_CASES {
        let (cin, width, stride, placement, side) = case;
        let rows = bottleneck_rows(case);
        let want: usize = rows.iter().map(|r| r.1).sum();
        let got = match attempt(|| f(cin, width, stride, placement, side)) {
            Ok(v) => v,
            Err(err) => return Verdict::fail(E, format!("your function panicked: {err}")),
        };
        if got == want {
            continue;
        }
        let block = format!(
            "for the block {cin} -> {} channels, width {width}, stride {stride} ({}), on \
             {side}x{side}",
            4 * width,
            match placement {
                StridePlacement::First1x1 => "v1, stride on the first 1x1",
                StridePlacement::Conv3x3 => "v1.5, stride on the 3x3",
            }
        );
        let shortcut: usize = rows
            .iter()
            .filter(|r| r.0.starts_with("downsample"))
            .map(|r| r.1)
            .sum();
        let other = match placement {
            StridePlacement::First1x1 => StridePlacement::Conv3x3,
            StridePlacement::Conv3x3 => StridePlacement::First1x1,
        };
        let swapped: usize = bottleneck_rows((cin, width, stride, other, side))
            .iter()
            .map(|r| r.1)
            .sum();
        let why = if got == 0 {
            "nothing counted yet: add up c_in c_out K^2 H_out W_out over the three convs and \
             the shortcut's 1x1"
                .to_string()
        } else if shortcut > 0 && got + shortcut == want {
            format!(
                "exactly the projection shortcut is missing: where the shape changes, option B \
                 adds a 1x1 conv from {cin} to {} channels ({shortcut} multiply-adds)",
                4 * width
            )
        } else if stride > 1 && got == swapped {
            "that is the cost of the other placement: v1 puts the stride on the first 1x1 (so \
             the 3x3 and the last 1x1 run on the halved map), v1.5 on the 3x3 (so the first 1x1 \
             runs on the full map)"
                .to_string()
        } else {
            let layers: Vec<String> = rows.iter().map(|(n, m)| format!("{n} {m}")).collect();
            format!(
                "the summary counts, layer by layer: {}; check each layer's output size",
                layers.join(", ")
            )
        };
        return Verdict::fail(
            E,
            format!("{block}, you count {got} multiply-adds, the block has {want}: {why}."),
        );
    }
    Verdict::pass(
        E,
        "your count equals the library's summary on six blocks of ResNet-50, v1 and v1.5, \
         with and without the projection.",
    )
}
