//! The double-precision matrix product, `C = A B` or `C += A B`: the blocked loop and the
//! packing of `gemm.rs`, with microkernels for `f64`. It is what gradient checks of whole
//! nets run on, so it must equal the naive triple loop, [`dgemm_reference`], to rounding.
//!
//! A 64-bit lane is twice as wide, so each tile has half the columns of its `f32`
//! namesake and the same number of accumulators: AVX-512 8 x 16 (sixteen 8-lane
//! registers), AVX2+FMA 6 x 8 (twelve 4-lane registers), portable 4 x 8. The CPU picks
//! at run time, through the same [`Isa::detect`] as the `f32` kernels.

use std::cell::RefCell;

use super::gemm::{
    ASource, Element, Isa, Kernel, MatRef, PackedA, Panel, Scratch, blocked, check_product,
};

thread_local! {
    static SCRATCH_F64: [RefCell<Vec<f64>>; 3] =
        const { [RefCell::new(Vec::new()), RefCell::new(Vec::new()), RefCell::new(Vec::new())] };
}

impl Element for f64 {
    fn gemm_with(
        isa: Isa,
        a: &impl Panel<f64>,
        b: &impl Panel<f64>,
        c: &mut [f64],
        ldc: usize,
        accumulate: bool,
    ) {
        dgemm_with(isa, a, b, c, ldc, accumulate)
    }
    fn pack_with(isa: Isa, a: &impl Panel<f64>) -> PackedA<f64> {
        let isa = supported(isa);
        let mr = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Avx512::MR,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Avx2::MR,
            _ => Portable::MR,
        };
        PackedA::packed(isa, mr, a)
    }
    fn gemm_packed(a: &PackedA<f64>, b: &impl Panel<f64>, c: &mut [f64], ldc: usize, acc: bool) {
        dgemm_packed(a, b, c, ldc, acc)
    }
    fn with_scratch<R>(which: Scratch, f: impl FnOnce(&mut Vec<f64>) -> R) -> R {
        SCRATCH_F64.with(|s| f(&mut s[which as usize].borrow_mut()))
    }
}

/// `isa` if this CPU can run its `f64` kernel, else the portable one.
fn supported(isa: Isa) -> Isa {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if Avx512::supported() => Isa::Avx512,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if Avx2::supported() => Isa::Avx2,
        _ => Isa::Portable,
    }
}

/// `C = A B` (or `C += A B` if `accumulate`) in `f64`, C row-major with row stride `ldc`,
/// with the fastest kernel this CPU has. Single-threaded, like [`sgemm`](super::gemm::sgemm).
pub fn dgemm(
    a: &impl Panel<f64>,
    b: &impl Panel<f64>,
    c: &mut [f64],
    ldc: usize,
    accumulate: bool,
) {
    dgemm_with(Isa::detect(), a, b, c, ldc, accumulate)
}

/// [`dgemm`] with a chosen kernel (tests run every kernel the CPU has).
pub fn dgemm_with(
    isa: Isa,
    a: &impl Panel<f64>,
    b: &impl Panel<f64>,
    c: &mut [f64],
    ldc: usize,
    accumulate: bool,
) {
    let (a_shape, b_shape) = ((a.rows(), a.cols()), (b.rows(), b.cols()));
    let dims = check_product("dgemm", a_shape, b_shape, c.len(), ldc);
    let src = ASource::OnTheFly(a);
    match supported(isa) {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => blocked::<Avx512, _>(dims, src, b, c, ldc, accumulate),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => blocked::<Avx2, _>(dims, src, b, c, ldc, accumulate),
        _ => blocked::<Portable, _>(dims, src, b, c, ldc, accumulate),
    }
}

/// `C = A B` (or `C += A B`) in `f64` with an A packed beforehand
/// ([`Element::pack_with`]).
pub fn dgemm_packed(
    a: &PackedA<f64>,
    b: &impl Panel<f64>,
    c: &mut [f64],
    ldc: usize,
    accumulate: bool,
) {
    let dims = check_product(
        "dgemm_packed",
        (a.m, a.k),
        (b.rows(), b.cols()),
        c.len(),
        ldc,
    );
    let src: ASource<f64, MatRef<f64>> = ASource::Packed(a);
    // `pack_with` only records a kernel the CPU supports.
    match a.isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => blocked::<Avx512, _>(dims, src, b, c, ldc, accumulate),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => blocked::<Avx2, _>(dims, src, b, c, ldc, accumulate),
        _ => blocked::<Portable, _>(dims, src, b, c, ldc, accumulate),
    }
}

/// The naive triple loop that every `f64` kernel must equal (up to summation order).
pub fn dgemm_reference(
    a: &MatRef<f64>,
    b: &MatRef<f64>,
    c: &mut [f64],
    ldc: usize,
    accumulate: bool,
) {
    let (m, k, n) = check_product("dgemm_reference", a.shape(), b.shape(), c.len(), ldc);
    for i in 0..m {
        for j in 0..n {
            let mut acc = if accumulate { c[i * ldc + j] } else { 0.0 };
            for p in 0..k {
                // SAFETY: i < m and p < k are inside A (m x k), p < k and j < n inside B
                // (k x n): `check_product` checked that A's columns are B's rows.
                acc += unsafe { a.at(i, p) * b.at(p, j) };
            }
            c[i * ldc + j] = acc;
        }
    }
}

// ---- the microkernels ----

struct Portable;

impl Kernel for Portable {
    type E = f64;
    const MR: usize = 4;
    const NR: usize = 8;
    fn supported() -> bool {
        true
    }
    /// # Safety
    /// As [`Kernel::tile`].
    unsafe fn tile(
        kc: usize,
        a: *const f64,
        b: *const f64,
        c: *mut f64,
        ldc: usize,
        accumulate: bool,
    ) {
        let mut acc = [[0f64; 8]; 4];
        for p in 0..kc {
            // SAFETY: p < kc, and the caller guarantees kc * MR values behind a and kc * NR
            // behind b (`Kernel::tile`'s contract); [f64; N] has f64's alignment.
            let (ap, bp) = unsafe {
                (
                    &*(a.add(p * 4) as *const [f64; 4]),
                    &*(b.add(p * 8) as *const [f64; 8]),
                )
            };
            for i in 0..4 {
                for j in 0..8 {
                    acc[i][j] += ap[i] * bp[j];
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                // SAFETY: i < MR and j < NR, and the caller guarantees an MR x NR tile at c
                // with row stride ldc (`Kernel::tile`'s contract).
                unsafe {
                    let dst = c.add(i * ldc + j);
                    *dst = if accumulate { *dst + v } else { v };
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx2 {
    type E = f64;
    const MR: usize = 6;
    const NR: usize = 8;
    fn supported() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    /// # Safety
    /// As [`Kernel::tile`].
    unsafe fn tile(
        kc: usize,
        a: *const f64,
        b: *const f64,
        c: *mut f64,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: `Kernel::tile`'s contract is `avx2_6x8`'s, with MR x NR = 6 x 8.
        unsafe { avx2_6x8(kc, a, b, c, ldc, accumulate) }
    }
}

/// The AVX2+FMA tile: `C[6 x 8] (+)= A[6 x kc] B[kc x 8]`, two 4-lane registers per row.
///
/// # Safety
/// `a` holds `kc * 6` values, `b` holds `kc * 8`, `c` addresses a 6 x 8 tile with row
/// stride `ldc`, and the CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_6x8(
    kc: usize,
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    ldc: usize,
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    // SAFETY: the loads read b[p * 8..p * 8 + 8] and a[p * 6 + i] for p < kc, i < 6, and the
    // stores write c[i * ldc..i * ldc + 8] for i < 6: inside what the caller guarantees
    // (this function's contract), as is the CPU's AVX2 and FMA.
    unsafe {
        let mut c0 = [_mm256_setzero_pd(); 6];
        let mut c1 = [_mm256_setzero_pd(); 6];
        for p in 0..kc {
            let b0 = _mm256_loadu_pd(b.add(p * 8));
            let b1 = _mm256_loadu_pd(b.add(p * 8 + 4));
            for i in 0..6 {
                let av = _mm256_broadcast_sd(&*a.add(p * 6 + i));
                c0[i] = _mm256_fmadd_pd(av, b0, c0[i]);
                c1[i] = _mm256_fmadd_pd(av, b1, c1[i]);
            }
        }
        for i in 0..6 {
            let row = c.add(i * ldc);
            if accumulate {
                c0[i] = _mm256_add_pd(c0[i], _mm256_loadu_pd(row));
                c1[i] = _mm256_add_pd(c1[i], _mm256_loadu_pd(row.add(4)));
            }
            _mm256_storeu_pd(row, c0[i]);
            _mm256_storeu_pd(row.add(4), c1[i]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx512 {
    type E = f64;
    const MR: usize = 8;
    const NR: usize = 16;
    fn supported() -> bool {
        is_x86_feature_detected!("avx512f")
    }
    /// # Safety
    /// As [`Kernel::tile`].
    unsafe fn tile(
        kc: usize,
        a: *const f64,
        b: *const f64,
        c: *mut f64,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: `Kernel::tile`'s contract is `avx512_8x16`'s, with MR x NR = 8 x 16.
        unsafe { avx512_8x16(kc, a, b, c, ldc, accumulate) }
    }
}

/// The AVX-512 tile: `C[8 x 16] (+)= A[8 x kc] B[kc x 16]`, two 8-lane registers per row.
///
/// # Safety
/// `a` holds `kc * 8` values, `b` holds `kc * 16`, `c` addresses an 8 x 16 tile with row
/// stride `ldc`, and the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_8x16(
    kc: usize,
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    ldc: usize,
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    // SAFETY: the loads read b[p * 16..p * 16 + 16] and a[p * 8 + i] for p < kc, i < 8, and
    // the stores write c[i * ldc..i * ldc + 16] for i < 8: inside what the caller guarantees
    // (this function's contract), as is the CPU's AVX-512F.
    unsafe {
        let mut c0 = [_mm512_setzero_pd(); 8];
        let mut c1 = [_mm512_setzero_pd(); 8];
        for p in 0..kc {
            let b0 = _mm512_loadu_pd(b.add(p * 16));
            let b1 = _mm512_loadu_pd(b.add(p * 16 + 8));
            for i in 0..8 {
                let av = _mm512_set1_pd(*a.add(p * 8 + i));
                c0[i] = _mm512_fmadd_pd(av, b0, c0[i]);
                c1[i] = _mm512_fmadd_pd(av, b1, c1[i]);
            }
        }
        for i in 0..8 {
            let row = c.add(i * ldc);
            if accumulate {
                c0[i] = _mm512_add_pd(c0[i], _mm512_loadu_pd(row));
                c1[i] = _mm512_add_pd(c1[i], _mm512_loadu_pd(row.add(8)));
            }
            _mm512_storeu_pd(row, c0[i]);
            _mm512_storeu_pd(row.add(8), c1[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, seed: u32) -> Vec<f64> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f64 / 500.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_f64_kernel_equals_the_triple_loop_on_awkward_shapes() {
        for isa in Isa::available() {
            for &(m, n, k) in &[
                (1, 1, 1),
                (7, 17, 5),
                (8, 16, 256),
                (17, 70, 300),
                (130, 40, 9),
                (3, 2100, 20),
                (13, 9, 800),
            ] {
                for (transpose_b, accumulate) in [(false, false), (true, true)] {
                    let a = filled(m * k, 1);
                    let bdata = filled(k * n, 2);
                    let b = if transpose_b {
                        MatRef::transposed(&bdata, n, k)
                    } else {
                        MatRef::row_major(&bdata, k, n)
                    };
                    let ldc = n + 3;
                    let mut c = filled(m * ldc, 3);
                    let mut want = c.clone();
                    let a = MatRef::row_major(&a, m, k);
                    dgemm_with(isa, &a, &b, &mut c, ldc, accumulate);
                    dgemm_reference(&a, &b, &mut want, ldc, accumulate);
                    let mut packed = filled(m * ldc, 3);
                    dgemm_packed(&f64::pack_with(isa, &a), &b, &mut packed, ldc, accumulate);
                    // f64 rounding on sums of up to 800 products of size <= 1.
                    let scale = want.iter().fold(1.0f64, |s, v| s.max(v.abs()));
                    for (i, ((x, p), y)) in c.iter().zip(&packed).zip(&want).enumerate() {
                        assert!(
                            (x - y).abs() <= 1e-12 * scale && (p - y).abs() <= 1e-12 * scale,
                            "{isa:?} {m}x{n}x{k} at {i}: {x} (packed {p}) vs {y}"
                        );
                    }
                }
            }
        }
    }
}
