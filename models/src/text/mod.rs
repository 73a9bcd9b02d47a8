//! Decoder-only language models (Llama, Qwen2) with a KV cache.

mod decoder;
mod kv_cache;
mod opt;
mod rope;
mod t5;

pub use decoder::Decoder;
pub use opt::{OptConfig, OptDecoder};
pub use t5::{T5, T5Config, T5Decoding};

use burn::prelude::*;

/// What generation needs from a decoder-only language model.
pub trait CausalLm: Send + Sync {
    /// Token embeddings. # Shapes: returns `[1, ids.len(), hidden]`
    fn embed(&self, ids: &[u32]) -> Tensor<3>;
    /// Runs new positions through the layers, appending them to `cache`; returns the final
    /// hidden states. # Shapes: `[1, new, hidden]` → `[1, new, hidden]`
    fn forward(&self, embeds: Tensor<3>, cache: &mut KvCache) -> Tensor<3>;
    /// Vocabulary logits. # Shapes: `[1, tokens, hidden]` → `[1, tokens, vocab]`
    fn logits(&self, hidden: Tensor<3>) -> Tensor<3>;
    /// An empty cache for this model.
    fn new_cache(&self) -> KvCache;
    /// The longest sequence the model's positions cover.
    fn max_positions(&self) -> usize;
}
pub use kv_cache::KvCache;
pub use rope::{Rope, RopePositions, apply_rotary};
