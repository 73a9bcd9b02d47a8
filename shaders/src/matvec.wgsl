// Matrix-vector product for decoding: y[r, n] = sum_k x[r, k] * w[n, k] (+ bias[n]) for a few
// rows r (one token at a time: rows = 1), reading w in the [out, in] layout checkpoints store.
//
// Template placeholders, written as double-brace names below and filled by `matvec.rs` through
// `SourceTemplate::register` (an unregistered one silently becomes the empty string):
//   enable          `enable f16;` for the f16 variant, empty for f32
//   elem            storage element type of x, w, bias and y: `f32` or `f16`
//   workgroup_size  threads per workgroup; a multiple of LANES
//   lanes           threads per output (a power of two: the tree reduction halves it)
//   max_rows        the most rows one launch handles (the accumulators are an array this long)
//
// Bindings (group 0, in the order the launcher passes them; every buffer is
// `var<storage, read_write>`, as cubecl binds them):
//   @binding(0) x     [rows, k] row-major, read as vec4s (k is a multiple of 4)
//   @binding(1) w     [n, k] row-major, read as vec4s
//   @binding(2) bias  [n], or one ignored element when `has_bias` is 0
//   @binding(3) y     [rows, n] output
//   @binding(4) info  `Info` below, the `#[repr(C)] MatvecInfo` of the launcher
//
// Work split: LANES threads per output n, WG / LANES outputs per workgroup. The lanes of an
// output stride over its weight row four elements at a time (lane, lane + LANES, ...), so a
// group of lanes reads consecutive 16-byte words: each weight is read once, coalesced. Every
// row's partial dot products (f32, also for f16) meet in workgroup memory and are reduced as a
// tree over the LANES of the output.
//
// Bounds: the grid is 2-D (x up to `groups_x`, y = ceil(groups / groups_x)), since one dispatch
// dimension holds at most 65535 workgroups; the output index is
// (wg.x + wg.y * groups_x) * OUTS + lid / LANES, and outputs past n compute nothing and write
// nothing (they still reach every barrier: `Info` comes through `workgroupUniformLoad`, so the
// loops over rows are uniform control flow).

{{ enable }}

struct Info {
    rows: u32,
    // k / 4: the length of a row in vec4s.
    k4: u32,
    n: u32,
    groups_x: u32,
    has_bias: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<vec4<{{ elem }}>>;
@group(0) @binding(1) var<storage, read_write> w: array<vec4<{{ elem }}>>;
@group(0) @binding(2) var<storage, read_write> bias: array<{{ elem }}>;
@group(0) @binding(3) var<storage, read_write> y: array<{{ elem }}>;
@group(0) @binding(4) var<storage, read_write> info: Info;

const WG: u32 = {{ workgroup_size }}u;
const LANES: u32 = {{ lanes }}u;
const OUTS: u32 = WG / LANES;
const MAX_ROWS: u32 = {{ max_rows }}u;

var<workgroup> partial: array<f32, WG>;
var<workgroup> shared_info: Info;

@compute @workgroup_size({{ workgroup_size }}, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    if lid == 0u {
        shared_info = info;
    }
    let p = workgroupUniformLoad(&shared_info);

    let lane = lid % LANES;
    let out = (wg.x + wg.y * p.groups_x) * OUTS + lid / LANES;
    let valid = out < p.n;

    var acc: array<f32, MAX_ROWS>;
    if valid {
        let base = out * p.k4;
        for (var i = lane; i < p.k4; i += LANES) {
            let wv = vec4<f32>(w[base + i]);
            for (var r = 0u; r < p.rows; r++) {
                acc[r] += dot(vec4<f32>(x[r * p.k4 + i]), wv);
            }
        }
    }

    for (var r = 0u; r < p.rows; r++) {
        partial[lid] = acc[r];
        workgroupBarrier();
        for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
            if lane < stride {
                partial[lid] += partial[lid + stride];
            }
            workgroupBarrier();
        }
        if lane == 0u && valid {
            var v = partial[lid];
            if p.has_bias == 1u {
                v += f32(bias[out]);
            }
            y[r * p.n + out] = {{ elem }}(v);
        }
        workgroupBarrier();
    }
}
