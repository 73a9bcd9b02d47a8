//! Attention of one new token over the KV cache, for decoding: two WGSL kernels (flash-decoding,
//! `decode_attention.wgsl` then `decode_attention_combine.wgsl`) that read grouped-query keys and
//! values in place, instead of burn's repeat + transpose + matmul + softmax + matmul.
//!
//! [`decode_attention`] is the entry point; [`reference`] is the engine's plain-burn attention
//! (`repeat_kv`, then scores, softmax in f32 and the weighted sum) and runs wherever the kernel
//! does not apply ([`applies`]).

use burn::backend::wgpu::{CubeBackend, CubeTensor, SourceKernel};
use burn::backend::{Backend, Dispatch, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use burn::tensor::activation;
use cubecl::server::KernelArguments;
use cubecl::{CubeCount, CubeDim};

use crate::{MAX_GROUPS_PER_DIM, Wgsl, empty_like, launch_elem};

/// The widest head the kernels take (the workgroup holds the query row).
pub const MAX_HEAD_DIM: usize = 256;

/// Both kernels' `Info` binding, field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct DecodeAttentionInfo {
    pub heads: u32,
    pub kv_heads: u32,
    pub keys: u32,
    pub head_dim: u32,
    /// Blocks of `workgroup_size` keys.
    pub blocks: u32,
    pub scale: f32,
    pub pad: [u32; 2],
}

/// Threads per workgroup, which is also keys per block: 128, or 256 for heads wider than 128.
pub fn workgroup_size(head_dim: usize) -> u32 {
    if head_dim <= 128 { 128 } else { 256 }
}

const BLOCKS: &str = include_str!("decode_attention.wgsl");
const COMBINE: &str = include_str!("decode_attention_combine.wgsl");

#[backend_extension(Cube, Fusion)]
pub(crate) trait DecodeAttentionOps: Backend {
    /// q `[1, heads, 1, d]`, k and v `[1, kv_heads, keys, d]` → `[1, heads, 1, d]`.
    #[fusion(dtype = q, shape = q)]
    fn decode_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self>;
}

impl DecodeAttentionOps for CubeBackend {
    fn decode_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        launch(q, k, v, scale)
    }
}

fn launch(q: CubeTensor, k: CubeTensor, v: CubeTensor, scale: f64) -> CubeTensor {
    let elem = launch_elem(&q, "decode attention");
    let q = burn::backend::wgpu::into_contiguous(q);
    let k = burn::backend::wgpu::into_contiguous(k);
    let v = burn::backend::wgpu::into_contiguous(v);
    let (qs, ks) = (q.shape(), k.shape());
    let (heads, head_dim) = (qs[1], qs[3]);
    let (kv_heads, keys) = (ks[1], ks[2]);
    let wg = workgroup_size(head_dim);
    let blocks = keys.div_ceil(wg as usize);
    let info = DecodeAttentionInfo {
        heads: heads as u32,
        kv_heads: kv_heads as u32,
        keys: keys as u32,
        head_dim: head_dim as u32,
        blocks: blocks as u32,
        scale: scale as f32,
        pad: [0; 2],
    };
    let client = q.client.clone();
    let partial = client.empty(heads * blocks * (head_dim + 2) * 4);
    let info = client.create_from_slice(bytemuck::bytes_of(&info));
    let output = empty_like(&q, qs);
    client.launch(
        Box::new(SourceKernel::new(
            Wgsl::new("decode_attention", BLOCKS, elem, wg),
            CubeDim::new_1d(wg),
        )),
        CubeCount::Static(blocks as u32, heads as u32, 1),
        KernelArguments::new().with_buffers(vec![
            q.handle.binding(),
            k.handle.binding(),
            v.handle.binding(),
            partial.clone().binding(),
            info.clone().binding(),
        ]),
    );
    client.launch(
        Box::new(SourceKernel::new(
            Wgsl::new("decode_attention_combine", COMBINE, elem, wg),
            CubeDim::new_1d(wg),
        )),
        CubeCount::Static(heads as u32, 1, 1),
        KernelArguments::new().with_buffers(vec![
            partial.binding(),
            output.handle.clone().binding(),
            info.binding(),
        ]),
    );
    output
}

/// Whether [`decode_attention`] runs the kernels: one query of batch 1, heads a multiple of the
/// kv heads, a head no wider than [`MAX_HEAD_DIM`], the same dtype throughout, kernels on and a
/// wgpu device ([`crate::runs_kernel`]).
pub fn applies(q: &Tensor<4>, k: &Tensor<4>, v: &Tensor<4>) -> bool {
    let [b, heads, q_len, d] = q.dims();
    let [kb, kv_heads, keys, kd] = k.dims();
    let blocks = keys.div_ceil(workgroup_size(d) as usize);
    b == 1
        && kb == 1
        && q_len == 1
        && keys > 0
        && kv_heads > 0
        && heads.is_multiple_of(kv_heads)
        && kd == d
        && v.dims() == k.dims()
        && (1..=MAX_HEAD_DIM).contains(&d)
        && blocks <= MAX_GROUPS_PER_DIM as usize
        && heads <= MAX_GROUPS_PER_DIM as usize
        && k.dtype() == q.dtype()
        && v.dtype() == q.dtype()
        && crate::runs_kernel(&q.device(), q.dtype())
}

/// `softmax(q kᵀ · scale) v` for one query over every cached key (no mask: a decoding token
/// sees all of them), with `k`, `v` holding `kv_heads` heads that groups of query heads share.
///
/// # Shapes
/// - q: `[1, heads, 1, head_dim]`; k, v: `[1, kv_heads, keys, head_dim]` → `[1, heads, 1, head_dim]`
pub fn decode_attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, scale: f64) -> Tensor<4> {
    if !applies(&q, &k, &v) {
        return reference(q, k, v, scale);
    }
    Tensor::from_dispatch(<Dispatch as DecodeAttentionOps>::decode_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        scale,
    ))
}

/// The same with plain burn ops, as the engine's `nn::attention` computes it: kv heads repeated
/// (HF's `repeat_kv`), scores scaled, softmax, weighted sum.
pub fn reference(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, scale: f64) -> Tensor<4> {
    let heads = q.dims()[1];
    let (k, v) = (repeat_kv(k, heads), repeat_kv(v, heads));
    let scores = q.matmul(k.swap_dims(2, 3)) * scale;
    activation::softmax(scores, 3).matmul(v)
}

/// `[b, kv_heads, t, d]` → `[b, heads, t, d]`, head h reading kv head `h / (heads / kv_heads)`.
pub fn repeat_kv(x: Tensor<4>, heads: usize) -> Tensor<4> {
    let [b, kvh, t, d] = x.dims();
    let n_rep = heads / kvh;
    if n_rep == 1 {
        return x;
    }
    x.unsqueeze_dim::<5>(2)
        .expand([b, kvh, n_rep, t, d])
        .reshape([b, kvh * n_rep, t, d])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Elem;

    #[test]
    fn info_matches_the_wgsl_struct_layout() {
        assert_eq!(std::mem::size_of::<DecodeAttentionInfo>(), 32);
    }

    #[test]
    fn every_placeholder_is_filled() {
        for elem in [Elem::F32, Elem::F16] {
            for source in [BLOCKS, COMBINE] {
                let source = Wgsl::new("test", source, elem, 128).template().complete();
                assert!(!source.contains("{{"), "unfilled placeholder for {elem:?}");
            }
        }
    }
}
