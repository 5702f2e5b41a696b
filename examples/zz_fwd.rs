use resgrad::kernels::{Conv2dGeom, fast};
fn main() {
    let (cin, cout, h) = (16usize, 16usize, 32usize);
    let g = Conv2dGeom::new(&[128, cin, h, h], &[cout, cin, 3, 3], 1, 1).unwrap();
    let x: Vec<f32> = (0..128 * cin * h * h)
        .map(|i| (i % 17) as f32 * 0.1)
        .collect();
    let w: Vec<f32> = (0..cout * cin * 9).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut y = vec![0.0f32; 128 * cout * g.ho * g.wo];
    let t = std::time::Instant::now();
    for _ in 0..200 {
        fast::conv2d_forward(&x, &w, None, &g, &mut y);
    }
    println!("{:.2} ms", t.elapsed().as_secs_f64() * 1e3 / 200.0);
}
