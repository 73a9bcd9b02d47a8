//! The pre-norm ViT encoder layer that CLIP, SigLIP and BLIP-2's EVA ViT share
//! (`CLIPEncoderLayer`, `SiglipEncoderLayer`, `Blip2EncoderLayer`): LayerNorm → multi-head
//! self-attention → residual, LayerNorm → MLP → residual. The MLP activation differs, and
//! BLIP-2 stores the attention as one fused `qkv` matrix with a `projection` output.

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use crate::config::Activation;
use crate::nn::{
    attention, layer_norm, linear, merge_heads, save_layer_norm, save_linear, split_heads,
};
use crate::weights::{WeightLoader, WeightWriter};

/// The numbers one encoder needs, whichever tower they came from.
#[derive(Debug, Clone)]
pub struct VitSpec {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_heads: usize,
    pub activation: Activation,
    pub layer_norm_eps: f64,
    pub attention: AttentionLayout,
}

/// How a tower names and stores its attention projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionLayout {
    /// `q_proj`, `k_proj`, `v_proj`, `out_proj`, all with biases (CLIP, SigLIP).
    Separate,
    /// `qkv` (`[3 * hidden, hidden]`; bias `qkv.bias`, or `q_bias` and `v_bias` with a zero
    /// key bias) and `projection` (BLIP-2, InstructBLIP).
    Fused,
}

#[derive(Module, Debug)]
pub struct VitAttention {
    /// q, k and v in one `[hidden, 3 * hidden]` projection (separate checkpoint tensors are
    /// concatenated at load: one matmul instead of three).
    qkv: Linear,
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
        let attn = format!("{prefix}.self_attn");
        let proj =
            |w: &mut WeightLoader, name: &str| linear(w, &format!("{attn}.{name}"), d, d, true);
        let (qkv, out_proj) = match spec.attention {
            AttentionLayout::Separate => (separate_qkv(w, &attn, d), proj(w, "out_proj")),
            AttentionLayout::Fused => (fused_qkv(w, &attn, d), proj(w, "projection")),
        };
        Self {
            layer_norm1: layer_norm(w, &format!("{prefix}.layer_norm1"), d, spec.layer_norm_eps),
            self_attn: VitAttention {
                qkv,
                out_proj,
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

/// CLIP/SigLIP's `q_proj`, `k_proj`, `v_proj` stacked into one projection.
fn separate_qkv(w: &mut WeightLoader, prefix: &str, d: usize) -> Linear {
    let part = |w: &mut WeightLoader, n: &str| {
        (
            w.tensor(&format!("{prefix}.{n}.weight"), [d, d]),
            w.tensor(&format!("{prefix}.{n}.bias"), [d]),
        )
    };
    let (qw, qb) = part(w, "q_proj");
    let (kw, kb) = part(w, "k_proj");
    let (vw, vb) = part(w, "v_proj");
    Linear {
        weight: Param::from_tensor(Tensor::cat(vec![qw, kw, vw], 0).transpose()),
        bias: Some(Param::from_tensor(Tensor::cat(vec![qb, kb, vb], 0))),
    }
}

/// BLIP-2's fused `qkv` projection. The bias is `qkv.bias` when saved whole; original LAVIS
/// conversions keep `q_bias` and `v_bias` with an implicit zero key bias.
fn fused_qkv(w: &mut WeightLoader, prefix: &str, d: usize) -> Linear {
    let weight = w
        .tensor(&format!("{prefix}.qkv.weight"), [3 * d, d])
        .transpose();
    let bias = if w.contains(&format!("{prefix}.qkv.bias")) {
        Some(w.tensor(&format!("{prefix}.qkv.bias"), [3 * d]))
    } else if w.contains(&format!("{prefix}.q_bias")) {
        let q = w.tensor(&format!("{prefix}.q_bias"), [d]);
        let v = w.tensor(&format!("{prefix}.v_bias"), [d]);
        let k = q.zeros_like();
        Some(Tensor::cat(vec![q, k, v], 0))
    } else {
        None
    };
    Linear {
        weight: Param::from_tensor(weight),
        bias: bias.map(Param::from_tensor),
    }
}

impl VitLayer {
    /// Writes the layer back in the names [`load`](Self::load) reads.
    fn save(&self, out: &mut WeightWriter, prefix: &str, layout: AttentionLayout) {
        let attn = format!("{prefix}.self_attn");
        let weight = self.self_attn.qkv.weight.val().transpose();
        let d = weight.dims()[1];
        let bias = self.self_attn.qkv.bias.as_ref().map(|b| b.val());
        match layout {
            AttentionLayout::Separate => {
                for (i, name) in ["q_proj", "k_proj", "v_proj"].into_iter().enumerate() {
                    out.put(
                        &format!("{attn}.{name}.weight"),
                        weight.clone().narrow(0, i * d, d),
                    );
                    if let Some(b) = &bias {
                        out.put(
                            &format!("{attn}.{name}.bias"),
                            b.clone().narrow(0, i * d, d),
                        );
                    }
                }
                save_linear(out, &format!("{attn}.out_proj"), &self.self_attn.out_proj);
            }
            AttentionLayout::Fused => {
                out.put(&format!("{attn}.qkv.weight"), weight);
                // HF keeps q and v biases only: a key bias adds the same amount to every score
                // of a query, which softmax cancels, so dropping it changes nothing.
                if let Some(b) = bias {
                    out.put(&format!("{attn}.q_bias"), b.clone().narrow(0, 0, d));
                    out.put(&format!("{attn}.v_bias"), b.narrow(0, 2 * d, d));
                }
                save_linear(out, &format!("{attn}.projection"), &self.self_attn.out_proj);
            }
        }
        save_layer_norm(out, &format!("{prefix}.layer_norm1"), &self.layer_norm1);
        save_layer_norm(out, &format!("{prefix}.layer_norm2"), &self.layer_norm2);
        save_linear(out, &format!("{prefix}.mlp.fc1"), &self.mlp.fc1);
        save_linear(out, &format!("{prefix}.mlp.fc2"), &self.mlp.fc2);
    }
}

impl VitAttention {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let hidden = x.dims()[2];
        let head_dim = hidden / self.num_heads;
        let mixed = self.qkv.forward(x);
        let (q, k, v) = (
            mixed.clone().narrow(2, 0, hidden),
            mixed.clone().narrow(2, hidden, hidden),
            mixed.narrow(2, 2 * hidden, hidden),
        );
        let q = split_heads(q, self.num_heads, head_dim);
        let k = split_heads(k, self.num_heads, head_dim);
        let v = split_heads(v, self.num_heads, head_dim);
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

    /// Writes the layers back under `{prefix}.layers.{i}`.
    pub fn save(&self, out: &mut WeightWriter, prefix: &str, layout: AttentionLayout) {
        for (i, layer) in self.layers.iter().enumerate() {
            layer.save(out, &format!("{prefix}.layers.{i}"), layout);
        }
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
