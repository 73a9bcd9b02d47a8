//! The decode-time matrix-vector product: `burn::nn::Linear` applied to one token (or a few
//! rows), one WGSL kernel (`matvec.wgsl`) that reads the weight in the `[out, in]` layout
//! checkpoints store, each weight once and coalesced, with the bias added in the same pass.
//!
//! [`linear`] is the entry point, a drop-in for `Linear::forward`. [`reference`] is what
//! `Linear::forward` computes (`x.matmul(weight) + bias`) and runs wherever the kernel does not
//! apply ([`applies`]): other devices, more rows than [`MAX_ROWS`] (prefill), an input width
//! that is not a multiple of 4, kernels switched off ([`crate::set_enabled`]).

use burn::backend::wgpu::{CubeBackend, CubeTensor, SourceKernel};
use burn::backend::{Backend, Dispatch, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;
use cubecl::server::KernelArguments;
use cubecl::{CubeCount, CubeDim};

use crate::{Elem, Wgsl, empty_like, launch_elem, wrapped_grid};

/// Threads per workgroup (the WebGPU default limit, accepted by every adapter).
pub const WORKGROUP_SIZE: u32 = 256;
/// Threads per output: a warp on NVIDIA, half a wavefront on AMD; 8 outputs per workgroup.
pub const LANES: u32 = 32;
/// The most rows one launch multiplies; more (a prompt's prefill) go to burn's matmul.
pub const MAX_ROWS: usize = 4;

/// The kernel's `Info` binding (`@binding(4)`), field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MatvecInfo {
    pub rows: u32,
    /// The input width in vec4s.
    pub k4: u32,
    /// Outputs (the weight's rows).
    pub n: u32,
    /// Workgroups along the grid's x dimension.
    pub groups_x: u32,
    /// 1 when the bias binding holds a bias to add.
    pub has_bias: u32,
    pub pad: [u32; 3],
}

impl MatvecInfo {
    /// The info and the grid (x, y) for `rows × k` times `[n, k]ᵀ`.
    fn new(rows: usize, k: usize, n: usize, has_bias: bool) -> (Self, (u32, u32)) {
        assert!(
            k.is_multiple_of(4),
            "matvec kernel: k = {k} is not a multiple of 4"
        );
        let fits = |v: usize| u32::try_from(v).is_ok();
        assert!(
            fits(n * k) && fits(rows * k) && fits(rows * n),
            "matvec kernel: over u32::MAX elements"
        );
        let outs = WORKGROUP_SIZE / LANES;
        let (groups_x, groups_y) = wrapped_grid((n as u32).div_ceil(outs));
        let info = Self {
            rows: rows as u32,
            k4: (k / 4) as u32,
            n: n as u32,
            groups_x,
            has_bias: has_bias as u32,
            pad: [0; 3],
        };
        (info, (groups_x, groups_y))
    }
}

const SOURCE: &str = include_str!("matvec.wgsl");

/// The kernel for one element type.
fn kernel(elem: Elem) -> Wgsl {
    Wgsl::new("matvec", SOURCE, elem, WORKGROUP_SIZE)
        .with("lanes", LANES)
        .with("max_rows", MAX_ROWS)
}

/// The backend extension (see `rms_norm.rs` for why only `Cube` and `Fusion`). Two ops rather
/// than an optional bias, which the fusion route of the macro does not take.
#[backend_extension(Cube, Fusion)]
pub(crate) trait MatvecOps: Backend {
    /// x `[.., k]` times weight `[n, k]` transposed.
    #[fusion(dtype = x, shape = out_shape(x, *n))]
    fn matvec(x: FloatTensor<Self>, weight: FloatTensor<Self>, n: usize) -> FloatTensor<Self>;

    /// [`MatvecOps::matvec`] plus `bias [n]`.
    #[fusion(dtype = x, shape = out_shape(x, *n))]
    fn matvec_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        n: usize,
    ) -> FloatTensor<Self>;
}

/// `[.., k]` → `[.., n]`.
fn out_shape(x: &burn::tensor::Shape, n: usize) -> burn::tensor::Shape {
    let mut shape = x.clone();
    let last = shape.num_dims() - 1;
    shape[last] = n;
    shape
}

impl MatvecOps for CubeBackend {
    fn matvec(x: FloatTensor<Self>, weight: FloatTensor<Self>, n: usize) -> FloatTensor<Self> {
        launch(x, weight, None, n)
    }

    fn matvec_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        n: usize,
    ) -> FloatTensor<Self> {
        launch(x, weight, Some(bias), n)
    }
}

/// Launches the kernel. The caller ([`linear`]) has checked [`applies`].
fn launch(x: CubeTensor, weight: CubeTensor, bias: Option<CubeTensor>, n: usize) -> CubeTensor {
    let elem = launch_elem(&x, "matvec");
    let x = burn::backend::wgpu::into_contiguous(x);
    // The `[n, k]` weight: a checkpoint's layout, so a no-op for weights loaded from one.
    let weight = burn::backend::wgpu::into_contiguous(weight);
    let bias = bias.map(burn::backend::wgpu::into_contiguous);

    let shape = x.shape();
    let rank = shape.num_dims();
    let k = shape[rank - 1];
    let rows = shape.num_elements() / k;
    assert_eq!(weight.shape().num_elements(), n * k, "matvec: weight shape");
    let (info, (groups_x, groups_y)) = MatvecInfo::new(rows, k, n, bias.is_some());

    let client = x.client.clone();
    let output = empty_like(&x, out_shape(&shape, n));
    let bias = match bias {
        Some(b) => b.handle.binding(),
        // Never read (has_bias = 0); a binding has to be there.
        None => client.empty(4).binding(),
    };
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
            bias,
            output.handle.clone().binding(),
            info.binding(),
        ]),
    );
    output
}

/// Whether [`linear`] runs the kernel for `x` (`[.., k]`) and a weight of `weight_dtype`.
pub fn applies<const D: usize>(x: &Tensor<D>, weight_dtype: DType) -> bool {
    let dims = x.dims();
    let k = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    (1..=MAX_ROWS).contains(&rows)
        && k > 0
        && k.is_multiple_of(4)
        && weight_dtype == x.dtype()
        && crate::runs_kernel(&x.device(), x.dtype())
}

/// `layer.forward(x)` for `x` `[.., in]`: on a wgpu device with at most [`MAX_ROWS`] rows (a
/// decode step), the matrix-vector kernel; otherwise [`reference`].
pub fn linear<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    if !applies(&x, layer.weight.val().dtype()) {
        // Exactly `Linear::forward`, so CPU results stay bit for bit what they were.
        return reference(layer, x);
    }
    // burn keeps `Linear` weights as `[in, out]`; the engine's are views of the checkpoint's
    // `[out, in]`, so this transpose gives back the stored, contiguous layout.
    matvec(
        x,
        layer.weight.val().transpose(),
        layer.bias.as_ref().map(|b| b.val()),
    )
}

/// `x · weightᵀ + bias` for `x` `[.., k]` and `weight` `[n, k]` (the `[out, in]` layout of a
/// checkpoint, or an embedding table used as a tied output head): the kernel where
/// [`applies`], else [`matvec_reference`].
pub fn matvec<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    let [n, k] = weight.dims();
    assert_eq!(
        x.dims()[D - 1],
        k,
        "matvec: x's last dim is not the weight's width"
    );
    if !applies(&x, weight.dtype()) {
        return matvec_reference(x, weight, bias);
    }
    let dtype = x.dtype();
    let out = match bias {
        Some(bias) => <Dispatch as MatvecOps>::matvec_bias(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.cast(dtype).into_dispatch(),
            n,
        ),
        None => <Dispatch as MatvecOps>::matvec(x.into_dispatch(), weight.into_dispatch(), n),
    };
    Tensor::from_dispatch(out)
}

/// What `Linear::forward` computes, with plain burn ops: [`linear`]'s reference.
pub fn reference<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    layer.forward(x)
}

/// [`matvec`]'s reference: `x.matmul(weightᵀ) + bias` with plain burn ops, as `Linear::forward`
/// does it.
pub fn matvec_reference<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    let y = x.matmul(weight.transpose().unsqueeze());
    match bias {
        Some(b) => y + b.unsqueeze(),
        None => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_matches_the_wgsl_struct_layout() {
        assert_eq!(std::mem::size_of::<MatvecInfo>(), 32);
        assert_eq!(std::mem::align_of::<MatvecInfo>(), 4);
    }

    #[test]
    fn grid_covers_every_output_and_wraps_past_the_dispatch_limit() {
        let outs = (WORKGROUP_SIZE / LANES) as usize;
        assert_eq!(MatvecInfo::new(1, 8, 1, false).1, (1, 1));
        assert_eq!(MatvecInfo::new(1, 8, outs + 1, false).1, (2, 1));
        // Qwen2's 152 000-word head: 19 000 workgroups, one row of the grid.
        assert_eq!(MatvecInfo::new(1, 896, 152_000, false).1, (19_000, 1));
        let n = 65_536 * outs;
        let (info, grid) = MatvecInfo::new(1, 4, n, true);
        assert_eq!(grid, (65_535, 2));
        assert_eq!(info.has_bias, 1);
        assert!(grid.0 as usize * grid.1 as usize * outs >= n);
    }

    #[test]
    fn every_placeholder_is_filled() {
        for elem in [Elem::F32, Elem::F16] {
            let source = kernel(elem).template().complete();
            assert!(!source.contains("{{"), "unfilled placeholder for {elem:?}");
            assert!(source.contains(&format!("const MAX_ROWS: u32 = {MAX_ROWS}u;")));
        }
    }
}
