//! The architectures of the presets (the real checkpoints' widths and depths) and the tensor
//! list each one's `model.safetensors` holds, in the Hub (transformers 4.x) names.

use super::writer::{Fill, TensorSpec};
use super::{Preset, SyntheticOptions};

/// Standard deviation of generated matrices and embeddings (transformers' `initializer_range`).
const STD: f32 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tower {
    /// CLIP: class token, bias-free patch embedding, `pre_layrnorm`.
    Clip,
    /// SigLIP: no class token, patch embedding with a bias.
    Siglip,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VisionArch {
    pub tower: Tower,
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub image_size: usize,
    pub patch_size: usize,
}

impl VisionArch {
    pub fn patches(&self) -> usize {
        (self.image_size / self.patch_size).pow(2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// Llama: no attention biases.
    Llama,
    /// Qwen2: biases on q/k/v.
    Qwen2,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextArch {
    pub kind: TextKind,
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub vocab: usize,
    pub rope_theta: f64,
    pub max_positions: usize,
    pub rms_norm_eps: f64,
    pub tied: bool,
}

impl TextArch {
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

/// One preset's architecture, with the options' overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Architecture {
    pub preset: Preset,
    pub vision: VisionArch,
    pub text: TextArch,
}

impl Architecture {
    pub fn new(preset: Preset, options: &SyntheticOptions) -> Self {
        let (vision, text) = match preset {
            // llava-hf/llava-onevision-qwen2-0.5b-ov-hf: SigLIP so400m/14 at 384 px with its
            // last layer dropped (26 of 27), Qwen2-0.5B.
            Preset::Qwen2_0_5b => (
                VisionArch {
                    tower: Tower::Siglip,
                    hidden: 1152,
                    intermediate: 4304,
                    layers: 26,
                    heads: 16,
                    image_size: 384,
                    patch_size: 14,
                },
                TextArch {
                    kind: TextKind::Qwen2,
                    hidden: 896,
                    intermediate: 4864,
                    layers: 24,
                    heads: 14,
                    kv_heads: 2,
                    vocab: 152_000,
                    rope_theta: 1e6,
                    max_positions: 32_768,
                    rms_norm_eps: 1e-6,
                    tied: true,
                },
            ),
            // HuggingFaceTB/SmolVLM-256M-Instruct: SigLIP base/16 at 512 px, SmolLM2-135M-style
            // text model. Untied head (`lm_head.weight` stored) as recalled from the Hub
            // config (`tie_word_embeddings: false`); not re-checked against the file.
            Preset::Smolvlm256m => (
                VisionArch {
                    tower: Tower::Siglip,
                    hidden: 768,
                    intermediate: 3072,
                    layers: 12,
                    heads: 12,
                    image_size: 512,
                    patch_size: 16,
                },
                TextArch {
                    kind: TextKind::Llama,
                    hidden: 576,
                    intermediate: 1536,
                    layers: 30,
                    heads: 9,
                    kv_heads: 3,
                    vocab: 49_280,
                    rope_theta: 100_000.0,
                    max_positions: 8192,
                    rms_norm_eps: 1e-5,
                    tied: false,
                },
            ),
            // llava-hf/llava-1.5-7b-hf: CLIP ViT-L/14 at 336 px, Vicuna-7B v1.5 (Llama-2-7B).
            Preset::Llava15_7b => (
                VisionArch {
                    tower: Tower::Clip,
                    hidden: 1024,
                    intermediate: 4096,
                    layers: 24,
                    heads: 16,
                    image_size: 336,
                    patch_size: 14,
                },
                TextArch {
                    kind: TextKind::Llama,
                    hidden: 4096,
                    intermediate: 11008,
                    layers: 32,
                    heads: 32,
                    kv_heads: 32,
                    vocab: 32_064,
                    rope_theta: 10_000.0,
                    max_positions: 4096,
                    rms_norm_eps: 1e-5,
                    tied: false,
                },
            ),
        };
        let mut arch = Self {
            preset,
            vision,
            text,
        };
        if let Some(layers) = options.vision_layers {
            arch.vision.layers = layers;
        }
        if let Some(layers) = options.text_layers {
            arch.text.layers = layers;
        }
        if let Some(vocab) = options.vocab_size {
            arch.text.vocab = vocab;
        }
        arch
    }

    /// Every tensor of the checkpoint, sorted by name.
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let mut out = Tensors(Vec::new());
        let (v, t) = (&self.vision, &self.text);
        match self.preset {
            Preset::Llava15_7b | Preset::Qwen2_0_5b => {
                out.vision_tower("vision_tower.vision_model", v);
                out.linear("multi_modal_projector.linear_1", v.hidden, t.hidden, true);
                out.linear("multi_modal_projector.linear_2", t.hidden, t.hidden, true);
                if self.preset == Preset::Qwen2_0_5b {
                    out.normal("image_newline", vec![t.hidden]);
                }
                out.decoder("language_model.model", "language_model.lm_head", t);
            }
            Preset::Smolvlm256m => {
                let scale = self.preset.idefics3_scale_factor();
                out.vision_tower("model.vision_model", v);
                let d_in = v.hidden * scale * scale;
                out.linear(
                    "model.connector.modality_projection.proj",
                    d_in,
                    t.hidden,
                    false,
                );
                out.decoder("model.text_model", "lm_head", t);
            }
        }
        let mut tensors = out.0;
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        tensors
    }
}

/// A tensor list under construction.
struct Tensors(Vec<TensorSpec>);

impl Tensors {
    fn push(&mut self, name: String, shape: Vec<usize>, fill: Fill) {
        self.0.push(TensorSpec { name, shape, fill });
    }

    fn normal(&mut self, name: impl Into<String>, shape: Vec<usize>) {
        self.push(name.into(), shape, Fill::Normal(STD));
    }

    /// HF `nn.Linear` (`weight: [out, in]`, `bias: [out]`).
    fn linear(&mut self, prefix: &str, d_in: usize, d_out: usize, bias: bool) {
        self.normal(format!("{prefix}.weight"), vec![d_out, d_in]);
        if bias {
            self.push(format!("{prefix}.bias"), vec![d_out], Fill::Constant(0.0));
        }
    }

    fn layer_norm(&mut self, prefix: &str, d: usize) {
        self.push(format!("{prefix}.weight"), vec![d], Fill::Constant(1.0));
        self.push(format!("{prefix}.bias"), vec![d], Fill::Constant(0.0));
    }

    /// CLIP's or SigLIP's `vision_model` (embeddings, encoder, post-layernorm; no pooling head).
    fn vision_tower(&mut self, p: &str, v: &VisionArch) {
        let (d, ps) = (v.hidden, v.patch_size);
        let e = format!("{p}.embeddings");
        self.normal(format!("{e}.patch_embedding.weight"), vec![d, 3, ps, ps]);
        let positions = match v.tower {
            Tower::Clip => {
                self.normal(format!("{e}.class_embedding"), vec![d]);
                self.layer_norm(&format!("{p}.pre_layrnorm"), d);
                v.patches() + 1
            }
            Tower::Siglip => {
                let bias = format!("{e}.patch_embedding.bias");
                self.push(bias, vec![d], Fill::Constant(0.0));
                v.patches()
            }
        };
        self.normal(format!("{e}.position_embedding.weight"), vec![positions, d]);
        for i in 0..v.layers {
            let l = format!("{p}.encoder.layers.{i}");
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                self.linear(&format!("{l}.self_attn.{proj}"), d, d, true);
            }
            self.layer_norm(&format!("{l}.layer_norm1"), d);
            self.layer_norm(&format!("{l}.layer_norm2"), d);
            self.linear(&format!("{l}.mlp.fc1"), d, v.intermediate, true);
            self.linear(&format!("{l}.mlp.fc2"), v.intermediate, d, true);
        }
        self.layer_norm(&format!("{p}.post_layernorm"), d);
    }

    /// A Llama/Qwen2 decoder under `m` and its head (absent when tied).
    fn decoder(&mut self, m: &str, head: &str, t: &TextArch) {
        let (h, hd) = (t.hidden, t.head_dim());
        let rms = |s: &mut Self, name: String| s.push(name, vec![h], Fill::Constant(1.0));
        self.normal(format!("{m}.embed_tokens.weight"), vec![t.vocab, h]);
        let qkv_bias = t.kind == TextKind::Qwen2;
        for i in 0..t.layers {
            let l = format!("{m}.layers.{i}");
            self.linear(&format!("{l}.self_attn.q_proj"), h, t.heads * hd, qkv_bias);
            self.linear(
                &format!("{l}.self_attn.k_proj"),
                h,
                t.kv_heads * hd,
                qkv_bias,
            );
            self.linear(
                &format!("{l}.self_attn.v_proj"),
                h,
                t.kv_heads * hd,
                qkv_bias,
            );
            self.linear(&format!("{l}.self_attn.o_proj"), t.heads * hd, h, false);
            self.linear(&format!("{l}.mlp.gate_proj"), h, t.intermediate, false);
            self.linear(&format!("{l}.mlp.up_proj"), h, t.intermediate, false);
            self.linear(&format!("{l}.mlp.down_proj"), t.intermediate, h, false);
            rms(self, format!("{l}.input_layernorm.weight"));
            rms(self, format!("{l}.post_attention_layernorm.weight"));
        }
        rms(self, format!("{m}.norm.weight"));
        if !t.tied {
            self.normal(format!("{head}.weight"), vec![t.vocab, h]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameter counts of the real checkpoints, as their model cards give them (rounded).
    #[test]
    fn full_presets_have_the_real_parameter_counts() {
        let count = |p: Preset| -> f64 {
            let arch = Architecture::new(p, &SyntheticOptions::default());
            arch.tensors()
                .iter()
                .map(|t| t.elements() as f64)
                .sum::<f64>()
                / 1e9
        };
        // SmolVLM-256M: 256 M; OneVision-0.5B: 0.89 B (0.5 B text + 0.4 B SigLIP);
        // LLaVA-1.5-7B: 7.06 B.
        let (smol, ov, llava) = (
            count(Preset::Smolvlm256m),
            count(Preset::Qwen2_0_5b),
            count(Preset::Llava15_7b),
        );
        assert!((0.24..0.27).contains(&smol), "{smol}");
        assert!((0.87..0.91).contains(&ov), "{ov}");
        assert!((7.0..7.1).contains(&llava), "{llava}");
    }
}
