//! Fast convolution: the blocked GEMM on im2col, one image per task, in parallel; for
//! `f32` and `f64` alike (generic over [`Element`], which picks the microkernels). Where a
//! conv reads its image in place (stride 1, same width), the GEMM packs the im2col strips
//! straight from the image ([`Im2colPanel`]); the weight gradient packs `col^T` from the
//! image transposed to pixels x channels (`HwcColT`). `col` is written out only for the
//! other convs.
//!
//! Every function here must equal its namesake in [`crate::kernels::reference`] up to
//! summation order; `tests/kernels_fast_vs_reference.rs` holds them to it.
//!
//! - forward:  `y_n [Cout x HoWo] = W [Cout x CinKK] . col(x_n) [CinKK x HoWo]`;
//!   a 1x1 stride-1 conv skips im2col: `col(x_n)` is `x_n` itself.
//! - backward to the input, stride 1: the "full" convolution of `dy` with the weight
//!   flipped in space and transposed in channels, padding `k - 1 - p`, run by the forward
//!   kernel; other strides: `dcol = W^T . dy_n`, folded back by col2im.
//! - backward to the weight: `dW = sum_n dy_n [Cout x HoWo] . col(x_n)^T`, summed over a
//!   fixed split of the batch into chunks, then across chunks in order, so that the result
//!   is the same bit for bit for any thread count.

use rayon::prelude::*;

use super::gemm::{Element, Isa, MatRef, Panel, Scratch, gemm, pack_transposed_by_element};
use crate::kernels::Conv2dGeom;

/// Whether the conv is a plain matrix product over channels (1x1, stride 1, no padding).
fn is_pointwise(g: &Conv2dGeom) -> bool {
    g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0
}

/// Unfolds one image `[cin, h, w]` into `col [cin kh kw, ho wo]`: row `(ci, ky, kx)` holds,
/// for every output pixel, the input pixel under that kernel tap (zero on the padding).
/// Stride-1 rows are copied as contiguous runs.
pub fn im2col<T: Element>(x: &[T], g: &Conv2dGeom, col: &mut [T]) {
    let hw = g.ho * g.wo;
    for (r, row) in col
        .chunks_exact_mut(hw)
        .take(g.cin * g.kh * g.kw)
        .enumerate()
    {
        let (ci, ky, kx) = (r / (g.kh * g.kw), r / g.kw % g.kh, r % g.kw);
        let plane = &x[ci * g.h * g.w..][..g.h * g.w];
        // Output columns whose tap lands inside the image: lo <= ox < hi.
        let lo = g.pad.saturating_sub(kx).div_ceil(g.stride).min(g.wo);
        let hi = (g.w + g.pad)
            .saturating_sub(kx)
            .div_ceil(g.stride)
            .clamp(lo, g.wo);
        if g.stride == 1 && g.wo == g.w {
            shifted_copy(plane, g, (ky, kx), (lo, hi), row);
            continue;
        }
        for (oy, out) in row.chunks_exact_mut(g.wo).enumerate() {
            let iy = (oy * g.stride + ky).wrapping_sub(g.pad);
            if iy >= g.h {
                out.fill(T::zero());
                continue;
            }
            out[..lo].fill(T::zero());
            out[hi..].fill(T::zero());
            if lo == hi {
                continue;
            }
            let src = &plane[iy * g.w..][..g.w];
            let ix0 = lo * g.stride + kx - g.pad;
            if g.stride == 1 {
                out[lo..hi].copy_from_slice(&src[ix0..ix0 + hi - lo]);
            } else {
                for (o, v) in out[lo..hi].iter_mut().enumerate() {
                    *v = src[ix0 + o * g.stride];
                }
            }
        }
    }
}

/// One im2col row of a stride-1 "same width" conv (`wo == w`, e.g. 3x3 with padding 1).
/// Then output pixel `i = oy * w + ox` reads input pixel `i + (ky - pad) * w + (kx - pad)`:
/// the whole row is one shifted copy of the plane, after which the pixels whose tap
/// wrapped around a row edge (`ox < lo` or `ox >= hi`) are set to zero, and the rows
/// whose tap falls above or below the image are zero.
fn shifted_copy<T: Element>(
    plane: &[T],
    g: &Conv2dGeom,
    (ky, kx): (usize, usize),
    (lo, hi): (usize, usize),
    row: &mut [T],
) {
    let w = g.w;
    // Output rows whose tap row is inside the image: oy_lo <= oy < oy_hi.
    let oy_lo = g.pad.saturating_sub(ky).min(g.ho);
    let oy_hi = (g.h + g.pad).saturating_sub(ky).clamp(oy_lo, g.ho);
    row[..oy_lo * w].fill(T::zero());
    row[oy_hi * w..].fill(T::zero());
    if oy_lo == oy_hi {
        return;
    }
    // Output i reads input i + shift; copy the part of [oy_lo w, oy_hi w) whose source is
    // inside the plane (the ends can fall off by less than a row when kx != pad).
    let shift = (ky * w + kx) as isize - (g.pad * w + g.pad) as isize;
    let (first, last) = ((oy_lo * w) as isize, (oy_hi * w) as isize);
    let start = (-shift).clamp(first, last);
    let end = (plane.len() as isize - shift).clamp(start, last);
    let (start, end) = (start as usize, end as usize);
    row[oy_lo * w..start].fill(T::zero());
    row[end..oy_hi * w].fill(T::zero());
    if start < end {
        let src_start = (start as isize + shift) as usize;
        row[start..end].copy_from_slice(&plane[src_start..src_start + (end - start)]);
    }
    // Columns that read across a row edge.
    for out in row[oy_lo * w..oy_hi * w].chunks_exact_mut(w) {
        out[..lo].fill(T::zero());
        out[hi..].fill(T::zero());
    }
}

/// The taps of a stride-1 conv that keeps the width (`wo == w`, such as 3x3 with padding
/// 1), where output pixel `i = oy w + ox` under tap `(ky, kx)` reads input pixel `i +
/// shift` with `shift = (ky - p) w + (kx - p)`. That read falls off the image exactly when
/// `i + shift` is outside the plane or the column `ox + kx - p` is outside `0..w` (the tap
/// wrapped round a row edge), that is when `ox` is outside `lo..hi`.
fn reads_in_place(g: &Conv2dGeom) -> bool {
    g.stride == 1 && g.wo == g.w
}

/// Tap `(ky, kx)`'s shift, and the output columns `lo..hi` whose read stays in the row.
fn tap_shift(g: &Conv2dGeom, ky: usize, kx: usize) -> (isize, usize, usize) {
    let shift = (ky * g.w + kx) as isize - (g.pad * g.w + g.pad) as isize;
    let lo = g.pad.saturating_sub(kx).min(g.w);
    let hi = (g.w + g.pad).saturating_sub(kx).clamp(lo, g.w);
    (shift, lo, hi)
}

/// One image seen through im2col without writing `col` out: the forward GEMM packs its B
/// strips straight from the image. Row `r = (ci, ky, kx)` of `col`, over the output pixels
/// `i0..i0 + nr` of a strip, is one clipped copy of plane `ci` from `i0 + shift`, with zeros
/// at the wrapped columns (see [`reads_in_place`]). It packs the same numbers that
/// [`im2col`] followed by the dense packing would; `tests/kernels_fast_vs_reference.rs`
/// holds the convs that use it to the reference.
pub struct Im2colPanel<'a, T> {
    x: &'a [T],
    g: &'a Conv2dGeom,
}

impl<'a, T: Element> Im2colPanel<'a, T> {
    /// `col(x)` of one image `x` (`[cin, h, w]`); `None` unless the conv has stride 1 and
    /// keeps the width, the only case this view reads in place.
    pub fn new(x: &'a [T], g: &'a Conv2dGeom) -> Option<Self> {
        (reads_in_place(g) && x.len() == g.cin * g.h * g.w).then_some(Im2colPanel { x, g })
    }

    /// Tap `r`'s plane, its shift, and the output columns `lo..hi` whose read stays in the row.
    fn tap(&self, r: usize) -> (&'a [T], isize, usize, usize) {
        let g = self.g;
        let (ci, ky, kx) = (r / (g.kh * g.kw), r / g.kw % g.kh, r % g.kw);
        let (shift, lo, hi) = tap_shift(g, ky, kx);
        (&self.x[ci * g.h * g.w..][..g.h * g.w], shift, lo, hi)
    }

    /// `col[r, i]`, element by element.
    fn at(&self, r: usize, i: usize) -> T {
        let (plane, shift, lo, hi) = self.tap(r);
        let src = i as isize + shift;
        let ox = i % self.g.w;
        if src < 0 || src >= plane.len() as isize || ox < lo || ox >= hi {
            T::zero()
        } else {
            plane[src as usize]
        }
    }
}

/// Writes `out[q] = col[tap, i0 + q]` for `q < len`: the clipped copy of the plane, then
/// zeros at the output columns outside `lo..hi`.
fn tap_run<T: Element>(
    (plane, shift, lo, hi): (&[T], isize, usize, usize),
    w: usize,
    (i0, len): (usize, usize),
    out: &mut [T],
) {
    // The part of i0..i0+len whose read i + shift is inside the plane.
    let first = (-shift).clamp(i0 as isize, (i0 + len) as isize) as usize;
    let last = (plane.len() as isize - shift).clamp(first as isize, (i0 + len) as isize) as usize;
    out[..first - i0].fill(T::zero());
    if first < last {
        out[first - i0..last - i0]
            .copy_from_slice(&plane[(first as isize + shift) as usize..][..last - first]);
    }
    out[last - i0..len].fill(T::zero());
    zero_wrapped(out, (i0, len), w, (lo, hi));
}

/// Zeros `out[i - i0]` for the pixels `i` in `i0..i0+len` whose column `i % w` is outside
/// `lo..hi`: the reads that wrapped round a row edge.
fn zero_wrapped<T: Element>(
    out: &mut [T],
    (i0, len): (usize, usize),
    w: usize,
    (lo, hi): (usize, usize),
) {
    for bad in (0..lo).chain(hi..w) {
        let mut i = i0 + (bad + w - i0 % w) % w;
        while i < i0 + len {
            out[i - i0] = T::zero();
            i += w;
        }
    }
}

/// `dst[..N] = src[..N]` as a copy of known length: a few vector moves. (A `match` on
/// the length that calls `copy_from_slice` in each arm is merged back by the optimiser
/// into one call to `memmove` of variable length, which costs more than the copy.)
#[inline(always)]
fn copy_n<T: Copy, const N: usize>(src: &[T], dst: &mut [T]) {
    let s: &[T; N] = src[..N].try_into().expect("N long");
    let d: &mut [T; N] = (&mut dst[..N]).try_into().expect("N long");
    *d = *s;
}

/// `dst[..len] = src[..len]`, with the lengths of the kernels' strips and of a ResNet's
/// channel runs copied by [`copy_n`].
#[inline(always)]
fn copy_row<T: Copy>(src: &[T], dst: &mut [T]) {
    match src.len() {
        32 => copy_n::<T, 32>(src, dst),
        16 => copy_n::<T, 16>(src, dst),
        n => dst[..n].copy_from_slice(src),
    }
}

impl<T: Element> Panel<T> for Im2colPanel<'_, T> {
    fn rows(&self) -> usize {
        self.g.cin * self.g.kh * self.g.kw
    }
    fn cols(&self) -> usize {
        self.g.ho * self.g.wo
    }
    fn pack(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [T]) {
        // One copy of known length per strip row at the kernels' strip widths.
        match nr {
            #[cfg(target_arch = "x86_64")]
            32 if is_x86_feature_detected!("avx512f") => {
                // SAFETY: the CPU has AVX-512F (`is_x86_feature_detected!` just above).
                unsafe { self.pack_rows_avx512(r0, kr, c0, nc, out) }
            }
            32 => self.pack_rows::<32>(r0, kr, c0, nc, out),
            16 => self.pack_rows::<16>(r0, kr, c0, nc, out),
            12 => self.pack_rows::<12>(r0, kr, c0, nc, out),
            8 => self.pack_rows::<8>(r0, kr, c0, nc, out),
            _ => self.pack_rows_any(r0, kr, c0, nc, nr, out),
        }
    }
    fn pack_transposed(
        &self,
        r0: usize,
        mc: usize,
        c0: usize,
        kc: usize,
        mr: usize,
        out: &mut [T],
    ) {
        // The conv uses this view as a B only; as an A it is read element by element.
        pack_transposed_by_element(|i, j| self.at(i, j), (r0, mc, c0, kc, mr), out);
    }
}

impl<T: Element> Im2colPanel<'_, T> {
    /// [`Im2colPanel::pack_rows`] for 32-wide strips compiled with AVX-512, so that a
    /// row's copy is two 16-lane loads and stores (the AVX-512 kernel's strips are 32 wide).
    ///
    /// # Safety
    /// The CPU has AVX-512F. (The body is safe code; only the instructions it is compiled
    /// to need the check.)
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn pack_rows_avx512(&self, r0: usize, kr: usize, c0: usize, nc: usize, out: &mut [T]) {
        self.pack_rows::<32>(r0, kr, c0, nc, out)
    }

    /// [`Panel::pack`] for strips `NR` wide. Rows are taps `r0..r0+kr`, columns are pixels;
    /// tap by tap, so that each tap's plane and shift are found once, a row of each strip in
    /// turn. A row inside the plane is one copy of `NR` values and the zeros of its wrapped
    /// columns.
    #[inline(always)]
    fn pack_rows<const NR: usize>(
        &self,
        r0: usize,
        kr: usize,
        c0: usize,
        nc: usize,
        out: &mut [T],
    ) {
        let g = self.g;
        let strips = nc.div_ceil(NR);
        // When every strip starts at a row boundary of the image (w divides NR and c0),
        // a tap's wrapped columns sit at the same places in every strip: found once per kx,
        // so that the loop below divides nothing.
        let aligned = NR.is_multiple_of(g.w) && c0.is_multiple_of(g.w);
        let wrapped: Vec<Vec<usize>> = (0..if aligned { g.kw } else { 0 })
            .map(|kx| {
                let (_, lo, hi) = tap_shift(g, 0, kx);
                (0..NR).filter(|q| !(lo..hi).contains(&(q % g.w))).collect()
            })
            .collect();
        // The taps in order (ci, ky, kx), counted instead of divided.
        let taps = g.kh * g.kw;
        let (mut ci, mut k) = (r0 / taps, r0 % taps);
        for r in 0..kr {
            let (ky, kx) = (k / g.kw, k % g.kw);
            let (shift, lo, hi) = tap_shift(g, ky, kx);
            let plane = &self.x[ci * g.h * g.w..][..g.h * g.w];
            let tap = (plane, shift, lo, hi);
            for t in 0..strips {
                let i0 = c0 + t * NR;
                let width = NR.min(nc - t * NR);
                let row = &mut out[t * NR * kr + r * NR..][..NR];
                let s0 = i0 as isize + shift;
                if width == NR && s0 >= 0 && s0 as usize + NR <= plane.len() {
                    copy_n::<T, NR>(&plane[s0 as usize..], row);
                    if aligned {
                        for &q in &wrapped[kx] {
                            row[q] = T::zero();
                        }
                    } else {
                        zero_wrapped(row, (i0, NR), g.w, (lo, hi));
                    }
                } else {
                    tap_run(tap, g.w, (i0, width), row);
                    row[width..].fill(T::zero());
                }
            }
            k += 1;
            if k == taps {
                (ci, k) = (ci + 1, 0);
            }
        }
    }

    /// [`Panel::pack`] for any strip width.
    fn pack_rows_any(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [T]) {
        for r in 0..kr {
            let tap = self.tap(r0 + r);
            for t in 0..nc.div_ceil(nr) {
                let i0 = c0 + t * nr;
                let width = nr.min(c0 + nc - i0);
                let row = &mut out[t * nr * kr + r * nr..][..nr];
                tap_run(tap, self.g.w, (i0, width), row);
                row[width..].fill(T::zero());
            }
        }
    }
}

/// `col(x)^T` of one image, the B of the weight gradient, read from the image transposed to
/// pixels x channels (`xt [h w, cin]`, made once per image) and with its columns, the taps,
/// in the order `(ky, kx, ci)`. A strip of B then holds, for each pixel, runs of
/// consecutive channels under one `(ky, kx)`: each run is one copy from one row of `xt`
/// (16 or 32 values at a ResNet's widths), where `col^T` in the order `(ci, ky, kx)` would
/// need a gather of single values. The product is the weight gradient in the order
/// `(co, ky, kx, ci)`; [`conv2d_backward_weight`] puts it back in `(co, ci, ky, kx)`.
struct HwcColT<'a, T> {
    xt: &'a [T],
    g: &'a Conv2dGeom,
}

impl<T: Element> HwcColT<'_, T> {
    /// The input pixel that output pixel `i` reads under tap `(ky, kx)`, if it is inside
    /// the image (any stride and padding).
    fn source(&self, i: usize, ky: usize, kx: usize) -> Option<usize> {
        let g = self.g;
        let (oy, ox) = (i / g.wo, i % g.wo);
        let iy = (oy * g.stride + ky)
            .checked_sub(g.pad)
            .filter(|&y| y < g.h)?;
        let ix = (ox * g.stride + kx)
            .checked_sub(g.pad)
            .filter(|&x| x < g.w)?;
        Some(iy * g.w + ix)
    }

    /// Element `(i, t)`: pixel `i` under tap `t = (ky kw + kx) cin + ci`.
    fn at(&self, i: usize, t: usize) -> T {
        let (k, ci) = (t / self.g.cin, t % self.g.cin);
        self.source(i, k / self.g.kw, k % self.g.kw)
            .map_or(T::zero(), |p| self.xt[p * self.g.cin + ci])
    }
}

impl<T: Element> Panel<T> for HwcColT<'_, T> {
    fn rows(&self) -> usize {
        self.g.ho * self.g.wo
    }
    fn cols(&self) -> usize {
        self.g.kh * self.g.kw * self.g.cin
    }
    fn pack(&self, r0: usize, kr: usize, c0: usize, nc: usize, nr: usize, out: &mut [T]) {
        let g = self.g;
        for (t, strip) in out
            .chunks_exact_mut(nr * kr)
            .take(nc.div_ceil(nr))
            .enumerate()
        {
            let j0 = c0 + t * nr;
            let width = nr.min(c0 + nc - j0);
            // The strip's columns as runs of channels under one tap: (first column, ky, kx,
            // first channel, length).
            let mut runs = Vec::with_capacity(4);
            let mut j = 0;
            while j < width {
                let (k, ci) = ((j0 + j) / g.cin, (j0 + j) % g.cin);
                let len = (g.cin - ci).min(width - j);
                runs.push((j, k / g.kw, k % g.kw, ci, len));
                j += len;
            }
            for (r, row) in strip.chunks_exact_mut(nr).enumerate() {
                // The input position of tap (0, 0) for this output pixel, found once.
                let (oy, ox) = ((r0 + r) / g.wo, (r0 + r) % g.wo);
                let (y0, x0) = (oy * g.stride, ox * g.stride);
                for &(j, ky, kx, ci, len) in &runs {
                    let dst = &mut row[j..j + len];
                    let (iy, ix) = ((y0 + ky).wrapping_sub(g.pad), (x0 + kx).wrapping_sub(g.pad));
                    if iy < g.h && ix < g.w {
                        copy_row(&self.xt[(iy * g.w + ix) * g.cin + ci..][..len], dst);
                    } else {
                        dst.fill(T::zero());
                    }
                }
                row[width..].fill(T::zero());
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
        out: &mut [T],
    ) {
        // The conv uses this view as a B only; as an A it is read element by element.
        pack_transposed_by_element(|i, j| self.at(i, j), (r0, mc, c0, kc, mr), out);
    }
}

/// The adjoint of [`im2col`]: adds each column entry back onto the input pixel it came from.
fn col2im_add<T: Element>(col: &[T], g: &Conv2dGeom, dx: &mut [T]) {
    let hw = g.ho * g.wo;
    for (r, row) in col.chunks_exact(hw).take(g.cin * g.kh * g.kw).enumerate() {
        let (ci, ky, kx) = (r / (g.kh * g.kw), r / g.kw % g.kh, r % g.kw);
        let plane = &mut dx[ci * g.h * g.w..][..g.h * g.w];
        let lo = g.pad.saturating_sub(kx).div_ceil(g.stride).min(g.wo);
        let hi = (g.w + g.pad)
            .saturating_sub(kx)
            .div_ceil(g.stride)
            .clamp(lo, g.wo);
        for (oy, src) in row.chunks_exact(g.wo).enumerate() {
            let iy = (oy * g.stride + ky).wrapping_sub(g.pad);
            if iy >= g.h || lo == hi {
                continue;
            }
            let dst = &mut plane[iy * g.w..][..g.w];
            let ix0 = lo * g.stride + kx - g.pad;
            for (o, &v) in src[lo..hi].iter().enumerate() {
                dst[ix0 + o * g.stride] += v;
            }
        }
    }
}

/// Fast [`reference::conv2d_forward`](crate::kernels::reference::conv2d_forward).
pub fn conv2d_forward<T: Element>(
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    g: &Conv2dGeom,
    y: &mut [T],
) {
    let (k, hw) = (g.cin * g.kh * g.kw, g.ho * g.wo);
    // The weight is the A of every image's product: pack it once.
    let weight = T::pack_with(Isa::detect(), &MatRef::row_major(w, g.cout, k));
    y.par_chunks_mut(g.cout * hw)
        .zip(x.par_chunks(g.cin * g.h * g.w))
        .for_each(|(yn, xn)| {
            if is_pointwise(g) {
                T::gemm_packed(&weight, &MatRef::row_major(xn, g.cin, hw), yn, hw, false);
            } else if let Some(col) = Im2colPanel::new(xn, g) {
                T::gemm_packed(&weight, &col, yn, hw, false);
            } else {
                T::with_scratch(Scratch::Col, |col| {
                    col.resize(k * hw, T::zero());
                    im2col(xn, g, col);
                    T::gemm_packed(&weight, &MatRef::row_major(col, k, hw), yn, hw, false);
                });
            }
            if let Some(b) = bias {
                for (plane, &bc) in yn.chunks_exact_mut(hw).zip(b) {
                    plane.iter_mut().for_each(|v| *v += bc);
                }
            }
        });
}

/// Fast [`reference::conv2d_backward_input`](crate::kernels::reference::conv2d_backward_input).
pub fn conv2d_backward_input<T: Element>(dy: &[T], w: &[T], g: &Conv2dGeom, dx: &mut [T]) {
    if g.stride == 1 && g.kh == g.kw && g.pad < g.kh {
        // dx = full convolution of dy with W flipped in space and with in/out swapped:
        // wf[ci, co, ky, kx] = w[co, ci, kh-1-ky, kw-1-kx], padding k-1-p, stride 1.
        let mut wf = vec![T::zero(); w.len()];
        for co in 0..g.cout {
            for ci in 0..g.cin {
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        wf[((ci * g.cout + co) * g.kh + ky) * g.kw + kx] = w
                            [((co * g.cin + ci) * g.kh + (g.kh - 1 - ky)) * g.kw + (g.kw - 1 - kx)];
                    }
                }
            }
        }
        let full = Conv2dGeom::new(
            &[g.n, g.cout, g.ho, g.wo],
            &[g.cin, g.cout, g.kh, g.kw],
            1,
            g.kh - 1 - g.pad,
        )
        .expect("the full convolution of a valid stride-1 conv is valid");
        debug_assert_eq!((full.ho, full.wo), (g.h, g.w));
        return conv2d_forward(dy, &wf, None, &full, dx);
    }
    // dcol [CinKK x HoWo] = W^T [CinKK x Cout] . dy_n [Cout x HoWo], then fold back.
    let (k, hw) = (g.cin * g.kh * g.kw, g.ho * g.wo);
    let wt = T::pack_with(Isa::detect(), &MatRef::transposed(w, g.cout, k));
    dx.par_chunks_mut(g.cin * g.h * g.w)
        .zip(dy.par_chunks(g.cout * hw))
        .for_each(|(dxn, dyn_)| {
            T::with_scratch(Scratch::Col, |col| {
                col.resize(k * hw, T::zero());
                T::gemm_packed(&wt, &MatRef::row_major(dyn_, g.cout, hw), col, hw, false);
                dxn.fill(T::zero());
                col2im_add(col, g, dxn);
            });
        });
}

/// `xt[p, ci] = x[ci, p]`: one image from channels x pixels to pixels x channels, in
/// blocks of 16 pixels so that the writes of a block stay in the L1 cache.
fn transpose_to_pixels<T: Element>(x: &[T], cin: usize, plane: usize, xt: &mut [T]) {
    for p0 in (0..plane).step_by(16) {
        let len = 16.min(plane - p0);
        let block = &mut xt[p0 * cin..(p0 + len) * cin];
        for (ci, src) in x.chunks_exact(plane).enumerate() {
            for (dp, &v) in src[p0..p0 + len].iter().enumerate() {
                block[dp * cin + ci] = v;
            }
        }
    }
}

/// How many partial weight gradients [`conv2d_backward_weight`] splits a batch into: fixed,
/// so that the sum does not depend on the thread count (8 keeps two to eight cores busy).
pub const DW_CHUNKS: usize = 8;

/// Fast [`reference::conv2d_backward_weight`](crate::kernels::reference::conv2d_backward_weight).
///
/// Its result is the same, bit for bit, for any number of threads.
pub fn conv2d_backward_weight<T: Element>(x: &[T], dy: &[T], g: &Conv2dGeom, dw: &mut [T]) {
    let (k, hw) = (g.cin * g.kh * g.kw, g.ho * g.wo);
    // A fixed split of the batch into at most DW_CHUNKS contiguous runs of images, whatever
    // the number of threads: each run sums its images in order, then the runs are added in
    // order. The float additions are then the same on 1 thread or 16, so a training run and
    // its resume agree bit for bit on any machine size.
    let parts = DW_CHUNKS.clamp(1, g.n.max(1));
    let per = g.n.div_ceil(parts).max(1);
    let parts = g.n.div_ceil(per).max(1);
    // Every conv but the pointwise one takes the weight gradient in the tap order
    // (ky, kx, ci) from each image transposed to pixels x channels (see `HwcColT`).
    let hwc = !is_pointwise(g) && g.cin >= 8;
    let partials: Vec<Vec<T>> = (0..parts)
        .into_par_iter()
        .map(|t| {
            let mut acc = vec![T::zero(); g.cout * k];
            for (i, n) in (t * per..((t + 1) * per).min(g.n)).enumerate() {
                let xn = &x[n * g.cin * g.h * g.w..][..g.cin * g.h * g.w];
                let dyn_ = MatRef::row_major(&dy[n * g.cout * hw..][..g.cout * hw], g.cout, hw);
                if is_pointwise(g) {
                    gemm(
                        &dyn_,
                        &MatRef::transposed(xn, g.cin, hw),
                        &mut acc,
                        k,
                        i > 0,
                    );
                } else if hwc {
                    T::with_scratch(Scratch::Col, |xt| {
                        xt.resize(xn.len(), T::zero());
                        transpose_to_pixels(xn, g.cin, g.h * g.w, xt);
                        gemm(&dyn_, &HwcColT { xt, g }, &mut acc, k, i > 0);
                    });
                } else {
                    T::with_scratch(Scratch::Col, |col| {
                        col.resize(k * hw, T::zero());
                        im2col(xn, g, col);
                        gemm(&dyn_, &MatRef::transposed(col, k, hw), &mut acc, k, i > 0);
                    });
                }
            }
            acc
        })
        .collect();
    dw.fill(T::zero());
    for p in &partials {
        dw.iter_mut().zip(p).for_each(|(d, &v)| *d += v);
    }
    if hwc {
        // From (co, ky, kx, ci) back to (co, ci, ky, kx).
        let taps = g.kh * g.kw;
        let mut row = vec![T::zero(); k];
        for dwo in dw.chunks_exact_mut(k) {
            row.copy_from_slice(dwo);
            for (kk, chans) in row.chunks_exact(g.cin).enumerate() {
                for (ci, &v) in chans.iter().enumerate() {
                    dwo[ci * taps + kk] = v;
                }
            }
        }
    }
}
