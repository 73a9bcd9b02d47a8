//! Qwen2-VL: each image at its own resolution through the 2-D rotary vision transformer, the
//! patch merger folding 2 × 2 patches into one language-model token; the decoder is Qwen2 with
//! multimodal rotary positions (M-RoPE, [`mrope_positions`]).

use burn::prelude::*;

use crate::config::Qwen2VlConfig;
use crate::connector::PatchMerger;
use crate::preprocess::PatchGrid;
use crate::text::RopePositions;
use crate::vision::Qwen2VlVisionTower;
use crate::weights::WeightLoader;

#[derive(Module, Debug)]
pub struct Qwen2Vl {
    tower: Qwen2VlVisionTower,
    merger: PatchMerger,
}

impl Qwen2Vl {
    /// Loads `{prefix}.patch_embed`, `.blocks.*` and `.merger` (prefix `visual` in Hub files,
    /// `model.visual` in transformers ≥ 4.52's own layout).
    pub fn load(w: &mut WeightLoader, prefix: &str, config: &Qwen2VlConfig, d_text: usize) -> Self {
        let v = &config.vision;
        Self {
            tower: Qwen2VlVisionTower::load(w, prefix, v),
            merger: PatchMerger::load(
                w,
                &format!("{prefix}.merger"),
                v.embed_dim,
                v.spatial_merge_size,
                d_text,
            ),
        }
    }

    /// The vision blocks' output. # Shapes: `[patches, C·T·P·P]` → `[patches, dim]`
    pub fn vision_features(&self, patches: Tensor<2>, grid: PatchGrid) -> Tensor<2> {
        self.tower.forward(patches, grid)
    }

    /// The image's visual tokens. # Shapes: `[patches, C·T·P·P]` → `[patches / 4, d_text]`
    pub fn image_features(&self, patches: Tensor<2>, grid: PatchGrid) -> Tensor<2> {
        let _span = tracing::debug_span!("connector").entered();
        self.merger.forward(self.vision_features(patches, grid))
    }
}

/// HF's `Qwen2VLModel.get_rope_index` for one prompt: text tokens count up on all three axes;
/// an image's tokens (after its `vision_start` token) take `(frame, row, column)` of their
/// merged grid, offset by the position where the image starts; the text after an image goes on
/// from the largest position so far + 1. Generated tokens continue at `index + delta`.
pub fn mrope_positions(
    ids: &[u32],
    image_token_id: u32,
    grids: &[PatchGrid],
    merge: u32,
) -> RopePositions {
    let mut prompt: Vec<[u32; 3]> = Vec::with_capacity(ids.len());
    let mut next = 0u32;
    let mut i = 0;
    let mut grids = grids.iter();
    while i < ids.len() {
        if ids[i] == image_token_id
            && let Some(g) = grids.next()
        {
            let (t, h, w) = (g.t, g.h / merge, g.w / merge);
            for f in 0..t {
                for r in 0..h {
                    for c in 0..w {
                        prompt.push([next + f, next + r, next + c]);
                    }
                }
            }
            i += (t * h * w) as usize;
            next += t.max(h).max(w);
        } else {
            prompt.push([next; 3]);
            next += 1;
            i += 1;
        }
    }
    prompt.truncate(ids.len());
    let delta = i64::from(next) - ids.len() as i64;
    RopePositions { prompt, delta }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_takes_its_grid_positions_and_text_goes_on_after_its_largest() {
        // text, text, 2×3 merged tokens (4×6 patches), text.
        let img = 9;
        let ids = [1, 2, img, img, img, img, img, img, 3];
        let grid = PatchGrid { t: 1, h: 4, w: 6 };
        let p = mrope_positions(&ids, img, &[grid], 2);
        assert_eq!(p.prompt[..2], [[0; 3], [1; 3]]);
        assert_eq!(p.prompt[2], [2, 2, 2]);
        assert_eq!(p.prompt[4], [2, 2, 4]);
        assert_eq!(p.prompt[7], [2, 3, 4]);
        assert_eq!(p.prompt[8], [5; 3]);
        // Next token: 6 at index 9.
        assert_eq!(p.delta, 6 - 9);
    }
}
