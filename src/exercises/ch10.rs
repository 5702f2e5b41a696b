//! Chapter 10: From resgrad to PyTorch.

use super::*;

use crate::models::CifarSpec;
use crate::nn::{Linear, Relu, Sequential};
use crate::tensors::read_header;
use crate::train::checkpoint;

// ---- 10.1 one tensor straight from the file's bytes ----

/// The checkpoint 10.1 reads: a small CIFAR ResNet (depth 8, width 2), its bytes, and the
/// values of every entry by name.
fn small_checkpoint() -> (Vec<u8>, Vec<(String, Vec<f32>)>) {
    let spec = CifarSpec {
        width: 2,
        seed: 21,
        ..CifarSpec::resnet(8, ShortcutOption::A)
    };
    let net = spec.build::<f32>().expect("depth 8 is 6n + 2");
    let values = net
        .state()
        .into_iter()
        .filter(|(n, _, _)| !n.ends_with("num_batches_tracked"))
        .map(|(n, p, _)| (n, p.value().iter().copied().collect()))
        .collect();
    let bytes = checkpoint::to_bytes(&net).expect("a fresh net encodes");
    (bytes, values)
}

/// Exercise 10.1: given a whole safetensors file in `bytes` and a key, return that F32
/// tensor's values in file order. The header's `data_offsets` count from the start of the
/// data, which begins after the 8-byte length and the `N`-byte header. Checked on three
/// keys of a small ResNet's checkpoint, bit for bit.
pub fn check_read_tensor(f: impl Fn(&[u8], &str) -> Vec<f32>) -> Verdict {
    const E: &str = "10.1 a tensor from the bytes";
    let (bytes, values) = small_checkpoint();
    let header = read_header(&bytes).expect("the library's own file");
    for key in ["conv1.weight", "layer2.0.bn1.running_var", "fc.bias"] {
        let want = &values
            .iter()
            .find(|(n, _)| n == key)
            .expect("a key of the net")
            .1;
        let got = match attempt(|| f(&bytes, key)) {
            Ok(v) => v,
            Err(e) => {
                return Verdict::fail(E, format!("your function panicked on `{key}`: {e}"));
            }
        };
        let entry = header
            .entries
            .iter()
            .find(|e| e.name == key)
            .expect("the key is in the header");
        if got.len() != want.len() {
            return Verdict::fail(
                E,
                format!(
                    "for `{key}` you returned {} values; its shape {:?} holds {}: the tensor's \
                     bytes are data_offsets[1] - data_offsets[0] = {}, 4 per F32",
                    got.len(),
                    entry.shape,
                    want.len(),
                    entry.bytes()
                ),
            );
        }
        if got
            .iter()
            .zip(want)
            .all(|(a, b)| a.to_bits() == b.to_bits())
        {
            continue;
        }
        let [b, e] = entry.data_offsets;
        let read = |start: usize, big: bool| -> Vec<f32> {
            bytes
                .get(start..start + (e - b))
                .map(|s| {
                    s.chunks_exact(4)
                        .map(|c| {
                            let c: [u8; 4] = c.try_into().expect("4 bytes");
                            if big {
                                f32::from_be_bytes(c)
                            } else {
                                f32::from_le_bytes(c)
                            }
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let same = |v: &[f32]| {
            v.len() == got.len() && v.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits())
        };
        let hint = if same(&read(b, false)) || same(&read(b + 8, false)) {
            format!(
                "you read from byte {b} of the file, but the offsets count from the start of \
                 the data: add 8 (the length) + N = {} (the header)",
                header.header_len
            )
        } else if same(&read(header.data_start() + b, true)) {
            "the bytes are right but the order is not: safetensors is little-endian \
             (f32::from_le_bytes)"
                .to_string()
        } else {
            format!(
                "the values differ (your first is {:?}, the file's {}): the data of `{key}` is \
                 bytes [8 + N + {b}, 8 + N + {e}) of the file, 4 little-endian bytes per value",
                got.first(),
                want[0]
            )
        };
        return Verdict::fail(E, format!("`{key}`: {hint}"));
    }
    Verdict::pass(
        E,
        "three tensors read straight from the bytes, equal bit for bit to the net's: 8 + N + offset, little-endian.",
    )
}

/// Exercise 10.1's placeholder: reads from the first data offset, forgetting where the
/// data starts.
pub fn read_tensor_placeholder(bytes: &[u8], key: &str) -> Vec<f32> {
    let Ok(header) = read_header(bytes) else {
        return Vec::new();
    };
    let Some(entry) = header.entries.iter().find(|e| e.name == key) else {
        return Vec::new();
    };
    let [b, e] = entry.data_offsets;
    bytes[b..e]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

// ---- 10.3 the all-reduce of data-parallel training ----

/// A small MLP without batch norm (so that a shard's gradient depends on its own images
/// only), its batch and the worker shards.
fn allreduce_setup() -> (Sequential<f64>, ArrayD<f64>, Vec<usize>) {
    let r = &mut rng(31);
    let net = Sequential::new()
        .push_named("fc1", Linear::new(4, 6, true, Init::HeNormal, r))
        .push_named("relu", Relu)
        .push_named("fc2", Linear::new(6, 3, true, Init::LecunUniform, r));
    let x = gaussian::<f64>(&[12, 4], &mut rng(32));
    let labels = (0..12).map(|i| (i * 7) % 3).collect();
    (net, x, labels)
}

/// The mean cross-entropy gradient of `net` on rows `rows` of `x`, every parameter's
/// gradient flattened and concatenated in parameter order.
fn flat_gradient(
    net: &Sequential<f64>,
    x: &ArrayD<f64>,
    labels: &[usize],
    rows: std::ops::Range<usize>,
) -> Vec<f64> {
    let tape = Tape::new_f64();
    let xs = x
        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(rows.clone()))
        .to_owned();
    let loss = net
        .forward(&tape.constant(xs), Mode::Train)
        .cross_entropy(&labels[rows]);
    let grads = loss.backward();
    net.parameters()
        .iter()
        .flat_map(|p| grads[p].iter().copied().collect::<Vec<_>>())
        .collect()
}

/// Exercise 10.3: the all-reduce. Each worker `k` holds `(b_k, g_k)`: its shard's size and
/// the gradient of its *mean* loss over that shard, flattened. Return the gradient of the
/// mean loss over the whole batch. Checked against the full-batch gradient of a small MLP
/// with shards of 5, 4 and 3 images (and of 4, 4 and 4).
pub fn check_allreduce(f: impl Fn(&[(usize, Vec<f64>)]) -> Vec<f64>) -> Verdict {
    const E: &str = "10.3 all-reduce";
    let (net, x, labels) = allreduce_setup();
    let full = flat_gradient(&net, &x, &labels, 0..12);
    for sizes in [[4usize, 4, 4], [5, 4, 3]] {
        let mut start = 0;
        let workers: Vec<(usize, Vec<f64>)> = sizes
            .iter()
            .map(|&b| {
                let g = flat_gradient(&net, &x, &labels, start..start + b);
                start += b;
                (b, g)
            })
            .collect();
        let got = match attempt(|| f(&workers)) {
            Ok(g) => g,
            Err(e) => return Verdict::fail(E, format!("your all-reduce panicked: {e}")),
        };
        if got.len() != full.len() {
            return Verdict::fail(
                E,
                format!(
                    "you returned {} numbers; every worker's gradient has {}: combine them element by element",
                    got.len(),
                    full.len()
                ),
            );
        }
        let scale = full.iter().fold(1e-12f64, |m, v| m.max(v.abs()));
        let err = got
            .iter()
            .zip(&full)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        if err <= 1e-12 {
            continue;
        }
        let k = sizes.len() as f64;
        let ratio = got.iter().zip(&full).map(|(a, b)| a * b).sum::<f64>()
            / full.iter().map(|b| b * b).sum::<f64>();
        let plain_mean: Vec<f64> = (0..full.len())
            .map(|i| workers.iter().map(|w| w.1[i]).sum::<f64>() / k)
            .collect();
        let is_plain_mean = got
            .iter()
            .zip(&plain_mean)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * scale);
        let hint = if is_plain_mean {
            format!(
                "with shards of {sizes:?} images your plain mean of the workers' gradients is off: \
                 each worker's mean counts its own images, so weight it by b_k / B"
            )
        } else if (ratio - k).abs() < 1e-6 {
            "your gradient is K = 3 times too large: the workers' gradients are means, so their sum counts the batch 3 times".into()
        } else if (ratio - 12.0).abs() < 1e-6 {
            "your gradient is B = 12 times too large: that is the gradient of the summed loss; divide by the batch size".into()
        } else {
            format!(
                "with shards of {sizes:?} your gradient differs from the full batch's by {err:.2e} \
                 (relative): the full batch's mean loss is sum_k (b_k / B) * (worker k's mean loss)"
            )
        };
        return Verdict::fail(E, hint);
    }
    Verdict::pass(
        E,
        "equal to the full-batch gradient for equal and unequal shards: g = sum_k (b_k / B) g_k.",
    )
}

/// Exercise 10.3's placeholder: returns the first worker's gradient alone.
pub fn allreduce_placeholder(workers: &[(usize, Vec<f64>)]) -> Vec<f64> {
    workers.first().map(|w| w.1.clone()).unwrap_or_default()
}

// ---- 10.2 the arithmetic intensity of a convolution ----

/// The conv shapes 10.2 is checked on (input `[N, C, H, W]`, weight `[C_out, C, k, k]`):
/// the four of `docs/performance.md`, and one image through a 7x7 stem.
const CONV_CASES: [([usize; 4], [usize; 4]); 5] = [
    ([128, 16, 32, 32], [16, 16, 3, 3]),
    ([128, 32, 16, 16], [32, 32, 3, 3]),
    ([128, 64, 8, 8], [64, 64, 3, 3]),
    ([128, 256, 8, 8], [64, 256, 1, 1]),
    ([1, 3, 224, 224], [64, 3, 7, 7]),
];

/// FLOPs, bytes and their ratio for a stride-1, same-padding f32 conv that reads its
/// input and weight once and writes its output once.
fn conv_cost(x: [usize; 4], w: [usize; 4]) -> (f64, f64) {
    let [n, c, h, wd] = x.map(|v| v as f64);
    let [co, _, k, _] = w.map(|v| v as f64);
    let flops = 2.0 * n * co * h * wd * c * k * k;
    let bytes = 4.0 * (n * c * h * wd + co * c * k * k + n * co * h * wd);
    (flops, bytes)
}

/// Exercise 10.2: the arithmetic intensity (FLOPs per byte) of a stride-1, same-padding
/// f32 convolution of input `x = [N, C, H, W]` with weight `w = [C_out, C, k, k]`, if it
/// reads its input and weight once and writes its output once. Checked on five shapes.
pub fn check_conv_intensity(f: impl Fn([usize; 4], [usize; 4]) -> f64) -> Verdict {
    const E: &str = "10.2 conv arithmetic intensity";
    for (x, w) in CONV_CASES {
        let (flops, bytes) = conv_cost(x, w);
        let want = flops / bytes;
        let got = match attempt(|| f(x, w)) {
            Ok(v) => v,
            Err(e) => {
                return Verdict::fail(
                    E,
                    format!("your function panicked on x {x:?}, w {w:?}: {e}"),
                );
            }
        };
        if (got - want).abs() <= 1e-9 * want {
            continue;
        }
        let near = |r: f64| (got - want * r).abs() <= 1e-9 * want * r;
        let hint = if near(0.5) {
            "half the right value: a multiply-add is two FLOPs (one multiply, one add)".to_string()
        } else if near(4.0) {
            "4 times too large: count bytes, not numbers (an f32 is 4 bytes)".to_string()
        } else if near(0.125) {
            "both mistakes at once: a multiply-add is two FLOPs, and an f32 is 4 bytes".to_string()
        } else {
            format!(
                "you gave {got:.3}; this conv does 2·N·C_out·H·W·C·k² = {flops:.4e} FLOPs and \
                 moves 4·(input + weight + output) = {bytes:.4e} bytes, so {want:.3} FLOPs per byte"
            )
        };
        return Verdict::fail(E, format!("for x {x:?} and w {w:?}: {hint}"));
    }
    Verdict::pass(
        E,
        "right on all five shapes: 2·N·C_out·H·W·C·k² FLOPs over 4 bytes × (input + weight + output).",
    )
}
