//! # iris-shaders
//!
//! Hand-written WGSL compute kernels for Iris, each launched on burn's wgpu backend (with Fusion
//! on) and falling back to plain burn ops on every other device.
//!
//! | kernel | entry point | falls back to |
//! |---|---|---|
//! | fused RMSNorm (`src/rms_norm.wgsl`) | [`rms_norm::rms_norm`] | [`rms_norm::reference`] |
//! | decode matrix-vector product + bias (`src/matvec.wgsl`) | [`matvec::linear`] | [`matvec::reference`] (`Linear::forward`) |
//! | decode attention over the KV cache, split over keys, GQA in place (`src/decode_attention*.wgsl`) | [`decode_attention::decode_attention`] | [`decode_attention::reference`] |
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

pub mod decode_attention;
pub mod matvec;
pub mod rms_norm;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::DispatchDevice;
use burn::prelude::*;
use burn::tensor::DType;

pub use decode_attention::decode_attention;
pub use matvec::linear;
pub use rms_norm::rms_norm;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Switches every kernel of this crate on or off for the whole process (on by default); off,
/// each entry point runs its plain-burn reference. `iris bench --kernels off` uses this to
/// measure what the kernels buy end to end.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the kernels are switched on ([`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether a kernel of this crate runs for a tensor of `dtype` on `device`: kernels switched
/// on, a wgpu device without autodiff, and f32 (or f16, where the device has it).
pub fn runs_kernel(device: &Device, dtype: DType) -> bool {
    let wgpu = matches!(
        device.as_dispatch(),
        DispatchDevice::Cube(cubecl::Device::Wgpu(_))
    );
    enabled() && wgpu && Elem::of(dtype).is_some() && device.supports_dtype(dtype)
}

/// A kernel's WGSL source with its placeholders' values: the `KernelSource` every launcher
/// hands to cubecl. `enable`, `elem` and `workgroup_size` are always registered; the name and
/// every value key the compilation cache, so each variant compiles once.
#[derive(Clone, Debug)]
pub(crate) struct Wgsl {
    name: &'static str,
    source: &'static str,
    values: Vec<(&'static str, String)>,
}

impl Wgsl {
    pub(crate) fn new(
        name: &'static str,
        source: &'static str,
        elem: Elem,
        workgroup_size: u32,
    ) -> Self {
        Self {
            name,
            source,
            values: Vec::new(),
        }
        .with("enable", elem.enable())
        .with("elem", elem.wgsl())
        .with("workgroup_size", workgroup_size)
    }

    /// Fills placeholder `key` with `value`.
    pub(crate) fn with(mut self, key: &'static str, value: impl ToString) -> Self {
        self.values.push((key, value.to_string()));
        self
    }

    pub(crate) fn template(&self) -> burn::backend::wgpu::SourceTemplate {
        self.values.iter().fold(
            burn::backend::wgpu::SourceTemplate::new(self.source),
            |t, (key, value)| t.register(*key, value.clone()),
        )
    }
}

impl burn::backend::wgpu::KernelSource for Wgsl {
    fn source(&self) -> burn::backend::wgpu::SourceTemplate {
        self.template()
    }

    fn id(&self) -> cubecl::prelude::KernelId {
        cubecl::prelude::KernelId::new::<Self>().info((self.name, self.values.clone()))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// The element type a launcher instantiates its kernel for, after checking what its public
/// function already decided: a wgpu device (WGSL runs nowhere else; `Cube` also covers
/// CUDA/ROCm/CPU cubecl runtimes) and an f32 or f16 tensor. `kernel` names it in the panic.
pub(crate) fn launch_elem(t: &burn::backend::wgpu::CubeTensor, kernel: &str) -> Elem {
    assert!(
        matches!(t.device, cubecl::Device::Wgpu(_)),
        "{kernel} kernel: WGSL needs a wgpu device, got {:?}",
        t.device
    );
    Elem::of(t.dtype)
        .unwrap_or_else(|| panic!("{kernel} kernel: f32 or f16 only, got {:?}", t.dtype))
}

/// A new contiguous, uninitialised tensor of `shape` on `like`'s device, in its dtype: a
/// kernel's output.
pub(crate) fn empty_like(
    like: &burn::backend::wgpu::CubeTensor,
    shape: burn::tensor::Shape,
) -> burn::backend::wgpu::CubeTensor {
    let client = like.client.clone();
    let bytes = shape.num_elements() * like.dtype.size();
    burn::backend::wgpu::CubeTensor::new_contiguous(
        client.clone(),
        like.device.clone(),
        shape,
        client.empty(bytes),
        like.dtype,
    )
}

/// The most workgroups one dispatch dimension may have (WebGPU's default
/// `maxComputeWorkgroupsPerDimension`).
pub(crate) const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// A grid of at least `groups` workgroups: `(x, y)` with x ≤ [`MAX_GROUPS_PER_DIM`], the
/// workgroup index being `wg.x + wg.y * x`.
pub(crate) fn wrapped_grid(groups: u32) -> (u32, u32) {
    let x = groups.clamp(1, MAX_GROUPS_PER_DIM);
    (x, groups.div_ceil(x))
}

/// The WGSL element type a kernel is instantiated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Elem {
    F32,
    F16,
}

impl Elem {
    pub(crate) fn of(dtype: DType) -> Option<Self> {
        match dtype {
            DType::F32 => Some(Self::F32),
            DType::F16 => Some(Self::F16),
            _ => None,
        }
    }

    /// The WGSL type name.
    pub(crate) fn wgsl(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        }
    }

    /// The `enable` directive the type needs.
    pub(crate) fn enable(self) -> &'static str {
        match self {
            Self::F32 => "",
            Self::F16 => "enable f16;",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::DeviceKind;

    /// The only test of this binary that touches the switch (tests run in parallel).
    #[test]
    fn switched_off_kernels_do_not_run() {
        let device = Device::wgpu(DeviceKind::DefaultDevice);
        assert!(runs_kernel(&device, DType::F32));
        set_enabled(false);
        let off = runs_kernel(&device, DType::F32);
        set_enabled(true);
        assert!(!off);
        assert!(!runs_kernel(&Device::flex(), DType::F32));
    }
}
