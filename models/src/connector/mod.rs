//! Connectors between a vision tower and a language model.

mod mlp;

pub use mlp::MlpProjector;
