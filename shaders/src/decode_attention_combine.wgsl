// Pass 2 of decode attention (see decode_attention.wgsl): per head, the blocks' partial
// outputs rescaled to the global maximum score and divided by the global softmax sum.
//
// Template placeholders: enable, elem (the output's element type), workgroup_size (>= head_dim).
//
// Bindings:
//   @binding(0) partial  f32 [heads, blocks, head_dim + 2] from pass 1
//   @binding(1) out      [heads, head_dim]
//   @binding(2) info     the same `Info` as pass 1
//
// Work split: one workgroup per head (wg.x); thread d < head_dim writes out[head, d]. Every
// thread walks the blocks' statistics itself (a handful of blocks), so no barrier is needed.

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

@group(0) @binding(0) var<storage, read_write> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<{{ elem }}>;
@group(0) @binding(2) var<storage, read_write> info: Info;

@compute @workgroup_size({{ workgroup_size }}, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let head = wg.x;
    let d = info.head_dim;
    let blocks = info.blocks;
    if lid >= d {
        return;
    }
    let row = d + 2u;
    let first = head * blocks * row;
    var m = -3.4028235e38f;
    for (var b = 0u; b < blocks; b++) {
        m = max(m, partial[first + b * row + d]);
    }
    var num = 0.0f;
    var den = 0.0f;
    for (var b = 0u; b < blocks; b++) {
        let at = first + b * row;
        let factor = exp(partial[at + d] - m);
        num += partial[at + lid] * factor;
        den += partial[at + d + 1u] * factor;
    }
    out[head * d + lid] = {{ elem }}(num / den);
}
