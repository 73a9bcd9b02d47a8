//! Pillow-exact resizing of 8-bit RGB images.
//!
//! The Hugging Face image processors hand Pillow an 8-bit RGB image and call
//! `Image.resize((width, height), resample)`. This module reproduces that call bit for bit
//! (checked against Pillow 13.0.0 in `tests/fixtures/pil`):
//!
//! * [`Filter::Nearest`] follows `ImagingScaleAffine`: the source position of output pixel `i`
//!   is accumulated in `f64` (`x = scale / 2; x += scale` per pixel, not `(i + 0.5) * scale`)
//!   and truncated.
//! * Every other filter follows `ImagingResample` (`src/libImaging/Resample.c`): two
//!   separable passes, horizontal first unless the height shrinks by more than twice as many
//!   pixels as the width (Pillow 13.0.0's rule; earlier Pillows always went horizontal first),
//!   each skipped when that dimension does not change; the filter
//!   support is widened by the scale factor when shrinking; each output pixel's `f64`
//!   coefficients are normalised to sum 1, then converted to fixed point with
//!   [`PRECISION_BITS`] fractional bits (rounding half away from zero); every pass accumulates
//!   in integers starting from one half, shifts right, and clips to `0..=255`.

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Fractional bits of Pillow's fixed-point coefficients: `32 - 8 - 2` (8 bits for the
/// result, 2 bits of headroom for filters with negative lobes).
pub const PRECISION_BITS: u32 = 32 - 8 - 2;

/// A Pillow resampling filter (`PIL.Image.Resampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// `NEAREST` (PIL code 0).
    Nearest,
    /// `BOX` (PIL code 4).
    Box,
    /// `BILINEAR` (PIL code 2): triangle filter, support 1.
    Bilinear,
    /// `HAMMING` (PIL code 5).
    Hamming,
    /// `BICUBIC` (PIL code 3): Keys cubic with `a = -0.5`, support 2.
    Bicubic,
    /// `LANCZOS` (PIL code 1): Lanczos-3, support 3.
    Lanczos,
}

impl Filter {
    /// The filter for a PIL integer code as stored in `preprocessor_config.json`'s `resample`
    /// (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming).
    pub fn from_pil_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Self::Nearest),
            1 => Some(Self::Lanczos),
            2 => Some(Self::Bilinear),
            3 => Some(Self::Bicubic),
            4 => Some(Self::Box),
            5 => Some(Self::Hamming),
            _ => None,
        }
    }

    /// The PIL integer code of this filter.
    pub fn pil_code(self) -> u32 {
        match self {
            Self::Nearest => 0,
            Self::Lanczos => 1,
            Self::Bilinear => 2,
            Self::Bicubic => 3,
            Self::Box => 4,
            Self::Hamming => 5,
        }
    }

    /// Support radius of the kernel at scale 1 (`struct filter.support`).
    fn support(self) -> f64 {
        match self {
            Self::Nearest | Self::Box => 0.5,
            Self::Bilinear | Self::Hamming => 1.0,
            Self::Bicubic => 2.0,
            Self::Lanczos => 3.0,
        }
    }

    /// The kernel, with Pillow's operation order (it decides the last bit of the `f64`).
    fn kernel(self, x: f64) -> f64 {
        match self {
            Self::Nearest | Self::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Bilinear => {
                let x = x.abs();
                if x < 1.0 { 1.0 - x } else { 0.0 }
            }
            Self::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // Pillow writes the constants as C `float` literals (0.54f, 0.46f).
                    x.sin() / x * (f64::from(0.54f32) + f64::from(0.46f32) * x.cos())
                }
            }
            Self::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Self::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

/// Resizes `img` to `width` × `height` exactly as Pillow's `Image.resize` does for an 8-bit
/// RGB image (no `box`, no `reducing_gap`).
///
/// Same size returns a copy. A zero output dimension (which Pillow rejects) gives an empty
/// image; an empty input gives a black image of the requested size.
pub fn resize(img: &RgbImage, width: u32, height: u32, filter: Filter) -> RgbImage {
    let (in_w, in_h) = img.dimensions();
    if (in_w, in_h) == (width, height) {
        return img.clone();
    }
    if width == 0 || height == 0 || in_w == 0 || in_h == 0 {
        return RgbImage::new(width, height);
    }
    if filter == Filter::Nearest {
        return resize_nearest(img, width, height);
    }
    resample(img, width, height, filter)
}

/// `ImagingScaleAffine` with the affine matrix `_resize` builds for `NEAREST`.
fn resize_nearest(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (in_w, in_h) = img.dimensions();
    let columns = nearest_positions(in_w, width);
    let rows = nearest_positions(in_h, height);
    let src = img.as_raw();
    let mut out = vec![0u8; width as usize * height as usize * 3];
    let in_stride = in_w as usize * 3;
    for (out_row, y) in out.chunks_exact_mut(width as usize * 3).zip(rows) {
        let Some(y) = y else { continue };
        let line = &src[y * in_stride..(y + 1) * in_stride];
        for (px, x) in out_row.chunks_exact_mut(3).zip(&columns) {
            if let Some(x) = *x {
                px.copy_from_slice(&line[x * 3..x * 3 + 3]);
            }
        }
    }
    RgbImage::from_raw(width, height, out).expect("buffer sized for width × height RGB")
}

/// Source index of each output pixel for nearest-neighbour scaling along one axis; `None`
/// where Pillow leaves the (zero-filled) output untouched.
fn nearest_positions(in_size: u32, out_size: u32) -> Vec<Option<usize>> {
    // a[0] = (double)(box[2] - box[0]) / xsize, with box in C float.
    let step = f64::from(in_size as f32) / f64::from(out_size);
    let mut pos = step * 0.5;
    (0..out_size)
        .map(|_| {
            // COORD(v): negative -> -1, else truncation.
            let index = if pos < 0.0 { -1 } else { pos as i64 };
            pos += step;
            (index >= 0 && index < i64::from(in_size)).then_some(index as usize)
        })
        .collect()
}

/// Fixed-point coefficients of one axis: for output pixel `i`, the source window starts at
/// `bounds[i].0`, spans `bounds[i].1` pixels, and uses `weights[i * ksize..][..bounds[i].1]`.
struct Coefficients {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    weights: Vec<i32>,
}

/// `precompute_coeffs` + `normalize_coeffs_8bpc` for the box `[0, in_size)`.
fn precompute_coeffs(in_size: u32, out_size: u32, filter: Filter) -> Coefficients {
    let in0 = 0.0f32;
    let in1 = in_size as f32;
    let scale = f64::from(in1 - in0) / f64::from(out_size);
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let inv_filterscale = 1.0 / filterscale;

    let mut bounds = Vec::with_capacity(out_size as usize);
    let mut weights = vec![0i32; out_size as usize * ksize];
    let mut k = vec![0f64; ksize];
    for (xx, row) in weights.chunks_exact_mut(ksize).enumerate() {
        let center = f64::from(in0) + (xx as f64 + 0.5) * scale;
        // (int)(v + 0.5): truncation toward zero, then clamped.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(i64::from(in_size));
        let count = (xmax - xmin).max(0) as usize;
        let mut ww = 0.0;
        for (x, slot) in k.iter_mut().enumerate().take(count) {
            let w = filter.kernel((((x as i64 + xmin) as f64 - center) + 0.5) * inv_filterscale);
            *slot = w;
            ww += w;
        }
        for (slot, fixed) in k.iter_mut().zip(row.iter_mut()).take(count) {
            if ww != 0.0 {
                *slot /= ww;
            }
            *fixed = to_fixed(*slot);
        }
        bounds.push((xmin as usize, count));
    }
    Coefficients {
        ksize,
        bounds,
        weights,
    }
}

/// `normalize_coeffs_8bpc`: round half away from zero to `PRECISION_BITS` fractional bits.
fn to_fixed(k: f64) -> i32 {
    let one = f64::from(1u32 << PRECISION_BITS);
    if k < 0.0 {
        (-0.5 + k * one) as i32
    } else {
        (0.5 + k * one) as i32
    }
}

/// `clip8`: drop the fractional bits (arithmetic shift) and clamp to `0..=255`.
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Accumulator start value: one half in fixed point.
const HALF: i64 = 1 << (PRECISION_BITS - 1);

/// `ImagingResampleInner` for 8-bit RGB (Pillow 13.0.0 pass order).
fn resample(img: &RgbImage, width: u32, height: u32, filter: Filter) -> RgbImage {
    let (in_w, in_h) = img.dimensions();
    let need_horizontal = width != in_w;
    let need_vertical = height != in_h;
    // Pillow 13: when the height shrinks by more than twice as many pixels as the width,
    // the vertical pass runs first (the passes round separately, so the order matters).
    let (dh, dw) = (
        i64::from(in_h) - i64::from(height),
        i64::from(in_w) - i64::from(width),
    );
    let horizontal_first = !(dh > 0 && dh > dw * 2);

    let mut data;
    if horizontal_first {
        let mut vert = precompute_coeffs(in_h, height, filter);
        // Rows the vertical pass reads: the horizontal pass only computes those.
        let first_row = vert.bounds[0].0;
        let last = vert.bounds[vert.bounds.len() - 1];
        let last_row = last.0 + last.1;
        let mut cur_w = in_w as usize;
        if need_horizontal {
            let horiz = precompute_coeffs(in_w, width, filter);
            data = horizontal_pass(
                &img.as_raw()[first_row * cur_w * 3..last_row * cur_w * 3],
                cur_w,
                &horiz,
            );
            cur_w = width as usize;
            for b in &mut vert.bounds {
                b.0 -= first_row;
            }
        } else {
            data = img.as_raw().clone();
        }
        if need_vertical {
            data = vertical_pass(&data, cur_w, &vert);
        }
    } else {
        let vert = precompute_coeffs(in_h, height, filter);
        data = vertical_pass(img.as_raw(), in_w as usize, &vert);
        if need_horizontal {
            data = horizontal_pass(
                &data,
                in_w as usize,
                &precompute_coeffs(in_w, width, filter),
            );
        }
    }
    RgbImage::from_raw(width, height, data).expect("passes produce width × height RGB")
}

/// `_ImagingResampleHorizontal_8bpc` over rows of `in_w` RGB pixels.
fn horizontal_pass(src: &[u8], in_w: usize, c: &Coefficients) -> Vec<u8> {
    let out_w = c.bounds.len();
    let rows = src.len() / (in_w * 3);
    let mut out = vec![0u8; rows * out_w * 3];
    for (line_in, line_out) in src
        .chunks_exact(in_w * 3)
        .zip(out.chunks_exact_mut(out_w * 3))
    {
        for (xx, px) in line_out.chunks_exact_mut(3).enumerate() {
            let (xmin, count) = c.bounds[xx];
            let k = &c.weights[xx * c.ksize..xx * c.ksize + count];
            let window = &line_in[xmin * 3..(xmin + count) * 3];
            let mut ss = [HALF; 3];
            for (&w, p) in k.iter().zip(window.chunks_exact(3)) {
                for ch in 0..3 {
                    ss[ch] += i64::from(p[ch]) * i64::from(w);
                }
            }
            for ch in 0..3 {
                px[ch] = clip8(ss[ch]);
            }
        }
    }
    out
}

/// `_ImagingResampleVertical_8bpc` over an image `width` RGB pixels wide.
fn vertical_pass(src: &[u8], width: usize, c: &Coefficients) -> Vec<u8> {
    let stride = width * 3;
    let out_h = c.bounds.len();
    let mut out = vec![0u8; out_h * stride];
    let mut acc = vec![0i64; stride];
    for (yy, line_out) in out.chunks_exact_mut(stride).enumerate() {
        let (ymin, count) = c.bounds[yy];
        let k = &c.weights[yy * c.ksize..yy * c.ksize + count];
        acc.fill(HALF);
        for (y, &w) in k.iter().enumerate() {
            let line_in = &src[(ymin + y) * stride..(ymin + y + 1) * stride];
            for (a, &p) in acc.iter_mut().zip(line_in) {
                *a += i64::from(p) * i64::from(w);
            }
        }
        for (o, &a) in line_out.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    out
}

#[cfg(test)]
#[path = "resize_tests.rs"]
mod tests;
