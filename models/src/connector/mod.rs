//! Connectors between a vision tower and a language model.

mod merger;
mod mlp;
mod qformer;

pub use merger::PatchMerger;
pub use mlp::MlpProjector;
pub use qformer::{QFormer, QFormerAttentions, QFormerConfig};
