//! A clean page made to look scanned: turned slightly, blurred, printed in dark grey on uneven
//! grey paper, with sensor noise and dust. Plain arithmetic on a seeded generator, so the
//! same page comes out on every machine.

use image::{GrayImage, Luma};

/// How the page is turned on the scanner glass, in degrees (counter-clockwise).
const SKEW_DEGREES: f32 = 1.5;
/// Ink and paper, in 8-bit grey levels: the toner is not black, the paper not white.
const INK: f32 = 48.0;
const PAPER: f32 = 218.0;
/// How far the paper's brightness wanders over the page (± levels), and over what distance.
const PAPER_MOTTLE: f32 = 10.0;
const MOTTLE_CELL: u32 = 96;
/// Standard deviation of the per-pixel sensor noise, in levels.
const NOISE_SIGMA: f32 = 4.0;
/// Dark specks of dust, per million pixels.
const SPECKS_PER_MEGAPIXEL: u32 = 120;

/// SplitMix64: a tiny generator whose sequence is fixed by its definition (a library RNG may
/// change its stream between versions, and the committed page would no longer match).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Roughly normal with standard deviation 1: the sum of four uniforms (Irwin–Hall),
    /// without the transcendental functions whose last bit differs between platforms.
    fn gaussian(&mut self) -> f32 {
        let sum: f32 = (0..4).map(|_| self.unit() - 0.5).sum();
        sum * 3f32.sqrt()
    }
}

/// `page` (black text on white) as a scan of it.
pub(super) fn scanned(page: &GrayImage, seed: u64) -> GrayImage {
    let mut rng = SplitMix(seed);
    let turned = blur(&rotate(page, SKEW_DEGREES));
    let mottle = Mottle::new(page.width(), page.height(), &mut rng);
    let mut out = GrayImage::from_fn(page.width(), page.height(), |x, y| {
        let paper = PAPER + PAPER_MOTTLE * mottle.at(x, y);
        let coverage = f32::from(turned.get_pixel(x, y)[0]) / 255.0;
        let level = INK + (paper - INK) * coverage + NOISE_SIGMA * rng.gaussian();
        Luma([level.round().clamp(0.0, 255.0) as u8])
    });
    let specks = SPECKS_PER_MEGAPIXEL * page.width() * page.height() / 1_000_000;
    for _ in 0..specks {
        let x = (rng.unit() * page.width() as f32) as u32;
        let y = (rng.unit() * page.height() as f32) as u32;
        let dark = (INK + 40.0 * rng.unit()) as u8;
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            if rng.unit() < 0.7
                && let Some(p) = out.get_pixel_mut_checked(x + dx, y + dy)
            {
                p[0] = dark;
            }
        }
    }
    out
}

/// `image` turned by `degrees` about its centre (bilinear; white where the page was not).
fn rotate(image: &GrayImage, degrees: f32) -> GrayImage {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    let sample = |x: f32, y: f32| -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |x: f32, y: f32| {
            if x < 0.0 || y < 0.0 || x >= image.width() as f32 || y >= image.height() as f32 {
                255.0
            } else {
                f32::from(image.get_pixel(x as u32, y as u32)[0])
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        // The source pixel that lands here: the inverse rotation of the target's centre.
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = cos * dx - sin * dy + cx - 0.5;
        let sy = sin * dx + cos * dy + cy - 0.5;
        Luma([sample(sx, sy).round() as u8])
    })
}

/// A 3×3 binomial blur ([1 2 1] ⊗ [1 2 1] / 16): the scanner's slight softness.
fn blur(image: &GrayImage) -> GrayImage {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let at = |x: i64, y: i64| {
        u32::from(image.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32)[0])
    };
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let mut sum = 0;
        for (dy, wy) in [(-1, 1), (0, 2), (1, 1)] {
            for (dx, wx) in [(-1, 1), (0, 2), (1, 1)] {
                sum += wx * wy * at(x + dx, y + dy);
            }
        }
        Luma([((sum + 8) / 16) as u8])
    })
}

/// Smooth unevenness of the paper in [-1, 1]: random values on a coarse grid, interpolated.
struct Mottle {
    columns: usize,
    grid: Vec<f32>,
}

impl Mottle {
    fn new(width: u32, height: u32, rng: &mut SplitMix) -> Self {
        let columns = (width / MOTTLE_CELL + 2) as usize;
        let rows = (height / MOTTLE_CELL + 2) as usize;
        let grid = (0..columns * rows)
            .map(|_| 2.0 * rng.unit() - 1.0)
            .collect();
        Self { columns, grid }
    }

    fn at(&self, x: u32, y: u32) -> f32 {
        let (gx, gy) = ((x / MOTTLE_CELL) as usize, (y / MOTTLE_CELL) as usize);
        let fx = (x % MOTTLE_CELL) as f32 / MOTTLE_CELL as f32;
        let fy = (y % MOTTLE_CELL) as f32 / MOTTLE_CELL as f32;
        let g = |cx: usize, cy: usize| self.grid[cy * self.columns + cx];
        let top = g(gx, gy) * (1.0 - fx) + g(gx + 1, gy) * fx;
        let bottom = g(gx, gy + 1) * (1.0 - fx) + g(gx + 1, gy + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_turned_grey_and_noisy() {
        // A 2-pixel black line across a white page.
        let page = GrayImage::from_fn(400, 200, |x, y| {
            Luma([if (40..360).contains(&x) && (99..101).contains(&y) {
                0
            } else {
                255
            }])
        });
        let scan = scanned(&page, 1);
        let darkest_row = |x: u32| (0..200).min_by_key(|&y| scan.get_pixel(x, y)[0]).unwrap();
        // Turned counter-clockwise by 1.5°: 280 px apart, the line's ends differ by 7 px.
        let rise = darkest_row(60) as f32 - darkest_row(340) as f32;
        assert!(
            (rise - 280.0 * SKEW_DEGREES.to_radians().tan()).abs() <= 1.5,
            "{rise}"
        );
        let paper: Vec<f32> = (0..400)
            .map(|x| f32::from(scan.get_pixel(x, 10)[0]))
            .collect();
        let mean = paper.iter().sum::<f32>() / paper.len() as f32;
        assert!((mean - PAPER).abs() < PAPER_MOTTLE + 2.0, "{mean}");
        assert!(paper.iter().any(|&p| p != paper[0]), "no noise");
        assert_eq!(scanned(&page, 1), scan, "the same seed gives the same scan");
    }
}
