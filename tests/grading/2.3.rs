{
    use resgrad::{CustomOp, ndarray::{ArrayD, Axis}};
    #[derive(Clone)]
    struct MySoftmax;
    impl CustomOp<f64> for MySoftmax {
        fn name(&self) -> &str { "my_softmax" }
        fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
            // softmax along axis 1 of [N, C], with each row's max subtracted
            let m = x[0].map_axis(Axis(1), |r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)));
            let e = (x[0] - &m.insert_axis(Axis(1))).mapv(f64::exp);
            let s = e.sum_axis(Axis(1)).insert_axis(Axis(1));
            e / s
        }
        fn backward(&self, _x: &[&ArrayD<f64>], p: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
            // z̄_j = p_j (g_j - Σ_i g_i p_i), per row
            let dot = (g * p).sum_axis(Axis(1)).insert_axis(Axis(1));
            vec![p * &(g - &dot)]
        }
    }
    resgrad::exercises::check_softmax_backward(MySoftmax)
}
