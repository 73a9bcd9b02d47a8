//! What the teaching views show, captured during the forward pass that answers: where each
//! visual token of the prompt came from in the source image, and the language model's
//! attention from each answer token to those tokens.

use crate::config::ModelConfig;
use crate::family::PackLayout;
use crate::preprocess::clip::resize_output_size;
use crate::preprocess::{ImageViews, Resolution, SourceRect, TilePlan};
use crate::processor::{ImageProcessor, PreparedImage, Processor};

/// Where one visual token of the prompt came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenPlace {
    /// The source-image pixels it encodes; `None` for a row-newline token, a class token or a
    /// learned query (BLIP-2), which stand for no one place.
    pub rect: Option<SourceRect>,
    /// Which view it belongs to: `"image"`, `"base"`, `"tile"`, `"newline"`, `"cls"`, `"query"`.
    pub view: &'static str,
}

/// `rows × cols` equal cells of `rect`, row-major.
pub fn grid_cells(
    rect: SourceRect,
    rows: usize,
    cols: usize,
    view: &'static str,
) -> Vec<TokenPlace> {
    let (cw, ch) = (rect.width / cols as f64, rect.height / rows as f64);
    (0..rows * cols)
        .map(|i| TokenPlace {
            rect: Some(SourceRect {
                x: rect.x + (i % cols) as f64 * cw,
                y: rect.y + (i / cols) as f64 * ch,
                width: cw,
                height: ch,
            }),
            view,
        })
        .collect()
}

fn place(view: &'static str) -> TokenPlace {
    TokenPlace { rect: None, view }
}

/// The source rectangle a fixed-size processor's view shows: padded to a square when the
/// checkpoint pads, resized, centre-cropped (`geometry::center_crop`'s floor offsets).
fn clip_view(
    processor: &crate::preprocess::ClipImageProcessor,
    width: u32,
    height: u32,
) -> SourceRect {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut rect = SourceRect {
        x: 0.0,
        y: 0.0,
        width: w,
        height: h,
    };
    if processor.pad_to_square.is_some() {
        let side = w.max(h);
        rect = SourceRect {
            x: -((side - w) / 2.0).floor(),
            y: -((side - h) / 2.0).floor(),
            width: side,
            height: side,
        };
    }
    let (mut rw, mut rh) = (rect.width, rect.height);
    if let Some((spec, _)) = processor.resize {
        let (nw, nh) = resize_output_size(spec, rect.width as u32, rect.height as u32);
        (rw, rh) = (f64::from(nw), f64::from(nh));
    }
    let (sx, sy) = (rect.width / rw, rect.height / rh);
    if let Some((ch, cw)) = processor.center_crop {
        let (ch, cw) = (f64::from(ch), f64::from(cw));
        let top = ((rh - ch) / 2.0).floor();
        let left = ((rw - cw) / 2.0).floor();
        rect = SourceRect {
            x: rect.x + left * sx,
            y: rect.y + top * sy,
            width: cw * sx,
            height: ch * sy,
        };
    }
    rect
}

/// The packed AnyRes grid: base view, then each grid row followed by a newline token.
fn onevision_places(plan: &TilePlan, layout: &PackLayout, pps: usize) -> Vec<TokenPlace> {
    let mut places = grid_cells(plan.base_view, pps, pps, "base");
    let PackLayout::Tiled {
        grid,
        crop_rows,
        crop_cols,
        resize_to,
    } = layout
    else {
        places.push(place("newline"));
        return places;
    };
    let (full_rows, full_cols) = ((grid.0 * pps) as f64, (grid.1 * pps) as f64);
    let best = plan.best_resolution;
    // One full-grid cell in pinpoint-canvas pixels, and the canvas → source mapping.
    let (cell_w, cell_h) = (
        f64::from(best.width) / full_cols,
        f64::from(best.height) / full_rows,
    );
    let scale_x = f64::from(plan.source.width) / f64::from(plan.resized.width);
    let scale_y = f64::from(plan.source.height) / f64::from(plan.resized.height);
    let (pad_x, pad_y) = (f64::from(plan.padding.left), f64::from(plan.padding.top));
    let kept = (crop_rows.len(), crop_cols.len());
    let (rows, cols) = resize_to.unwrap_or(kept);
    for r in 0..rows {
        for c in 0..cols {
            // The final cell's span of the kept full-grid cells (fractional when shrunk).
            let r0 = crop_rows.start as f64 + r as f64 * kept.0 as f64 / rows as f64;
            let c0 = crop_cols.start as f64 + c as f64 * kept.1 as f64 / cols as f64;
            let (rn, cn) = (kept.0 as f64 / rows as f64, kept.1 as f64 / cols as f64);
            places.push(TokenPlace {
                rect: Some(SourceRect {
                    x: (c0 * cell_w - pad_x) * scale_x,
                    y: (r0 * cell_h - pad_y) * scale_y,
                    width: cn * cell_w * scale_x,
                    height: rn * cell_h * scale_y,
                }),
                view: "tile",
            });
        }
        places.push(place("newline"));
    }
    places
}

/// Where each of `image`'s visual tokens came from, in prompt order.
pub fn visual_token_places(
    processor: &ImageProcessor,
    image: &PreparedImage,
    patches_per_side: usize,
    is_query_based: bool,
) -> Vec<TokenPlace> {
    if is_query_based {
        return (0..image.tokens).map(|_| place("query")).collect();
    }
    match (processor, &image.plan) {
        (ImageProcessor::Onevision(_), Some(plan)) => {
            onevision_places(plan, &image.layout, plan.tokens.patches_per_side as usize)
        }
        (ImageProcessor::Onevision(_), None) => {
            let rect = SourceRect {
                x: 0.0,
                y: 0.0,
                width: image.width.into(),
                height: image.height.into(),
            };
            let mut places = grid_cells(rect, patches_per_side, patches_per_side, "base");
            places.push(place("newline"));
            places
        }
        (ImageProcessor::Idefics3(_), _) => {
            let Some(plan) = &image.idefics3 else {
                return Vec::new();
            };
            // Each view's tokens are its patch grid folded by the pixel shuffle.
            let side = (plan.image_seq_len as f64).sqrt() as usize;
            plan.tiles
                .iter()
                .map(|t| t.source_rect)
                .chain(std::iter::once(plan.global_view))
                .flat_map(|rect| grid_cells(rect, side, side, "tile"))
                .collect()
        }
        (ImageProcessor::Qwen2Vl(p), _) => {
            // One token per merge block of the resized image, blocks row-major.
            let Some(grid) = image.grid else {
                return Vec::new();
            };
            let m = p.merge_size;
            let rect = SourceRect {
                x: 0.0,
                y: 0.0,
                width: image.width.into(),
                height: image.height.into(),
            };
            (0..grid.t)
                .flat_map(|_| {
                    grid_cells(rect, (grid.h / m) as usize, (grid.w / m) as usize, "image")
                })
                .collect()
        }
        (ImageProcessor::Clip(p), _) => {
            let view = clip_view(p, image.width, image.height);
            let mut places = grid_cells(view, patches_per_side, patches_per_side, "image");
            // The `full` strategy keeps the class token in front of the patches.
            if image.tokens == places.len() + 1 {
                places.insert(0, place("cls"));
            }
            places
        }
    }
}

/// How `image` was cut into encoder views, from the plan `processor` cut it with; `None` for
/// families that do not tile (one fixed-size view) and OneVision's multi-image base view.
pub fn image_views(processor: &Processor, image: &PreparedImage) -> Option<ImageViews> {
    match (processor.image_processor(), processor.config()) {
        (ImageProcessor::Onevision(_), _) => image.plan.as_ref().map(ImageViews::from_onevision),
        (ImageProcessor::Idefics3(p), ModelConfig::Idefics3(c)) => {
            let vision = &c.vision_config;
            let patch = vision.image_size() / vision.patches_per_side().max(1);
            let plan = image.idefics3.as_ref()?;
            Some(ImageViews::from_idefics3(
                p,
                plan,
                patch as u32,
                c.scale_factor as u32,
            ))
        }
        (ImageProcessor::Qwen2Vl(p), _) => {
            let grid = image.grid?;
            Some(ImageViews::whole_image(
                Resolution {
                    width: image.width,
                    height: image.height,
                },
                Resolution {
                    width: grid.w * p.patch_size,
                    height: grid.h * p.patch_size,
                },
                p.patch_size,
                p.merge_size,
                Some("<|vision_start|><|image_pad|>…<|vision_end|>".to_owned()),
            ))
        }
        _ => None,
    }
}

/// Errors reading an attention map.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    #[error("answer token {token} does not exist (the answer has {tokens})")]
    NoToken { token: usize, tokens: usize },
    #[error("layer {layer} does not exist (the model has {layers})")]
    NoLayer { layer: usize, layers: usize },
    #[error("head {head} does not exist (the model has {heads})")]
    NoHead { head: usize, heads: usize },
    #[error(
        "attention rollout needs the prompt's full attention, kept only for prompts of at most {max} tokens"
    )]
    NoRollout { max: usize },
}

/// The language model's attention from each answer token, as captured while answering.
#[derive(Debug, Clone)]
pub struct AnswerAttention {
    pub layers: usize,
    pub heads: usize,
    pub prompt_tokens: usize,
    /// Prompt positions of the visual tokens, in order.
    pub image_positions: Vec<usize>,
    /// `[token][layer]` of `heads × keys` (row-major), keys = `prompt_tokens + token`.
    pub rows: Vec<Vec<Vec<f32>>>,
    /// Per layer, the prompt pass's attention averaged over heads, `prompt × prompt`
    /// (row-major); `None` when the prompt was too long to keep it (no rollout then).
    pub prefill: Option<Vec<Vec<f32>>>,
}

/// One map: attention on each visual token, and the share on visual tokens overall.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttentionMap {
    pub values: Vec<f32>,
    pub image_share: f32,
}

impl AnswerAttention {
    /// Row `position` of `layer`'s head-averaged attention, over keys `0..=position`.
    fn mean_row(&self, prefill: &[Vec<f32>], layer: usize, position: usize) -> Vec<f32> {
        let p = self.prompt_tokens;
        if position < p {
            return prefill[layer][position * p..position * p + position + 1].to_vec();
        }
        // The pass that chose answer token `t` has its query at `p - 1 + t`.
        let token = position + 1 - p;
        let keys = p + token;
        let mut row = vec![0.0f32; keys];
        for head in 0..self.heads {
            for (r, v) in row.iter_mut().zip(self.row(token, layer, head)) {
                *r += v / self.heads as f32;
            }
        }
        row
    }

    /// Attention rollout (Abnar & Zuidema, 2020) from answer `token` to each visual token: the
    /// head-averaged attention of every layer, each mixed half-and-half with the identity for
    /// the residual stream, multiplied from the last layer down to the first.
    pub fn rollout(&self, token: usize) -> Result<AttentionMap, ExplainError> {
        if token >= self.rows.len() {
            return Err(ExplainError::NoToken {
                token,
                tokens: self.rows.len(),
            });
        }
        let prefill = self.prefill.as_ref().ok_or(ExplainError::NoRollout {
            max: crate::session::ROLLOUT_MAX_PROMPT,
        })?;
        let query = self.prompt_tokens - 1 + token;
        let mut v = vec![0.0f32; query + 1];
        v[query] = 1.0;
        for layer in (0..self.layers).rev() {
            let mut next = vec![0.0f32; query + 1];
            for (i, &weight) in v.iter().enumerate() {
                if weight == 0.0 {
                    continue;
                }
                next[i] += 0.5 * weight;
                for (j, a) in self.mean_row(prefill, layer, i).iter().enumerate() {
                    next[j] += 0.5 * weight * a;
                }
            }
            v = next;
        }
        let values: Vec<f32> = self.image_positions.iter().map(|&p| v[p]).collect();
        let image_share = values.iter().sum();
        Ok(AttentionMap {
            values,
            image_share,
        })
    }

    /// The attention row of `token` at `layer` and `head`, over every key.
    pub fn row(&self, token: usize, layer: usize, head: usize) -> &[f32] {
        let keys = self.prompt_tokens + token;
        &self.rows[token][layer][head * keys..(head + 1) * keys]
    }

    /// Attention from answer `token` to each visual token; `None` for a layer or head means
    /// the mean over them.
    pub fn map(
        &self,
        token: usize,
        layer: Option<usize>,
        head: Option<usize>,
    ) -> Result<AttentionMap, ExplainError> {
        if token >= self.rows.len() {
            return Err(ExplainError::NoToken {
                token,
                tokens: self.rows.len(),
            });
        }
        if let Some(layer) = layer.filter(|&l| l >= self.layers) {
            return Err(ExplainError::NoLayer {
                layer,
                layers: self.layers,
            });
        }
        if let Some(head) = head.filter(|&h| h >= self.heads) {
            return Err(ExplainError::NoHead {
                head,
                heads: self.heads,
            });
        }
        let layers: Vec<usize> = layer.map_or_else(|| (0..self.layers).collect(), |l| vec![l]);
        let heads: Vec<usize> = head.map_or_else(|| (0..self.heads).collect(), |h| vec![h]);
        let n = (layers.len() * heads.len()) as f32;
        let mut values = vec![0.0f32; self.image_positions.len()];
        for &l in &layers {
            for &h in &heads {
                let row = self.row(token, l, h);
                for (v, &p) in values.iter_mut().zip(&self.image_positions) {
                    *v += row[p] / n;
                }
            }
        }
        let image_share = values.iter().sum();
        Ok(AttentionMap {
            values,
            image_share,
        })
    }
}
