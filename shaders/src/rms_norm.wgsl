// Fused RMSNorm over the last dimension: y = x / sqrt(mean(x^2) + eps) * weight.
//
// Template placeholders, written as double-brace names below and filled by `rms_norm.rs` through
// `SourceTemplate::register` (an unregistered one silently becomes the empty string):
//   enable          `enable f16;` for the f16 variant, empty for f32
//   elem            storage element type of x, weight and y: `f32` or `f16`
//   workgroup_size  threads per workgroup; a power of two (the tree reduction halves it)
//
// Bindings (group 0, in the order the launcher passes them; cubecl binds every buffer as
// `var<storage, read_write>`, so even the read-only ones are declared that way):
//   @binding(0) x       [rows * hidden] row-major, contiguous
//   @binding(1) weight  [hidden]
//   @binding(2) y       [rows * hidden] output, same layout as x
//   @binding(3) info    `Info` below, the `#[repr(C)] RmsNormInfo` of the launcher
//
// Work split: one workgroup per row. Each thread strides over the row (i = lid, lid + WG, ...)
// summing x^2 in f32, the partial sums meet in a workgroup-shared array and are reduced as a
// tree; then every thread scales its strided elements. Accumulation is always f32, also for f16.
//
// Bounds: the grid is 2-D (x up to `groups_x`, y = ceil(rows / groups_x)) because one dimension
// of a dispatch is limited to 65535 workgroups; row = wg.x + wg.y * groups_x, and the workgroups
// past the last row exit. The whole `Info` is read through `workgroupUniformLoad` so that the
// early exit and the strided loops are uniform control flow, as `workgroupBarrier` requires
// (a load from a storage buffer is never uniform to WGSL's uniformity analysis).
// Threads with lid >= hidden (hidden not a multiple of the workgroup size, or smaller than it)
// contribute 0 to the sum and write nothing.

{{ enable }}

struct Info {
    rows: u32,
    hidden: u32,
    groups_x: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read_write> x: array<{{ elem }}>;
@group(0) @binding(1) var<storage, read_write> weight: array<{{ elem }}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{ elem }}>;
@group(0) @binding(3) var<storage, read_write> info: Info;

const WG: u32 = {{ workgroup_size }}u;

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
    let params = workgroupUniformLoad(&shared_info);
    let hidden = params.hidden;

    let row = wg.x + wg.y * params.groups_x;
    if row >= params.rows {
        return;
    }
    let base = row * hidden;

    var sum = 0.0f;
    for (var i = lid; i < hidden; i += WG) {
        let v = f32(x[base + i]);
        sum += v * v;
    }
    partial[lid] = sum;
    workgroupBarrier();

    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }

    // The same expression order as the burn reference: x / rms, then * weight.
    let rms = sqrt(partial[0] / f32(hidden) + params.eps);
    for (var i = lid; i < hidden; i += WG) {
        y[base + i] = {{ elem }}(f32(x[base + i]) / rms * f32(weight[i]));
    }
}
