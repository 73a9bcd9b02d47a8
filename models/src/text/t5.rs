//! The T5 encoder-decoder (Flan-T5, BLIP-2's other language model): RMS-style layer norms
//! without mean subtraction, unscaled attention with a learned relative position bias (held by
//! the first block of each stack, bucketed logarithmically), a gated-GELU (Flan) or ReLU
//! feed-forward, and decoder cross-attention to the encoder output.

use burn::nn::{Embedding, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::{TensorData, activation};
use serde::Deserialize;

use crate::config::Activation;
use crate::nn::{embedding, linear, merge_heads, rms_norm, split_heads, token_ids};
use crate::weights::WeightLoader;

use super::{CausalLm, KvCache};

/// `T5Config` (transformers/models/t5/configuration_t5.py, v4.57 defaults).
#[derive(Debug, Clone, Deserialize)]
pub struct T5Config {
    #[serde(default = "defaults::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "defaults::d_model")]
    pub d_model: usize,
    #[serde(default = "defaults::d_kv")]
    pub d_kv: usize,
    #[serde(default = "defaults::d_ff")]
    pub d_ff: usize,
    #[serde(default = "defaults::num_layers")]
    pub num_layers: usize,
    pub num_decoder_layers: Option<usize>,
    #[serde(default = "defaults::num_heads")]
    pub num_heads: usize,
    #[serde(default = "defaults::buckets")]
    pub relative_attention_num_buckets: usize,
    #[serde(default = "defaults::max_distance")]
    pub relative_attention_max_distance: usize,
    #[serde(default = "defaults::eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "defaults::feed_forward_proj")]
    pub feed_forward_proj: String,
    #[serde(default = "defaults::tie")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub decoder_start_token_id: u32,
}

mod defaults {
    pub fn vocab_size() -> usize {
        32128
    }
    pub fn d_model() -> usize {
        512
    }
    pub fn d_kv() -> usize {
        64
    }
    pub fn d_ff() -> usize {
        2048
    }
    pub fn num_layers() -> usize {
        6
    }
    pub fn num_heads() -> usize {
        8
    }
    pub fn buckets() -> usize {
        32
    }
    pub fn max_distance() -> usize {
        128
    }
    pub fn eps() -> f64 {
        1e-6
    }
    pub fn feed_forward_proj() -> String {
        "relu".into()
    }
    pub fn tie() -> bool {
        true
    }
}

#[derive(Module, Debug)]
struct T5Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// `[buckets, heads]`, first block of a stack only.
    relative_attention_bias: Option<Tensor<2>>,
    num_heads: usize,
    d_kv: usize,
}

#[derive(Module, Debug)]
struct T5FeedForward {
    /// `wi_0` (gated) or `wi`.
    wi: Linear,
    /// `wi_1`, the gate's linear partner (gated variants only).
    wi_1: Option<Linear>,
    wo: Linear,
    layer_norm: RmsNorm,
    #[module(skip)]
    activation: Activation,
}

#[derive(Module, Debug)]
struct EncoderBlock {
    attention: T5Attention,
    attention_norm: RmsNorm,
    feed_forward: T5FeedForward,
}

#[derive(Module, Debug)]
struct DecoderBlock {
    self_attention: T5Attention,
    self_attention_norm: RmsNorm,
    cross_attention: T5Attention,
    cross_attention_norm: RmsNorm,
    feed_forward: T5FeedForward,
}

/// T5 with its shared embedding and head.
#[derive(Module, Debug)]
pub struct T5 {
    shared: Embedding,
    encoder: Vec<EncoderBlock>,
    encoder_norm: RmsNorm,
    decoder: Vec<DecoderBlock>,
    decoder_norm: RmsNorm,
    lm_head: Option<Linear>,
    num_buckets: usize,
    max_distance: usize,
    d_model: usize,
    decoder_start: u32,
}

impl T5Attention {
    fn load(w: &mut WeightLoader, prefix: &str, c: &T5Config, with_bias: bool) -> Self {
        let inner = c.num_heads * c.d_kv;
        let p = |w: &mut WeightLoader, n: &str, i: usize, o: usize| {
            linear(w, &format!("{prefix}.{n}"), i, o, false)
        };
        Self {
            q: p(w, "q", c.d_model, inner),
            k: p(w, "k", c.d_model, inner),
            v: p(w, "v", c.d_model, inner),
            o: p(w, "o", inner, c.d_model),
            relative_attention_bias: with_bias.then(|| {
                w.tensor(
                    &format!("{prefix}.relative_attention_bias.weight"),
                    [c.relative_attention_num_buckets, c.num_heads],
                )
            }),
            num_heads: c.num_heads,
            d_kv: c.d_kv,
        }
    }

    /// Keys and values of a context. # Shapes: `[1, k, d]` → two `[1, heads, k, d_kv]`
    fn keys_values(&self, context: Tensor<3>) -> (Tensor<4>, Tensor<4>) {
        (
            split_heads(self.k.forward(context.clone()), self.num_heads, self.d_kv),
            split_heads(self.v.forward(context), self.num_heads, self.d_kv),
        )
    }

    /// Unscaled attention of `x` over given keys and values plus an additive bias.
    ///
    /// # Shapes
    /// - x: `[1, q, d]`; k, v: `[1, heads, k, d_kv]`; bias: `[1, heads, q, k]` → `[1, q, d]`
    fn attend(
        &self,
        x: Tensor<3>,
        k: Tensor<4>,
        v: Tensor<4>,
        bias: Option<Tensor<4>>,
    ) -> Tensor<3> {
        let q = split_heads(self.q.forward(x), self.num_heads, self.d_kv);
        let scores = q.matmul(k.swap_dims(2, 3));
        let scores = match bias {
            Some(b) => scores + b,
            None => scores,
        };
        let probs = activation::softmax(scores, 3);
        self.o.forward(merge_heads(probs.matmul(v)))
    }
}

impl T5FeedForward {
    fn load(w: &mut WeightLoader, prefix: &str, c: &T5Config) -> Self {
        let gated = c.feed_forward_proj.starts_with("gated-");
        let act = match c.feed_forward_proj.trim_start_matches("gated-") {
            // T5's "gelu" is `gelu_new`, the tanh approximation.
            "gelu" => Activation::GeluPytorchTanh,
            _ => Activation::Relu,
        };
        let d = format!("{prefix}.DenseReluDense");
        let wi_name = if gated { "wi_0" } else { "wi" };
        Self {
            wi: linear(w, &format!("{d}.{wi_name}"), c.d_model, c.d_ff, false),
            wi_1: gated.then(|| linear(w, &format!("{d}.wi_1"), c.d_model, c.d_ff, false)),
            wo: linear(w, &format!("{d}.wo"), c.d_ff, c.d_model, false),
            layer_norm: rms_norm(
                w,
                &format!("{prefix}.layer_norm"),
                c.d_model,
                c.layer_norm_epsilon,
            ),
            activation: act,
        }
    }

    /// `x + wo(act(wi(norm x)) [* wi_1(norm x)])`
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.layer_norm.forward(x.clone());
        let a = self.activation.forward(self.wi.forward(h.clone()));
        let a = match &self.wi_1 {
            Some(wi_1) => a * wi_1.forward(h),
            None => a,
        };
        x + self.wo.forward(a)
    }
}

/// T5's relative position bucket of `relative = key - query` (HF `_relative_position_bucket`).
pub fn relative_bucket(
    relative: i64,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
) -> usize {
    let mut buckets = num_buckets as i64;
    let mut bucket = 0;
    let n = if bidirectional {
        buckets /= 2;
        if relative > 0 {
            bucket += buckets;
        }
        relative.abs()
    } else {
        (-relative).max(0)
    };
    let max_exact = buckets / 2;
    let value = if n < max_exact {
        n
    } else {
        let scaled = (n as f32 / max_exact as f32).ln()
            / (max_distance as f32 / max_exact as f32).ln()
            * (buckets - max_exact) as f32;
        (max_exact + scaled as i64).min(buckets - 1)
    };
    (bucket + value) as usize
}

/// The additive position bias (plus the causal mask for the decoder) of `q_len` queries
/// starting at `q_start` over `k_len` keys.
///
/// # Shapes
/// - table: `[buckets, heads]` → `[1, heads, q_len, k_len]`
fn position_bias(
    table: &Tensor<2>,
    q_start: usize,
    q_len: usize,
    k_len: usize,
    decoder: bool,
    buckets: usize,
    max_distance: usize,
) -> Tensor<4> {
    let device = table.device();
    let heads = table.dims()[1];
    let mut index = Vec::with_capacity(q_len * k_len);
    let mut mask = Vec::with_capacity(q_len * k_len);
    for i in 0..q_len {
        let qp = (q_start + i) as i64;
        for j in 0..k_len {
            index.push(relative_bucket(j as i64 - qp, !decoder, buckets, max_distance) as i64);
            mask.push(if decoder && j as i64 > qp {
                -1e9f32
            } else {
                0.0
            });
        }
    }
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [q_len * k_len]), &device);
    let bias = table
        .clone()
        .select(0, index)
        .reshape([q_len, k_len, heads])
        .permute([2, 0, 1]);
    let mask =
        Tensor::<2>::from_data(TensorData::new(mask, [q_len, k_len]), &device).cast(bias.dtype());
    (bias + mask.unsqueeze::<3>()).unsqueeze::<4>()
}

impl T5 {
    /// Loads `{prefix}.shared`, `.encoder.*`, `.decoder.*` and `.lm_head` (prefix e.g.
    /// `language_model`).
    pub fn load(w: &mut WeightLoader, prefix: &str, c: &T5Config) -> Self {
        let eps = c.layer_norm_epsilon;
        let enc = |w: &mut WeightLoader, i: usize| {
            let b = format!("{prefix}.encoder.block.{i}.layer");
            EncoderBlock {
                attention: T5Attention::load(w, &format!("{b}.0.SelfAttention"), c, i == 0),
                attention_norm: rms_norm(w, &format!("{b}.0.layer_norm"), c.d_model, eps),
                feed_forward: T5FeedForward::load(w, &format!("{b}.1"), c),
            }
        };
        let dec = |w: &mut WeightLoader, i: usize| {
            let b = format!("{prefix}.decoder.block.{i}.layer");
            DecoderBlock {
                self_attention: T5Attention::load(w, &format!("{b}.0.SelfAttention"), c, i == 0),
                self_attention_norm: rms_norm(w, &format!("{b}.0.layer_norm"), c.d_model, eps),
                cross_attention: T5Attention::load(w, &format!("{b}.1.EncDecAttention"), c, false),
                cross_attention_norm: rms_norm(w, &format!("{b}.1.layer_norm"), c.d_model, eps),
                feed_forward: T5FeedForward::load(w, &format!("{b}.2"), c),
            }
        };
        // The stacks' own embedding tables are the shared one when saved at all.
        w.ignore_prefix(format!("{prefix}.encoder.embed_tokens."));
        w.ignore_prefix(format!("{prefix}.decoder.embed_tokens."));
        let lm_head = if c.tie_word_embeddings {
            w.ignore_prefix(format!("{prefix}.lm_head."));
            None
        } else {
            Some(linear(
                w,
                &format!("{prefix}.lm_head"),
                c.d_model,
                c.vocab_size,
                false,
            ))
        };
        Self {
            shared: embedding(w, &format!("{prefix}.shared"), c.vocab_size, c.d_model),
            encoder: (0..c.num_layers).map(|i| enc(w, i)).collect(),
            encoder_norm: rms_norm(
                w,
                &format!("{prefix}.encoder.final_layer_norm"),
                c.d_model,
                eps,
            ),
            decoder: (0..c.num_decoder_layers.unwrap_or(c.num_layers))
                .map(|i| dec(w, i))
                .collect(),
            decoder_norm: rms_norm(
                w,
                &format!("{prefix}.decoder.final_layer_norm"),
                c.d_model,
                eps,
            ),
            lm_head,
            num_buckets: c.relative_attention_num_buckets,
            max_distance: c.relative_attention_max_distance,
            d_model: c.d_model,
            decoder_start: c.decoder_start_token_id,
        }
    }

    pub fn decoder_start_token(&self) -> u32 {
        self.decoder_start
    }

    /// Token embeddings from the shared table. # Shapes: returns `[1, ids.len(), d_model]`
    pub fn embed(&self, ids: &[u32]) -> Tensor<3> {
        self.shared
            .forward(token_ids(ids, &self.shared.weight.val().device()))
    }

    /// Runs the encoder over input embeddings. # Shapes: `[1, L, d]` → `[1, L, d]`
    pub fn encode(&self, embeds: Tensor<3>) -> Tensor<3> {
        let _span = tracing::debug_span!("encoder").entered();
        let len = embeds.dims()[1];
        let table = self.encoder[0]
            .attention
            .relative_attention_bias
            .as_ref()
            .expect("block 0 has the bias");
        let bias = position_bias(
            table,
            0,
            len,
            len,
            false,
            self.num_buckets,
            self.max_distance,
        );
        let mut x = embeds;
        for block in &self.encoder {
            let h = block.attention_norm.forward(x.clone());
            let (k, v) = block.attention.keys_values(h.clone());
            x = x + block.attention.attend(h, k, v, Some(bias.clone()));
            x = block.feed_forward.forward(x);
        }
        self.encoder_norm.forward(x)
    }

    /// A decoder over an encoded input, ready for generation.
    pub fn decoding(&self, memory: Tensor<3>) -> T5Decoding<'_> {
        let cross = self
            .decoder
            .iter()
            .map(|b| b.cross_attention.keys_values(memory.clone()))
            .collect();
        T5Decoding { t5: self, cross }
    }
}

/// The T5 decoder bound to one encoder output; generation drives it as a [`CausalLm`].
pub struct T5Decoding<'a> {
    t5: &'a T5,
    /// Each decoder block's cross-attention keys and values of the encoder output.
    cross: Vec<(Tensor<4>, Tensor<4>)>,
}

impl CausalLm for T5Decoding<'_> {
    fn embed(&self, ids: &[u32]) -> Tensor<3> {
        self.t5.embed(ids)
    }

    fn forward(&self, embeds: Tensor<3>, cache: &mut KvCache) -> Tensor<3> {
        let t5 = self.t5;
        let new = embeds.dims()[1];
        let past = cache.len();
        let table = t5.decoder[0]
            .self_attention
            .relative_attention_bias
            .as_ref()
            .expect("block 0 has the bias");
        let bias = position_bias(
            table,
            past,
            new,
            past + new,
            true,
            t5.num_buckets,
            t5.max_distance,
        );
        let mut x = embeds;
        for (i, block) in t5.decoder.iter().enumerate() {
            let h = block.self_attention_norm.forward(x.clone());
            let (k, v) = block.self_attention.keys_values(h.clone());
            let (k, v) = cache.append(i, k, v);
            x = x + block.self_attention.attend(h, k, v, Some(bias.clone()));
            let h = block.cross_attention_norm.forward(x.clone());
            let (k, v) = self.cross[i].clone();
            x = x + block.cross_attention.attend(h, k, v, None);
            x = block.feed_forward.forward(x);
        }
        cache.advance(new);
        t5.decoder_norm.forward(x)
    }

    fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        match &self.t5.lm_head {
            Some(head) => head.forward(hidden),
            // A tied head rescales by d_model^-0.5 (HF `T5ForConditionalGeneration`).
            None => (hidden * (self.t5.d_model as f64).powf(-0.5))
                .matmul(self.t5.shared.weight.val().transpose().unsqueeze::<3>()),
        }
    }

    fn new_cache(&self) -> KvCache {
        KvCache::new(self.t5.decoder.len())
    }

    fn max_positions(&self) -> usize {
        // Relative positions: no table to run out of.
        usize::MAX / 2
    }
}

#[cfg(test)]
mod tests {
    use super::relative_bucket;

    #[test]
    fn buckets_follow_hf_for_both_directions() {
        // Values from transformers' T5Attention._relative_position_bucket (32 buckets, 128).
        assert_eq!(relative_bucket(0, true, 32, 128), 0);
        assert_eq!(relative_bucket(3, true, 32, 128), 19);
        assert_eq!(relative_bucket(-3, true, 32, 128), 3);
        assert_eq!(relative_bucket(-20, false, 32, 128), 17);
        assert_eq!(relative_bucket(5, false, 32, 128), 0);
        assert_eq!(relative_bucket(-1000, false, 32, 128), 31);
    }
}
