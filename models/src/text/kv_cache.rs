//! Per-layer key/value cache for incremental decoding.

use burn::prelude::*;

use super::rope::RopePositions;

/// Keys and values of every layer for the tokens seen so far.
///
/// # Shapes
/// - each entry: `[batch, kv_heads, seq, head_dim]`
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
    /// When capturing (the app's teaching view): per forward pass, per layer, the attention
    /// probabilities of the pass's last query over every key, `[heads, keys]`.
    attention: Option<Vec<Vec<Tensor<2>>>>,
    /// When also capturing for attention rollout: each layer's full attention of the first
    /// (prompt) pass, averaged over heads, `[queries, keys]`.
    prefill: Option<Vec<Tensor<2>>>,
    /// M-RoPE positions of the prompt (Qwen2-VL); `None`: position = sequence index.
    positions: Option<RopePositions>,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: (0..num_layers).map(|_| None).collect(),
            len: 0,
            attention: None,
            prefill: None,
            positions: None,
        }
    }

    /// Gives the prompt multimodal rotary positions (models with M-RoPE read them).
    pub fn set_positions(&mut self, positions: RopePositions) {
        self.positions = Some(positions);
    }

    /// The prompt's multimodal rotary positions, when set.
    pub fn positions(&self) -> Option<&RopePositions> {
        self.positions.as_ref()
    }

    /// Starts recording each forward pass's last-query attention (see [`record_attention`]).
    ///
    /// [`record_attention`]: Self::record_attention
    pub fn capture_attention(&mut self) {
        self.attention = Some(Vec::new());
    }

    /// Also keeps the prompt pass's full head-averaged attention (for attention rollout).
    pub fn capture_prefill_attention(&mut self) {
        self.prefill = Some(Vec::new());
    }

    /// Records `layer`'s attention probabilities of this pass when capturing; a no-op otherwise.
    ///
    /// # Shapes
    /// - probs: `[1, heads, queries, keys]`; the last query's row is kept
    pub fn record_attention(&mut self, layer: usize, probs: &Tensor<4>) {
        let Some(steps) = self.attention.as_mut() else {
            return;
        };
        let [_, heads, queries, keys] = probs.dims();
        let first_pass = self.len == 0 && queries > 1;
        if let Some(prefill) = self.prefill.as_mut().filter(|_| first_pass) {
            prefill.push(probs.clone().mean_dim(1).reshape([queries, keys]));
        }
        let row = probs
            .clone()
            .narrow(2, queries - 1, 1)
            .reshape([heads, keys]);
        if layer == 0 {
            steps.push(Vec::new());
        }
        if let Some(step) = steps.last_mut() {
            step.push(row);
        }
    }

    /// Whether the attention probabilities are being recorded (then attention has to produce
    /// them, which the fused decode kernel does not).
    pub fn is_capturing(&self) -> bool {
        self.attention.is_some()
    }

    /// The recorded attention rows, `[pass][layer]` of `[heads, keys]` (empty when not capturing).
    pub fn take_attention(&mut self) -> Vec<Vec<Tensor<2>>> {
        self.attention.take().unwrap_or_default()
    }

    /// The prompt pass's head-averaged attention per layer (empty when not capturing it).
    pub fn take_prefill_attention(&mut self) -> Vec<Tensor<2>> {
        self.prefill.take().unwrap_or_default()
    }

    /// Tokens already in the cache (the position of the next token).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends this step's keys and values for `layer`, returning the full keys and values.
    pub fn append(&mut self, layer: usize, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.layers[layer] = Some((k.clone(), v.clone()));
        (k, v)
    }

    /// Marks `tokens` more positions as filled (after every layer has appended them).
    pub fn advance(&mut self, tokens: usize) {
        self.len += tokens;
    }
}
