//! An in-memory image data set, batched and shuffled with a seed.

use ndarray::{ArrayD, IxDyn};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Images `[N, C, H, W]` (f32) with one label each.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// A short name, e.g. `fashion-mnist train`.
    pub name: String,
    /// Pixel values, image after image.
    pub images: Vec<f32>,
    /// `[C, H, W]` of one image.
    pub shape: [usize; 3],
    /// One label per image.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
}

/// One batch: images `[B, C, H, W]` and their labels.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, C, H, W]`.
    pub images: ArrayD<f32>,
    /// `B` labels.
    pub labels: Vec<usize>,
}

impl Dataset {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The first `n` images (all, if there are fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            name: format!("{} (first {n})", self.name),
            images: self.images[..n * self.image_len()].to_vec(),
            labels: self.labels[..n].to_vec(),
            ..self.clone()
        }
    }

    /// The first `n` images and the rest, as two data sets named `<name> train` and
    /// `<name> test` (e.g. the digits, split 1,497 / 300 by [`crate::data::digits_split`]).
    pub fn split_at(&self, n: usize) -> (Dataset, Dataset) {
        let n = n.min(self.len());
        let cut = n * self.image_len();
        let part = |name: &str, images: &[f32], labels: &[usize]| Dataset {
            name: format!("{} {name}", self.name),
            images: images.to_vec(),
            labels: labels.to_vec(),
            ..self.clone()
        };
        (
            part("train", &self.images[..cut], &self.labels[..n]),
            part("test", &self.images[cut..], &self.labels[n..]),
        )
    }

    /// `parts` one after another, named `name`; `None` if they are empty or their image
    /// shapes differ.
    pub fn concat(name: &str, parts: &[Dataset]) -> Option<Dataset> {
        let first = parts.first()?;
        if parts.iter().any(|p| p.shape != first.shape) {
            return None;
        }
        Some(Dataset {
            name: name.to_string(),
            images: parts
                .iter()
                .flat_map(|p| p.images.iter().copied())
                .collect(),
            labels: parts
                .iter()
                .flat_map(|p| p.labels.iter().copied())
                .collect(),
            shape: first.shape,
            classes: parts.iter().map(|p| p.classes).max().unwrap_or(0),
        })
    }

    /// Every image shrunk by 2 in each direction (2x2 average pooling; odd edges dropped):
    /// a quarter of the pixels, for runs that must fit in minutes.
    pub fn downsample2(&self) -> Dataset {
        let [c, h, w] = self.shape;
        let (h2, w2) = (h / 2, w / 2);
        let mut images = Vec::with_capacity(self.len() * c * h2 * w2);
        for img in self.images.chunks_exact(self.image_len()) {
            for ch in 0..c {
                let plane = &img[ch * h * w..][..h * w];
                for y in 0..h2 {
                    for x in 0..w2 {
                        let at = |dy: usize, dx: usize| plane[(2 * y + dy) * w + 2 * x + dx];
                        images.push((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0);
                    }
                }
            }
        }
        Dataset {
            name: format!("{} at {h2}x{w2}", self.name),
            images,
            shape: [c, h2, w2],
            ..self.clone()
        }
    }

    /// Per-channel mean and standard deviation.
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let [c, h, w] = self.shape;
        let plane = h * w;
        let mut out = (vec![0.0; c], vec![1.0; c]);
        for ch in 0..c {
            let values = (0..self.len()).flat_map(|i| {
                self.images[(i * c + ch) * plane..][..plane]
                    .iter()
                    .map(|&v| v as f64)
            });
            let n = (self.len() * plane).max(1) as f64;
            let mean = values.clone().sum::<f64>() / n;
            let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            out.0[ch] = mean as f32;
            out.1[ch] = var.sqrt().max(1e-6) as f32;
        }
        out
    }

    /// Subtracts `mean` and divides by `std`, per channel (use the training set's for both
    /// splits).
    pub fn normalize(&mut self, mean: &[f32], std: &[f32]) {
        let [c, h, w] = self.shape;
        for (k, v) in self.images.iter_mut().enumerate() {
            let ch = k / (h * w) % c;
            *v = (*v - mean[ch]) / std[ch];
        }
    }

    /// The batches of one epoch, shuffled by `(seed, epoch)`; the last may be short.
    /// With `augment`, each image is padded with zeros by [`augment_padding`] pixels on
    /// every side (4 at 32x32, as He et al. 2015 §4.2; 2 at 14x14 or 16x16), cropped back
    /// at a random offset and flipped left-right half of the time.
    pub fn epoch(&self, batch: usize, seed: u64, epoch: u64, augment: bool) -> Vec<Batch> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch));
        order.shuffle(&mut rng);
        order
            .chunks(batch.max(1))
            .map(|idx| self.gather(idx, augment.then_some(&mut rng)))
            .collect()
    }

    /// The images at `idx`, in order, as one batch (no augmentation).
    pub fn batch_of(&self, idx: &[usize]) -> Batch {
        self.gather(idx, None)
    }

    /// Every image, in order, in batches of `batch` (for evaluation).
    pub fn in_order(&self, batch: usize) -> Vec<Batch> {
        let idx: Vec<usize> = (0..self.len()).collect();
        idx.chunks(batch.max(1))
            .map(|c| self.gather(c, None))
            .collect()
    }

    fn gather(&self, idx: &[usize], mut rng: Option<&mut StdRng>) -> Batch {
        let [c, h, w] = self.shape;
        let n = self.image_len();
        let mut images = ArrayD::zeros(IxDyn(&[idx.len(), c, h, w]));
        let out = images.as_slice_mut().expect("fresh");
        for (b, &i) in idx.iter().enumerate() {
            let src = &self.images[i * n..][..n];
            let dst = &mut out[b * n..][..n];
            match rng.as_deref_mut() {
                None => dst.copy_from_slice(src),
                Some(r) => {
                    let p = augment_padding(h.max(w));
                    let (dy, dx) = (r.random_range(0..2 * p + 1), r.random_range(0..2 * p + 1));
                    let flip = r.random_range(0..2u8) == 1;
                    for ch in 0..c {
                        for y in 0..h {
                            for x in 0..w {
                                // Output (y, x) reads padded (y + dy, x + dx), i.e. input
                                // (y + dy - p, x' + dx - p), zero outside.
                                let xs = if flip { w - 1 - x } else { x };
                                let (sy, sx) =
                                    ((y + dy).wrapping_sub(p), (xs + dx).wrapping_sub(p));
                                dst[(ch * h + y) * w + x] = if sy < h && sx < w {
                                    src[(ch * h + sy) * w + sx]
                                } else {
                                    0.0
                                };
                            }
                        }
                    }
                }
            }
        }
        Batch {
            images,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

/// The padding of the pad-and-crop augmentation for images of `size` pixels a side:
/// `size / 8`, rounded to the nearest pixel and at least 1. The paper pads its 32x32
/// CIFAR images by 4 (He et al. 2015 §4.2), an eighth of the side; the same share is 2
/// pixels at 14x14 or 16x16 and 4 at 28x28.
pub fn augment_padding(size: usize) -> usize {
    ((size + 4) / 8).max(1)
}
