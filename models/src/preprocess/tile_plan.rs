//! [`TilePlan`]: how one image is cut into encoder views and how many tokens it becomes.
//!
//! A plain serialisable value: the engine uses it to build pixel values and pack features,
//! and the UI can draw it (candidate scores, chosen pinpoint, tile rectangles on the photo).

use serde::Serialize;

use super::anyres::{
    FeatureGrid, PinpointScore, Resolution, feature_grid, padding_to, patch_output_size,
    select_best_resolution,
};
use super::config::FeatureSelect;
use super::geometry::Padding;

/// A rectangle in source-image pixel coordinates (fractional: tiles rarely map to whole pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SourceRect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// One grid tile and the part of the source image it shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlannedTile {
    /// Row in the grid, from the top.
    pub row: u32,
    /// Column in the grid, from the left.
    pub col: u32,
    /// The source pixels inside the tile (padding excluded); `None` for a tile of padding only.
    pub source_rect: Option<SourceRect>,
}

/// What the token count depends on besides the image (from `processor_config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenSpec {
    /// `num_image_tokens`: tokens of one encoded view (the base view's token count).
    pub num_image_tokens: u32,
    /// `N` of `vision_aspect_ratio = "anyres_max_N"`.
    pub anyres_max: Option<u32>,
    /// `vision_feature_select_strategy`.
    pub feature_select: FeatureSelect,
}

/// The token layout of one image, as `LlavaOnevisionProcessor._get_number_of_features`
/// counts it and `pack_image_features` lays it out: base view, then the packed grid with one
/// newline token closing each row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TokenLayout {
    /// `int(sqrt(num_image_tokens))`: feature positions per tile side.
    pub patches_per_side: u32,
    /// `patches_per_side²`.
    pub tokens_per_tile: u32,
    /// Tokens of the base view (`num_image_tokens`).
    pub base_tokens: u32,
    /// Tile grid used for the token math: `(best_h // tile_h, best_w // tile_w)`.
    pub token_grid_rows: u32,
    /// See `token_grid_rows`.
    pub token_grid_cols: u32,
    /// The feature grid, unpadded and possibly shrunk.
    pub features: FeatureGrid,
    /// Tokens of the packed grid (newlines excluded).
    pub grid_tokens: u32,
    /// Newline tokens, one per packed row.
    pub newline_tokens: u32,
    /// Whether one token is subtracted for `vision_feature_select_strategy == "default"`.
    pub drops_cls_token: bool,
    /// `<image>` tokens in the prompt for this image.
    pub total: u32,
}

/// The complete AnyRes plan of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TilePlan {
    /// Source image size.
    pub source: Resolution,
    /// Size of each view fed to the encoder.
    pub tile: Resolution,
    /// Every pinpoint with its score, in configuration order.
    pub candidates: Vec<PinpointScore>,
    /// Index of the chosen pinpoint in `candidates`.
    pub chosen: usize,
    /// The chosen pinpoint.
    pub best_resolution: Resolution,
    /// The image resized to fit inside the pinpoint.
    pub resized: Resolution,
    /// Padding around the resized image up to the pinpoint.
    pub padding: Padding,
    /// Tile rows.
    pub rows: u32,
    /// Tile columns.
    pub cols: u32,
    /// The base view (the whole image squeezed to one tile); always the first view.
    pub base_view: SourceRect,
    /// Grid tiles in row-major order (views 1.. of the pixel values).
    pub tiles: Vec<PlannedTile>,
    /// Token counts.
    pub tokens: TokenLayout,
}

impl TilePlan {
    /// Views fed to the encoder: the base view plus the grid tiles.
    pub fn num_views(&self) -> usize {
        1 + self.tiles.len()
    }
}

/// Plans the AnyRes split of a `source` image: `tile` is the processor's `size` (tiles are
/// cut `tile.height` pixels square, as `divide_to_patches` does). `None` when `pinpoints` is
/// empty.
pub fn plan_tiles(
    source: Resolution,
    tile: Resolution,
    pinpoints: &[Resolution],
    spec: &TokenSpec,
) -> Option<TilePlan> {
    let (candidates, chosen) = select_best_resolution(source, pinpoints);
    let chosen = chosen?;
    let best = pinpoints[chosen];
    let resized = patch_output_size(source, best);
    let padding = padding_to(resized, best);
    let cut = tile.height.max(1);
    let (rows, cols) = (best.height.div_ceil(cut), best.width.div_ceil(cut));
    let tiles = (0..rows)
        .flat_map(|row| (0..cols).map(move |col| (row, col)))
        .map(|(row, col)| PlannedTile {
            row,
            col,
            source_rect: tile_source_rect(source, resized, padding, best, cut, row, col),
        })
        .collect();
    let base_view = SourceRect {
        x: 0.0,
        y: 0.0,
        width: f64::from(source.width),
        height: f64::from(source.height),
    };
    let tokens = token_layout(source, best, tile, spec);
    Some(TilePlan {
        source,
        tile,
        candidates,
        chosen,
        best_resolution: best,
        resized,
        padding,
        rows,
        cols,
        base_view,
        tiles,
        tokens,
    })
}

/// Maps tile (`row`, `col`) of the padded pinpoint canvas back to source pixels.
fn tile_source_rect(
    source: Resolution,
    resized: Resolution,
    padding: Padding,
    best: Resolution,
    cut: u32,
    row: u32,
    col: u32,
) -> Option<SourceRect> {
    let span = |start: u32, end: u32, pad: u32, len: u32| {
        let lo = start.saturating_sub(pad).min(len);
        let hi = end.saturating_sub(pad).min(len);
        (hi > lo).then_some((lo, hi))
    };
    let (x0, x1) = span(
        col * cut,
        ((col + 1) * cut).min(best.width),
        padding.left,
        resized.width,
    )?;
    let (y0, y1) = span(
        row * cut,
        ((row + 1) * cut).min(best.height),
        padding.top,
        resized.height,
    )?;
    let sx = f64::from(source.width) / f64::from(resized.width);
    let sy = f64::from(source.height) / f64::from(resized.height);
    Some(SourceRect {
        x: f64::from(x0) * sx,
        y: f64::from(y0) * sy,
        width: f64::from(x1 - x0) * sx,
        height: f64::from(y1 - y0) * sy,
    })
}

/// `_get_number_of_features(orig_h, orig_w, tile_h, tile_w)` plus the select-strategy
/// adjustment of `_expand_image_tokens`.
fn token_layout(
    source: Resolution,
    best: Resolution,
    tile: Resolution,
    spec: &TokenSpec,
) -> TokenLayout {
    let patches_per_side = f64::from(spec.num_image_tokens).sqrt() as u32;
    let rows = best.height / tile.height.max(1);
    let cols = best.width / tile.width.max(1);
    let features = feature_grid(source, rows, cols, patches_per_side, spec.anyres_max);
    let drops_cls_token = spec.feature_select == FeatureSelect::Default;
    let total = features.grid_tokens() + features.newline_tokens() + spec.num_image_tokens
        - u32::from(drops_cls_token);
    TokenLayout {
        patches_per_side,
        tokens_per_tile: patches_per_side * patches_per_side,
        base_tokens: spec.num_image_tokens,
        token_grid_rows: rows,
        token_grid_cols: cols,
        features,
        grid_tokens: features.grid_tokens(),
        newline_tokens: features.newline_tokens(),
        drops_cls_token,
        total,
    }
}
