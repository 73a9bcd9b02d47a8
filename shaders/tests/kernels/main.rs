//! Kernel-vs-reference tests for every kernel of `iris-shaders`, one module per kernel, in one
//! test binary (each debug test binary costs ~1 GB and a 15 s link).
//!
//! The wgpu tests need an adapter; on CI that is Mesa's lavapipe. Run with `XDG_RUNTIME_DIR`
//! set (e.g. `/tmp`) where the environment has none.

mod common;
mod decode_attention;
mod matvec;
mod rms_norm;
