//! Rotary position embedding as transformers' default `LlamaRotaryEmbedding`: `inv_freq =
//! 1 / theta^(2i/d)` in f32, `cos`/`sin` of `position * inv_freq` duplicated over both halves,
//! applied with `rotate_half`.

use burn::prelude::*;
use burn::tensor::TensorData;

#[derive(Debug, Clone)]
pub struct Rope {
    inv_freq: Vec<f32>,
    head_dim: usize,
}

impl Rope {
    pub fn new(head_dim: usize, theta: f64) -> Self {
        let theta = theta as f32;
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / theta.powf(i as f32 / head_dim as f32))
            .collect();
        Self { inv_freq, head_dim }
    }

    /// `cos` and `sin` tables for positions `start..start + len`.
    ///
    /// # Shapes
    /// - returns two `[len, head_dim]` tensors
    pub fn tables(&self, start: usize, len: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let mut cos = Vec::with_capacity(len * self.head_dim);
        let mut sin = Vec::with_capacity(len * self.head_dim);
        for pos in start..start + len {
            for _half in 0..2 {
                for f in &self.inv_freq {
                    let angle = pos as f32 * f;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
        }
        let shape = [len, self.head_dim];
        (
            Tensor::from_data(TensorData::new(cos, shape), device),
            Tensor::from_data(TensorData::new(sin, shape), device),
        )
    }
}

/// Applies the rotation to `x` with the tables from [`Rope::tables`].
///
/// # Shapes
/// - x: `[batch, heads, seq, head_dim]`; cos, sin: `[seq, head_dim]`
pub fn apply_rotary(x: Tensor<4>, cos: &Tensor<2>, sin: &Tensor<2>) -> Tensor<4> {
    let d = x.dims()[3];
    let x1 = x.clone().narrow(3, 0, d / 2);
    let x2 = x.clone().narrow(3, d / 2, d / 2);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    let dtype = x.dtype();
    x * cos.clone().cast(dtype).unsqueeze::<4>()
        + rotated * sin.clone().cast(dtype).unsqueeze::<4>()
}
