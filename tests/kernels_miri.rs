//! The fast kernels' portable paths at sizes Miri runs in seconds: `scripts/miri` runs this
//! file under Miri (`cargo +nightly miri test --test kernels_miri`), which checks every
//! read, write and pointer of the `unsafe` code on the way (out of bounds, uninitialised,
//! aliasing). Natively it is one more test of the kernels against their references.
//!
//! Miri cannot run most SIMD intrinsics, and it reports every CPU feature that the build
//! did not enable as absent, so under Miri [`Isa::detect`] picks the portable kernel (as
//! `RESGRAD_ISA=portable` does on a real CPU) and the AVX2, AVX-512 and NEON microkernels
//! are not run here: `tests/kernels_fast_vs_reference.rs` holds them to the reference.
//!
//! Covered: the portable `f32` and `f64` GEMM tiles, full and edge, with A packed on the
//! fly and beforehand; `MatRef`'s packing (strided reads and row copies of 8, 16, 32 and
//! other widths); the conv kernels (im2col, the in-place im2col panel, the pixels-major
//! weight-gradient panel, col2im), which drive the same GEMM; the elementwise maps, on the
//! calling thread and over rayon's tasks; batch norm's apply and backward, with and without
//! the fused ReLU and shortcut, on one task and on several.
//!
//! The tests whose names end in `over_threads` go through rayon's thread pool, whose
//! crossbeam-epoch breaks Miri's default aliasing model (Stacked Borrows) in its own code
//! and keeps Tree Borrows; `scripts/miri` runs them under Tree Borrows and the others under
//! Stacked Borrows.

use resgrad::Float;
use resgrad::kernels::fast::dgemm::{dgemm_packed, dgemm_reference, dgemm_with};
use resgrad::kernels::fast::elementwise::{CHUNK, map1, map2, update2};
use resgrad::kernels::fast::gemm::{
    Element, Isa, MatRef, PackedA, Panel, sgemm_packed, sgemm_reference, sgemm_with,
};
use resgrad::kernels::{Conv2dGeom, fast, reference};

/// Values in [-1, 1), the same in `f32` and `f64`.
fn values<T: Float>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::cast((s >> 40) as f64 / (1u64 << 23) as f64 - 1.0)
        })
        .collect()
}

fn assert_close<T: Float>(what: &str, got: &[T], want: &[T], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(1.0, |m: f64, v| m.max(v.as_f64().abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g.as_f64() - w.as_f64()).abs() <= tolerance * scale,
            "{what}: at {i}, {g} vs {w}"
        );
    }
}

/// Under Miri the portable kernel is the one that runs: say so, so that a change to the
/// detection cannot make this file test nothing unsafe.
#[test]
fn under_miri_the_portable_kernel_runs() {
    if cfg!(miri) {
        assert_eq!(Isa::available(), vec![Isa::Portable]);
        assert_eq!(Isa::detect(), Isa::Portable);
    }
}

/// (m, n, k): one element; a full portable tile (4 x 16 in f32, 4 x 8 in f64) and more;
/// edges on both sides.
const SHAPES: [(usize, usize, usize); 4] = [(1, 1, 1), (4, 16, 3), (8, 32, 2), (5, 19, 4)];

#[test]
fn portable_sgemm_equals_the_triple_loop() {
    for (m, n, k) in SHAPES {
        for (transposed, accumulate) in [(false, false), (true, true)] {
            let a = values::<f32>(m * k, 1);
            let bdata = values::<f32>(k * n, 2);
            let b = if transposed {
                MatRef::transposed(&bdata, n, k)
            } else {
                MatRef::row_major(&bdata, k, n)
            };
            let a = MatRef::row_major(&a, m, k);
            let ldc = n + 1;
            let c0 = values::<f32>(m * ldc, 3);
            let mut want = c0.clone();
            sgemm_reference(&a, &b, &mut want, ldc, accumulate);
            let mut c = c0.clone();
            sgemm_with(Isa::Portable, &a, &b, &mut c, ldc, accumulate);
            assert_close(&format!("sgemm {m}x{n}x{k}"), &c, &want, 1e-5);
            let mut c = c0.clone();
            sgemm_packed(
                &PackedA::with(Isa::Portable, &a),
                &b,
                &mut c,
                ldc,
                accumulate,
            );
            assert_close(&format!("sgemm_packed {m}x{n}x{k}"), &c, &want, 1e-5);
        }
    }
}

#[test]
fn portable_dgemm_equals_the_triple_loop() {
    for (m, n, k) in SHAPES {
        for (transposed, accumulate) in [(false, false), (true, true)] {
            let a = values::<f64>(m * k, 4);
            let bdata = values::<f64>(k * n, 5);
            let b = if transposed {
                MatRef::transposed(&bdata, n, k)
            } else {
                MatRef::row_major(&bdata, k, n)
            };
            let a = MatRef::row_major(&a, m, k);
            let ldc = n + 2;
            let c0 = values::<f64>(m * ldc, 6);
            let mut want = c0.clone();
            dgemm_reference(&a, &b, &mut want, ldc, accumulate);
            let mut c = c0.clone();
            dgemm_with(Isa::Portable, &a, &b, &mut c, ldc, accumulate);
            assert_close(&format!("dgemm {m}x{n}x{k}"), &c, &want, 1e-12);
            let mut c = c0.clone();
            dgemm_packed(
                &f64::pack_with(Isa::Portable, &a),
                &b,
                &mut c,
                ldc,
                accumulate,
            );
            assert_close(&format!("dgemm_packed {m}x{n}x{k}"), &c, &want, 1e-12);
        }
    }
}

/// Every packed value is the element the packing's formula names, or zero past the block.
#[test]
fn packing_puts_each_element_where_its_formula_says() {
    let (rows, cols) = (5, 37);
    let data = values::<f32>(rows * cols, 7);
    let element = |i: usize, j: usize| data[i * cols + j];
    for transposed in [false, true] {
        // A transposed view reads element by element, a row-major one copies runs.
        let tdata: Vec<f32> = (0..rows * cols)
            .map(|t| element(t % rows, t / rows))
            .collect();
        let view = if transposed {
            MatRef::transposed(&tdata, cols, rows)
        } else {
            MatRef::row_major(&data, rows, cols)
        };
        // (r0, kr, c0, nc, nr): strip widths of 32, 16, 8 and 12, with a short last strip.
        let blocks: [[usize; 5]; 4] = [
            [1, 3, 2, 35, 32],
            [0, 5, 0, 37, 16],
            [2, 2, 5, 17, 8],
            [0, 1, 3, 7, 12],
        ];
        for [r0, kr, c0, nc, nr] in blocks {
            let mut out = vec![f32::NAN; nc.div_ceil(nr) * nr * kr];
            view.pack(r0, kr, c0, nc, nr, &mut out);
            for (idx, &v) in out.iter().enumerate() {
                let (t, r, j) = (idx / (nr * kr), idx / nr % kr, idx % nr);
                let col = t * nr + j;
                let want = if col < nc {
                    element(r0 + r, c0 + col)
                } else {
                    0.0
                };
                assert_eq!(v, want, "pack {r0} {kr} {c0} {nc} {nr} at {idx}");
            }
        }
        // (r0, mc, c0, kc, mr): strips of 4, 8 and 6 rows.
        let blocks: [[usize; 5]; 3] = [[0, 5, 0, 37, 4], [1, 3, 30, 7, 8], [2, 3, 1, 2, 6]];
        for [r0, mc, c0, kc, mr] in blocks {
            let mut out = vec![f32::NAN; mc.div_ceil(mr) * mr * kc];
            view.pack_transposed(r0, mc, c0, kc, mr, &mut out);
            for (idx, &v) in out.iter().enumerate() {
                let (s, c, i) = (idx / (mr * kc), idx / mr % kc, idx % mr);
                let row = s * mr + i;
                let want = if row < mc {
                    element(r0 + row, c0 + c)
                } else {
                    0.0
                };
                assert_eq!(v, want, "pack_transposed {r0} {mc} {c0} {kc} {mr} at {idx}");
            }
        }
    }
}

/// A conv through every path of the fast kernels: the in-place im2col panel (stride 1,
/// same width), the pixels-major weight gradient (8 or more input channels), im2col and
/// col2im (stride 2), and the pointwise product (1x1). The conv kernels hand their images
/// to rayon whatever the size.
#[test]
fn the_conv_kernels_equal_the_reference_over_threads() {
    for (cin, k, stride, pad) in [(8, 3, 1, 1), (2, 3, 2, 1), (4, 1, 1, 0)] {
        let (n, h, w, cout) = (2, 4, 4, 2);
        let g = Conv2dGeom::new(&[n, cin, h, w], &[cout, cin, k, k], stride, pad).unwrap();
        let x = values::<f32>(n * cin * h * w, 8);
        let wt = values::<f32>(cout * cin * k * k, 9);
        let bias = values::<f32>(cout, 10);
        let dy = values::<f32>(n * cout * g.ho * g.wo, 11);
        let what = format!("conv {cin} ch, {k}x{k}, stride {stride}, pad {pad}");

        let (mut y, mut y_ref) = (vec![0.0; dy.len()], vec![0.0; dy.len()]);
        fast::conv2d_forward(&x, &wt, Some(&bias), &g, &mut y);
        reference::conv2d_forward(&x, &wt, Some(&bias), &g, &mut y_ref);
        assert_close(&format!("{what}: forward"), &y, &y_ref, 1e-5);

        let (mut dx, mut dx_ref) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        fast::conv2d_backward_input(&dy, &wt, &g, &mut dx);
        reference::conv2d_backward_input(&dy, &wt, &g, &mut dx_ref);
        assert_close(&format!("{what}: dx"), &dx, &dx_ref, 1e-5);

        let (mut dw, mut dw_ref) = (vec![0.0; wt.len()], vec![0.0; wt.len()]);
        fast::conv2d_backward_weight(&x, &dy, &g, &mut dw);
        reference::conv2d_backward_weight(&x, &dy, &g, &mut dw_ref);
        assert_close(&format!("{what}: dw"), &dw, &dw_ref, 1e-5);
    }
}

/// The maps write their output without zeroing it first: on the calling thread up to
/// [`CHUNK`] values.
#[test]
fn the_elementwise_maps_write_every_output() {
    maps_write_every_output(&[0, 1, 7, 33]);
}

/// ... and in rayon's tasks above it.
#[test]
fn the_elementwise_maps_write_every_output_over_threads() {
    maps_write_every_output(&[CHUNK + 3]);
}

fn maps_write_every_output(lens: &[usize]) {
    for &len in lens {
        let a = values::<f32>(len, 12);
        let b = values::<f32>(len, 13);
        let sum = map2(&a, &b, |x, y| x + y);
        assert!(sum.iter().zip(&a).zip(&b).all(|((s, x), y)| *s == x + y));
        let relu = map1(&a, |x| if x > 0.0 { x } else { 0.0 });
        assert!(relu.iter().zip(&a).all(|(r, x)| *r == x.max(0.0)));
        let mut acc = a.clone();
        update2(&mut acc, &b, |x, y| x * y);
        assert!(acc.iter().zip(&a).zip(&b).all(|((p, x), y)| *p == x * y));
    }
}

/// Batch norm's apply and backward, every tail, on the calling thread (up to [`CHUNK`]
/// values) ...
#[test]
fn batch_norm_equals_the_reference() {
    batch_norm_against_the_reference(&[(2, 3, 5), (1, 1, 1)]);
}

/// ... and in several tasks.
#[test]
fn batch_norm_equals_the_reference_over_threads() {
    batch_norm_against_the_reference(&[(3, 2, CHUNK / 4 + 3)]);
}

fn batch_norm_against_the_reference(shapes: &[(usize, usize, usize)]) {
    for &(n, c, plane) in shapes {
        let len = n * c * plane;
        let dims = (n, c, plane);
        let x = values::<f32>(len, 14);
        let shortcut = values::<f32>(len, 15);
        let dy = values::<f32>(len, 16);
        let mean = values::<f32>(c, 17);
        let inv_std: Vec<f32> = values::<f32>(c, 18).iter().map(|v| 1.5 + v).collect();
        let gamma = values::<f32>(c, 19);
        let beta = values::<f32>(c, 20);
        let what = format!("batch norm {dims:?}");

        let mut y_ref = vec![0.0; len];
        reference::batch_norm_apply(&x, dims, &mean, &inv_std, &gamma, &beta, &mut y_ref);
        let relu = |v: f32| if v > 0.0 { v } else { 0.0 };
        let apply = |tail| fast::batch_norm_apply(&x, dims, &mean, &inv_std, &gamma, &beta, tail);
        assert_close(&format!("{what}: apply"), &apply(None), &y_ref, 1e-5);
        let want: Vec<f32> = y_ref.iter().map(|&v| relu(v)).collect();
        assert_close(&format!("{what}: relu"), &apply(Some(None)), &want, 1e-5);
        let want: Vec<f32> = y_ref
            .iter()
            .zip(&shortcut)
            .map(|(&v, &s)| relu(v + s))
            .collect();
        let added = apply(Some(Some(&shortcut)));
        assert_close(&format!("{what}: add relu"), &added, &want, 1e-5);

        for training in [false, true] {
            let (dx, dg, db, masked) =
                fast::batch_norm_backward(&x, &dy, None, dims, &mean, &inv_std, &gamma, training);
            assert!(masked.is_none());
            let (dx_r, dg_r, db_r) =
                reference::batch_norm_backward(&x, &dy, dims, &mean, &inv_std, &gamma, training);
            let what = format!("{what}, training {training}");
            assert_close(&format!("{what}: dx"), &dx, &dx_r, 1e-4);
            assert_close(&format!("{what}: dgamma"), &dg, &dg_r, 1e-4);
            assert_close(&format!("{what}: dbeta"), &db, &db_r, 1e-4);

            // With the ReLU's output: dy masked by y > 0 first, and returned.
            let (dx, _, _, masked) = fast::batch_norm_backward(
                &x,
                &dy,
                Some(&added),
                dims,
                &mean,
                &inv_std,
                &gamma,
                training,
            );
            let want: Vec<f32> = dy
                .iter()
                .zip(&added)
                .map(|(&d, &y)| if y > 0.0 { d } else { 0.0 })
                .collect();
            assert_eq!(masked.as_deref(), Some(&want[..]), "{what}: masked");
            let (dx_r, _, _) =
                reference::batch_norm_backward(&x, &want, dims, &mean, &inv_std, &gamma, training);
            assert_close(&format!("{what}: dx masked"), &dx, &dx_r, 1e-4);
        }
    }
}
