//! The embeddings in front of the shared encoder: CLIP (class token, no patch bias,
//! `pre_layrnorm`) and SigLIP (patch bias, no class token). Only the layers up to the deepest
//! feature layer a connector reads are loaded; the rest (and the post-layernorm, which
//! `hidden_states[...]` never passes through) are declared unused.

use burn::module::Param;
use burn::nn::LayerNorm;
use burn::prelude::*;

use crate::config::{Blip2VisionConfig, ClipVisionConfig, SiglipVisionConfig, VisionConfig};
use crate::nn::{layer_norm, save_layer_norm};
use crate::weights::{WeightLoader, WeightWriter};

use super::encoder::{AttentionLayout, VitEncoder, VitSpec};

/// Patch embedding as a matrix product: a stride = kernel convolution over non-overlapping
/// patches equals flattening each patch (channel, row, column order) and multiplying by the
/// flattened kernel.
#[derive(Module, Debug)]
struct PatchEmbedding {
    /// `[channels * patch * patch, hidden]`
    weight: Param<Tensor<2>>,
    bias: Option<Param<Tensor<1>>>,
    patch_size: usize,
}

impl PatchEmbedding {
    fn load(
        w: &mut WeightLoader,
        prefix: &str,
        hidden: usize,
        channels: usize,
        patch: usize,
        bias: bool,
    ) -> Self {
        let weight = w
            .tensor(
                &format!("{prefix}.weight"),
                [hidden, channels, patch, patch],
            )
            .reshape([hidden, channels * patch * patch])
            .transpose();
        let bias = bias.then(|| w.tensor(&format!("{prefix}.bias"), [hidden]));
        Self {
            weight: Param::from_tensor(weight),
            bias: bias.map(Param::from_tensor),
            patch_size: patch,
        }
    }

    /// As in the convolution, rows and columns past the last whole patch are not read
    /// (SigLIP so400m/14 at 384 px: 27 patches of 14 px cover 378 px).
    ///
    /// # Shapes
    /// - pixels: `[images, channels, height, width]` → `[images, patches, hidden]`
    fn forward(&self, pixels: Tensor<4>) -> Tensor<3> {
        let [n, c, h, w] = pixels.dims();
        let p = self.patch_size;
        let (gh, gw) = (h / p, w / p);
        let patches = pixels
            .narrow(2, 0, gh * p)
            .narrow(3, 0, gw * p)
            .reshape([n, c, gh, p, gw, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([n, gh * gw, c * p * p]);
        let out = patches.matmul(self.weight.val().unsqueeze::<3>());
        match &self.bias {
            Some(b) => out + b.val().unsqueeze::<3>(),
            None => out,
        }
    }
}

/// A vision tower with its embeddings and the encoder layers the connector needs.
#[derive(Module, Debug)]
pub struct VisionTower {
    patch_embedding: PatchEmbedding,
    /// CLIP's class token `[hidden]`; SigLIP has none.
    class_embedding: Option<Param<Tensor<1>>>,
    /// `[positions, hidden]`
    position_embedding: Param<Tensor<2>>,
    pre_layrnorm: Option<LayerNorm>,
    encoder: VitEncoder,
    /// BLIP-2's output norm (its Q-Former reads `last_hidden_state`); CLIP's and SigLIP's are
    /// never on the path a connector reads.
    post_layernorm: Option<LayerNorm>,
}

/// Resolves an HF hidden-state index (negative counts from the end) for an encoder of
/// `num_layers` layers, where `hidden_states` has `num_layers + 1` entries.
pub fn feature_layer_index(layer: i64, num_layers: usize) -> Option<usize> {
    let len = num_layers as i64 + 1;
    let index = if layer < 0 { len + layer } else { layer };
    (0..len).contains(&index).then_some(index as usize)
}

impl VisionTower {
    /// Loads a tower from `{prefix}.embeddings`, `{prefix}.encoder` … (e.g. prefix
    /// `vision_tower.vision_model`), keeping only the layers that reach `deepest_state`.
    pub fn load(
        w: &mut WeightLoader,
        prefix: &str,
        config: &VisionConfig,
        deepest_state: usize,
    ) -> Self {
        match config {
            VisionConfig::Clip(c) => Self::load_clip(w, prefix, c, deepest_state),
            VisionConfig::Siglip(c) => Self::load_siglip(w, prefix, c, deepest_state),
            VisionConfig::Blip2(c) => Self::load_blip2(w, prefix, c),
            VisionConfig::Qwen2Vl(_) => {
                unreachable!("only Qwen2VlConfig holds this tower, and it loads its own")
            }
        }
    }

    fn load_clip(w: &mut WeightLoader, prefix: &str, c: &ClipVisionConfig, deepest: usize) -> Self {
        let d = c.hidden_size;
        let positions = (c.image_size / c.patch_size).pow(2) + 1;
        let spec = VitSpec {
            hidden_size: d,
            intermediate_size: c.intermediate_size,
            num_heads: c.num_attention_heads,
            activation: c.hidden_act,
            layer_norm_eps: c.layer_norm_eps,
            attention: AttentionLayout::Separate,
        };
        let emb = format!("{prefix}.embeddings");
        let tower = Self {
            patch_embedding: PatchEmbedding::load(
                w,
                &format!("{emb}.patch_embedding"),
                d,
                c.num_channels,
                c.patch_size,
                false,
            ),
            class_embedding: Some(Param::from_tensor(
                w.tensor(&format!("{emb}.class_embedding"), [d]),
            )),
            position_embedding: Param::from_tensor(
                w.tensor(&format!("{emb}.position_embedding.weight"), [positions, d]),
            ),
            pre_layrnorm: Some(layer_norm(
                w,
                &format!("{prefix}.pre_layrnorm"),
                d,
                c.layer_norm_eps,
            )),
            encoder: VitEncoder::load(w, &format!("{prefix}.encoder"), &spec, deepest),
            post_layernorm: None,
        };
        Self::ignore_unused(w, prefix, deepest);
        tower
    }

    fn load_siglip(
        w: &mut WeightLoader,
        prefix: &str,
        c: &SiglipVisionConfig,
        deepest: usize,
    ) -> Self {
        let d = c.hidden_size;
        let positions = (c.image_size / c.patch_size).pow(2);
        let spec = VitSpec {
            hidden_size: d,
            intermediate_size: c.intermediate_size,
            num_heads: c.num_attention_heads,
            activation: c.hidden_act,
            layer_norm_eps: c.layer_norm_eps,
            attention: AttentionLayout::Separate,
        };
        let emb = format!("{prefix}.embeddings");
        let tower = Self {
            patch_embedding: PatchEmbedding::load(
                w,
                &format!("{emb}.patch_embedding"),
                d,
                c.num_channels,
                c.patch_size,
                true,
            ),
            class_embedding: None,
            position_embedding: Param::from_tensor(
                w.tensor(&format!("{emb}.position_embedding.weight"), [positions, d]),
            ),
            pre_layrnorm: None,
            encoder: VitEncoder::load(w, &format!("{prefix}.encoder"), &spec, deepest),
            post_layernorm: None,
        };
        Self::ignore_unused(w, prefix, deepest);
        w.ignore_prefix(format!("{prefix}.head."));
        tower
    }

    /// Idefics3's tower: SigLIP's, every layer run and the output normed (its connector reads
    /// `last_hidden_state`). Its NaViT-style position ids are the identity for the full-size
    /// tiles the Idefics3 processor always makes (as transformers 5.x computes them; 4.57 is
    /// off by one in fp32, see docs/idefics3.md).
    pub fn load_idefics3(
        w: &mut WeightLoader,
        prefix: &str,
        config: &VisionConfig,
    ) -> Option<Self> {
        let VisionConfig::Siglip(c) = config else {
            return None;
        };
        let mut tower = Self::load_siglip(w, prefix, c, c.num_hidden_layers);
        tower.post_layernorm = Some(layer_norm(
            w,
            &format!("{prefix}.post_layernorm"),
            c.hidden_size,
            c.layer_norm_eps,
        ));
        Some(tower)
    }

    /// BLIP-2 / InstructBLIP's EVA ViT: class token and position table stored as parameters,
    /// fused qkv, every layer run and the output normed.
    fn load_blip2(w: &mut WeightLoader, prefix: &str, c: &Blip2VisionConfig) -> Self {
        let d = c.hidden_size;
        let positions = (c.image_size / c.patch_size).pow(2) + 1;
        let spec = VitSpec {
            hidden_size: d,
            intermediate_size: c.intermediate_size,
            num_heads: c.num_attention_heads,
            activation: c.hidden_act,
            layer_norm_eps: c.layer_norm_eps,
            attention: AttentionLayout::Fused,
        };
        let emb = format!("{prefix}.embeddings");
        Self {
            patch_embedding: PatchEmbedding::load(
                w,
                &format!("{emb}.patch_embedding"),
                d,
                3,
                c.patch_size,
                true,
            ),
            class_embedding: Some(Param::from_tensor(
                w.tensor(&format!("{emb}.class_embedding"), [1, 1, d])
                    .reshape([d]),
            )),
            position_embedding: Param::from_tensor(
                w.tensor(&format!("{emb}.position_embedding"), [1, positions, d])
                    .reshape([positions, d]),
            ),
            pre_layrnorm: None,
            encoder: VitEncoder::load(w, &format!("{prefix}.encoder"), &spec, c.num_hidden_layers),
            post_layernorm: Some(layer_norm(
                w,
                &format!("{prefix}.post_layernorm"),
                d,
                c.layer_norm_eps,
            )),
        }
    }

    /// Writes a BLIP-2 tower back in the names [`load_blip2`](Self::load_blip2) reads.
    pub fn save_blip2(&self, out: &mut WeightWriter, prefix: &str) {
        let emb = format!("{prefix}.embeddings");
        let weight = self.patch_embedding.weight.val();
        let [_, d] = weight.dims();
        let p = self.patch_embedding.patch_size;
        out.put(
            &format!("{emb}.patch_embedding.weight"),
            weight.transpose().reshape([d, 3, p, p]),
        );
        if let Some(b) = &self.patch_embedding.bias {
            out.put(&format!("{emb}.patch_embedding.bias"), b.val());
        }
        if let Some(cls) = &self.class_embedding {
            out.put(
                &format!("{emb}.class_embedding"),
                cls.val().reshape([1, 1, d]),
            );
        }
        out.put(
            &format!("{emb}.position_embedding"),
            self.position_embedding.val().unsqueeze::<3>(),
        );
        self.encoder
            .save(out, &format!("{prefix}.encoder"), AttentionLayout::Fused);
        if let Some(norm) = &self.post_layernorm {
            save_layer_norm(out, &format!("{prefix}.post_layernorm"), norm);
        }
    }

    /// The last hidden state after the output norm, when the tower has one.
    ///
    /// # Shapes
    /// - pixels: `[images, channels, height, width]` → `[images, tokens, hidden]`
    pub fn last_hidden_state(&self, pixels: Tensor<4>) -> Tensor<3> {
        let last = self
            .hidden_states(pixels)
            .pop()
            .expect("states is never empty");
        match &self.post_layernorm {
            Some(norm) => norm.forward(last),
            None => last,
        }
    }

    /// Layers past the deepest state read, and the post-layernorm, are never run.
    fn ignore_unused(w: &mut WeightLoader, prefix: &str, deepest: usize) {
        w.ignore_prefix(format!("{prefix}.post_layernorm."));
        // Layer indices >= deepest: ignore by exact layer prefix (".layers.1." must not match 10).
        for i in deepest..deepest + 1024 {
            let p = format!("{prefix}.encoder.layers.{i}.");
            if !w.has_prefix(&p) {
                break;
            }
            w.ignore_prefix(p);
        }
    }

    /// Runs the tower.
    ///
    /// # Shapes
    /// - pixels: `[images, channels, height, width]`
    /// - returns hidden states `[images, tokens, hidden]`, `states[0]` being the embeddings
    ///   (after CLIP's pre-layernorm), as HF's `output_hidden_states` gives them.
    pub fn hidden_states(&self, pixels: Tensor<4>) -> Vec<Tensor<3>> {
        let _span = tracing::debug_span!("vision").entered();
        let patches = self.patch_embedding.forward(pixels);
        let [n, _, d] = patches.dims();
        let x = match &self.class_embedding {
            Some(cls) => {
                let cls = cls.val().reshape([1, 1, d]).expand([n, 1, d]);
                Tensor::cat(vec![cls, patches], 1)
            }
            None => patches,
        };
        let x = x + self.position_embedding.val().unsqueeze::<3>();
        let x = match &self.pre_layrnorm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        self.encoder.hidden_states(x)
    }

    /// Whether the tower prepends a class token to the patch tokens.
    pub fn has_class_token(&self) -> bool {
        self.class_embedding.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// A 3 px image with 2 px patches: one patch, the last row and column unread, as a
    /// stride-2 convolution leaves them.
    #[test]
    fn patch_embedding_skips_pixels_past_the_last_whole_patch() {
        let device = Device::flex();
        // One channel; the kernel sums the patch.
        let embedding = PatchEmbedding {
            weight: Param::from_tensor(Tensor::ones([4, 1], &device)),
            bias: None,
            patch_size: 2,
        };
        let pixels: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let pixels = Tensor::<4>::from_data(TensorData::new(pixels, [1, 1, 3, 3]), &device);
        let out = embedding.forward(pixels);
        assert_eq!(out.dims(), [1, 1, 1]);
        let values = crate::nn::read_f32(out).unwrap();
        // Rows [1 2 3] and [4 5 6], columns 0..2: 1 + 2 + 4 + 5.
        assert_eq!(values, [12.0]);
    }
}
