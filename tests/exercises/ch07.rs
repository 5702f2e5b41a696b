//! Chapter 07's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Mode, Module};

#[test]
fn exercise_7_1_gradient_norm_probe() {
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
