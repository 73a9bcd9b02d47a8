//! Small building blocks shared by every part: burn layers built from checkpoint tensors, the
//! HF activation functions and scaled dot-product attention.

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::{DType, TensorData, activation};

use crate::config::Activation;
use crate::weights::{WeightLoader, WeightWriter};

/// A `Linear` from HF's `{prefix}.weight` (`[out, in]`, as PyTorch stores it) and optional
/// `{prefix}.bias`. burn's `Linear` multiplies by `[in, out]`: the weight is used transposed.
pub fn linear(w: &mut WeightLoader, prefix: &str, d_in: usize, d_out: usize, bias: bool) -> Linear {
    let weight = w
        .tensor(&format!("{prefix}.weight"), [d_out, d_in])
        .transpose();
    let bias = bias.then(|| Param::from_tensor(w.tensor(&format!("{prefix}.bias"), [d_out])));
    Linear {
        weight: Param::from_tensor(weight),
        bias,
    }
}

/// A `LayerNorm` from `{prefix}.weight` and `{prefix}.bias`.
pub fn layer_norm(w: &mut WeightLoader, prefix: &str, d: usize, eps: f64) -> LayerNorm {
    let mut norm = LayerNormConfig::new(d).with_epsilon(eps).init(w.device());
    norm.gamma = Param::from_tensor(w.tensor(&format!("{prefix}.weight"), [d]));
    norm.beta = Some(Param::from_tensor(w.tensor(&format!("{prefix}.bias"), [d])));
    norm
}

/// An `RmsNorm` (Llama/Qwen2 style) from `{prefix}.weight`.
pub fn rms_norm(w: &mut WeightLoader, prefix: &str, d: usize, eps: f64) -> RmsNorm {
    RmsNorm {
        gamma: Param::from_tensor(w.tensor(&format!("{prefix}.weight"), [d])),
        epsilon: eps,
    }
}

/// An `Embedding` table from `{prefix}.weight` (`[vocab, d]`).
pub fn embedding(w: &mut WeightLoader, prefix: &str, vocab: usize, d: usize) -> Embedding {
    Embedding {
        weight: Param::from_tensor(w.tensor(&format!("{prefix}.weight"), [vocab, d])),
    }
}

/// Writes a [`linear`] back in HF's names and `[out, in]` layout.
pub fn save_linear(out: &mut WeightWriter, prefix: &str, l: &Linear) {
    out.put(&format!("{prefix}.weight"), l.weight.val().transpose());
    if let Some(b) = &l.bias {
        out.put(&format!("{prefix}.bias"), b.val());
    }
}

/// Writes a [`layer_norm`] back in HF's names.
pub fn save_layer_norm(out: &mut WeightWriter, prefix: &str, n: &LayerNorm) {
    out.put(&format!("{prefix}.weight"), n.gamma.val());
    if let Some(b) = &n.beta {
        out.put(&format!("{prefix}.bias"), b.val());
    }
}

/// Writes an [`embedding`] back in HF's names.
pub fn save_embedding(out: &mut WeightWriter, prefix: &str, e: &Embedding) {
    out.put(&format!("{prefix}.weight"), e.weight.val());
}

impl Activation {
    /// Applies the activation as transformers' `ACT2FN[name]` does.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Gelu => activation::gelu(x),
            Self::GeluPytorchTanh => activation::gelu_approximate(x),
            Self::QuickGelu => x.clone() * activation::sigmoid(x * 1.702),
            Self::Silu => activation::silu(x),
            Self::Relu => activation::relu(x),
        }
    }
}

/// Token ids as a `[1, ids.len()]` int tensor, the input of an embedding table.
pub fn token_ids(ids: &[u32], device: &Device) -> Tensor<2, Int> {
    let values: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    Tensor::from_data(TensorData::new(values, [1, ids.len()]), device)
}

/// Reads a tensor back to the host as f32 values (cast first when it is f16), surfacing a
/// device failure (e.g. a buffer over the binding limit) as an error message.
pub fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, String> {
    t.cast(DType::F32)
        .try_into_data()
        .map_err(|e| format!("{e:?}"))?
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))
}

/// Scaled dot-product attention with an optional additive mask, softmax in f32.
///
/// # Shapes
/// - q: `[batch, heads, q_len, head_dim]`
/// - k, v: `[batch, heads, kv_len, head_dim]`
/// - mask: `[q_len, kv_len]` (0 where allowed, -inf where not), broadcast over batch and heads
/// - returns `(output [batch, heads, q_len, head_dim], probs [batch, heads, q_len, kv_len])`
pub fn attention(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    mask: Option<Tensor<2>>,
) -> (Tensor<4>, Tensor<4>) {
    let head_dim = q.dims()[3];
    attention_with_scale(q, k, v, mask, (head_dim as f64).powf(-0.5))
}

/// [`attention`] with an explicit score scale (1.0 for models that scale the queries
/// themselves, as OPT does: the rounding then matches HF's).
pub fn attention_with_scale(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    mask: Option<Tensor<2>>,
    scale: f64,
) -> (Tensor<4>, Tensor<4>) {
    let scores = q.matmul(k.swap_dims(2, 3));
    let scores = if scale == 1.0 { scores } else { scores * scale };
    let scores = match mask {
        Some(mask) => {
            let dtype = scores.dtype();
            scores + mask.cast(dtype).unsqueeze::<4>()
        }
        None => scores,
    };
    let probs = activation::softmax(scores, 3);
    (probs.clone().matmul(v), probs)
}

/// Splits `[batch, seq, heads * head_dim]` into `[batch, heads, seq, head_dim]`.
pub fn split_heads(x: Tensor<3>, heads: usize, head_dim: usize) -> Tensor<4> {
    let [batch, seq, _] = x.dims();
    x.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2)
}

/// Merges `[batch, heads, seq, head_dim]` back into `[batch, seq, heads * head_dim]`.
pub fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [batch, heads, seq, head_dim] = x.dims();
    x.swap_dims(1, 2).reshape([batch, seq, heads * head_dim])
}
