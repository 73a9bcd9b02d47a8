//! Iris engine: runs Hugging Face vision-language checkpoints on burn, on the GPU through wgpu
//! (Vulkan/Metal/DX12) or on the CPU, producing what HF transformers produces.
//!
//! Data flows one way: bytes → pixels ([`preprocess`]) → patch features ([`vision`]) → visual
//! tokens ([`connector`]) → language model ([`text`]) → token stream ([`generate`]). A
//! [`family`] file composes the parts for one checkpoint family.

pub mod config;
pub mod connector;
pub mod demo;
pub mod device;
pub mod document;
pub mod explain;
pub mod family;
pub mod generate;
pub mod nn;
pub mod ocr;
pub mod preprocess;
pub mod processor;
pub mod prompt;
pub mod session;
pub mod synthetic;
pub mod text;
pub mod trace;
pub mod vision;
pub mod weights;
