//! Crops and pads on 8-bit RGB images, with the integer rules of transformers 4.57.

use image::{Rgb, RgbImage};
use serde::Serialize;

/// Padding in pixels on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Padding {
    /// Rows added above.
    pub top: u32,
    /// Rows added below.
    pub bottom: u32,
    /// Columns added on the left.
    pub left: u32,
    /// Columns added on the right.
    pub right: u32,
}

/// Copies the `width` × `height` window at (`x`, `y`); parts outside `img` are zero.
pub fn crop(img: &RgbImage, x: i64, y: i64, width: u32, height: u32) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    let (iw, ih) = (i64::from(img.width()), i64::from(img.height()));
    let x0 = x.clamp(0, iw);
    let x1 = (x + i64::from(width)).clamp(0, iw);
    if x1 <= x0 {
        return out;
    }
    let row_bytes = (x1 - x0) as usize * 3;
    let dst_x = (x0 - x) as usize * 3;
    for oy in 0..i64::from(height) {
        let sy = y + oy;
        if sy < 0 || sy >= ih {
            continue;
        }
        let src = &img.as_raw()[(sy * iw + x0) as usize * 3..][..row_bytes];
        let dst_start = oy as usize * width as usize * 3 + dst_x;
        out.as_mut()[dst_start..dst_start + row_bytes].copy_from_slice(src);
    }
    out
}

/// Pads with a constant colour (`np.pad(..., mode="constant")`).
pub fn pad(img: &RgbImage, padding: Padding, color: [u8; 3]) -> RgbImage {
    let w = img.width() + padding.left + padding.right;
    let h = img.height() + padding.top + padding.bottom;
    let mut out = RgbImage::from_pixel(w, h, Rgb(color));
    image::imageops::replace(
        &mut out,
        img,
        i64::from(padding.left),
        i64::from(padding.top),
    );
    out
}

/// HF `center_crop`: `top = (H - crop_h) // 2`, `left = (W - crop_w) // 2` (floor division);
/// when the image is smaller than the crop along an axis it is first centred on a zero canvas
/// with `ceil((crop - size) / 2)` before it.
pub fn center_crop(img: &RgbImage, crop_height: u32, crop_width: u32) -> RgbImage {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let (ch, cw) = (i64::from(crop_height), i64::from(crop_width));
    let top = (h - ch).div_euclid(2);
    let left = (w - cw).div_euclid(2);
    if top >= 0 && left >= 0 {
        return crop(img, left, top, crop_width, crop_height);
    }
    // Padding branch: canvas of max(crop, size), image pasted at ceil((new - size) / 2), then
    // the window [top + top_pad, +crop) cut out. Equivalent to cropping at (left, top) shifted
    // by the paste offsets, with zeros outside the image.
    let new_h = ch.max(h);
    let new_w = cw.max(w);
    let top_pad = (new_h - h + 1) / 2;
    let left_pad = (new_w - w + 1) / 2;
    let (t, l) = (top + top_pad, left + left_pad);
    let (t0, t1) = (t.max(0), (t + ch).min(new_h));
    let (l0, l1) = (l.max(0), (l + cw).min(new_w));
    crop(
        img,
        l0 - left_pad,
        t0 - top_pad,
        (l1 - l0) as u32,
        (t1 - t0) as u32,
    )
}

/// `pad_to_square` (LLaVA): centres the image on a `max(W, H)` square filled with
/// `background`, offset `(max - size) // 2`.
pub fn pad_to_square(img: &RgbImage, background: [u8; 3]) -> RgbImage {
    let (w, h) = img.dimensions();
    if w == h {
        return img.clone();
    }
    let side = w.max(h);
    let (left, top) = ((side - w) / 2, (side - h) / 2);
    pad(
        img,
        Padding {
            top,
            bottom: side - h - top,
            left,
            right: side - w - left,
        },
        background,
    )
}

/// `tuple(int(x * 255) for x in image_mean)`: the background LLaVA pads with (truncated).
pub fn mean_background(mean: [f64; 3]) -> [u8; 3] {
    mean.map(|m| (m * 255.0).clamp(0.0, 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::test_support::noise_image;

    #[test]
    fn center_crop_inside_uses_floor_offsets() {
        let img = noise_image(7, 6, 3);
        let out = center_crop(&img, 3, 4); // top = (6-3)//2 = 1, left = (7-4)//2 = 1
        assert_eq!(out, crop(&img, 1, 1, 4, 3));
    }

    #[test]
    fn center_crop_pads_small_images_like_hf() {
        // 3×2 image, crop 4×5 (h×w): HF pads to 4×5 with top_pad = ceil(2/2) = 1,
        // left_pad = ceil(2/2) = 1, then crops top = (2-4)//2 + 1 = 0, left = (3-5)//2 + 1 = 0.
        let img = noise_image(3, 2, 4);
        let out = center_crop(&img, 4, 5);
        assert_eq!(out.dimensions(), (5, 4));
        for y in 0..4 {
            for x in 0..5 {
                let inside = (1..3).contains(&y) && (1..4).contains(&x);
                let want = if inside {
                    *img.get_pixel(x - 1, y - 1)
                } else {
                    Rgb([0, 0, 0])
                };
                assert_eq!(*out.get_pixel(x, y), want, "({x},{y})");
            }
        }
        // Odd difference: 1×1 into 2×2: top_pad = ceil(1/2) = 1, top = (1-2)//2 + 1 = 0.
        let one = RgbImage::from_pixel(1, 1, Rgb([9, 9, 9]));
        let out = center_crop(&one, 2, 2);
        assert_eq!(*out.get_pixel(1, 1), Rgb([9, 9, 9]));
        assert_eq!(*out.get_pixel(0, 0), Rgb([0, 0, 0]));
    }

    #[test]
    fn center_crop_mixed_axes() {
        // Wider than the crop, shorter than it: crop columns, pad rows.
        let img = noise_image(9, 2, 5);
        let out = center_crop(&img, 5, 4);
        assert_eq!(out.dimensions(), (4, 5));
        // rows: new_h = 5, top_pad = ceil(3/2) = 2; columns: left = (9-4)//2 = 2.
        assert_eq!(*out.get_pixel(0, 2), *img.get_pixel(2, 0));
        assert_eq!(*out.get_pixel(3, 3), *img.get_pixel(5, 1));
        assert_eq!(*out.get_pixel(0, 1), Rgb([0, 0, 0]));
        assert_eq!(*out.get_pixel(0, 4), Rgb([0, 0, 0]));
    }

    #[test]
    fn pad_to_square_centres_with_floor() {
        let img = noise_image(2, 5, 6);
        let out = pad_to_square(&img, [1, 2, 3]);
        assert_eq!(out.dimensions(), (5, 5));
        assert_eq!(*out.get_pixel(1, 0), *img.get_pixel(0, 0)); // left = (5-2)//2 = 1
        assert_eq!(*out.get_pixel(0, 0), Rgb([1, 2, 3]));
        assert_eq!(*out.get_pixel(3, 0), Rgb([1, 2, 3]));
    }

    #[test]
    fn mean_background_truncates() {
        assert_eq!(
            mean_background([0.48145466, 0.4578275, 0.40821073]),
            [122, 116, 104]
        );
        assert_eq!(mean_background([0.5, 0.5, 0.5]), [127, 127, 127]);
    }
}
