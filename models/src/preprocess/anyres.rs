//! AnyRes arithmetic shared by LLaVA-NeXT-style processors and their models.
//!
//! Reproduces, with their float operations and truncations, transformers 4.57.3:
//! `select_best_resolution` and `get_patch_output_size` (`image_processing_utils.py`),
//! `_get_padding_size` (LLaVA-NeXT/OneVision image processors), `_get_unpadded_features`
//! (`processing_llava_onevision.py`) and `unpad_image` + the `anyres_max_N` shrink of
//! `pack_image_features` (`modeling_llava_onevision.py`). Python's `int()` of a positive
//! float is a truncation (`as` casts here), `math.ceil` is `ceil`, `a / b` on ints is a
//! correctly rounded `f64` division, and `//` on floats is [`py_floordiv`].

use serde::Serialize;

use super::geometry::Padding;

/// A size in pixels, in HF's `(height, width)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Resolution {
    /// Height in pixels.
    pub height: u32,
    /// Width in pixels.
    pub width: u32,
}

impl Resolution {
    /// `height` × `width`.
    pub fn new(height: u32, width: u32) -> Self {
        Self { height, width }
    }

    fn area(self) -> i64 {
        i64::from(self.height) * i64::from(self.width)
    }
}

/// How well one candidate resolution fits the image (`select_best_resolution`'s terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PinpointScore {
    /// The candidate.
    pub resolution: Resolution,
    /// Image pixels kept after fitting the image inside the candidate, capped at the original
    /// pixel count: `min(int(w·s) · int(h·s), w·h)`.
    pub effective_resolution: i64,
    /// Candidate pixels not covered: `W·H − effective`.
    pub wasted_resolution: i64,
}

/// Scores every candidate and returns the index of the one HF picks: the largest effective
/// resolution, ties broken by the smallest waste, earlier candidates winning exact ties.
/// `None` only when `candidates` is empty.
pub fn select_best_resolution(
    image: Resolution,
    candidates: &[Resolution],
) -> (Vec<PinpointScore>, Option<usize>) {
    let (oh, ow) = (f64::from(image.height), f64::from(image.width));
    let mut best: Option<usize> = None;
    let mut max_effective = 0i64;
    let mut min_wasted: Option<i64> = None; // None = float("inf")
    let scores: Vec<_> = candidates
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let scale = (f64::from(c.width) / ow).min(f64::from(c.height) / oh);
            let (dw, dh) = ((ow * scale) as i64, (oh * scale) as i64);
            let effective = (dw * dh).min(image.area());
            let wasted = c.area() - effective;
            if effective > max_effective
                || (effective == max_effective && min_wasted.is_none_or(|m| wasted < m))
            {
                max_effective = effective;
                min_wasted = Some(wasted);
                best = Some(i);
            }
            PinpointScore {
                resolution: c,
                effective_resolution: effective,
                wasted_resolution: wasted,
            }
        })
        .collect();
    (scores, best)
}

/// `get_patch_output_size`: the size of `image` scaled to fit `target`, the fitted side
/// exact and the other `min(ceil(side · scale), target side)`.
pub fn patch_output_size(image: Resolution, target: Resolution) -> Resolution {
    let scale_w = f64::from(target.width) / f64::from(image.width);
    let scale_h = f64::from(target.height) / f64::from(image.height);
    if scale_w < scale_h {
        let h = (f64::from(image.height) * scale_w).ceil() as u32;
        Resolution::new(h.min(target.height), target.width)
    } else {
        let w = (f64::from(image.width) * scale_h).ceil() as u32;
        Resolution::new(target.height, w.min(target.width))
    }
}

/// `_get_padding_size`: centred padding, the odd pixel going after (bottom / right).
pub fn padding_to(inner: Resolution, target: Resolution) -> Padding {
    let (dy, dx) = (target.height - inner.height, target.width - inner.width);
    Padding {
        top: dy / 2,
        bottom: dy - dy / 2,
        left: dx / 2,
        right: dx - dx / 2,
    }
}

/// A grid size in feature positions (patches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GridSize {
    /// Rows.
    pub height: u32,
    /// Columns.
    pub width: u32,
}

/// Which axis `unpad_image` trims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnpadAxis {
    /// Rows are trimmed: `tensor[:, offset : height - offset, :]`.
    Rows,
    /// Columns are trimmed: `tensor[:, :, offset : width - offset]`.
    Columns,
}

/// The feature grid of the tiles of one image, before and after HF's unpadding and
/// `anyres_max_N` shrink; what the model needs to pack features and what the processor
/// counts as tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FeatureGrid {
    /// `(rows · pps, cols · pps)`: the tiles' features laid side by side.
    pub full: GridSize,
    /// Axis trimmed by `unpad_image`.
    pub unpad_axis: UnpadAxis,
    /// Positions trimmed from each end of that axis.
    pub unpad_offset: u32,
    /// Grid after unpadding.
    pub unpadded: GridSize,
    /// `N` of `anyres_max_N`, if any.
    pub anyres_max: Option<u32>,
    /// `sqrt(h·w / (N · pps²))` of the unpadded grid (0 when there is no `N`).
    pub ratio: f64,
    /// When `ratio > 1.1`: the size bilinearly interpolated to, `(int(h // ratio), int(w // ratio))`.
    pub downsampled: Option<GridSize>,
}

impl FeatureGrid {
    /// The grid that is finally packed (downsampled if that happened, else unpadded).
    pub fn packed(&self) -> GridSize {
        self.downsampled.unwrap_or(self.unpadded)
    }

    /// Feature tokens of the grid, newline tokens excluded.
    pub fn grid_tokens(&self) -> u32 {
        let p = self.packed();
        p.height * p.width
    }

    /// One `image_newline` token per packed row.
    pub fn newline_tokens(&self) -> u32 {
        self.packed().height
    }
}

/// Unpads and shrinks the `(rows · pps) × (cols · pps)` feature grid of an image of size
/// `original`, as `_get_unpadded_features` / `unpad_image` + `pack_image_features` do.
pub fn feature_grid(
    original: Resolution,
    rows: u32,
    cols: u32,
    patches_per_side: u32,
    anyres_max: Option<u32>,
) -> FeatureGrid {
    let full = GridSize {
        height: rows * patches_per_side,
        width: cols * patches_per_side,
    };
    let (oh, ow) = (f64::from(original.height), f64::from(original.width));
    let (ch, cw) = (f64::from(full.height), f64::from(full.width));
    let (axis, offset) = if ow / oh > cw / ch {
        let new_height = py_int_round7(oh * (cw / ow));
        (
            UnpadAxis::Rows,
            (i64::from(full.height) - new_height).div_euclid(2),
        )
    } else {
        let new_width = py_int_round7(ow * (ch / oh));
        (
            UnpadAxis::Columns,
            (i64::from(full.width) - new_width).div_euclid(2),
        )
    };
    let offset = offset.max(0) as u32;
    let unpadded = match axis {
        UnpadAxis::Rows => GridSize {
            height: full.height - 2 * offset,
            width: full.width,
        },
        UnpadAxis::Columns => GridSize {
            height: full.height,
            width: full.width - 2 * offset,
        },
    };
    let (mut ratio, mut downsampled) = (0.0, None);
    if let Some(n) = anyres_max {
        let cells = f64::from(unpadded.height) * f64::from(unpadded.width);
        ratio = (cells / (f64::from(n) * f64::from(patches_per_side).powi(2))).sqrt();
        if ratio > 1.1 {
            downsampled = Some(GridSize {
                height: py_floordiv(f64::from(unpadded.height), ratio) as u32,
                width: py_floordiv(f64::from(unpadded.width), ratio) as u32,
            });
        }
    }
    FeatureGrid {
        full,
        unpad_axis: axis,
        unpad_offset: offset,
        unpadded,
        anyres_max,
        ratio,
        downsampled,
    }
}

/// Python's `int(round(x, 7))` for `x >= 0`: truncation, except that values within 5e-8
/// below an integer round up to it first.
pub fn py_int_round7(x: f64) -> i64 {
    let floor = x.floor();
    if x - floor >= 1.0 - 5e-8 {
        floor as i64 + 1
    } else {
        floor as i64
    }
}

/// Python's float floor division `a // b` (CPython `float_divmod`): exact `fmod`, then the
/// quotient snapped to an integer. Differs from `(a / b).floor()` when `a / b` rounds up to
/// an integer.
pub fn py_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv += 1.0;
        }
        floordiv
    } else {
        0.0f64.copysign(a / b)
    }
}

#[cfg(test)]
#[path = "anyres_tests.rs"]
mod tests;
