//! Chapter 02's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::CustomOp;
use resgrad::exercises;
use resgrad::ndarray::ArrayD;

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
fn exercise_2_1_softplus_backward() {
    assert!(exercises::check_softplus(Softplus { off_by: 1.0 }).passed);
    let wrong = exercises::check_softplus(Softplus { off_by: 1.02 });
    assert!(
        !wrong.passed && wrong.message.contains("finite differences"),
        "{wrong}"
    );
    assert!(!exercises::check_softplus(exercises::SoftplusPlaceholder).passed);
}
