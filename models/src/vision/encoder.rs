//! The pre-norm ViT encoder layer that CLIP and SigLIP share (`CLIPEncoderLayer`,
//! `SiglipEncoderLayer`): LayerNorm → multi-head self-attention → residual, LayerNorm → MLP →
//! residual. Only the MLP activation differs between the two.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use crate::config::Activation;
use crate::nn::{attention, layer_norm, linear, merge_heads, split_heads};
use crate::weights::WeightLoader;

/// The numbers one encoder needs, whichever tower they came from.
#[derive(Debug, Clone)]
pub struct VitSpec {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_heads: usize,
    pub activation: Activation,
    pub layer_norm_eps: f64,
}

#[derive(Module, Debug)]
pub struct VitAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    num_heads: usize,
}

#[derive(Module, Debug)]
pub struct VitMlp {
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    activation: Activation,
}

#[derive(Module, Debug)]
pub struct VitLayer {
    layer_norm1: LayerNorm,
    self_attn: VitAttention,
    layer_norm2: LayerNorm,
    mlp: VitMlp,
}

/// A stack of encoder layers (`{prefix}.layers.{i}`).
#[derive(Module, Debug)]
pub struct VitEncoder {
    layers: Vec<VitLayer>,
}

impl VitLayer {
    fn load(w: &mut WeightLoader, prefix: &str, spec: &VitSpec) -> Self {
        let d = spec.hidden_size;
        let proj = |w: &mut WeightLoader, name: &str| {
            linear(w, &format!("{prefix}.self_attn.{name}"), d, d, true)
        };
        Self {
            layer_norm1: layer_norm(w, &format!("{prefix}.layer_norm1"), d, spec.layer_norm_eps),
            self_attn: VitAttention {
                q_proj: proj(w, "q_proj"),
                k_proj: proj(w, "k_proj"),
                v_proj: proj(w, "v_proj"),
                out_proj: proj(w, "out_proj"),
                num_heads: spec.num_heads,
            },
            layer_norm2: layer_norm(w, &format!("{prefix}.layer_norm2"), d, spec.layer_norm_eps),
            mlp: VitMlp {
                fc1: linear(
                    w,
                    &format!("{prefix}.mlp.fc1"),
                    d,
                    spec.intermediate_size,
                    true,
                ),
                fc2: linear(
                    w,
                    &format!("{prefix}.mlp.fc2"),
                    spec.intermediate_size,
                    d,
                    true,
                ),
                activation: spec.activation,
            },
        }
    }

    /// # Shapes
    /// - x: `[batch, tokens, hidden]` → `[batch, tokens, hidden]`
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.self_attn.forward(self.layer_norm1.forward(x.clone()));
        let x = x + h;
        let h = self.mlp.forward(self.layer_norm2.forward(x.clone()));
        x + h
    }
}

impl VitAttention {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let hidden = x.dims()[2];
        let head_dim = hidden / self.num_heads;
        let q = split_heads(self.q_proj.forward(x.clone()), self.num_heads, head_dim);
        let k = split_heads(self.k_proj.forward(x.clone()), self.num_heads, head_dim);
        let v = split_heads(self.v_proj.forward(x), self.num_heads, head_dim);
        let (out, _) = attention(q, k, v, None);
        self.out_proj.forward(merge_heads(out))
    }
}

impl VitMlp {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.fc2
            .forward(self.activation.forward(self.fc1.forward(x)))
    }
}

impl VitEncoder {
    /// Loads the first `num_layers` layers under `{prefix}.layers.`.
    pub fn load(w: &mut WeightLoader, prefix: &str, spec: &VitSpec, num_layers: usize) -> Self {
        let layers = (0..num_layers)
            .map(|i| VitLayer::load(w, &format!("{prefix}.layers.{i}"), spec))
            .collect();
        Self { layers }
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Runs the layers and returns the hidden states HF's `output_hidden_states` would give:
    /// `states[0]` is the input, `states[i]` the output of layer `i`.
    pub fn hidden_states(&self, x: Tensor<3>) -> Vec<Tensor<3>> {
        let mut states = Vec::with_capacity(self.layers.len() + 1);
        states.push(x);
        for layer in &self.layers {
            let next = layer.forward(states.last().cloned().expect("states is never empty"));
            states.push(next);
        }
        states
    }
}
