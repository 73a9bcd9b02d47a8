//! The Llama / Qwen2 decoder (`LlamaModel`, `Qwen2Model` + `lm_head`): RMSNorm pre-norm layers
//! with grouped-query attention, rotary positions and a SiLU-gated MLP. Qwen2 differs only in
//! its q/k/v biases, which [`DecoderSpec`] carries.

use burn::nn::{Embedding, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::TensorData;
use iris_shaders::decode_attention::repeat_kv;

use crate::config::{Activation, DecoderSpec};
use crate::nn::{attention, embedding, linear, merge_heads, rms_norm, split_heads, token_ids};
use crate::weights::WeightLoader;

use super::kv_cache::KvCache;
use super::rope::{Rope, RopePositions, apply_rotary};

#[derive(Module, Debug)]
struct SelfAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

#[derive(Module, Debug)]
struct GatedMlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
    #[module(skip)]
    activation: Activation,
}

#[derive(Module, Debug)]
struct DecoderLayer {
    input_layernorm: RmsNorm,
    self_attn: SelfAttention,
    post_attention_layernorm: RmsNorm,
    mlp: GatedMlp,
}

/// A decoder-only language model with its embedding table and output head.
#[derive(Module, Debug)]
pub struct Decoder {
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    /// `None` when the head is tied to `embed_tokens`.
    lm_head: Option<Linear>,
    #[module(skip)]
    rope: Rope,
    #[module(skip)]
    spec: DecoderSpec,
}

impl DecoderLayer {
    fn load(w: &mut WeightLoader, prefix: &str, s: &DecoderSpec) -> Self {
        let (d, hd) = (s.hidden_size, s.head_dim);
        let attn = format!("{prefix}.self_attn");
        let mlp = format!("{prefix}.mlp");
        Self {
            input_layernorm: rms_norm(w, &format!("{prefix}.input_layernorm"), d, s.rms_norm_eps),
            self_attn: SelfAttention {
                q_proj: linear(
                    w,
                    &format!("{attn}.q_proj"),
                    d,
                    s.num_heads * hd,
                    s.qkv_bias,
                ),
                k_proj: linear(
                    w,
                    &format!("{attn}.k_proj"),
                    d,
                    s.num_kv_heads * hd,
                    s.qkv_bias,
                ),
                v_proj: linear(
                    w,
                    &format!("{attn}.v_proj"),
                    d,
                    s.num_kv_heads * hd,
                    s.qkv_bias,
                ),
                o_proj: linear(w, &format!("{attn}.o_proj"), s.num_heads * hd, d, s.o_bias),
                num_heads: s.num_heads,
                num_kv_heads: s.num_kv_heads,
                head_dim: hd,
            },
            post_attention_layernorm: rms_norm(
                w,
                &format!("{prefix}.post_attention_layernorm"),
                d,
                s.rms_norm_eps,
            ),
            mlp: GatedMlp {
                gate_proj: linear(
                    w,
                    &format!("{mlp}.gate_proj"),
                    d,
                    s.intermediate_size,
                    s.mlp_bias,
                ),
                up_proj: linear(
                    w,
                    &format!("{mlp}.up_proj"),
                    d,
                    s.intermediate_size,
                    s.mlp_bias,
                ),
                down_proj: linear(
                    w,
                    &format!("{mlp}.down_proj"),
                    s.intermediate_size,
                    d,
                    s.mlp_bias,
                ),
                activation: s.activation,
            },
        }
    }
}

impl SelfAttention {
    fn forward(
        &self,
        x: Tensor<3>,
        rope: (&Tensor<2>, &Tensor<2>),
        mask: Option<Tensor<2>>,
        cache: &mut KvCache,
        layer: usize,
    ) -> Tensor<3> {
        let q = split_heads(
            self.q_proj.forward(x.clone()),
            self.num_heads,
            self.head_dim,
        );
        let k = split_heads(
            self.k_proj.forward(x.clone()),
            self.num_kv_heads,
            self.head_dim,
        );
        let v = split_heads(self.v_proj.forward(x), self.num_kv_heads, self.head_dim);
        let q = apply_rotary(q, rope.0, rope.1);
        let k = apply_rotary(k, rope.0, rope.1);
        let (k, v) = cache.append(layer, k, v);
        if !cache.is_capturing() && iris_shaders::decode_attention::applies(&q, &k, &v) {
            let scale = (self.head_dim as f64).powf(-0.5);
            let out = iris_shaders::decode_attention(q, k, v, scale);
            return self.o_proj.forward(merge_heads(out));
        }
        // Grouped-query attention: head h reads kv head h / (heads / kv_heads) (HF `repeat_kv`),
        // the same expansion the decode kernel's reference uses.
        let (k, v) = (repeat_kv(k, self.num_heads), repeat_kv(v, self.num_heads));
        let (out, probs) = attention(q, k, v, mask);
        cache.record_attention(layer, &probs);
        self.o_proj.forward(merge_heads(out))
    }
}

impl GatedMlp {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gate = self.activation.forward(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}

impl Decoder {
    /// Loads `{prefix}.model.*` and `{prefix}.lm_head` (prefix e.g. `language_model`).
    pub fn load(w: &mut WeightLoader, prefix: &str, spec: &DecoderSpec) -> Self {
        Self::load_at(
            w,
            &format!("{prefix}.model"),
            &format!("{prefix}.lm_head"),
            spec,
        )
    }

    /// Loads the layers from `{model}.*` and the head from `{lm_head_name}` (Idefics3 keeps them
    /// apart: `model.text_model` and `lm_head`).
    pub fn load_at(
        w: &mut WeightLoader,
        model: &str,
        lm_head_name: &str,
        spec: &DecoderSpec,
    ) -> Self {
        let m = model.to_owned();
        let lm_head_name = lm_head_name.to_owned();
        let lm_head = if spec.tie_word_embeddings {
            // A tied head may still be saved; it equals the embedding table and is not read.
            w.ignore_prefix(format!("{lm_head_name}."));
            None
        } else {
            Some(linear(
                w,
                &lm_head_name,
                spec.hidden_size,
                spec.vocab_size,
                false,
            ))
        };
        Self {
            embed_tokens: embedding(
                w,
                &format!("{m}.embed_tokens"),
                spec.vocab_size,
                spec.hidden_size,
            ),
            layers: (0..spec.num_layers)
                .map(|i| DecoderLayer::load(w, &format!("{m}.layers.{i}"), spec))
                .collect(),
            norm: rms_norm(w, &format!("{m}.norm"), spec.hidden_size, spec.rms_norm_eps),
            lm_head,
            rope: Rope::new(spec.head_dim, spec.rope_theta),
            spec: spec.clone(),
        }
    }

    pub fn spec(&self) -> &DecoderSpec {
        &self.spec
    }

    fn device(&self) -> Device {
        self.embed_tokens.weight.val().device()
    }
}

impl super::CausalLm for Decoder {
    fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    fn max_positions(&self) -> usize {
        self.spec.max_position_embeddings
    }

    fn embed(&self, ids: &[u32]) -> Tensor<3> {
        self.embed_tokens.forward(token_ids(ids, &self.device()))
    }

    fn forward(&self, embeds: Tensor<3>, cache: &mut KvCache) -> Tensor<3> {
        let device = embeds.device();
        let new = embeds.dims()[1];
        let past = cache.len();
        let (cos, sin) = match &self.spec.mrope_section {
            Some(section) => {
                let plain = RopePositions::default();
                let positions = cache.positions().unwrap_or(&plain);
                self.rope
                    .mrope_tables(positions, section, past, new, &device)
            }
            None => self.rope.tables(past, new, &device),
        };
        let mask = (new > 1).then(|| causal_mask(past, new, &device));
        let mut x = embeds;
        for (i, layer) in self.layers.iter().enumerate() {
            let h = layer.self_attn.forward(
                layer.input_layernorm.forward(x.clone()),
                (&cos, &sin),
                mask.clone(),
                cache,
                i,
            );
            x = x + h;
            let h = layer
                .mlp
                .forward(layer.post_attention_layernorm.forward(x.clone()));
            x = x + h;
        }
        cache.advance(new);
        self.norm.forward(x)
    }

    fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(self.embed_tokens.weight.val().transpose().unsqueeze::<3>()),
        }
    }
}

/// Additive causal mask for `new` queries after `past` cached positions: query `i` sees keys
/// `0..=past + i`.
///
/// # Shapes
/// - returns `[new, past + new]`
pub(crate) fn causal_mask(past: usize, new: usize, device: &Device) -> Tensor<2> {
    let total = past + new;
    let values: Vec<f32> = (0..new)
        .flat_map(|i| (0..total).map(move |j| if j <= past + i { 0.0 } else { -1e9 }))
        .collect();
    Tensor::from_data(TensorData::new(values, [new, total]), device)
}
