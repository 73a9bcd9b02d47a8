//! The built-in demo model: a small BLIP-2 that Iris trains itself on procedurally generated
//! scenes ([`scenes`]), saved in the HF checkpoint layout ([`checkpoint`]), trained with burn's
//! autodiff ([`train`]) and measured on held-out scenes ([`eval`]).

pub mod checkpoint;
pub mod data;
pub mod eval;
mod font;
pub mod questions;
pub mod samples;
pub mod scenes;
pub mod train;
