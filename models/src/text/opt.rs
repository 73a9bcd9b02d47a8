//! The OPT decoder (`OPTForCausalLM`, BLIP-2's language model): learned absolute positions
//! (offset 2), LayerNorm pre-norm layers (post-norm when `do_layer_norm_before` is false),
//! biased attention projections, a ReLU MLP, optional `project_in`/`project_out` when the word
//! embedding size differs from the hidden size, and a head tied to the embeddings.

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::prelude::*;
use serde::Deserialize;

use crate::config::Activation;
use crate::nn::{
    attention_with_scale, embedding, layer_norm, linear, merge_heads, save_embedding,
    save_layer_norm, save_linear, split_heads, token_ids,
};
use crate::weights::{WeightLoader, WeightWriter};

use super::KvCache;
use super::decoder::causal_mask;

/// `OPTConfig` (transformers/models/opt/configuration_opt.py, v4.57 defaults).
#[derive(Debug, Clone, Deserialize)]
pub struct OptConfig {
    #[serde(default = "defaults::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "defaults::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "defaults::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "defaults::ffn_dim")]
    pub ffn_dim: usize,
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "defaults::max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default = "yes")]
    pub do_layer_norm_before: bool,
    #[serde(default, rename = "_remove_final_layer_norm")]
    pub remove_final_layer_norm: bool,
    pub word_embed_proj_dim: Option<usize>,
    #[serde(default = "relu", rename = "activation_function")]
    pub activation: Activation,
    #[serde(default = "yes")]
    pub enable_bias: bool,
    #[serde(default = "yes")]
    pub layer_norm_elementwise_affine: bool,
    #[serde(default = "yes")]
    pub tie_word_embeddings: bool,
}

mod defaults {
    pub fn vocab_size() -> usize {
        50272
    }
    pub fn hidden_size() -> usize {
        768
    }
    pub fn num_hidden_layers() -> usize {
        12
    }
    pub fn ffn_dim() -> usize {
        3072
    }
    pub fn num_attention_heads() -> usize {
        12
    }
    pub fn max_position_embeddings() -> usize {
        2048
    }
}

fn yes() -> bool {
    true
}
fn relu() -> Activation {
    Activation::Relu
}

/// OPT's learned positions are stored with two extra rows in front.
const POSITION_OFFSET: usize = 2;

#[derive(Module, Debug)]
struct OptAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    num_heads: usize,
}

#[derive(Module, Debug)]
struct OptLayer {
    self_attn_layer_norm: LayerNorm,
    self_attn: OptAttention,
    final_layer_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    activation: Activation,
    pre_norm: bool,
}

/// The OPT decoder with its embeddings and (tied) head.
#[derive(Module, Debug)]
pub struct OptDecoder {
    embed_tokens: Embedding,
    /// `[max_positions + 2, hidden]`
    embed_positions: Param<Tensor<2>>,
    project_in: Option<Linear>,
    project_out: Option<Linear>,
    layers: Vec<OptLayer>,
    final_layer_norm: Option<LayerNorm>,
    lm_head: Option<Linear>,
    max_positions: usize,
}

impl OptLayer {
    fn load(w: &mut WeightLoader, prefix: &str, c: &OptConfig) -> Self {
        let d = c.hidden_size;
        let b = c.enable_bias;
        let proj =
            |w: &mut WeightLoader, n: &str| linear(w, &format!("{prefix}.self_attn.{n}"), d, d, b);
        Self {
            self_attn_layer_norm: layer_norm(w, &format!("{prefix}.self_attn_layer_norm"), d, 1e-5),
            self_attn: OptAttention {
                q_proj: proj(w, "q_proj"),
                k_proj: proj(w, "k_proj"),
                v_proj: proj(w, "v_proj"),
                out_proj: proj(w, "out_proj"),
                num_heads: c.num_attention_heads,
            },
            final_layer_norm: layer_norm(w, &format!("{prefix}.final_layer_norm"), d, 1e-5),
            fc1: linear(w, &format!("{prefix}.fc1"), d, c.ffn_dim, b),
            fc2: linear(w, &format!("{prefix}.fc2"), c.ffn_dim, d, b),
            activation: c.activation,
            pre_norm: c.do_layer_norm_before,
        }
    }

    fn forward(
        &self,
        x: Tensor<3>,
        mask: Option<Tensor<2>>,
        cache: &mut KvCache,
        layer: usize,
    ) -> Tensor<3> {
        let h = if self.pre_norm {
            self.self_attn_layer_norm.forward(x.clone())
        } else {
            x.clone()
        };
        let mut x = x + self.self_attn.forward(h, mask, cache, layer);
        if !self.pre_norm {
            x = self.self_attn_layer_norm.forward(x);
        }
        let h = if self.pre_norm {
            self.final_layer_norm.forward(x.clone())
        } else {
            x.clone()
        };
        let h = self
            .fc2
            .forward(self.activation.forward(self.fc1.forward(h)));
        let x = x + h;
        if self.pre_norm {
            x
        } else {
            self.final_layer_norm.forward(x)
        }
    }
}

impl OptAttention {
    fn forward(
        &self,
        x: Tensor<3>,
        mask: Option<Tensor<2>>,
        cache: &mut KvCache,
        layer: usize,
    ) -> Tensor<3> {
        let head_dim = x.dims()[2] / self.num_heads;
        // HF scales the projected queries before the product (OPTAttention.scaling).
        let q = self.q_proj.forward(x.clone()) * (head_dim as f64).powf(-0.5);
        let q = split_heads(q, self.num_heads, head_dim);
        let k = split_heads(self.k_proj.forward(x.clone()), self.num_heads, head_dim);
        let v = split_heads(self.v_proj.forward(x), self.num_heads, head_dim);
        let (k, v) = cache.append(layer, k, v);
        let (out, probs) = attention_with_scale(q, k, v, mask, 1.0);
        cache.record_attention(layer, &probs);
        self.out_proj.forward(merge_heads(out))
    }
}

impl OptDecoder {
    /// Loads `{prefix}.model.decoder.*` and `{prefix}.lm_head` (prefix e.g. `language_model`).
    pub fn load(w: &mut WeightLoader, prefix: &str, c: &OptConfig) -> Self {
        let m = format!("{prefix}.model.decoder");
        let d = c.hidden_size;
        let e = c.word_embed_proj_dim.unwrap_or(d);
        let projected = e != d;
        let head = format!("{prefix}.lm_head");
        let lm_head = if c.tie_word_embeddings {
            w.ignore_prefix(format!("{head}."));
            None
        } else {
            Some(linear(w, &head, e, c.vocab_size, false))
        };
        let final_norm = c.do_layer_norm_before && !c.remove_final_layer_norm;
        Self {
            embed_tokens: embedding(w, &format!("{m}.embed_tokens"), c.vocab_size, e),
            embed_positions: Param::from_tensor(w.tensor(
                &format!("{m}.embed_positions.weight"),
                [c.max_position_embeddings + POSITION_OFFSET, d],
            )),
            project_in: projected.then(|| linear(w, &format!("{m}.project_in"), e, d, false)),
            project_out: projected.then(|| linear(w, &format!("{m}.project_out"), d, e, false)),
            layers: (0..c.num_hidden_layers)
                .map(|i| OptLayer::load(w, &format!("{m}.layers.{i}"), c))
                .collect(),
            final_layer_norm: final_norm
                .then(|| layer_norm(w, &format!("{m}.final_layer_norm"), d, 1e-5)),
            lm_head,
            max_positions: c.max_position_embeddings,
        }
    }
}

impl OptDecoder {
    /// Writes the decoder back in the names [`load`](Self::load) reads (a tied head is not
    /// stored, as HF saves it).
    pub fn save(&self, out: &mut WeightWriter, prefix: &str) {
        let m = format!("{prefix}.model.decoder");
        save_embedding(out, &format!("{m}.embed_tokens"), &self.embed_tokens);
        out.put(
            &format!("{m}.embed_positions.weight"),
            self.embed_positions.val(),
        );
        for (name, proj) in [
            ("project_in", &self.project_in),
            ("project_out", &self.project_out),
        ] {
            if let Some(p) = proj {
                save_linear(out, &format!("{m}.{name}"), p);
            }
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let l = format!("{m}.layers.{i}");
            let a = &layer.self_attn;
            for (name, proj) in [
                ("q_proj", &a.q_proj),
                ("k_proj", &a.k_proj),
                ("v_proj", &a.v_proj),
                ("out_proj", &a.out_proj),
            ] {
                save_linear(out, &format!("{l}.self_attn.{name}"), proj);
            }
            save_layer_norm(
                out,
                &format!("{l}.self_attn_layer_norm"),
                &layer.self_attn_layer_norm,
            );
            save_layer_norm(
                out,
                &format!("{l}.final_layer_norm"),
                &layer.final_layer_norm,
            );
            save_linear(out, &format!("{l}.fc1"), &layer.fc1);
            save_linear(out, &format!("{l}.fc2"), &layer.fc2);
        }
        if let Some(n) = &self.final_layer_norm {
            save_layer_norm(out, &format!("{m}.final_layer_norm"), n);
        }
        if let Some(head) = &self.lm_head {
            save_linear(out, &format!("{prefix}.lm_head"), head);
        }
    }

    /// The number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.embed_tokens.weight.dims()[0]
    }

    /// Token embeddings of a batch of id rows.
    ///
    /// # Shapes
    /// - ids: `[batch, seq]` → `[batch, seq, word_embed_dim]`
    pub fn embed_ids(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.embed_tokens.forward(ids)
    }
}

impl super::CausalLm for OptDecoder {
    fn embed(&self, ids: &[u32]) -> Tensor<3> {
        self.embed_tokens
            .forward(token_ids(ids, &self.embed_positions.val().device()))
    }

    fn forward(&self, embeds: Tensor<3>, cache: &mut KvCache) -> Tensor<3> {
        let device = embeds.device();
        let new = embeds.dims()[1];
        let past = cache.len();
        let x = match &self.project_in {
            Some(p) => p.forward(embeds),
            None => embeds,
        };
        // No padding: positions are past..past+new, stored at +2.
        let positions = self
            .embed_positions
            .val()
            .narrow(0, past + POSITION_OFFSET, new)
            .unsqueeze::<3>();
        let mut x = x + positions;
        let mask = (new > 1).then(|| causal_mask(past, new, &device));
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x, mask.clone(), cache, i);
        }
        cache.advance(new);
        let x = match &self.final_layer_norm {
            Some(n) => n.forward(x),
            None => x,
        };
        match &self.project_out {
            Some(p) => p.forward(x),
            None => x,
        }
    }

    fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(self.embed_tokens.weight.val().transpose().unsqueeze::<3>()),
        }
    }

    fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    fn max_positions(&self) -> usize {
        self.max_positions
    }
}
