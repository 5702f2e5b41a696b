//! The NEON microkernel for aarch64: an 8 x 12 tile of C held in twenty-four 128-bit
//! registers. It is one of the microkernels of [`super::gemm`], picked at run time as
//! `Isa::Neon`, and like the x86 ones it must equal the naive triple loop,
//! [`sgemm_reference`](super::gemm::sgemm_reference) (up to summation order).
//!
//! Why 8 x 12: AArch64 has 32 vector registers of four `f32` lanes. Each step of `k` loads
//! one column of the A strip (8 numbers, two registers) and one row of the B strip (12
//! numbers, three registers), then does 24 FMAs, one per accumulator. 24 + 2 + 3 = 29
//! registers, so the tile never spills; a 12 x 12 tile would need 36 accumulators. BLIS's
//! sgemm kernel for ARMv8-A (`bli_sgemm_armv8a_asm_8x12`) has the same tile.
//!
//! Unlike AVX, NEON multiplies by one lane of a register (`vfmaq_laneq_f32`), so the eight
//! A values need no broadcast: row `i` of the tile takes `a[i]` from its lane.

use core::arch::aarch64::*;

use super::gemm::Kernel;

/// The NEON kernel, `MR x NR` = 8 x 12. It must equal
/// [`sgemm_reference`](super::gemm::sgemm_reference).
pub(super) struct Neon;

impl Kernel for Neon {
    type E = f32;
    const MR: usize = 8;
    const NR: usize = 12;
    fn supported() -> bool {
        std::arch::is_aarch64_feature_detected!("neon")
    }
    /// # Safety
    /// As [`Kernel::tile`].
    unsafe fn tile(
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: `Kernel::tile`'s contract is `neon_8x12`'s, with MR x NR = 8 x 12.
        unsafe { neon_8x12(kc, a, b, c, ldc, accumulate) }
    }
}

/// The tile: `C[8 x 12] (+)= A[8 x kc] B[kc x 12]`.
///
/// # Safety
/// `a` holds `kc * 8` floats, `b` holds `kc * 12`, `c` addresses an 8 x 12 tile with row
/// stride `ldc`, and the CPU has NEON.
#[target_feature(enable = "neon")]
unsafe fn neon_8x12(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // acc[i][j] holds columns 4j..4j+4 of row i of the tile.
    let mut acc = [[vdupq_n_f32(0.0); 3]; 8];
    // SAFETY: the loads read a[p * 8..p * 8 + 8] and b[p * 12..p * 12 + 12] for p < kc, and
    // the stores write c[i * ldc..i * ldc + 12] for i < 8: inside what the caller guarantees
    // (this function's contract), as is the CPU's NEON.
    unsafe {
        for p in 0..kc {
            let a03 = vld1q_f32(a.add(p * 8));
            let a47 = vld1q_f32(a.add(p * 8 + 4));
            let b = b.add(p * 12);
            let bv = [vld1q_f32(b), vld1q_f32(b.add(4)), vld1q_f32(b.add(8))];
            fma_row::<0>(&mut acc[0], bv, a03);
            fma_row::<1>(&mut acc[1], bv, a03);
            fma_row::<2>(&mut acc[2], bv, a03);
            fma_row::<3>(&mut acc[3], bv, a03);
            fma_row::<0>(&mut acc[4], bv, a47);
            fma_row::<1>(&mut acc[5], bv, a47);
            fma_row::<2>(&mut acc[6], bv, a47);
            fma_row::<3>(&mut acc[7], bv, a47);
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let dst = c.add(i * ldc + 4 * j);
                let v = if accumulate {
                    vaddq_f32(v, vld1q_f32(dst))
                } else {
                    v
                };
                vst1q_f32(dst, v);
            }
        }
    }
}

/// One row of the tile: `row += b * a[LANE]`, the A value read from its lane (the lane
/// must be a constant, hence one call per row rather than a loop). Inlined into
/// `neon_8x12`, which has the same target feature.
#[inline]
#[target_feature(enable = "neon")]
fn fma_row<const LANE: i32>(row: &mut [float32x4_t; 3], b: [float32x4_t; 3], a: float32x4_t) {
    for (r, b) in row.iter_mut().zip(b) {
        *r = vfmaq_laneq_f32::<LANE>(*r, b, a);
    }
}
