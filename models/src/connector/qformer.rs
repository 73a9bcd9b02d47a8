//! BLIP-2's Q-Former (`Blip2QFormerModel`): learned query tokens that read the frozen image
//! features through cross-attention. BERT-style post-norm layers: self-attention among the
//! queries, cross-attention to the image features every `cross_attention_frequency` layers,
//! and a feed-forward path of their own (`intermediate_query` / `output_query`).
//!
//! The attention probabilities of every layer can be returned as plain data for the teaching
//! views; they are the same tensors the forward pass used, and nothing is read back unless the
//! caller asks.

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use serde::Deserialize;

use crate::config::Activation;
use crate::nn::{
    attention, layer_norm, linear, merge_heads, save_layer_norm, save_linear, split_heads,
    token_ids,
};
use crate::weights::{WeightLoader, WeightWriter};

/// `Blip2QFormerConfig` (transformers v4.57 defaults).
#[derive(Debug, Clone, Deserialize)]
pub struct QFormerConfig {
    #[serde(default = "q::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "q::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "q::num_attention_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "q::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "q::hidden_act")]
    pub hidden_act: Activation,
    #[serde(default = "q::layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "q::cross_attention_frequency")]
    pub cross_attention_frequency: usize,
    #[serde(default = "q::encoder_hidden_size")]
    pub encoder_hidden_size: usize,
    /// InstructBLIP: the instruction vocabulary and positions of the Q-Former's embeddings.
    #[serde(default = "q::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "q::max_position_embeddings")]
    pub max_position_embeddings: usize,
}

mod q {
    use super::Activation;
    pub fn hidden_size() -> usize {
        768
    }
    pub fn num_hidden_layers() -> usize {
        12
    }
    pub fn num_attention_heads() -> usize {
        12
    }
    pub fn intermediate_size() -> usize {
        3072
    }
    pub fn hidden_act() -> Activation {
        Activation::Gelu
    }
    pub fn layer_norm_eps() -> f64 {
        1e-12
    }
    pub fn cross_attention_frequency() -> usize {
        2
    }
    pub fn encoder_hidden_size() -> usize {
        1408
    }
    pub fn vocab_size() -> usize {
        30522
    }
    pub fn max_position_embeddings() -> usize {
        512
    }
}

/// BERT attention block: q/k/v projections, then `LayerNorm(dense(context) + input)`.
#[derive(Module, Debug)]
struct BertAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    dense: Linear,
    layer_norm: LayerNorm,
    num_heads: usize,
}

/// BERT feed-forward block: `LayerNorm(dense_out(act(dense_in(x))) + x)`.
#[derive(Module, Debug)]
struct BertFeedForward {
    dense_in: Linear,
    dense_out: Linear,
    layer_norm: LayerNorm,
    #[module(skip)]
    activation: Activation,
}

#[derive(Module, Debug)]
struct QFormerLayer {
    self_attention: BertAttention,
    cross_attention: Option<BertAttention>,
    feed_forward_query: BertFeedForward,
    /// InstructBLIP: the feed-forward path of the instruction tokens.
    feed_forward_text: Option<BertFeedForward>,
}

/// InstructBLIP's instruction embeddings (`InstructBlipQFormerEmbeddings`).
#[derive(Module, Debug)]
struct InstructionEmbeddings {
    word_embeddings: burn::nn::Embedding,
    /// `[max_positions, hidden]`
    position_embeddings: Tensor<2>,
}

/// Attention probabilities of one Q-Former forward pass.
///
/// # Shapes
/// - `cross[i]`: `[heads, queries, image_tokens]` for the i-th cross-attention layer
/// - `self_attention[l]`: `[heads, queries, queries]` for layer `l`
#[derive(Debug, Clone)]
pub struct QFormerAttentions {
    /// Q-Former layer index of each cross-attention layer.
    pub cross_layers: Vec<usize>,
    pub cross: Vec<Tensor<3>>,
    pub self_attention: Vec<Tensor<3>>,
    /// Every image's cross-attention maps, `[batch, heads, queries, image_tokens]` per
    /// cross-attention layer (the demo trainer supervises where queries look).
    pub cross_batch: Vec<Tensor<4>>,
}

/// The Q-Former with its learned queries.
#[derive(Module, Debug)]
pub struct QFormer {
    /// `[queries, hidden]`
    query_tokens: Param<Tensor<2>>,
    layernorm: LayerNorm,
    instruction: Option<InstructionEmbeddings>,
    layers: Vec<QFormerLayer>,
}

impl BertAttention {
    fn load(
        w: &mut WeightLoader,
        prefix: &str,
        d: usize,
        d_kv_in: usize,
        c: &QFormerConfig,
    ) -> Self {
        let a = format!("{prefix}.attention");
        let o = format!("{prefix}.output");
        Self {
            query: linear(w, &format!("{a}.query"), d, d, true),
            key: linear(w, &format!("{a}.key"), d_kv_in, d, true),
            value: linear(w, &format!("{a}.value"), d_kv_in, d, true),
            dense: linear(w, &format!("{o}.dense"), d, d, true),
            layer_norm: layer_norm(w, &format!("{o}.LayerNorm"), d, c.layer_norm_eps),
            num_heads: c.num_attention_heads,
        }
    }

    /// # Shapes
    /// - x: `[batch, q, d]`; context: `[batch, k, d_kv_in]` (x itself for self-attention)
    /// - returns `([batch, q, d], probs [batch, heads, q, k])`
    fn forward(&self, x: Tensor<3>, context: Tensor<3>) -> (Tensor<3>, Tensor<4>) {
        let d = x.dims()[2];
        let hd = d / self.num_heads;
        let q = split_heads(self.query.forward(x.clone()), self.num_heads, hd);
        let k = split_heads(self.key.forward(context.clone()), self.num_heads, hd);
        let v = split_heads(self.value.forward(context), self.num_heads, hd);
        let (out, probs) = attention(q, k, v, None);
        let out = self
            .layer_norm
            .forward(self.dense.forward(merge_heads(out)) + x);
        (out, probs)
    }
}

impl BertAttention {
    fn save(&self, out: &mut WeightWriter, prefix: &str) {
        let (a, o) = (format!("{prefix}.attention"), format!("{prefix}.output"));
        save_linear(out, &format!("{a}.query"), &self.query);
        save_linear(out, &format!("{a}.key"), &self.key);
        save_linear(out, &format!("{a}.value"), &self.value);
        save_linear(out, &format!("{o}.dense"), &self.dense);
        save_layer_norm(out, &format!("{o}.LayerNorm"), &self.layer_norm);
    }
}

impl BertFeedForward {
    fn save(&self, out: &mut WeightWriter, inter: &str, output: &str) {
        save_linear(out, &format!("{inter}.dense"), &self.dense_in);
        save_linear(out, &format!("{output}.dense"), &self.dense_out);
        save_layer_norm(out, &format!("{output}.LayerNorm"), &self.layer_norm);
    }
    fn load(w: &mut WeightLoader, inter: &str, out: &str, c: &QFormerConfig) -> Self {
        let (d, f) = (c.hidden_size, c.intermediate_size);
        Self {
            dense_in: linear(w, &format!("{inter}.dense"), d, f, true),
            dense_out: linear(w, &format!("{out}.dense"), f, d, true),
            layer_norm: layer_norm(w, &format!("{out}.LayerNorm"), d, c.layer_norm_eps),
            activation: c.hidden_act,
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self
            .dense_out
            .forward(self.activation.forward(self.dense_in.forward(x.clone())));
        self.layer_norm.forward(h + x)
    }
}

impl QFormer {
    /// Loads `{prefix}.*` (e.g. `qformer`) and the learned `query_tokens`; with
    /// `instruction_aware`, InstructBLIP's instruction embeddings and text feed-forward path.
    pub fn load(
        w: &mut WeightLoader,
        prefix: &str,
        c: &QFormerConfig,
        num_queries: usize,
        instruction_aware: bool,
    ) -> Self {
        let d = c.hidden_size;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = format!("{prefix}.encoder.layer.{i}");
                let has_cross = i % c.cross_attention_frequency.max(1) == 0;
                // The text feed-forward path (`intermediate`, `output`) serves instruction tokens;
                // BLIP-2 has none (some conversions still carry the weights).
                if !instruction_aware {
                    w.ignore_prefix(format!("{l}.intermediate."));
                    w.ignore_prefix(format!("{l}.output."));
                }
                QFormerLayer {
                    self_attention: BertAttention::load(w, &format!("{l}.attention"), d, d, c),
                    cross_attention: has_cross.then(|| {
                        BertAttention::load(
                            w,
                            &format!("{l}.crossattention"),
                            d,
                            c.encoder_hidden_size,
                            c,
                        )
                    }),
                    feed_forward_query: BertFeedForward::load(
                        w,
                        &format!("{l}.intermediate_query"),
                        &format!("{l}.output_query"),
                        c,
                    ),
                    feed_forward_text: instruction_aware.then(|| {
                        BertFeedForward::load(
                            w,
                            &format!("{l}.intermediate"),
                            &format!("{l}.output"),
                            c,
                        )
                    }),
                }
            })
            .collect();
        Self {
            query_tokens: Param::from_tensor(
                w.tensor("query_tokens", [1, num_queries, d])
                    .reshape([num_queries, d]),
            ),
            layernorm: if instruction_aware {
                layer_norm(
                    w,
                    &format!("{prefix}.embeddings.layernorm"),
                    d,
                    c.layer_norm_eps,
                )
            } else {
                layer_norm(w, &format!("{prefix}.layernorm"), d, c.layer_norm_eps)
            },
            instruction: instruction_aware.then(|| InstructionEmbeddings {
                word_embeddings: crate::nn::embedding(
                    w,
                    &format!("{prefix}.embeddings.word_embeddings"),
                    c.vocab_size,
                    d,
                ),
                position_embeddings: w.tensor(
                    &format!("{prefix}.embeddings.position_embeddings.weight"),
                    [c.max_position_embeddings, d],
                ),
            }),
            layers,
        }
    }

    /// Writes a BLIP-2 Q-Former (no instruction path) back in the names
    /// [`load`](Self::load) reads.
    pub fn save(&self, out: &mut WeightWriter, prefix: &str) {
        let [n, d] = self.query_tokens.dims();
        out.put("query_tokens", self.query_tokens.val().reshape([1, n, d]));
        save_layer_norm(out, &format!("{prefix}.layernorm"), &self.layernorm);
        for (i, layer) in self.layers.iter().enumerate() {
            let l = format!("{prefix}.encoder.layer.{i}");
            layer.self_attention.save(out, &format!("{l}.attention"));
            if let Some(cross) = &layer.cross_attention {
                cross.save(out, &format!("{l}.crossattention"));
            }
            layer.feed_forward_query.save(
                out,
                &format!("{l}.intermediate_query"),
                &format!("{l}.output_query"),
            );
        }
    }

    pub fn num_queries(&self) -> usize {
        self.query_tokens.dims()[0]
    }

    /// The query outputs for one image's features, with every layer's attention. With
    /// InstructBLIP, `instruction` (Q-Former tokenizer ids) joins the queries in
    /// self-attention; only the query rows are returned.
    ///
    /// # Shapes
    /// - image: `[1, image_tokens, encoder_hidden]` → `[1, queries, hidden]`
    /// - attention maps: cross `[heads, queries, image_tokens]`, self `[heads, rows, rows]`
    ///   where rows = queries + instruction tokens
    pub fn forward(&self, image: Tensor<3>, instruction: &[u32]) -> (Tensor<3>, QFormerAttentions) {
        let _span = tracing::debug_span!("qformer").entered();
        let [n, d] = self.query_tokens.dims();
        let batch = image.dims()[0];
        let queries = self
            .query_tokens
            .val()
            .unsqueeze::<3>()
            .expand([batch, n, d]);
        let rows = match (&self.instruction, instruction.is_empty()) {
            (Some(e), false) => {
                let len = instruction.len();
                let ids = token_ids(instruction, &image.device());
                let text = e.word_embeddings.forward(ids)
                    + e.position_embeddings
                        .clone()
                        .narrow(0, 0, len)
                        .unsqueeze::<3>();
                Tensor::cat(vec![queries, text], 1)
            }
            _ => queries,
        };
        let mut x = self.layernorm.forward(rows);
        let total = x.dims()[1];
        let mut trace = QFormerAttentions {
            cross_layers: Vec::new(),
            cross: Vec::new(),
            self_attention: Vec::new(),
            cross_batch: Vec::new(),
        };
        // The maps of the batch's first image (the teaching views run one image at a time).
        let first = |p: Tensor<4>| {
            let [_, h, q, k] = p.dims();
            p.narrow(0, 0, 1).reshape([h, q, k])
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let (h, probs) = layer.self_attention.forward(x.clone(), x);
            trace.self_attention.push(first(probs));
            let mut query_rows = h.clone().narrow(1, 0, n);
            if let Some(cross) = &layer.cross_attention {
                let (q, probs) = cross.forward(query_rows, image.clone());
                trace.cross_layers.push(i);
                trace.cross.push(first(probs.clone()));
                trace.cross_batch.push(probs);
                query_rows = q;
            }
            let query_rows = layer.feed_forward_query.forward(query_rows);
            x = match (&layer.feed_forward_text, total > n) {
                (Some(ff), true) => {
                    Tensor::cat(vec![query_rows, ff.forward(h.narrow(1, n, total - n))], 1)
                }
                _ => query_rows,
            };
        }
        debug_assert_eq!(x.dims()[2], d);
        (x.narrow(1, 0, n), trace)
    }
}
