//! [`ImageViews`]: how one image is cut into encoder views, the same shape for every family
//! that tiles, so one teaching view draws them all.
//!
//! It is made from the family's own plan (the value the processor cut the pixels with), never
//! recomputed: [`ImageViews::from_idefics3`] (SmolVLM / SmolDocling: tiles plus a global view),
//! [`ImageViews::from_onevision`] (LLaVA-OneVision's AnyRes: base view plus a padded grid; the
//! pinpoint candidates stay in its [`TilePlan`]) and [`ImageViews::whole_image`] (one resized
//! view cut into a patch grid whose neighbours are merged into tokens, as Qwen2-VL does).

use serde::Serialize;

use super::anyres::Resolution;
use super::idefics3::{GLOBAL_IMAGE_TOKEN, Idefics3ImageProcessor, Idefics3TilePlan, ResizeTarget};
use super::tile_plan::{SourceRect, TilePlan, TokenLayout};

/// Which way of cutting the image a plan follows (the page words its explanation by this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TilingScheme {
    /// LLaVA-NeXT / OneVision: the best-fitting grid of encoder-size tiles, padded, plus a base view.
    AnyRes,
    /// Idefics3 / SmolVLM: the resized image cut into a grid of tiles, plus a global view.
    ImageSplitting,
    /// Qwen2-VL: one view at (close to) the image's own size, its patches merged into tokens.
    DynamicResolution,
}

/// What part of the plan a view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// One cell of the tile grid.
    Tile,
    /// The whole image squeezed into one tile after the tiles (Idefics3).
    Global,
    /// The whole image squeezed into one tile before the tiles (OneVision).
    Base,
    /// The whole image as the only view (Qwen2-VL).
    Whole,
}

/// One view the vision encoder reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EncoderView {
    /// Tile, global, base or whole.
    pub kind: ViewKind,
    /// `[row, col]` in the tile grid, from 0 (tiles only).
    pub cell: Option<[u32; 2]>,
    /// Words for the view: `"row 1, col 2"`, `"global view"`, `"base view"`, `"whole image"`.
    pub label: String,
    /// The text that marks the view in the prompt (`"<row_1_col_2>"`, `"<global-img>"`), if any.
    pub marker: Option<String>,
    /// The whole view in source-image pixels; reaches outside the image where it covers
    /// padding (OneVision's pinpoint canvas).
    pub extent: SourceRect,
    /// The source pixels the view shows (padding excluded); `None` for padding only.
    pub source_rect: Option<SourceRect>,
    /// Pixels fed to the encoder (height, width).
    pub encoded_size: Resolution,
    /// `[rows, cols]` of encoder patches.
    pub patch_grid: [u32; 2],
    /// Patches merged into one token along each side (pixel shuffle, patch merger; 1: none).
    pub merge: u32,
    /// Visual tokens the connector makes of this view (before any trimming of the packed
    /// grid: see [`ImageViews::token_terms`]).
    pub tokens: u32,
}

/// One term of the prompt's visual-token sum, e.g. `{ label: "newlines", count: 54 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenTerm {
    /// What the tokens are.
    pub label: String,
    /// How many (negative: taken away, e.g. OneVision's class-token adjustment).
    pub count: i64,
}

/// How one image is cut into encoder views and how many visual tokens it puts in the prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageViews {
    /// The way of cutting.
    pub scheme: TilingScheme,
    /// Source image size.
    pub source: Resolution,
    /// The size the image is resized to before views are cut from it; `None` when the only
    /// view is the image squeezed to the encoder's size.
    pub resized: Option<Resolution>,
    /// The area the views are cut from, in source pixels: the image itself, or larger where
    /// the processor pads it.
    pub frame: SourceRect,
    /// `[rows, cols]` of the tile grid (`[0, 0]`: not split).
    pub grid: [u32; 2],
    /// Every view, in the order the encoder reads them.
    pub views: Vec<EncoderView>,
    /// How the visual tokens in the prompt add up; the counts sum to `total_tokens`.
    pub token_terms: Vec<TokenTerm>,
    /// Visual tokens this image puts in the prompt (what the processor counts).
    pub total_tokens: u32,
    /// The processor's steps in words, in order.
    pub notes: Vec<String>,
}

fn whole(source: Resolution) -> SourceRect {
    SourceRect {
        x: 0.0,
        y: 0.0,
        width: f64::from(source.width),
        height: f64::from(source.height),
    }
}

fn term(label: &str, count: u32) -> TokenTerm {
    TokenTerm {
        label: label.to_owned(),
        count: i64::from(count),
    }
}

fn size(r: Resolution) -> String {
    format!("{}×{}", r.width, r.height)
}

impl ImageViews {
    /// Idefics3 / SmolVLM: `plan` as `processor` made it; `patch_size` and `scale_factor`
    /// (the pixel shuffle) from the model's config.json. The views are exactly the encoder's
    /// inputs: one image has no all-zero padding views for the model to drop.
    pub fn from_idefics3(
        processor: &Idefics3ImageProcessor,
        plan: &Idefics3TilePlan,
        patch_size: u32,
        scale_factor: u32,
    ) -> Self {
        let side = plan.tile.height / patch_size.max(1);
        let view = |kind, cell, label: String, marker: String, rect| EncoderView {
            kind,
            cell,
            label,
            marker: Some(marker),
            extent: rect,
            source_rect: Some(rect),
            encoded_size: plan.tile,
            patch_grid: [side, side],
            merge: scale_factor,
            tokens: plan.image_seq_len,
        };
        let mut views: Vec<EncoderView> = plan
            .tiles
            .iter()
            .map(|t| {
                let (r, c) = (t.row + 1, t.col + 1);
                view(
                    ViewKind::Tile,
                    Some([t.row, t.col]),
                    format!("row {r}, col {c}"),
                    format!("<row_{r}_col_{c}>"),
                    t.source_rect,
                )
            })
            .collect();
        views.push(view(
            ViewKind::Global,
            None,
            "global view".to_owned(),
            GLOBAL_IMAGE_TOKEN.to_owned(),
            plan.global_view,
        ));
        let tiles = plan.tiles.len() as u32;
        let mut token_terms = Vec::new();
        if tiles > 0 {
            token_terms.push(term("tiles", tiles * plan.image_seq_len));
        }
        token_terms.push(term("global", plan.image_seq_len));
        Self {
            scheme: TilingScheme::ImageSplitting,
            source: plan.source,
            resized: (tiles > 0).then_some(plan.canvas),
            frame: whole(plan.source),
            grid: [plan.rows, plan.cols],
            views,
            token_terms,
            total_tokens: plan.image_tokens,
            notes: idefics3_notes(processor, plan, patch_size, scale_factor),
        }
    }

    /// LLaVA-OneVision's AnyRes `plan`: the base view first, then the grid tiles over the
    /// padded pinpoint canvas. Tile tokens are counted before unpadding; the terms give the
    /// packed count (base + unpadded grid + row newlines).
    pub fn from_onevision(plan: &TilePlan) -> Self {
        let t = &plan.tokens;
        let pps = t.patches_per_side;
        let sx = f64::from(plan.source.width) / f64::from(plan.resized.width.max(1));
        let sy = f64::from(plan.source.height) / f64::from(plan.resized.height.max(1));
        let cut = f64::from(plan.tile.height.max(1));
        let (left, top) = (f64::from(plan.padding.left), f64::from(plan.padding.top));
        let view = |kind, cell, label: String, extent, source_rect, tokens| EncoderView {
            kind,
            cell,
            label,
            marker: None,
            extent,
            source_rect,
            encoded_size: plan.tile,
            patch_grid: [pps, pps],
            merge: 1,
            tokens,
        };
        let mut views = vec![view(
            ViewKind::Base,
            None,
            "base view".to_owned(),
            plan.base_view,
            Some(plan.base_view),
            t.base_tokens,
        )];
        views.extend(plan.tiles.iter().map(|tile| {
            let extent = SourceRect {
                x: (f64::from(tile.col) * cut - left) * sx,
                y: (f64::from(tile.row) * cut - top) * sy,
                width: cut * sx,
                height: cut * sy,
            };
            let label = format!("row {}, col {}", tile.row + 1, tile.col + 1);
            let cell = Some([tile.row, tile.col]);
            view(
                ViewKind::Tile,
                cell,
                label,
                extent,
                tile.source_rect,
                t.tokens_per_tile,
            )
        }));
        let best = plan.best_resolution;
        Self {
            scheme: TilingScheme::AnyRes,
            source: plan.source,
            resized: Some(plan.resized),
            // `0 - …`, not `-…`: no negative zero in the JSON.
            frame: SourceRect {
                x: (0.0 - left) * sx,
                y: (0.0 - top) * sy,
                width: f64::from(best.width) * sx,
                height: f64::from(best.height) * sy,
            },
            grid: [plan.rows, plan.cols],
            views,
            token_terms: onevision_terms(t),
            total_tokens: t.total,
            notes: onevision_notes(plan),
        }
    }

    /// One view: the `source` image resized to `resized` (whole patches), cut into
    /// `patch_size`-pixel patches, `merge × merge` neighbouring patches per token (Qwen2-VL:
    /// 14-px patches, 2 × 2 merged). `marker` is the text around the view in the prompt.
    pub fn whole_image(
        source: Resolution,
        resized: Resolution,
        patch_size: u32,
        merge: u32,
        marker: Option<String>,
    ) -> Self {
        let p = patch_size.max(1);
        let m = merge.max(1);
        let grid = [resized.height / p, resized.width / p];
        let tokens = (grid[0] / m) * (grid[1] / m);
        let rect = whole(source);
        Self {
            scheme: TilingScheme::DynamicResolution,
            source,
            resized: Some(resized),
            frame: rect,
            grid: [0, 0],
            views: vec![EncoderView {
                kind: ViewKind::Whole,
                cell: None,
                label: "whole image".to_owned(),
                marker,
                extent: rect,
                source_rect: Some(rect),
                encoded_size: resized,
                patch_grid: grid,
                merge: m,
                tokens,
            }],
            token_terms: vec![term("merged patches", tokens)],
            total_tokens: tokens,
            notes: vec![
                format!(
                    "Resized to {} (whole {}-px patches, close to its own size).",
                    size(resized),
                    p * m
                ),
                format!(
                    "{} × {} patches of {p} px; {m} × {m} neighbours merge into one token: {} × {} = {tokens} tokens.",
                    grid[0],
                    grid[1],
                    grid[0] / m,
                    grid[1] / m
                ),
            ],
        }
    }
}

/// `_get_number_of_features`' sum: base view, packed grid, row newlines, less the class token
/// for the `default` feature strategy.
fn onevision_terms(t: &TokenLayout) -> Vec<TokenTerm> {
    let mut terms = vec![
        term("base", t.base_tokens),
        term("grid", t.grid_tokens),
        term("newlines", t.newline_tokens),
    ];
    if t.drops_cls_token {
        terms.push(TokenTerm {
            label: "class token".to_owned(),
            count: -1,
        });
    }
    terms
}

fn onevision_notes(plan: &TilePlan) -> Vec<String> {
    let t = &plan.tokens;
    let pps = t.patches_per_side;
    vec![
        format!(
            "Pinpoint {} chosen from {} candidate grids; the image is resized to {} inside it and padded.",
            size(plan.best_resolution),
            plan.candidates.len(),
            size(plan.resized)
        ),
        format!(
            "Cut into {} × {} tiles of {} px, {pps}×{pps} = {} tokens each before the padding is trimmed.",
            plan.rows, plan.cols, plan.tile.height, t.tokens_per_tile
        ),
        "One newline token closes each row of the packed grid.".to_owned(),
    ]
}

fn idefics3_notes(
    processor: &Idefics3ImageProcessor,
    plan: &Idefics3TilePlan,
    patch_size: u32,
    scale_factor: u32,
) -> Vec<String> {
    let t = plan.tile.height;
    let mut notes = Vec::new();
    match processor.resize {
        Some(ResizeTarget::LongestEdge(n)) => notes.push(format!(
            "Resized so the longest edge is {n} px: {}.",
            size(plan.resized)
        )),
        Some(ResizeTarget::Exact(r)) => notes.push(format!("Resized to {}.", size(r))),
        None => {}
    }
    if !plan.tiles.is_empty() {
        notes.push(format!(
            "Resized up to whole {t}-px tiles ({}) and cut into {} × {} tiles, plus the whole image squeezed into one more tile (the global view).",
            size(plan.canvas),
            plan.rows,
            plan.cols
        ));
    } else if processor.split {
        notes.push(format!("It fits one {t}-px tile: not split, one view."));
    } else {
        notes.push(format!(
            "Splitting is off: the image is squeezed into one {t}×{t} view."
        ));
    }
    let side = t / patch_size.max(1);
    notes.push(format!(
        "Each view: {side}×{side} patches of {patch_size} px; the pixel shuffle folds {s}×{s} patches into one token: {} tokens per view.",
        plan.image_seq_len,
        s = scale_factor
    ));
    if !plan.tiles.is_empty() {
        notes.push(
            "The prompt marks each tile with its place (<row_1_col_1> …) and the global view with <global-img>."
                .to_owned(),
        );
    }
    notes
}

#[cfg(test)]
#[path = "image_views_tests.rs"]
mod tests;
