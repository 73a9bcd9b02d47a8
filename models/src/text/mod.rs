//! Decoder-only language models (Llama, Qwen2) with a KV cache.

mod decoder;
mod kv_cache;
mod rope;

pub use decoder::Decoder;
pub use kv_cache::KvCache;
pub use rope::Rope;
