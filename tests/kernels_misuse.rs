//! A public kernel called wrongly panics with a message that names the function, the
//! shapes or ranges it was given, and the rule they break; it never reads or writes outside
//! its slices. Each test is one hole found by reading the crate's `unsafe` code: before the
//! fix, each of these calls read or wrote out of bounds, or returned uninitialised floats,
//! without a word (the comment above each test says what happened).
//!
//! Small enough to run under Miri too (`scripts/miri`).

use std::cell::Cell;

use resgrad::kernels::fast::{
    self,
    dgemm::{dgemm_reference, dgemm_with},
    gemm::{Isa, MatRef, PackedA, Panel, sgemm_packed, sgemm_reference, sgemm_with},
};

// ---- the reference triple loops ----

// Before: `b.at(4, j)` of a 3x2 B read data[8 + j] of a 6-value slice (`get_unchecked`).
#[test]
#[should_panic(expected = "sgemm_reference: A is 2x5, B is 3x2; A's columns must equal B's rows")]
fn sgemm_reference_refuses_a_2x5_times_a_3x2() {
    let (a, b) = ([1.0f32; 10], [1.0f32; 6]);
    let mut c = [0.0f32; 4];
    let (a, b) = (MatRef::row_major(&a, 2, 5), MatRef::row_major(&b, 3, 2));
    sgemm_reference(&a, &b, &mut c, 2, false);
}

// Before: as for `sgemm_reference`, in f64.
#[test]
#[should_panic(expected = "dgemm_reference: A is 2x5, B is 3x2; A's columns must equal B's rows")]
fn dgemm_reference_refuses_a_2x5_times_a_3x2() {
    let (a, b) = ([1.0f64; 10], [1.0f64; 6]);
    let mut c = [0.0f64; 4];
    let (a, b) = (MatRef::row_major(&a, 2, 5), MatRef::row_major(&b, 3, 2));
    dgemm_reference(&a, &b, &mut c, 2, false);
}

// ---- packing a MatRef ----

// Before: element (10, 0) of the transposed 2x2 view read data[10] of a 4-value slice.
#[test]
#[should_panic(
    expected = "MatRef::pack: rows 10..10+1 and columns 0..0+1 were asked of a 2x2 matrix; \
                the block must lie inside it"
)]
fn pack_refuses_rows_outside_the_matrix() {
    let d = [1.0f32, 2.0, 3.0, 4.0];
    let mut out = [0.0f32; 1];
    MatRef::transposed(&d, 2, 2).pack(10, 1, 0, 1, 1, &mut out);
}

// Before: a row-major view copies each strip row as one run, so columns 1..4 of row 0 of a
// 2x2 matrix silently packed [2, 3, 4]: row 1's values, as if they were row 0's.
#[test]
#[should_panic(
    expected = "MatRef::pack: rows 0..0+1 and columns 1..1+3 were asked of a 2x2 matrix; \
                the block must lie inside it"
)]
fn pack_refuses_columns_past_the_end_of_a_row() {
    let d = [1.0f32, 2.0, 3.0, 4.0];
    let mut out = [0.0f32; 4];
    MatRef::row_major(&d, 2, 2).pack(0, 1, 1, 3, 4, &mut out);
}

// Before: element (0, 5) of a 2x2 matrix read data[5] of a 4-value slice.
#[test]
#[should_panic(
    expected = "MatRef::pack_transposed: rows 0..0+1 and columns 5..5+1 were asked of a 2x2 \
                matrix; the block must lie inside it"
)]
fn pack_transposed_refuses_columns_outside_the_matrix() {
    let d = [1.0f32, 2.0, 3.0, 4.0];
    let mut out = [0.0f32; 1];
    MatRef::row_major(&d, 2, 2).pack_transposed(0, 1, 5, 1, 1, &mut out);
}

// Before: an `out` with room for one strip of two got one, and the second strip was
// silently left out.
#[test]
#[should_panic(
    expected = "MatRef::pack: out has 4 values, the block needs 8 (ceil(4 / 2) strips of 2 x 2); \
                out must hold every strip"
)]
fn pack_refuses_an_out_too_short_for_its_strips() {
    let d = [1.0f32; 8];
    let mut out = [0.0f32; 4];
    MatRef::row_major(&d, 2, 4).pack(0, 2, 0, 4, 2, &mut out);
}

// ---- MatRef::new and C's extent: arithmetic that cannot wrap ----

// Before: (2 - 1) 2^63 + (2 - 1) 2^63 wrapped to 0 in a release build, inside a 1-value
// slice, so the view was accepted and element (1, 0) read data[2^63]. (A debug build
// stopped at the overflow, with no word of the view.)
#[test]
#[should_panic(
    expected = "MatRef::new: a 2x2 view with strides (9223372036854775808, 9223372036854775808) \
                needs more than usize::MAX elements, the slice has 1"
)]
fn matref_new_refuses_strides_whose_extent_wraps() {
    MatRef::new(&[1.0f32], 2, 2, 1 << 63, 1 << 63);
}

// Before: (2 - 1) usize::MAX + 1 wrapped to 0 in a release build, so C passed its check;
// with four rows and a stride whose 3 ldc + 16 wraps, the full-tile kernel wrote through
// pointers far outside C.
#[test]
#[should_panic(
    expected = "sgemm: C needs 2x1 with row stride 18446744073709551615, that is more than \
                usize::MAX values, and ldc >= n; the slice has 2"
)]
fn sgemm_refuses_a_c_whose_extent_wraps() {
    let (a, b) = ([1.0f32; 2], [1.0f32; 1]);
    let mut c = [0.0f32; 2];
    let (a, b) = (MatRef::row_major(&a, 2, 1), MatRef::row_major(&b, 1, 1));
    sgemm_with(Isa::Portable, &a, &b, &mut c, usize::MAX, false);
}

// ---- the blocked GEMM asks a panel its shape once ----

/// A B that answers `cols()` with 1 the first time and with its real width after: the
/// `Panel` trait is safe, so an implementation may do this.
struct Shifty<'a, E> {
    inner: MatRef<'a, E>,
    asked: Cell<usize>,
}

impl<E: resgrad::Float> Panel<E> for Shifty<'_, E> {
    fn rows(&self) -> usize {
        self.inner.rows()
    }
    fn cols(&self) -> usize {
        self.asked.set(self.asked.get() + 1);
        if self.asked.get() == 1 {
            1
        } else {
            self.inner.cols()
        }
    }
    fn pack(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [E]) {
        self.inner.pack(r0, kr, c0, nc, nr, out)
    }
    fn pack_transposed(
        &self,
        r0: usize,
        mc: usize,
        c0: usize,
        kc: usize,
        mr: usize,
        out: &mut [E],
    ) {
        self.inner.pack_transposed(r0, mc, c0, kc, mr, out)
    }
}

const GUARD: f32 = -7.0;

/// C is the first 4 values of `buf` (4 x 1, row stride 1); the rest is a guard that a
/// product must leave alone.
fn guarded<E: resgrad::Float>() -> Vec<E> {
    let mut buf = vec![E::zero(); 4];
    buf.extend(std::iter::repeat_n(E::cast(GUARD as f64), 60));
    buf
}

fn assert_guard_intact<E: resgrad::Float>(what: &str, buf: &[E]) {
    let touched: Vec<usize> = (4..buf.len())
        .filter(|&i| buf[i] != E::cast(GUARD as f64))
        .collect();
    assert!(
        touched.is_empty(),
        "{what}: C is 4x1, but values past it were written, at {touched:?}"
    );
}

// Before: `sgemm_with` checked C against the first answer (1 column), then `blocked` asked
// again and got 16: the portable 4 x 16 tile wrote 64 values into a 4-value C, the 60 past
// it outside the slice.
#[test]
fn sgemm_writes_only_the_c_it_checked_when_a_panel_changes_its_answer() {
    let a: Vec<f32> = (0..12).map(|v| v as f32 * 0.25 - 1.0).collect();
    let b: Vec<f32> = (0..48).map(|v| v as f32 * 0.125 - 2.0).collect();
    let a = MatRef::row_major(&a, 4, 3);
    // Column 0 of B, as a 3x1 view: what C = A B must be, with B one column wide.
    let mut want = [0.0f32; 4];
    sgemm_reference(&a, &MatRef::new(&b, 3, 1, 16, 1), &mut want, 1, false);

    let shifty = |b| Shifty {
        inner: MatRef::row_major(b, 3, 16),
        asked: Cell::new(0),
    };
    let mut buf = guarded::<f32>();
    sgemm_with(Isa::Portable, &a, &shifty(&b), &mut buf[..4], 1, false);
    assert_guard_intact("sgemm_with", &buf);
    assert_eq!(&buf[..4], &want);

    let mut buf = guarded::<f32>();
    let packed = PackedA::with(Isa::Portable, &a);
    sgemm_packed(&packed, &shifty(&b), &mut buf[..4], 1, false);
    assert_guard_intact("sgemm_packed", &buf);
    assert_eq!(&buf[..4], &want);
}

// Before: as for `sgemm`, with the portable f64 tile (4 x 8) writing 32 values.
#[test]
fn dgemm_writes_only_the_c_it_checked_when_a_panel_changes_its_answer() {
    let a: Vec<f64> = (0..12).map(|v| v as f64 * 0.25 - 1.0).collect();
    let b: Vec<f64> = (0..24).map(|v| v as f64 * 0.125 - 2.0).collect();
    let a = MatRef::row_major(&a, 4, 3);
    let mut want = [0.0f64; 4];
    dgemm_reference(&a, &MatRef::new(&b, 3, 1, 8, 1), &mut want, 1, false);

    let b = Shifty {
        inner: MatRef::row_major(&b, 3, 8),
        asked: Cell::new(0),
    };
    let mut buf = guarded::<f64>();
    dgemm_with(Isa::Portable, &a, &b, &mut buf[..4], 1, false);
    assert_guard_intact("dgemm_with", &buf);
    assert_eq!(&buf[..4], &want);
}

// ---- batch norm: an absent input is None, and every length is checked ----

// Before: an empty shortcut was taken for "no shortcut", the loop that adds it wrote
// nothing, and the four floats returned were never initialised.
#[test]
#[should_panic(
    expected = "batch_norm_apply: the shortcut has length 0 and x 4; they must have the same length"
)]
fn batch_norm_apply_refuses_an_empty_shortcut() {
    let x = [1.0f32, -2.0, 3.0, -4.0];
    let one = [1.0f32];
    let zero = [0.0f32];
    fast::batch_norm_apply(&x, (1, 1, 4), &zero, &one, &one, &zero, Some(Some(&[])));
}

// Before: with n = 0, `dy` (empty) was taken for an absent input, and the four floats of
// dx were never written.
#[test]
#[should_panic(
    expected = "batch_norm_backward: x has 4 values, but dims (n, c, plane) = (0, 1, 4) make 0; \
                x must hold n c plane values"
)]
fn batch_norm_backward_refuses_n_0_with_a_non_empty_x() {
    let x = [1.0f32, -2.0, 3.0, -4.0];
    let one = [1.0f32];
    fast::batch_norm_backward(&x, &[], None, (0, 1, 4), &[0.0], &one, &one, true);
}

// Before: 5 values in planes of 2 left the masked gradient's last value, in a short third
// plane with no entry for its sums, unwritten.
#[test]
#[should_panic(
    expected = "batch_norm_backward: x has 5 values, but dims (n, c, plane) = (1, 1, 2) make 2"
)]
fn batch_norm_backward_refuses_dims_that_do_not_cover_x() {
    let x = [1.0f32, -2.0, 3.0, -4.0, 5.0];
    let one = [1.0f32];
    fast::batch_norm_backward(&x, &x, Some(&x), (1, 1, 2), &[0.0], &one, &one, true);
}

// A per-channel slice of the wrong length was read past its end with a bare index panic;
// now the message says which one and why.
#[test]
#[should_panic(
    expected = "batch_norm_apply: gamma has length 1, for 2 channels; it must hold one value per \
                channel"
)]
fn batch_norm_apply_names_a_short_per_channel_slice() {
    let x = [1.0f32; 4];
    let two = [1.0f32; 2];
    fast::batch_norm_apply(&x, (1, 2, 2), &two, &two, &[1.0], &two, None);
}
