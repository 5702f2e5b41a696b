//! Conv forward and forward+backward at the four shapes of `resgrad bench conv`, N = 128.
//!
//!     cargo bench --bench conv

use criterion::{Criterion, criterion_group, criterion_main};
#[allow(dead_code)]
#[path = "../src/bin/resgrad/workloads.rs"]
mod workloads;
use resgrad::kernels::{Conv2dGeom, fast};
use workloads::CONV_SHAPES;

fn conv(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d N=128");
    group.sample_size(10);
    for (cin, cout, hw, k) in CONV_SHAPES {
        let g = Conv2dGeom::new(&[128, cin, hw, hw], &[cout, cin, k, k], 1, k / 2).unwrap();
        let x: Vec<f32> = (0..128 * cin * hw * hw)
            .map(|i| (i % 17) as f32 * 0.1 - 0.8)
            .collect();
        let w: Vec<f32> = (0..cout * cin * k * k)
            .map(|i| (i % 13) as f32 * 0.05 - 0.3)
            .collect();
        let dy: Vec<f32> = (0..128 * cout * hw * hw)
            .map(|i| (i % 11) as f32 * 0.1 - 0.5)
            .collect();
        let (mut y, mut dx, mut dw) = (vec![0.0; dy.len()], vec![0.0; x.len()], vec![0.0; w.len()]);
        let name = format!("{k}x{k} {cin}->{cout} {hw}x{hw}");
        group.bench_function(format!("{name} forward"), |b| {
            b.iter(|| fast::conv2d_forward(&x, &w, None, &g, &mut y))
        });
        group.bench_function(format!("{name} forward+backward"), |b| {
            b.iter(|| {
                fast::conv2d_forward(&x, &w, None, &g, &mut y);
                fast::conv2d_backward_input(&dy, &w, &g, &mut dx);
                fast::conv2d_backward_weight(&x, &dy, &g, &mut dw);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, conv);
criterion_main!(benches);
