//! LLaVA-OneVision (`LlavaOnevisionForConditionalGeneration`): SigLIP tower → MLP projector
//! over the base view and every AnyRes tile, then `pack_image_features`: tiles reassembled into
//! one feature grid, padding cropped away (unpadding), the grid shrunk bilinearly when it
//! exceeds `anyres_max_N` base views, and an `image_newline` token after every row.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::config::LlavaOnevisionConfig;
use crate::connector::MlpProjector;
use crate::vision::VisionTower;
use crate::weights::WeightLoader;

use super::{FamilyError, FeatureSelect};

#[derive(Module, Debug)]
pub struct LlavaOnevision {
    tower: VisionTower,
    projector: MlpProjector,
    /// `[d_text]`, appended after each feature row.
    image_newline: Tensor<1>,
    #[module(skip)]
    select: FeatureSelect,
    patches_per_side: usize,
}

/// How one image's tile features are packed into visual tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackLayout {
    /// Several images in one prompt: HF uses only the base view (plus one newline token).
    BaseOnly,
    /// AnyRes: `grid` tiles (rows, cols) after the base view; of the `(rows * pps, cols * pps)`
    /// feature grid, rows `crop_rows` and columns `crop_cols` are kept (unpadding), then the
    /// grid is resized to `resize_to` (rows, cols) when anyres_max shrinking applies.
    Tiled {
        grid: (usize, usize),
        crop_rows: std::ops::Range<usize>,
        crop_cols: std::ops::Range<usize>,
        resize_to: Option<(usize, usize)>,
    },
}

impl LlavaOnevision {
    pub fn load(
        w: &mut WeightLoader,
        config: &LlavaOnevisionConfig,
        d_text: usize,
    ) -> Result<Self, FamilyError> {
        let select = FeatureSelect::new(
            &config.vision_feature_layer,
            config.vision_feature_select_strategy,
            &config.vision_config,
        )?;
        let tower = VisionTower::load(
            w,
            "vision_tower.vision_model",
            &config.vision_config,
            select.deepest(),
        );
        let d_vision = config.vision_config.hidden_size() * select.layers.len();
        let projector = MlpProjector::load(
            w,
            "multi_modal_projector",
            d_vision,
            d_text,
            config.projector_hidden_act,
            config.multimodal_projector_bias,
        );
        Ok(Self {
            tower,
            projector,
            image_newline: w.tensor("image_newline", [d_text]),
            select,
            patches_per_side: config.vision_config.patches_per_side(),
        })
    }

    /// # Shapes
    /// - tiles: `[tiles, 3, size, size]` → `[tiles, tokens, d_vision * layers]`
    pub fn vision_features(&self, tiles: Tensor<4>) -> Tensor<3> {
        self.select.apply(self.tower.hidden_states(tiles))
    }

    /// # Shapes
    /// - tiles: `[tiles, 3, size, size]` → `[tiles, tokens, d_text]`
    pub fn tile_features(&self, tiles: Tensor<4>) -> Tensor<3> {
        self.projector.forward(self.vision_features(tiles))
    }

    /// Packs one image's projected tile features (base view first) into its visual tokens.
    ///
    /// # Shapes
    /// - tiles: `[tiles, pps * pps, d]` → `[visual_tokens, d]`
    pub fn pack(&self, tiles: Tensor<3>, layout: &PackLayout) -> Tensor<2> {
        let [n, tokens, d] = tiles.dims();
        let base: Tensor<2> = tiles.clone().narrow(0, 0, 1).reshape([tokens, d]);
        let newline = self.image_newline.clone().reshape([1, d]);
        let PackLayout::Tiled {
            grid: (rows, cols),
            crop_rows,
            crop_cols,
            resize_to,
        } = layout
        else {
            return Tensor::cat(vec![base, newline], 0);
        };
        let pps = self.patches_per_side;
        debug_assert_eq!(n, 1 + rows * cols);
        let grid = tiles
            .narrow(0, 1, rows * cols)
            .reshape([*rows, *cols, pps, pps, d])
            .permute([0, 2, 1, 3, 4])
            .reshape([rows * pps, cols * pps, d]);
        let grid = grid.narrow(0, crop_rows.start, crop_rows.len()).narrow(
            1,
            crop_cols.start,
            crop_cols.len(),
        );
        let grid = match resize_to {
            Some((h, w)) => resize_bilinear(grid, *h, *w),
            None => grid,
        };
        let [h, w, _] = grid.dims();
        let newlines = newline.unsqueeze::<3>().expand([h, 1, d]);
        let grid = Tensor::cat(vec![grid, newlines], 1).reshape([h * (w + 1), d]);
        Tensor::cat(vec![base, grid], 0)
    }
}

/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)` on a feature grid,
/// as two matrix products with the interpolation weights.
///
/// # Shapes
/// - grid: `[rows, cols, d]` → `[out_rows, out_cols, d]`
fn resize_bilinear(grid: Tensor<3>, out_rows: usize, out_cols: usize) -> Tensor<3> {
    let [rows, cols, _] = grid.dims();
    let (device, dtype) = (grid.device(), grid.dtype());
    let wx = Tensor::<2>::from_data(interpolation_weights(cols, out_cols), &device).cast(dtype);
    let wy = Tensor::<2>::from_data(interpolation_weights(rows, out_rows), &device).cast(dtype);
    // Along columns: [rows, out_cols, cols] x [rows, cols, d].
    let x = wx
        .unsqueeze::<3>()
        .expand([rows, out_cols, cols])
        .matmul(grid);
    // Along rows: [out_cols, out_rows, rows] x [out_cols, rows, d].
    let x = x.swap_dims(0, 1);
    let x = wy
        .unsqueeze::<3>()
        .expand([out_cols, out_rows, rows])
        .matmul(x);
    x.swap_dims(0, 1)
}

/// The `[output, input]` linear-interpolation matrix PyTorch's bilinear mode uses along one
/// axis: source coordinate `(i + 0.5) * in / out - 0.5`, clamped at 0, between two neighbours.
fn interpolation_weights(input: usize, output: usize) -> TensorData {
    let scale = input as f32 / output as f32;
    let mut weights = vec![0.0f32; output * input];
    for i in 0..output {
        let src = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(input - 1);
        let i1 = (i0 + 1).min(input - 1);
        let lambda = src - i0 as f32;
        weights[i * input + i0] += 1.0 - lambda;
        weights[i * input + i1] += lambda;
    }
    TensorData::new(weights, [output, input])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_weights_rows_sum_to_one_and_match_torch_for_halving() {
        // torch: interpolate([0,1,2,3] -> 2, bilinear, align_corners=False) = [0.5, 2.5]
        let w = interpolation_weights(4, 2).try_to_vec::<f32>().unwrap();
        assert_eq!(w, vec![0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5]);
        let w = interpolation_weights(5, 3).try_to_vec::<f32>().unwrap();
        for row in w.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
