//! Qwen2-VL's vision transformer (`Qwen2VisionTransformerPretrainedModel` without its
//! merger): a bias-free 3-D patch embedding over `temporal × patch × patch` cubes, then
//! pre-norm blocks whose attention rotates queries and keys by each patch's row and column
//! (2-D rotary), all patches of one image attending to each other.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::config::{Activation, Qwen2VlVisionConfig};
use crate::nn::{attention, layer_norm, linear, merge_heads, split_heads};
use crate::preprocess::PatchGrid;
use crate::text::{Rope, apply_rotary};
use crate::weights::WeightLoader;

/// HF builds these LayerNorms with a fixed epsilon, whatever the config says.
const LAYER_NORM_EPS: f64 = 1e-6;
/// `VisionRotaryEmbedding`'s default base.
const ROTARY_THETA: f64 = 10000.0;

#[derive(Module, Debug)]
struct VisionBlock {
    norm1: LayerNorm,
    /// q, k and v of every head, `[dim, 3 · dim]` (output columns: q, k, v; each head-major).
    qkv: Linear,
    proj: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    activation: Activation,
    num_heads: usize,
}

/// The patch embedding and the blocks.
#[derive(Module, Debug)]
pub struct Qwen2VlVisionTower {
    /// The Conv3d of `patch_embed.proj` as a matrix over flattened cubes, `[C·T·P·P, dim]`.
    patch_embed: Linear,
    blocks: Vec<VisionBlock>,
    #[module(skip)]
    rope: Rope,
    #[module(skip)]
    merge_size: usize,
}

impl VisionBlock {
    fn load(w: &mut WeightLoader, prefix: &str, c: &Qwen2VlVisionConfig) -> Self {
        let (d, hidden) = (c.embed_dim, c.mlp_hidden());
        let norm = |w: &mut WeightLoader, name: &str| {
            layer_norm(w, &format!("{prefix}.{name}"), d, LAYER_NORM_EPS)
        };
        Self {
            norm1: norm(w, "norm1"),
            qkv: linear(w, &format!("{prefix}.attn.qkv"), d, 3 * d, true),
            proj: linear(w, &format!("{prefix}.attn.proj"), d, d, true),
            norm2: norm(w, "norm2"),
            fc1: linear(w, &format!("{prefix}.mlp.fc1"), d, hidden, true),
            fc2: linear(w, &format!("{prefix}.mlp.fc2"), hidden, d, true),
            activation: c.hidden_act,
            num_heads: c.num_heads,
        }
    }

    /// # Shapes
    /// - x: `[1, patches, dim]`; cos, sin: `[patches, head_dim]` → `[1, patches, dim]`
    fn forward(&self, x: Tensor<3>, cos: &Tensor<2>, sin: &Tensor<2>) -> Tensor<3> {
        let d = x.dims()[2];
        let head_dim = d / self.num_heads;
        let qkv = self.qkv.forward(self.norm1.forward(x.clone()));
        let part =
            |i: usize| split_heads(qkv.clone().narrow(2, i * d, d), self.num_heads, head_dim);
        let q = apply_rotary(part(0), cos, sin);
        let k = apply_rotary(part(1), cos, sin);
        let (out, _) = attention(q, k, part(2), None);
        let x = x + self.proj.forward(merge_heads(out));
        let h = self.norm2.forward(x.clone());
        let h = self
            .fc2
            .forward(self.activation.forward(self.fc1.forward(h)));
        x + h
    }
}

impl Qwen2VlVisionTower {
    /// Loads `{prefix}.patch_embed` and `{prefix}.blocks.*` (prefix `visual` on the Hub).
    pub fn load(w: &mut WeightLoader, prefix: &str, c: &Qwen2VlVisionConfig) -> Self {
        let (p, t, ch, d) = (
            c.patch_size,
            c.temporal_patch_size,
            c.in_channels,
            c.embed_dim,
        );
        let weight = w
            .tensor(
                &format!("{prefix}.patch_embed.proj.weight"),
                [d, ch, t, p, p],
            )
            .reshape([d, ch * t * p * p])
            .transpose();
        Self {
            patch_embed: Linear {
                weight: burn::module::Param::from_tensor(weight),
                bias: None,
            },
            blocks: (0..c.depth)
                .map(|i| VisionBlock::load(w, &format!("{prefix}.blocks.{i}"), c))
                .collect(),
            rope: Rope::new(d / c.num_heads / 2, ROTARY_THETA),
            merge_size: c.spatial_merge_size,
        }
    }

    /// The rotary tables of one image's patches, in the processor's merge-block order: the
    /// first half of each head's frequencies turns with the patch row, the second with the
    /// column (HF's `rot_pos_emb`, duplicated over both halves of the head).
    ///
    /// # Shapes
    /// - returns two `[patches, head_dim]` tensors
    fn rotary_tables(&self, grid: PatchGrid, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let m = self.merge_size;
        let (gh, gw) = (grid.h as usize, grid.w as usize);
        let freqs = self.rope.inv_freq();
        let half = freqs.len() * 2;
        let mut cos = Vec::with_capacity(grid.patches() * 2 * half);
        let mut sin = Vec::with_capacity(grid.patches() * 2 * half);
        for _frame in 0..grid.t {
            for (row, col) in merge_block_order(gh, gw, m) {
                for _twice in 0..2 {
                    for pos in [row, col] {
                        for f in freqs {
                            let angle = pos as f32 * f;
                            cos.push(angle.cos());
                            sin.push(angle.sin());
                        }
                    }
                }
            }
        }
        let shape = [grid.patches(), 2 * half];
        (
            Tensor::from_data(TensorData::new(cos, shape), device),
            Tensor::from_data(TensorData::new(sin, shape), device),
        )
    }

    /// The blocks' output for one image.
    ///
    /// # Shapes
    /// - patches: `[patches, C·T·P·P]` (the processor's rows) → `[patches, dim]`
    pub fn forward(&self, patches: Tensor<2>, grid: PatchGrid) -> Tensor<2> {
        let _span = tracing::debug_span!("vision", patches = grid.patches()).entered();
        let (cos, sin) = self.rotary_tables(grid, &patches.device());
        let mut x = self.patch_embed.forward(patches).unsqueeze::<3>();
        for block in &self.blocks {
            x = block.forward(x, &cos, &sin);
        }
        let [_, n, d] = x.dims();
        x.reshape([n, d])
    }
}

/// `(row, column)` of every patch in the order the processor emits them: merge blocks
/// row-major, and row-major inside each block.
pub fn merge_block_order(
    rows: usize,
    cols: usize,
    m: usize,
) -> impl Iterator<Item = (usize, usize)> {
    (0..rows / m).flat_map(move |br| {
        (0..cols / m).flat_map(move |bc| (0..m * m).map(move |k| (br * m + k / m, bc * m + k % m)))
    })
}
