//! Fast pooling, `f32`: the reference loops, one plane per task, planes in parallel.
//! (Pooling is a few loads per output; what it needs is both cores, not a new loop.)
//!
//! Every function must equal its namesake in [`crate::kernels::reference`].

use rayon::prelude::*;

use crate::kernels::reference::{self, PoolGeom};

fn one_plane(g: &PoolGeom) -> PoolGeom {
    PoolGeom { planes: 1, ..*g }
}

/// Fast [`reference::max_pool2d_forward`].
pub fn max_pool2d_forward(x: &[f32], g: &PoolGeom, y: &mut [f32]) -> Vec<u32> {
    let p = one_plane(g);
    let mut argmax = vec![0u32; y.len()];
    y.par_chunks_mut(g.ho * g.wo)
        .zip(argmax.par_chunks_mut(g.ho * g.wo))
        .zip(x.par_chunks(g.h * g.w))
        .for_each(|((yp, ap), xp)| ap.copy_from_slice(&reference::max_pool2d_forward(xp, &p, yp)));
    argmax
}

/// Fast [`reference::max_pool2d_backward`].
pub fn max_pool2d_backward(dy: &[f32], argmax: &[u32], g: &PoolGeom, dx: &mut [f32]) {
    let p = one_plane(g);
    dx.par_chunks_mut(g.h * g.w)
        .zip(
            dy.par_chunks(g.ho * g.wo)
                .zip(argmax.par_chunks(g.ho * g.wo)),
        )
        .for_each(|(dxp, (dyp, ap))| reference::max_pool2d_backward(dyp, ap, &p, dxp));
}

/// Fast [`reference::avg_pool2d_forward`].
pub fn avg_pool2d_forward(x: &[f32], g: &PoolGeom, y: &mut [f32]) {
    let p = one_plane(g);
    y.par_chunks_mut(g.ho * g.wo)
        .zip(x.par_chunks(g.h * g.w))
        .for_each(|(yp, xp)| reference::avg_pool2d_forward(xp, &p, yp));
}

/// Fast [`reference::avg_pool2d_backward`].
pub fn avg_pool2d_backward(dy: &[f32], g: &PoolGeom, dx: &mut [f32]) {
    let p = one_plane(g);
    dx.par_chunks_mut(g.h * g.w)
        .zip(dy.par_chunks(g.ho * g.wo))
        .for_each(|(dxp, dyp)| reference::avg_pool2d_backward(dyp, &p, dxp));
}
