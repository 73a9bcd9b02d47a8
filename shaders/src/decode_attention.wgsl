// Attention of one new token over the KV cache (decoding), split over the keys
// (flash-decoding): pass 1 (`main`) scores one block of keys per workgroup and keeps its own
// softmax statistics; pass 2 (`combine`, in decode_attention_combine.wgsl) rescales the blocks
// to the global maximum and sums them. Grouped-query attention is read in place: head h uses
// kv head h / (heads / kv_heads), no repeated keys are materialised.
//
// Template placeholders (filled by `decode_attention.rs`; an unregistered one becomes ""):
//   enable          `enable f16;` for the f16 variant, empty for f32
//   elem            element type of q, k, v: `f32` or `f16`
//   workgroup_size  threads per workgroup = keys per block; a power of two >= head_dim
//
// Bindings (group 0, every buffer `var<storage, read_write>` as cubecl binds them):
//   @binding(0) q        [heads, head_dim]
//   @binding(1) k        [kv_heads, keys, head_dim]
//   @binding(2) v        [kv_heads, keys, head_dim]
//   @binding(3) partial  f32 [heads, blocks, head_dim + 2]: per block the unnormalised output
//                        sum_j exp(s_j - m) v_j, then m (the block's max score), then
//                        sum_j exp(s_j - m)
//   @binding(4) info     `Info` below (`#[repr(C)] DecodeAttentionInfo`)
//
// Work split: workgroup (block, head) = (wg.x, wg.y). Thread t scores key block * WG + t (a dot
// product of head_dim elements, f32 accumulation), the block's max and sum meet in workgroup
// memory (tree reductions), then thread d < head_dim sums p_j * v[j, d] over the block's keys,
// so consecutive threads read consecutive elements of a value row. Keys past the end score
// -inf and weigh 0. `Info` is read through `workgroupUniformLoad`, so every loop bound and the
// barriers are in uniform control flow.

{{ enable }}

struct Info {
    heads: u32,
    kv_heads: u32,
    keys: u32,
    head_dim: u32,
    blocks: u32,
    scale: f32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> q: array<{{ elem }}>;
@group(0) @binding(1) var<storage, read_write> k: array<{{ elem }}>;
@group(0) @binding(2) var<storage, read_write> v: array<{{ elem }}>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<storage, read_write> info: Info;

const WG: u32 = {{ workgroup_size }}u;

var<workgroup> shared_info: Info;
var<workgroup> q_row: array<f32, WG>;
var<workgroup> weights: array<f32, WG>;
var<workgroup> reduce: array<f32, WG>;

@compute @workgroup_size({{ workgroup_size }}, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    if lid == 0u {
        shared_info = info;
    }
    let p = workgroupUniformLoad(&shared_info);
    let block = wg.x;
    let head = wg.y;
    let kv_head = head / (p.heads / p.kv_heads);
    let d = p.head_dim;

    if lid < d {
        q_row[lid] = f32(q[head * d + lid]);
    }
    workgroupBarrier();

    // One key per thread.
    let key = block * WG + lid;
    var score = -3.4028235e38f;
    let in_range = key < p.keys;
    if in_range {
        let base = (kv_head * p.keys + key) * d;
        var acc = 0.0f;
        for (var i = 0u; i < d; i++) {
            acc += q_row[i] * f32(k[base + i]);
        }
        score = acc * p.scale;
    }

    // The block's max score.
    reduce[lid] = score;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            reduce[lid] = max(reduce[lid], reduce[lid + stride]);
        }
        workgroupBarrier();
    }
    let m = reduce[0];
    workgroupBarrier();

    var w = 0.0f;
    if in_range {
        w = exp(score - m);
    }
    weights[lid] = w;
    reduce[lid] = w;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            reduce[lid] += reduce[lid + stride];
        }
        workgroupBarrier();
    }
    let total = reduce[0];

    let first = block * WG;
    let count = min(WG, p.keys - first);
    let out = (head * p.blocks + block) * (d + 2u);
    if lid < d {
        var acc = 0.0f;
        let base = (kv_head * p.keys + first) * d + lid;
        for (var j = 0u; j < count; j++) {
            acc += weights[j] * f32(v[base + j * d]);
        }
        partial[out + lid] = acc;
    }
    if lid == 0u {
        partial[out + d] = m;
        partial[out + d + 1u] = total;
    }
}
