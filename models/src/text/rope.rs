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

    /// The rotation frequencies, `1 / theta^(2i / head_dim)`.
    pub fn inv_freq(&self) -> &[f32] {
        &self.inv_freq
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

/// Multimodal rotary positions (Qwen2-VL's M-RoPE): each prompt position's (temporal, height,
/// width) position; every later token sits at `index + delta` on all three axes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RopePositions {
    pub prompt: Vec<[u32; 3]>,
    pub delta: i64,
}

impl RopePositions {
    /// The three positions of sequence index `index`.
    pub fn at(&self, index: usize) -> [i64; 3] {
        match self.prompt.get(index) {
            Some(p) => p.map(i64::from),
            None => [index as i64 + self.delta; 3],
        }
    }
}

impl Rope {
    /// M-RoPE tables for sequence indices `start..start + len`: frequency `i` of each half of
    /// the head turns with the axis whose section holds it (`mrope_section` = frequencies per
    /// temporal, height, width axis, as HF's `apply_multimodal_rotary_pos_emb` splits them).
    ///
    /// # Shapes
    /// - returns two `[len, head_dim]` tensors
    pub fn mrope_tables(
        &self,
        positions: &RopePositions,
        section: &[usize],
        start: usize,
        len: usize,
        device: &Device,
    ) -> (Tensor<2>, Tensor<2>) {
        let axis_of: Vec<usize> = section
            .iter()
            .enumerate()
            .flat_map(|(axis, &n)| std::iter::repeat_n(axis, n))
            .collect();
        let mut cos = Vec::with_capacity(len * self.head_dim);
        let mut sin = Vec::with_capacity(len * self.head_dim);
        for index in start..start + len {
            let pos = positions.at(index);
            for _half in 0..2 {
                for (i, f) in self.inv_freq.iter().enumerate() {
                    let axis = axis_of.get(i).copied().unwrap_or(0);
                    let angle = pos[axis] as f32 * f;
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
