//! Every exercise is solvable (its solution passes) and every checker rejects a wrong
//! answer (the placeholder, and a plausible mistake), without panicking.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Bottleneck, Mode, Module, PreActBlock};
use resgrad::{CustomOp, Var, concat};

#[derive(Clone)]
struct Softplus {
    off_by: f64,
}

impl CustomOp<f64> for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0].mapv(|v| v.exp().ln_1p())
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        // d softplus / dx = sigmoid(x)
        vec![g * &x[0].mapv(|v| self.off_by / (1.0 + (-v).exp()))]
    }
}

#[test]
fn exercise_1_softplus_backward() {
    assert!(exercises::check_softplus(Softplus { off_by: 1.0 }).passed);
    let wrong = exercises::check_softplus(Softplus { off_by: 1.02 });
    assert!(
        !wrong.passed && wrong.message.contains("finite differences"),
        "{wrong}"
    );
    assert!(!exercises::check_softplus(exercises::SoftplusPlaceholder).passed);
}

#[test]
fn exercise_2_conv_output_shape() {
    let solution = |x: [usize; 4], w: [usize; 4], s: usize, p: usize| {
        [
            x[0],
            w[0],
            (x[2] + 2 * p - w[2]) / s + 1,
            (x[3] + 2 * p - w[3]) / s + 1,
        ]
    };
    assert!(exercises::check_conv_shape(solution).passed);
    let forgot_stride = |x: [usize; 4], w: [usize; 4], _s: usize, p: usize| {
        [x[0], w[0], x[2] + 2 * p - w[2] + 1, x[3] + 2 * p - w[3] + 1]
    };
    let v = exercises::check_conv_shape(forgot_stride);
    assert!(!v.passed && v.message.contains("stride 2"), "{v}");
    assert!(!exercises::check_conv_shape(placeholders::conv_shape).passed);
    let panics = exercises::check_conv_shape(|_, _, _, _| panic!("oops"));
    assert!(!panics.passed && panics.message.contains("oops"));
}

fn option_a(x: &Var<f64>, out: usize) -> Var<f64> {
    let s = x.shape().to_vec();
    // Every second row, then every second column, from tape ops: reshape exposes pairs.
    let h = x
        .reshape(&[s[0], s[1], s[2] / 2, 2, s[3]])
        .slice(3, 0, 1)
        .reshape(&[s[0], s[1], s[2] / 2, s[3]]);
    let w = h
        .reshape(&[s[0], s[1], s[2] / 2, s[3] / 2, 2])
        .slice(4, 0, 1)
        .reshape(&[s[0], s[1], s[2] / 2, s[3] / 2]);
    let extra = out - s[1];
    let zeros = |c: usize| {
        x.tape()
            .constant(ArrayD::<f64>::zeros(vec![s[0], c, s[2] / 2, s[3] / 2]))
    };
    concat(&[&zeros(extra / 2), &w, &zeros(extra - extra / 2)], 1)
}

#[test]
fn exercise_3_option_a_shortcut() {
    assert!(
        exercises::check_option_a(option_a).passed,
        "{}",
        exercises::check_option_a(option_a)
    );
    // Padding all the zeros after the input's channels: right shape, wrong values.
    let lopsided = |x: &Var<f64>, out: usize| {
        let y = option_a(x, x.shape()[1]);
        let s = y.shape().to_vec();
        concat(
            &[
                &y,
                &x.tape()
                    .constant(ArrayD::<f64>::zeros(vec![s[0], out - s[1], s[2], s[3]])),
            ],
            1,
        )
    };
    let v = exercises::check_option_a(lopsided);
    assert!(!v.passed && v.message.contains("values differ"), "{v}");
    let v = exercises::check_option_a(|x, _| x.clone());
    assert!(!v.passed && v.message.contains("shape"), "{v}");
}

#[test]
fn exercise_4_bottleneck() {
    let solution = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        (b.bn3.forward(&b.conv3.forward(&h, m), m) + x).relu()
    };
    assert!(exercises::check_bottleneck(solution).passed);
    let relu_before_add = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        b.bn3.forward(&b.conv3.forward(&h, m), m).relu() + x
    };
    assert!(!exercises::check_bottleneck(relu_before_add).passed);
}

#[test]
fn exercise_5_pre_activation_block() {
    let solution = |b: &PreActBlock<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.conv1.forward(&b.bn1.forward(x, m).relu(), m);
        b.conv2.forward(&b.bn2.forward(&h, m).relu(), m) + x
    };
    assert!(exercises::check_preact(solution).passed);
    let post_activation = |b: &PreActBlock<f64>, x: &Var<f64>| (solution(b, x)).relu();
    assert!(!exercises::check_preact(post_activation).passed);
}

#[test]
fn exercise_6_gradient_norm_probe() {
    let solution = |blocks: &[&dyn Module<f64>], x0: &ArrayD<f64>, g: &ArrayD<f64>| {
        let tape = resgrad::Tape::new_f64();
        let mut xs = vec![tape.var(x0.clone())];
        for b in blocks {
            let next = b.forward(xs.last().unwrap(), Mode::Train);
            xs.push(next);
        }
        let grads = xs.last().unwrap().backward_with(g.clone());
        xs.iter()
            .map(|x| grads[x].iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    };
    assert!(exercises::check_gradient_probe(solution).passed);
    // Forgetting the last boundary (the output itself):
    let short = |b: &[&dyn Module<f64>], x: &ArrayD<f64>, g: &ArrayD<f64>| {
        let mut v: Vec<f64> = solution(b, x, g);
        v.pop();
        v
    };
    assert!(!exercises::check_gradient_probe(short).passed);
    assert!(!exercises::check_gradient_probe(placeholders::gradient_probe).passed);
}

#[test]
fn exercise_7_sgd_step() {
    let solution = |w: &ArrayD<f64>, g: &ArrayD<f64>, v: &ArrayD<f64>, lr: f64, m: f64, wd: f64| {
        let g = g + &(w * wd);
        let v = v * m + &g;
        (w - &(&v * lr), v)
    };
    assert!(exercises::check_sgd_step(solution).passed);
    // Decay applied after the momentum (AdamW-style), not added to the gradient:
    let decoupled =
        |w: &ArrayD<f64>, g: &ArrayD<f64>, v: &ArrayD<f64>, lr: f64, m: f64, wd: f64| {
            let v = v * m + g;
            (w - &(&v * lr) - &(w * (lr * wd)), v)
        };
    assert!(!exercises::check_sgd_step(decoupled).passed);
    assert!(!exercises::check_sgd_step(placeholders::sgd_step).passed);
}

#[test]
fn exercise_8_zero_init_residual() {
    assert!(exercises::check_zero_init(|b| b.bn2.zero_gamma()).passed);
    let v = exercises::check_zero_init(|b| b.bn1.zero_gamma());
    assert!(!v.passed && v.message.contains("which parameter"), "{v}");
    assert!(!exercises::check_zero_init(placeholders::zero_init).passed);
}

#[test]
fn exercise_9_a_value_used_three_times() {
    assert!(exercises::check_used_three_times(|x| x * x + x).passed);
    let v = exercises::check_used_three_times(|x| x.powf(2.0) + 3.0);
    assert!(!v.passed && v.message.contains("dz/dx"), "{v}");
    assert!(!exercises::check_used_three_times(placeholders::used_three_times).passed);
}

#[test]
fn exercise_10_autocorrelation() {
    let solution = |g: &[f64], k: usize| {
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        let d: Vec<f64> = g.iter().map(|v| v - mean).collect();
        d.iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>()
            / d.iter().map(|v| v * v).sum::<f64>()
    };
    assert!(exercises::check_autocorrelation(solution).passed);
    let v = exercises::check_autocorrelation(placeholders::autocorrelation);
    assert!(!v.passed && v.message.contains("mean"), "{v}");
}
