//! # iris-shaders
//!
//! Hand-written WGSL compute kernels for Iris, each launched on burn's wgpu backend (with Fusion
//! on) and falling back to plain burn ops on every other device.
//!
//! | kernel | entry point | falls back to |
//! |---|---|---|
//! | fused RMSNorm (`src/rms_norm.wgsl`) | [`rms_norm::rms_norm`] | [`rms_norm::reference`] |
//!
//! ## How a kernel is laid out
//!
//! - One kernel per `.wgsl` file, with a header comment naming its bindings, workgroup size and
//!   bounds handling, loaded with `include_str!` into a `burn::backend::wgpu::SourceTemplate`
//!   (`{{ name }}` placeholders filled with `register`, e.g. the element type).
//! - One `#[repr(C)]` info struct per kernel, uploaded as the last binding. cubecl binds every
//!   buffer as `var<storage, read_write>` (no uniform buffers), in the order the launcher passes
//!   them, and calls the entry point `main`.
//! - The launcher is a `#[backend_extension(Cube, Fusion)]` trait implemented for `CubeBackend`;
//!   burn generates the lazy `Fusion` implementation and the `Dispatch` routing. The public
//!   function takes and returns `Tensor<D>` and decides, per call, whether the kernel applies
//!   (wgpu device, no autodiff, supported dtype) or the plain-burn `reference()` runs.
//! - Every kernel has a plain-burn `reference()` and a property test over random shapes comparing
//!   the two on the wgpu device (`tests/kernels/`).
//!
//! API quirks met on the way are written up in `docs/kernels.md`.
//!
//! ## Tests
//!
//! `cargo test -p iris-shaders` needs a wgpu adapter; Mesa's lavapipe (software Vulkan) is enough.
//! Set `XDG_RUNTIME_DIR` (e.g. `/tmp`) where the environment has none.

pub mod rms_norm;

pub use rms_norm::rms_norm;
