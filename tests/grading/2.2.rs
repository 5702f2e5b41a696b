{
    use resgrad::ndarray::{ArrayD, Axis};
    let unbroadcast = |g: &ArrayD<f64>, shape: &[usize]| -> ArrayD<f64> {
        let mut r = g.clone();
        while r.ndim() > shape.len() {
            r = r.sum_axis(Axis(0));
        }
        for (ax, &n) in shape.iter().enumerate() {
            if n == 1 && r.shape()[ax] != 1 {
                r = r.sum_axis(Axis(ax)).insert_axis(Axis(ax));
            }
        }
        r
    };
    resgrad::exercises::check_unbroadcast(unbroadcast)
}
