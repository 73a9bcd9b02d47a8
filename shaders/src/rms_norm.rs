//! Fused RMSNorm: `y = x / sqrt(mean(x²) + eps) * weight` over the last dimension, one WGSL
//! kernel (`rms_norm.wgsl`) on burn's wgpu backend and plain burn ops everywhere else.
//!
//! [`rms_norm`] is the entry point. [`reference`] is the same maths as `burn::nn::RmsNorm`
//! (x² averaged in f32, `x / rms` in x's dtype, then `* weight`), and is what the kernel is
//! tested against and what runs where the kernel does not apply ([`runs_kernel`]).

use burn::backend::wgpu::{CubeBackend, CubeTensor, SourceKernel};
use burn::backend::{Backend, Dispatch, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use burn::tensor::DType;
use cubecl::server::KernelArguments;
use cubecl::{CubeCount, CubeDim};

use crate::{Elem, Wgsl, empty_like, launch_elem, wrapped_grid};

/// Threads per workgroup. 256 is the WebGPU default limit on invocations per workgroup, so every
/// adapter accepts it; a power of two, as the tree reduction in the shader requires.
pub const WORKGROUP_SIZE: u32 = 256;

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
    /// per row, wrapped into y past the dispatch limit ([`crate::wrapped_grid`]).
    fn new(rows: usize, hidden: usize, eps: f64) -> (Self, (u32, u32)) {
        // The shader indexes elements with u32 (row * hidden + i).
        let len = rows.checked_mul(hidden).and_then(|n| u32::try_from(n).ok());
        assert!(len.is_some(), "rms_norm kernel: over u32::MAX elements");
        let (rows, hidden) = (rows as u32, hidden as u32);
        let (groups_x, groups_y) = wrapped_grid(rows);
        let info = Self {
            rows,
            hidden,
            groups_x,
            eps: eps as f32,
        };
        (info, (groups_x, groups_y))
    }
}

const SOURCE: &str = include_str!("rms_norm.wgsl");

/// The kernel for one element type.
fn kernel(elem: Elem) -> Wgsl {
    Wgsl::new("rms_norm", SOURCE, elem, WORKGROUP_SIZE)
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
    let elem = launch_elem(&x, "rms_norm");
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
    let output = empty_like(&x, shape);
    let info = client.create_from_slice(bytemuck::bytes_of(&info));

    client.launch(
        Box::new(SourceKernel::new(
            kernel(elem),
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

/// Whether [`rms_norm`] runs the WGSL kernel for a tensor of `dtype` on `device` (the crate's
/// [`crate::runs_kernel`]). Everything else gets [`reference`].
pub use crate::runs_kernel;

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
            let source = kernel(elem).template().complete();
            assert!(!source.contains("{{"), "unfilled placeholder for {elem:?}");
            assert!(source.contains(&format!("@workgroup_size({WORKGROUP_SIZE}, 1, 1)")));
            let enabled = source.lines().any(|line| line.trim() == "enable f16;");
            assert_eq!(enabled, elem == Elem::F16);
        }
    }
}
