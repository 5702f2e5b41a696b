//! A blocked matrix product, `C = A B` or `C += A B`, written here for the conv kernels
//! (the conv loops are the lesson, so no BLAS and no gemm crate). The blocking, the packing
//! and the single-precision microkernels are here; the double-precision microkernels, which
//! reuse the same blocked loop, are in `dgemm.rs`.
//!
//! The shape is the classic one (Goto and van de Geijn 2008; BLIS):
//! - B is copied ("packed") in panels of `KC x NC`, cut into strips `NR` columns wide;
//! - A is packed in blocks of `MC x KC`, cut into strips `MR` rows tall;
//! - a microkernel multiplies one A strip by one B strip into an `MR x NR` tile of C that
//!   stays in registers for the whole `KC` loop: `MR * NR` multiply-adds per `MR + NR`
//!   loads.
//!
//! The microkernel is compiled four times: on x86-64 AVX-512 (8 x 32, sixteen 16-lane
//! accumulators) and AVX2+FMA (6 x 16, twelve 8-lane accumulators), on aarch64 NEON (8 x 12,
//! twenty-four 4-lane accumulators, in `neon.rs`), and portable Rust everywhere; the CPU
//! picks at run time. It must equal the naive triple loop, [`sgemm_reference`].

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::Float;

/// An element type the blocked GEMM runs on: `f32` (microkernels here) or `f64` (in
/// `dgemm.rs`). Each type has its own microkernels and its own per-thread scratch buffers.
pub trait Element: Float {
    /// `C = A B` (or `C += A B`) with the kernel `isa` for this type: [`sgemm_with`] or
    /// [`dgemm_with`](super::dgemm::dgemm_with).
    fn gemm_with(
        isa: Isa,
        a: &impl Panel<Self>,
        b: &impl Panel<Self>,
        c: &mut [Self],
        ldc: usize,
        accumulate: bool,
    );
    /// Packs `a` once for the kernel `isa` (see [`PackedA`]).
    fn pack_with(isa: Isa, a: &impl Panel<Self>) -> PackedA<Self>;
    /// `C = A B` (or `C += A B`) with an A packed beforehand.
    fn gemm_packed(a: &PackedA<Self>, b: &impl Panel<Self>, c: &mut [Self], ldc: usize, acc: bool);
    /// Runs `f` on this thread's scratch buffer `which`, kept from call to call so that a
    /// training step does not allocate its packing buffers again for every product.
    fn with_scratch<R>(which: Scratch, f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
}

/// The per-thread scratch buffers of the fast kernels, one set per element type.
#[derive(Clone, Copy, Debug)]
pub enum Scratch {
    /// The GEMM's packed block of A.
    PackA = 0,
    /// The GEMM's packed panel of B.
    PackB = 1,
    /// The conv's im2col matrix.
    Col = 2,
}

/// `C = A B` (or `C += A B`) with the fastest kernel this CPU has for `E`.
pub fn gemm<E: Element>(
    a: &impl Panel<E>,
    b: &impl Panel<E>,
    c: &mut [E],
    ldc: usize,
    accumulate: bool,
) {
    E::gemm_with(Isa::detect(), a, b, c, ldc, accumulate)
}

thread_local! {
    static SCRATCH_F32: [RefCell<Vec<f32>>; 3] =
        const { [RefCell::new(Vec::new()), RefCell::new(Vec::new()), RefCell::new(Vec::new())] };
}

impl Element for f32 {
    fn gemm_with(
        isa: Isa,
        a: &impl Panel,
        b: &impl Panel,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        sgemm_with(isa, a, b, c, ldc, accumulate)
    }
    fn pack_with(isa: Isa, a: &impl Panel) -> PackedA {
        PackedA::with(isa, a)
    }
    fn gemm_packed(a: &PackedA, b: &impl Panel, c: &mut [f32], ldc: usize, acc: bool) {
        sgemm_packed(a, b, c, ldc, acc)
    }
    fn with_scratch<R>(which: Scratch, f: impl FnOnce(&mut Vec<f32>) -> R) -> R {
        SCRATCH_F32.with(|s| f(&mut s[which as usize].borrow_mut()))
    }
}
#[cfg(target_arch = "aarch64")]
use super::neon::Neon;

/// A read-only matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, E = f32> {
    data: &'a [E],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, E: Copy> MatRef<'a, E> {
    /// A `rows x cols` view with the given strides. Panics if an element would fall
    /// outside `data` (checked once here, so the packing loops need no checks). The last
    /// element's index, `(rows - 1) rs + (cols - 1) cs`, is worked out in arithmetic that
    /// cannot wrap: strides so large that it passes `usize::MAX` are refused too.
    pub fn new(data: &'a [E], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1)
                .checked_mul(rs)
                .zip((cols - 1).checked_mul(cs))
                .and_then(|(down, across)| down.checked_add(across));
            assert!(
                last.is_some_and(|last| last < data.len()),
                "MatRef::new: a {rows}x{cols} view with strides ({rs}, {cs}) needs {} elements, \
                 the slice has {}; its last element, (rows - 1) rs + (cols - 1) cs, must be \
                 inside the slice",
                last.map_or("more than usize::MAX".into(), |last| (last as u128 + 1)
                    .to_string()),
                data.len()
            );
        }
        MatRef {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [E], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose of a row-major `rows x cols` matrix, as a `cols x rows` view.
    pub fn transposed(data: &'a [E], rows: usize, cols: usize) -> Self {
        Self::new(data, cols, rows, 1, cols)
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Element `(i, j)`, read without a bounds check.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`: then `i rs + j cs` is at most the last element's index,
    /// which [`MatRef::new`] checked is inside `data`.
    #[inline(always)]
    pub(super) unsafe fn at(&self, i: usize, j: usize) -> E {
        debug_assert!(i < self.rows && j < self.cols);
        // SAFETY: i < rows and j < cols (this function's contract), so the index is at most
        // (rows - 1) rs + (cols - 1) cs, which `new` checked is below data.len().
        unsafe { *self.data.get_unchecked(i * self.rs + j * self.cs) }
    }
}

/// A matrix the GEMM can pack from, without it ever being written out in full: a dense
/// [`MatRef`], or an image seen through im2col (see the conv kernels).
///
/// The GEMM reads `rows()` and `cols()` once per product and sizes every buffer from those
/// answers, so an implementation that answers differently later cannot make it write
/// outside C.
pub trait Panel<E = f32> {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// Number of columns.
    fn cols(&self) -> usize;
    /// Packs the block `rows r0..r0+kr, cols c0..c0+nc` into strips `nr` columns wide:
    /// `out[t * nr * kr + r * nr + j] = self[r0 + r, c0 + t * nr + j]`, zero past `nc`.
    /// (How the GEMM packs B.) The block must lie inside the matrix, and `out` must hold
    /// `ceil(nc / nr)` strips of `nr x kr`.
    fn pack(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [E]);
    /// Packs the block `rows r0..r0+mc, cols c0..c0+kc` into strips `mr` rows tall:
    /// `out[s * mr * kc + c * mr + i] = self[r0 + s * mr + i, c0 + c]`, zero past `mc`.
    /// (How the GEMM packs A.) The block must lie inside the matrix, and `out` must hold
    /// `ceil(mc / mr)` strips of `mr x kc`.
    fn pack_transposed(&self, r0: usize, mc: usize, c0: usize, kc: usize, mr: usize, out: &mut [E]);
}

/// Checks one call of [`Panel::pack`] or [`Panel::pack_transposed`] (`what`) on a
/// `shape.0 x shape.1` panel: the block, rows `r0..r0 + rows` and columns `c0..c0 + cols`,
/// must lie inside it, the strips must be at least one wide, and `out` must hold the
/// strips: `ceil(across / width)` of `width x along`, where `across` is the side the strips
/// cut (`cols` for `pack`, `rows` for `pack_transposed`) and `along` the other.
fn check_block(
    what: &str,
    shape: (usize, usize),
    (r0, rows): (usize, usize),
    (c0, cols): (usize, usize),
    (width, across, along): (usize, usize, usize),
    out: usize,
) {
    let (prows, pcols) = shape;
    let inside =
        |start: usize, len: usize, end: usize| start.checked_add(len).is_some_and(|e| e <= end);
    assert!(
        inside(r0, rows, prows) && inside(c0, cols, pcols),
        "{what}: rows {r0}..{r0}+{rows} and columns {c0}..{c0}+{cols} were asked of a \
         {prows}x{pcols} matrix; the block must lie inside it"
    );
    assert!(
        width > 0,
        "{what}: the strips must be at least 1 wide, not 0"
    );
    let need = across
        .div_ceil(width)
        .checked_mul(width)
        .and_then(|v| v.checked_mul(along));
    assert!(
        need.is_some_and(|need| need <= out),
        "{what}: out has {out} values, the block needs {} (ceil({across} / {width}) strips \
         of {width} x {along}); out must hold every strip",
        need.map_or("more than usize::MAX".into(), |n| n.to_string())
    );
}

impl<E: Float> Panel<E> for MatRef<'_, E> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
    fn pack(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [E]) {
        let shape = (self.rows, self.cols);
        check_block(
            "MatRef::pack",
            shape,
            (r0, kr),
            (c0, nc),
            (nr, nc, kr),
            out.len(),
        );
        if kr == 0 {
            return;
        }
        for (t, strip) in out
            .chunks_exact_mut(nr * kr)
            .take(nc.div_ceil(nr))
            .enumerate()
        {
            let j0 = c0 + t * nr;
            let w = nr.min(c0 + nc - j0);
            for (r, row) in strip.chunks_exact_mut(nr).enumerate() {
                if self.cs == 1 {
                    let start = (r0 + r) * self.rs + j0;
                    let src = &self.data[start..start + w];
                    // A full 32-, 16- or 8-wide strip row is a fixed-size copy: a few vector
                    // moves, not a call to memmove.
                    match (<&[E; 32]>::try_from(src), <&[E; 16]>::try_from(src)) {
                        (Ok(s32), _) => row[..32].copy_from_slice(s32),
                        (_, Ok(s16)) => row[..16].copy_from_slice(s16),
                        _ => match <&[E; 8]>::try_from(src) {
                            Ok(s8) => row[..8].copy_from_slice(s8),
                            _ => row[..w].copy_from_slice(src),
                        },
                    }
                } else {
                    for (j, v) in row[..w].iter_mut().enumerate() {
                        // SAFETY: r < kr and j0 + j < c0 + nc, so the element is inside
                        // the block, which `check_block` put inside the matrix.
                        *v = unsafe { self.at(r0 + r, j0 + j) };
                    }
                }
                row[w..].fill(E::zero());
            }
        }
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
        let (shape, rows, cols) = ((self.rows, self.cols), (r0, mc), (c0, kc));
        check_block(
            "MatRef::pack_transposed",
            shape,
            rows,
            cols,
            (mr, mc, kc),
            out.len(),
        );
        if kc == 0 {
            return;
        }
        // SAFETY: `pack_transposed_by_element` asks only for elements of the block, which
        // `check_block` put inside the matrix.
        pack_transposed_by_element(|i, j| unsafe { self.at(i, j) }, (r0, mc, c0, kc, mr), out);
    }
}

/// [`Panel::pack_transposed`] element by element, from `at(i, j)`, the panel's element:
/// `out[s * mr * kc + c * mr + i] = at(r0 + s * mr + i, c0 + c)`, zero past `mc` rows.
/// It calls `at(i, j)` only for `i` in `r0..r0 + mc` and `j` in `c0..c0 + kc` (a panel whose
/// `at` reads without checks relies on this), and writes the strips that fit in `out`.
pub(super) fn pack_transposed_by_element<E: Float>(
    at: impl Fn(usize, usize) -> E,
    (r0, mc, c0, kc, mr): (usize, usize, usize, usize, usize),
    out: &mut [E],
) {
    for (s, strip) in out
        .chunks_exact_mut(mr * kc)
        .take(mc.div_ceil(mr))
        .enumerate()
    {
        // s < ceil(mc / mr), so i0 < r0 + mc; h rows of the strip are inside the block.
        let i0 = r0 + s * mr;
        let h = mr.min(r0 + mc - i0);
        // A strip is `mr x kc`: kc columns, c < kc.
        for (c, col) in strip.chunks_exact_mut(mr).enumerate() {
            for (i, v) in col.iter_mut().enumerate() {
                *v = if i < h { at(i0 + i, c0 + c) } else { E::zero() };
            }
        }
    }
}

/// Which microkernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust (SSE2 on x86-64 by default).
    Portable,
    /// AVX2 with FMA, 8 lanes.
    Avx2,
    /// AVX-512, 16 lanes.
    Avx512,
    /// NEON (aarch64's Advanced SIMD), 4 lanes.
    Neon,
}

impl Isa {
    /// The best the CPU supports, or `RESGRAD_ISA` (`portable`, `avx2`, `avx512`, `neon`) if
    /// set to one it supports.
    pub fn detect() -> Isa {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| {
            let best = Isa::available().last().copied().unwrap_or(Isa::Portable);
            match std::env::var("RESGRAD_ISA").as_deref() {
                Ok("portable") => Isa::Portable,
                Ok("avx2") if Isa::available().contains(&Isa::Avx2) => Isa::Avx2,
                Ok("neon") if Isa::available().contains(&Isa::Neon) => Isa::Neon,
                _ => best,
            }
        })
    }

    /// Every kernel this CPU can run, slowest first.
    pub fn available() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut v = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                v.push(Isa::Avx2);
            }
            if is_x86_feature_detected!("avx512f") {
                v.push(Isa::Avx512);
            }
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push(Isa::Neon);
        }
        v
    }
}

/// `C = A B` (or `C += A B` if `accumulate`), C row-major with row stride `ldc`, with the
/// fastest kernel this CPU has. Single-threaded: callers parallelise over independent work.
pub fn sgemm(a: &impl Panel, b: &impl Panel, c: &mut [f32], ldc: usize, accumulate: bool) {
    sgemm_with(Isa::detect(), a, b, c, ldc, accumulate)
}

/// [`sgemm`] with a chosen kernel (tests run every kernel the CPU has).
pub fn sgemm_with(
    isa: Isa,
    a: &impl Panel,
    b: &impl Panel,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    let (a_shape, b_shape) = ((a.rows(), a.cols()), (b.rows(), b.cols()));
    let dims = check_product("sgemm", a_shape, b_shape, c.len(), ldc);
    let src = ASource::OnTheFly(a);
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if Avx512::supported() => {
            blocked::<Avx512, _>(dims, src, b, c, ldc, accumulate)
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if Avx2::supported() => blocked::<Avx2, _>(dims, src, b, c, ldc, accumulate),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon if Neon::supported() => blocked::<Neon, _>(dims, src, b, c, ldc, accumulate),
        _ => blocked::<Portable, _>(dims, src, b, c, ldc, accumulate),
    }
}

/// The naive triple loop that every kernel must equal (up to summation order).
pub fn sgemm_reference(a: &MatRef, b: &MatRef, c: &mut [f32], ldc: usize, accumulate: bool) {
    let (m, k, n) = check_product("sgemm_reference", a.shape(), b.shape(), c.len(), ldc);
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

/// Checks a product `C (+)= A B` for the function `what` and returns its sizes `(m, k, n)`:
/// A (`m x k`) and B (`k x n`) must agree on `k`, and C (`len` values, row stride `ldc`)
/// must hold `m x n` ([`check_c`]). The callers ask each panel its shape once and pass the
/// answers here, so what was checked is what the loops use.
pub(super) fn check_product(
    what: &str,
    (m, k): (usize, usize),
    (kb, n): (usize, usize),
    len: usize,
    ldc: usize,
) -> (usize, usize, usize) {
    assert!(
        k == kb,
        "{what}: A is {m}x{k}, B is {kb}x{n}; A's columns must equal B's rows"
    );
    check_c(what, m, n, len, ldc);
    (m, k, n)
}

/// A microkernel: `C[MR x NR] (+)= Apanel[MR x kc] Bpanel[kc x NR]`, reading the packed
/// strips (`a[p * MR + i]`, `b[p * NR + j]`).
pub(super) trait Kernel {
    /// The element type it multiplies.
    type E: Element;
    const MR: usize;
    const NR: usize;
    /// Whether this CPU has the kernel's instructions (asked at run time; the answer is
    /// cached, so asking costs a load).
    fn supported() -> bool;
    /// # Safety
    /// `a` holds `kc * MR` values, `b` holds `kc * NR`, and `c` addresses an `MR x NR` tile
    /// with row stride `ldc`; the CPU supports the kernel's instructions
    /// ([`Kernel::supported`]).
    unsafe fn tile(
        kc: usize,
        a: *const Self::E,
        b: *const Self::E,
        c: *mut Self::E,
        ldc: usize,
        accumulate: bool,
    );
}

const KC: usize = 384;
const MC_STRIPS: usize = 16;
/// Columns of B packed at a time. A conv's B is one image's im2col (`k x h w`, 144 x 1024
/// at 16 channels and 32 x 32): packing 512 columns at a time keeps the packed panel
/// (288 KiB) in the L2 cache until the microkernel reads it back, where the whole image
/// (576 KiB) left it; measured, the forward at that shape went from 4.3 to 3.6 ms.
const NC: usize = 512;

/// Where the blocked loop gets its packed A blocks from.
pub(super) enum ASource<'a, E, P: Panel<E>> {
    /// Pack each block as it is needed.
    OnTheFly(&'a P),
    /// Already packed, block after block (see [`PackedA`]).
    Packed(&'a PackedA<E>),
}

/// The K blocking for a given K: equal blocks (288 = 1 x 288, 576 = 2 x 288), so that no
/// block is a short remainder whose C loads and stores cost as much as its multiply-adds.
fn kc_for(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC)).max(1)
}

/// The blocked loop of the module's docs with the kernel `K`: `C (+)= A B` for A `m x k`
/// and B `k x n`. The sizes come in once, from the caller's [`check_product`]: B is not
/// asked its shape again, so C is written over the `m x n` that was checked, whatever a
/// [`Panel`] answers later.
pub(super) fn blocked<K: Kernel, P: Panel<K::E>>(
    (m, k, n): (usize, usize, usize),
    a: ASource<K::E, P>,
    b: &impl Panel<K::E>,
    c: &mut [K::E],
    ldc: usize,
    accumulate: bool,
) {
    let zero = <K::E as num_traits::Zero>::zero();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[i * ldc..i * ldc + n].fill(zero);
            }
        }
        return;
    }
    let mc_max = MC_STRIPS * K::MR;
    let kc_max = kc_for(k);
    K::E::with_scratch(Scratch::PackA, |pa| {
        K::E::with_scratch(Scratch::PackB, |pb| {
            if let ASource::OnTheFly(_) = a {
                pa.resize(mc_max * kc_max, zero);
            }
            pb.resize(kc_max * NC.div_ceil(K::NR) * K::NR, zero);
            for jc in (0..n).step_by(NC) {
                let nc = NC.min(n - jc);
                for (q, pc) in (0..k).step_by(kc_max).enumerate() {
                    let kc = kc_max.min(k - pc);
                    pack_b::<K>(b, pc, kc, jc, nc, pb);
                    let acc = accumulate || pc > 0;
                    for ic in (0..m).step_by(mc_max) {
                        let mc = mc_max.min(m - ic);
                        let block: &[K::E] = match &a {
                            ASource::OnTheFly(a) => {
                                pack_a::<K>(*a, ic, mc, pc, kc, pa);
                                pa
                            }
                            ASource::Packed(p) => &p.data[q * p.m_pad * kc_max + ic * kc..],
                        };
                        macro_tile::<K>(block, pb, (mc, nc, kc), &mut c[ic * ldc + jc..], ldc, acc);
                    }
                }
            }
        })
    });
}

/// A packed once, for one kernel, in the order the blocked loop reads it: reuse it when
/// the same A multiplies many Bs (a conv's weight, image after image), instead of packing
/// it again for every product.
pub struct PackedA<E = f32> {
    pub(super) isa: Isa,
    pub(super) m: usize,
    pub(super) k: usize,
    m_pad: usize,
    data: Vec<E>,
}

impl PackedA {
    /// Packs `a` for the kernel [`Isa::detect`] picks.
    pub fn new(a: &impl Panel) -> Self {
        Self::with(Isa::detect(), a)
    }

    /// Packs `a` for the kernel `isa`.
    pub fn with(isa: Isa, a: &impl Panel) -> Self {
        // The kernel that will run (the one asked for if the CPU has it, as in
        // `sgemm_with`), and the strip height it reads.
        let (isa, mr) = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if Avx512::supported() => (Isa::Avx512, Avx512::MR),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 if Avx2::supported() => (Isa::Avx2, Avx2::MR),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon if Neon::supported() => (Isa::Neon, Neon::MR),
            _ => (Isa::Portable, Portable::MR),
        };
        PackedA::packed(isa, mr, a)
    }
}

impl<E: Element> PackedA<E> {
    /// Packs `a` in strips `mr` rows tall, for the kernel `isa` (which must have that `MR`).
    pub(super) fn packed(isa: Isa, mr: usize, a: &impl Panel<E>) -> Self {
        let (m, k) = (a.rows(), a.cols());
        let m_pad = m.div_ceil(mr) * mr;
        let kc_max = kc_for(k);
        let mut data = vec![E::zero(); m_pad * kc_max * k.div_ceil(kc_max).max(1)];
        for (q, pc) in (0..k).step_by(kc_max).enumerate() {
            let kc = kc_max.min(k - pc);
            a.pack_transposed(0, m, pc, kc, mr, &mut data[q * m_pad * kc_max..]);
        }
        PackedA {
            isa,
            m,
            k,
            m_pad,
            data,
        }
    }
}

/// `C = A B` (or `C += A B`) with an A packed beforehand.
pub fn sgemm_packed(a: &PackedA, b: &impl Panel, c: &mut [f32], ldc: usize, accumulate: bool) {
    let dims = check_product(
        "sgemm_packed",
        (a.m, a.k),
        (b.rows(), b.cols()),
        c.len(),
        ldc,
    );
    let src: ASource<f32, MatRef> = ASource::Packed(a);
    match a.isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => blocked::<Avx512, _>(dims, src, b, c, ldc, accumulate),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => blocked::<Avx2, _>(dims, src, b, c, ldc, accumulate),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => blocked::<Neon, _>(dims, src, b, c, ldc, accumulate),
        _ => blocked::<Portable, _>(dims, src, b, c, ldc, accumulate),
    }
}

/// Checks that C, `len` elements long, holds an `m x n` matrix with row stride `ldc`:
/// `ldc >= n`, and the last element, `(m - 1) ldc + n - 1`, inside the slice (worked out in
/// arithmetic that cannot wrap).
pub(super) fn check_c(what: &str, m: usize, n: usize, len: usize, ldc: usize) {
    let end = (m.max(1) - 1)
        .checked_mul(ldc)
        .and_then(|v| v.checked_add(n));
    assert!(
        m == 0 || n == 0 || (end.is_some_and(|end| end <= len) && ldc >= n),
        "{what}: C needs {m}x{n} with row stride {ldc}, that is {} values, and ldc >= n; \
         the slice has {len}",
        end.map_or("more than usize::MAX".into(), |end| end.to_string())
    );
}

/// All `MR x NR` tiles of one packed A block times one packed B panel. The microkernel
/// reads and writes through raw pointers, so this function checks, once, everything they
/// rely on: the CPU runs `K`, `pa` holds `ceil(mc / MR)` strips of `MR x kc`, `pb` holds
/// `ceil(nc / NR)` strips of `kc x NR`, and `c` holds `mc x nc` with row stride `ldc`.
fn macro_tile<K: Kernel>(
    pa: &[K::E],
    pb: &[K::E],
    (mc, nc, kc): (usize, usize, usize),
    c: &mut [K::E],
    ldc: usize,
    accumulate: bool,
) {
    const EDGE: usize = 8 * 32;
    // Every kernel's tile fits the edge buffer (checked when the kernel is compiled in).
    const { assert!(K::MR * K::NR <= EDGE) };
    assert!(
        K::supported(),
        "macro_tile: this CPU lacks the kernel's instructions"
    );
    let strips = |len: usize, width: usize| len.div_ceil(width) * width * kc;
    let c_end = (mc.max(1) - 1)
        .checked_mul(ldc)
        .and_then(|v| v.checked_add(nc));
    assert!(
        pa.len() >= strips(mc, K::MR)
            && pb.len() >= strips(nc, K::NR)
            && (mc == 0 || nc == 0 || c_end.is_some_and(|end| end <= c.len())),
        "macro_tile: the packed blocks or C are too short for {mc}x{nc}x{kc}"
    );
    let mut edge = [<K::E as num_traits::Zero>::zero(); EDGE];
    for jr in (0..nc).step_by(K::NR) {
        let nr = K::NR.min(nc - jr);
        let bp = pb[jr / K::NR * K::NR * kc..].as_ptr();
        for ir in (0..mc).step_by(K::MR) {
            let mr = K::MR.min(mc - ir);
            let ap = pa[ir / K::MR * K::MR * kc..].as_ptr();
            if mr == K::MR && nr == K::NR {
                // A full tile: the kernel reads and writes C directly.
                // SAFETY: the strips at `ap` and `bp` are whole (ir < mc and jr < nc, and
                // the lengths of `pa` and `pb` were checked above); the tile's last element,
                // (ir + MR - 1) ldc + jr + NR - 1 <= (mc - 1) ldc + nc - 1, is inside `c`
                // by the check above; the CPU runs K (checked above).
                unsafe { K::tile(kc, ap, bp, c[ir * ldc + jr..].as_mut_ptr(), ldc, accumulate) };
            } else {
                // An edge tile: compute the whole tile into a scratch buffer, keep the part
                // that exists.
                // SAFETY: the strips as above; `edge` holds an MR x NR tile with row stride
                // NR (MR NR <= EDGE, asserted at compile time); the CPU runs K.
                unsafe { K::tile(kc, ap, bp, edge.as_mut_ptr(), K::NR, false) };
                for i in 0..mr {
                    let row = &mut c[(ir + i) * ldc + jr..][..nr];
                    let src = &edge[i * K::NR..][..nr];
                    if accumulate {
                        row.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
                    } else {
                        row.copy_from_slice(src);
                    }
                }
            }
        }
    }
}

/// Packs `A[ic.., pc..]` (`mc x kc`) into strips of `MR` rows: `strip[p * MR + i]`.
fn pack_a<K: Kernel>(
    a: &impl Panel<K::E>,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    out: &mut [K::E],
) {
    a.pack_transposed(ic, mc, pc, kc, K::MR, out);
}

/// Packs `B[pc.., jc..]` (`kc x nc`) into strips of `NR` columns: `strip[p * NR + j]`.
fn pack_b<K: Kernel>(
    b: &impl Panel<K::E>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    out: &mut [K::E],
) {
    b.pack(pc, kc, jc, nc, K::NR, out);
}

// ---- the microkernels ----

struct Portable;

impl Kernel for Portable {
    type E = f32;
    const MR: usize = 4;
    const NR: usize = 16;
    fn supported() -> bool {
        true
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
        let mut acc = [[0f32; 16]; 4];
        for p in 0..kc {
            // SAFETY: p < kc, and the caller guarantees kc * MR floats behind a and kc * NR
            // behind b (`Kernel::tile`'s contract); [f32; N] has f32's alignment.
            let (ap, bp) = unsafe {
                (
                    &*(a.add(p * 4) as *const [f32; 4]),
                    &*(b.add(p * 16) as *const [f32; 16]),
                )
            };
            for i in 0..4 {
                for j in 0..16 {
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
    type E = f32;
    const MR: usize = 6;
    const NR: usize = 16;
    fn supported() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
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
        // SAFETY: `Kernel::tile`'s contract is `avx2_6x16`'s, with MR x NR = 6 x 16.
        unsafe { avx2_6x16(kc, a, b, c, ldc, accumulate) }
    }
}

/// The AVX2+FMA tile: `C[6 x 16] (+)= A[6 x kc] B[kc x 16]`, two 8-lane registers per row.
///
/// # Safety
/// `a` holds `kc * 6` floats, `b` holds `kc * 16`, `c` addresses a 6 x 16 tile with row
/// stride `ldc`, and the CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_6x16(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    // SAFETY: the loads read b[p * 16..p * 16 + 16] and a[p * 6 + i] for p < kc, i < 6, and
    // the stores write c[i * ldc..i * ldc + 16] for i < 6: inside what the caller guarantees
    // (this function's contract), as is the CPU's AVX2 and FMA.
    unsafe {
        let mut c0 = [_mm256_setzero_ps(); 6];
        let mut c1 = [_mm256_setzero_ps(); 6];
        for p in 0..kc {
            let b0 = _mm256_loadu_ps(b.add(p * 16));
            let b1 = _mm256_loadu_ps(b.add(p * 16 + 8));
            for i in 0..6 {
                let av = _mm256_broadcast_ss(&*a.add(p * 6 + i));
                c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
                c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
            }
        }
        for i in 0..6 {
            let row = c.add(i * ldc);
            if accumulate {
                c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(row));
                c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(row.add(8)));
            }
            _mm256_storeu_ps(row, c0[i]);
            _mm256_storeu_ps(row.add(8), c1[i]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx512 {
    type E = f32;
    const MR: usize = 8;
    const NR: usize = 32;
    fn supported() -> bool {
        is_x86_feature_detected!("avx512f")
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
        // SAFETY: `Kernel::tile`'s contract is `avx512_8x32`'s, with MR x NR = 8 x 32.
        unsafe { avx512_8x32(kc, a, b, c, ldc, accumulate) }
    }
}

/// The AVX-512 tile: `C[8 x 32] (+)= A[8 x kc] B[kc x 32]`, two 16-lane registers per row.
///
/// # Safety
/// `a` holds `kc * 8` floats, `b` holds `kc * 32`, `c` addresses an 8 x 32 tile with row
/// stride `ldc`, and the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_8x32(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    use std::arch::x86_64::*;
    // SAFETY: the loads read b[p * 32..p * 32 + 32] and a[p * 8 + i] for p < kc, i < 8, and
    // the stores write c[i * ldc..i * ldc + 32] for i < 8: inside what the caller guarantees
    // (this function's contract), as is the CPU's AVX-512F.
    unsafe {
        let mut c0 = [_mm512_setzero_ps(); 8];
        let mut c1 = [_mm512_setzero_ps(); 8];
        for p in 0..kc {
            let b0 = _mm512_loadu_ps(b.add(p * 32));
            let b1 = _mm512_loadu_ps(b.add(p * 32 + 16));
            for i in 0..8 {
                let av = _mm512_set1_ps(*a.add(p * 8 + i));
                c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
                c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
            }
        }
        for i in 0..8 {
            let row = c.add(i * ldc);
            if accumulate {
                c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(row));
                c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(row.add(16)));
            }
            _mm512_storeu_ps(row, c0[i]);
            _mm512_storeu_ps(row.add(16), c1[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_equals_the_triple_loop_on_awkward_shapes() {
        for isa in Isa::available() {
            for &(m, n, k) in &[
                (1, 1, 1),
                (7, 33, 5),
                (8, 32, 256),
                (17, 70, 300),
                (130, 40, 9),
                (3, 2100, 20),
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
                    sgemm_with(
                        isa,
                        &MatRef::row_major(&a, m, k),
                        &b,
                        &mut c,
                        ldc,
                        accumulate,
                    );
                    sgemm_reference(&MatRef::row_major(&a, m, k), &b, &mut want, ldc, accumulate);
                    let scale = want.iter().fold(1.0f32, |s, v| s.max(v.abs()));
                    for (i, (x, y)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (x - y).abs() <= 1e-5 * scale,
                            "{isa:?} {m}x{n}x{k} at {i}: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}
