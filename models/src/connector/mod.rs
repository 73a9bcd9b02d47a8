//! Connectors between a vision tower and a language model.

mod mlp;
mod qformer;

pub use mlp::MlpProjector;
pub use qformer::{QFormer, QFormerAttentions, QFormerConfig};
