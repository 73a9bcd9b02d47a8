//! Fused RMSNorm: `y = x / sqrt(mean(x²) + eps) * weight` over the last dimension, one WGSL
//! kernel (`rms_norm.wgsl`) on burn's wgpu backend and plain burn ops everywhere else.
//!
//! [`rms_norm`] is the entry point. [`reference`] is the same maths as `burn::nn::RmsNorm`
//! (x² averaged in f32, `x / rms` in x's dtype, then `* weight`), and is what the kernel is
//! tested against and what runs where the kernel does not apply ([`runs_kernel`]).

use burn::backend::wgpu::{CubeBackend, CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::backend::{
    Backend, Dispatch, DispatchDevice, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::prelude::*;
use burn::tensor::DType;
use cubecl::prelude::KernelId;
use cubecl::server::KernelArguments;
use cubecl::{CubeCount, CubeDim};

/// Threads per workgroup. 256 is the WebGPU default limit on invocations per workgroup, so every
/// adapter accepts it; a power of two, as the tree reduction in the shader requires.
pub const WORKGROUP_SIZE: u32 = 256;

/// The most workgroups one dispatch dimension may have (WebGPU's default
/// `maxComputeWorkgroupsPerDimension`); more rows spill into the grid's y dimension.
const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// The kernel's `Info` binding (`@binding(3)`), field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RmsNormInfo {
    /// Number of rows: the product of every dimension but the last.
    pub rows: u32,
    /// Length of the last dimension, the one normalised over.
    pub hidden: u32,
    /// Workgroups along the grid's x dimension; row = wg.x + wg.y * groups_x.
    pub groups_x: u32,
    /// Added to the mean square before the square root.
    pub eps: f32,
}

impl RmsNormInfo {
    /// The info and the grid (x, y) of workgroups for a `rows × hidden` input: one workgroup
    /// per row, wrapped into y past [`MAX_GROUPS_PER_DIM`].
    fn new(rows: usize, hidden: usize, eps: f64) -> (Self, (u32, u32)) {
        // The shader indexes elements with u32 (row * hidden + i).
        let len = rows.checked_mul(hidden).and_then(|n| u32::try_from(n).ok());
        assert!(len.is_some(), "rms_norm kernel: over u32::MAX elements");
        let (rows, hidden) = (rows as u32, hidden as u32);
        let groups_x = rows.clamp(1, MAX_GROUPS_PER_DIM);
        let groups_y = rows.div_ceil(groups_x);
        let info = Self {
            rows,
            hidden,
            groups_x,
            eps: eps as f32,
        };
        (info, (groups_x, groups_y))
    }
}

/// The WGSL element type the kernel is instantiated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Elem {
    F32,
    F16,
}

impl Elem {
    fn of(dtype: DType) -> Option<Self> {
        match dtype {
            DType::F32 => Some(Self::F32),
            DType::F16 => Some(Self::F16),
            _ => None,
        }
    }
}

/// The kernel source: `rms_norm.wgsl` with its placeholders filled for one element type.
///
/// burn's `kernel_source!` macro would generate the `include_str!` wrapper, but it expands to
/// `#[derive(new)]`, which needs the `derive-new` crate in scope at the call site; the three lines
/// it would write are written out here instead.
#[derive(Clone, Copy, Debug)]
struct RmsNormKernel {
    elem: Elem,
}

const SOURCE: &str = include_str!("rms_norm.wgsl");

impl RmsNormKernel {
    fn template(&self) -> SourceTemplate {
        let (enable, elem) = match self.elem {
            Elem::F32 => ("", "f32"),
            Elem::F16 => ("enable f16;", "f16"),
        };
        SourceTemplate::new(SOURCE)
            .register("enable", enable)
            .register("elem", elem)
            .register("workgroup_size", WORKGROUP_SIZE.to_string())
    }
}

impl KernelSource for RmsNormKernel {
    fn source(&self) -> SourceTemplate {
        self.template()
    }

    fn id(&self) -> KernelId {
        // The element type changes the source, so it has to key the compilation cache.
        KernelId::new::<Self>().info(self.elem)
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// The backend extension the launcher goes through. `Fusion` makes burn generate the lazy
/// `Fusion<CubeBackend>` implementation (the output is registered now, the kernel runs when the
/// fusion stream is flushed); `Cube` is the concrete launch below. No other backend is listed:
/// [`rms_norm`] only calls this where [`runs_kernel`] holds.
#[backend_extension(Cube, Fusion)]
pub(crate) trait RmsNormOps: Backend {
    #[fusion(dtype = x, shape = x)]
    fn fused_rms_norm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self>;
}

impl RmsNormOps for CubeBackend {
    fn fused_rms_norm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self> {
        launch(x, weight, eps)
    }
}

/// Launches the kernel on a cube tensor. The caller ([`rms_norm`]) has checked the device is
/// wgpu, the dtype is f32 or f16 (weight cast to match) and neither dimension is empty.
fn launch(x: CubeTensor, weight: CubeTensor, eps: f64) -> CubeTensor {
    assert!(
        matches!(x.device, cubecl::Device::Wgpu(_)),
        "rms_norm kernel: WGSL needs a wgpu device, got {:?}",
        x.device
    );
    let elem = Elem::of(x.dtype)
        .unwrap_or_else(|| panic!("rms_norm kernel: f32 or f16 only, got {:?}", x.dtype));
    assert_eq!(
        x.dtype, weight.dtype,
        "rms_norm kernel: x and weight dtypes"
    );

    // The shader indexes row * hidden + i: a contiguous row-major buffer. A no-op for most inputs.
    let x = burn::backend::wgpu::into_contiguous(x);
    let weight = burn::backend::wgpu::into_contiguous(weight);

    let shape = x.shape();
    let hidden = shape[shape.num_dims() - 1];
    assert_eq!(
        weight.shape().num_elements(),
        hidden,
        "rms_norm: weight length"
    );
    let rows = shape.num_elements() / hidden;
    let (info, (groups_x, groups_y)) = RmsNormInfo::new(rows, hidden, eps);

    let client = x.client.clone();
    let output = CubeTensor::new_contiguous(
        client.clone(),
        x.device.clone(),
        shape.clone(),
        client.empty(shape.num_elements() * x.dtype.size()),
        x.dtype,
    );
    let info = client.create_from_slice(bytemuck::bytes_of(&info));

    client.launch(
        Box::new(SourceKernel::new(
            RmsNormKernel { elem },
            CubeDim::new_1d(WORKGROUP_SIZE),
        )),
        CubeCount::Static(groups_x, groups_y, 1),
        KernelArguments::new().with_buffers(vec![
            x.handle.binding(),
            weight.handle.binding(),
            output.handle.clone().binding(),
            info.binding(),
        ]),
    );
    output
}

/// Whether [`rms_norm`] runs the WGSL kernel for a tensor of `dtype` on `device`: a wgpu device
/// without autodiff, and f32 (or f16, where the device has it). Everything else gets
/// [`reference`].
pub fn runs_kernel(device: &Device, dtype: DType) -> bool {
    let wgpu = matches!(
        device.as_dispatch(),
        DispatchDevice::Cube(cubecl::Device::Wgpu(_))
    );
    wgpu && Elem::of(dtype).is_some() && device.supports_dtype(dtype)
}

/// RMSNorm over the last dimension: `x / sqrt(mean(x²) + eps) * weight`, `weight` of length
/// `x.dims()[D - 1]`. Returns x's dtype.
///
/// On a wgpu device (see [`runs_kernel`]) this is one fused kernel launch; anywhere else — flex,
/// autodiff devices, other dtypes — and for empty inputs it is [`reference`]. A `weight` of
/// another dtype than `x` is cast to x's first (hoist that out of loops by storing it cast).
///
/// # Panics
///
/// If `weight`'s length is not the last dimension of `x`.
pub fn rms_norm<const D: usize>(x: Tensor<D>, weight: Tensor<1>, eps: f64) -> Tensor<D> {
    let dims = x.dims();
    let [len] = weight.dims();
    assert_eq!(
        len,
        dims[D - 1],
        "rms_norm: weight has {len} elements, x's last dim is {}",
        dims[D - 1]
    );
    let empty = dims.contains(&0);
    if empty || !runs_kernel(&x.device(), x.dtype()) {
        return reference(x, weight, eps);
    }
    let weight = if weight.dtype() == x.dtype() {
        weight
    } else {
        weight.cast(x.dtype())
    };
    Tensor::from_dispatch(<Dispatch as RmsNormOps>::fused_rms_norm(
        x.into_dispatch(),
        weight.into_dispatch(),
        eps,
    ))
}

/// RMSNorm with plain burn ops, the kernel's reference: exactly what `burn::nn::RmsNorm::forward`
/// computes (mean of x² in f32, `x / rms` in x's dtype, then `* weight`).
pub fn reference<const D: usize>(x: Tensor<D>, weight: Tensor<1>, eps: f64) -> Tensor<D> {
    let dtype = x.dtype();
    let rms = (x.clone().cast(DType::F32).square().mean_dim(D - 1) + eps).sqrt();
    (x / rms.cast(dtype)) * weight.unsqueeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_matches_the_wgsl_struct_layout() {
        // Four 4-byte scalars: no padding, 16 bytes, as the WGSL `Info` struct.
        assert_eq!(std::mem::size_of::<RmsNormInfo>(), 16);
        assert_eq!(std::mem::align_of::<RmsNormInfo>(), 4);
    }

    #[test]
    fn grid_wraps_past_the_dispatch_limit() {
        assert_eq!(RmsNormInfo::new(1, 8, 1e-6).1, (1, 1));
        assert_eq!(RmsNormInfo::new(65_535, 8, 1e-6).1, (65_535, 1));
        let (info, grid) = RmsNormInfo::new(65_536, 8, 1e-6);
        assert_eq!(grid, (65_535, 2));
        assert_eq!(info.groups_x, 65_535);
        assert!(grid.0 * grid.1 >= info.rows);
    }

    #[test]
    fn every_placeholder_is_filled() {
        for elem in [Elem::F32, Elem::F16] {
            let source = RmsNormKernel { elem }.template().complete();
            assert!(!source.contains("{{"), "unfilled placeholder for {elem:?}");
            assert!(source.contains(&format!("@workgroup_size({WORKGROUP_SIZE}, 1, 1)")));
            let enabled = source.lines().any(|line| line.trim() == "enable f16;");
            assert_eq!(enabled, elem == Elem::F16);
        }
    }
}
