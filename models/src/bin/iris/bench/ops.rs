//! `iris bench --ops`: each hand-written kernel against the plain burn ops it replaces, at the
//! shapes of one decode step of a preset's language model, on one device. Random weights in the
//! engine's layout (a checkpoint's `[out, in]` matrix used transposed); speed does not depend on
//! their values.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Distribution;
use iris_models::synthetic::{DecoderShapes, Preset};
use serde::Serialize;

/// One operation measured both ways.
#[derive(Debug, Clone, Serialize)]
pub struct OpRow {
    pub op: String,
    pub shape: String,
    /// Launches of this op in one decode step of the whole model.
    pub per_token: usize,
    /// Bytes of weights the op reads (0 for norms).
    pub weight_bytes: u64,
    pub burn_us: f64,
    pub kernel_us: f64,
    /// Whether the kernel ran (false where it does not apply on this device: both columns are
    /// then burn's ops).
    pub kernel_ran: bool,
}

impl OpRow {
    pub fn speedup(&self) -> f64 {
        self.burn_us / self.kernel_us
    }
}

/// Microseconds per call of `op`: the median of 5 batches, each as many calls as fill about
/// `budget_s / 5`, timed from the first launch to the device being idle. Before that, calls
/// one at a time until one takes no longer than the call before it (the first calls compile
/// kernels and, with burn's autotune, try candidate kernels). Outputs are kept alive until the
/// device is synchronised, so every call really runs.
fn time_us<T>(device: &Device, budget_s: f64, mut op: impl FnMut() -> T) -> f64 {
    let single = |op: &mut dyn FnMut() -> T| {
        let start = Instant::now();
        let out = op();
        let _ = device.sync();
        drop(out);
        start.elapsed().as_secs_f64()
    };
    let mut last = single(&mut op);
    for _ in 0..20 {
        let t = single(&mut op);
        let settled = t >= last * 0.8;
        last = t;
        if settled {
            break;
        }
    }
    let iters = ((budget_s / 5.0 / last.max(1e-7)) as usize).clamp(1, 2000);
    let mut batches: Vec<f64> = (0..5)
        .map(|_| {
            let mut keep = Vec::with_capacity(iters);
            let start = Instant::now();
            for _ in 0..iters {
                keep.push(op());
            }
            let _ = device.sync();
            start.elapsed().as_secs_f64() * 1e6 / iters as f64
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[2]
}

fn random<const D: usize>(
    shape: [usize; D],
    dtype: burn::tensor::DType,
    device: &Device,
) -> Tensor<D> {
    Tensor::<D>::random(shape, Distribution::Uniform(-1.0, 1.0), device).cast(dtype)
}

/// A `Linear` as the engine loads one: `[out, in]` storage, used transposed.
fn linear(
    d_in: usize,
    d_out: usize,
    bias: bool,
    dtype: burn::tensor::DType,
    device: &Device,
) -> Linear {
    Linear {
        weight: Param::from_tensor(random([d_out, d_in], dtype, device).transpose()),
        bias: bias.then(|| Param::from_tensor(random([d_out], dtype, device))),
    }
}

/// Measures every kernel at the decode shapes of `preset`.
pub fn measure(
    preset: Preset,
    device: &Device,
    dtype: burn::tensor::DType,
    budget_s: f64,
) -> Result<Vec<OpRow>> {
    if !iris_shaders::enabled() {
        bail!("--ops compares the kernels with burn's ops: leave --kernels on");
    }
    let s: DecoderShapes = preset.decoder_shapes();
    let q = s.heads * s.head_dim;
    let kv = s.kv_heads * s.head_dim;
    let elem = dtype.size() as u64;
    let mut rows = Vec::new();

    let x = random([1, 1, s.hidden], dtype, device);
    let gamma = random([s.hidden], dtype, device);
    let kernel_ran = iris_shaders::rms_norm::runs_kernel(device, dtype);
    rows.push(OpRow {
        op: "RMSNorm".into(),
        shape: format!("1×{}", s.hidden),
        per_token: 2 * s.layers + 1,
        weight_bytes: 0,
        burn_us: time_us(device, budget_s, || {
            iris_shaders::rms_norm::reference(x.clone(), gamma.clone(), 1e-6)
        }),
        kernel_us: time_us(device, budget_s, || {
            iris_shaders::rms_norm(x.clone(), gamma.clone(), 1e-6)
        }),
        kernel_ran,
    });

    // Attention of one token over a 1024-token cache.
    let keys = 1024;
    let q_t = random([1, s.heads, 1, s.head_dim], dtype, device);
    let k_t = random([1, s.kv_heads, keys, s.head_dim], dtype, device);
    let v_t = random([1, s.kv_heads, keys, s.head_dim], dtype, device);
    let scale = (s.head_dim as f64).powf(-0.5);
    let kernel_ran = iris_shaders::decode_attention::applies(&q_t, &k_t, &v_t);
    rows.push(OpRow {
        op: "attention over the KV cache".into(),
        shape: format!(
            "{} heads / {} kv × {} keys × {}",
            s.heads, s.kv_heads, keys, s.head_dim
        ),
        per_token: s.layers,
        weight_bytes: 0,
        burn_us: time_us(device, budget_s, || {
            iris_shaders::decode_attention::reference(q_t.clone(), k_t.clone(), v_t.clone(), scale)
        }),
        kernel_us: time_us(device, budget_s, || {
            iris_shaders::decode_attention(q_t.clone(), k_t.clone(), v_t.clone(), scale)
        }),
        kernel_ran,
    });

    let projections = [
        ("q_proj", s.hidden, q, s.qkv_bias, s.layers),
        ("k_proj, v_proj", s.hidden, kv, s.qkv_bias, 2 * s.layers),
        ("o_proj", q, s.hidden, false, s.layers),
        (
            "gate_proj, up_proj",
            s.hidden,
            s.intermediate,
            false,
            2 * s.layers,
        ),
        ("down_proj", s.intermediate, s.hidden, false, s.layers),
        ("lm_head", s.hidden, s.vocab, false, 1),
    ];
    for (name, d_in, d_out, bias, per_token) in projections {
        let layer = linear(d_in, d_out, bias, dtype, device);
        let x = random([1, 1, d_in], dtype, device);
        let kernel_ran = iris_shaders::matvec::applies(&x, dtype);
        rows.push(OpRow {
            op: format!("{name} (matvec{})", if bias { " + bias" } else { "" }),
            shape: format!("1×{d_in} · {d_in}×{d_out}"),
            per_token,
            weight_bytes: (d_in * d_out) as u64 * elem,
            burn_us: time_us(device, budget_s, || {
                iris_shaders::matvec::reference(&layer, x.clone())
            }),
            kernel_us: time_us(device, budget_s, || iris_shaders::linear(&layer, x.clone())),
            kernel_ran,
        });
    }
    Ok(rows)
}

/// The rows as a Markdown table, with the per-token totals.
pub fn table(rows: &[OpRow]) -> String {
    let mut out = String::from(
        "| op | shape | per token | burn µs | kernel µs | speedup | kernel GB/s | burn ms/token | kernel ms/token |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let (mut burn_total, mut kernel_total) = (0.0, 0.0);
    for r in rows {
        let burn_ms = r.burn_us * r.per_token as f64 / 1e3;
        let kernel_ms = r.kernel_us * r.per_token as f64 / 1e3;
        burn_total += burn_ms;
        kernel_total += kernel_ms;
        let gbs = if r.weight_bytes > 0 {
            format!("{:.0}", r.weight_bytes as f64 / r.kernel_us / 1e3)
        } else {
            "–".into()
        };
        let kernel = if r.kernel_ran {
            format!("{:.1}", r.kernel_us)
        } else {
            format!("{:.1} (not run: burn)", r.kernel_us)
        };
        out += &format!(
            "| {} | {} | {} | {:.1} | {} | {:.2}× | {} | {:.2} | {:.2} |\n",
            r.op,
            r.shape,
            r.per_token,
            r.burn_us,
            kernel,
            r.speedup(),
            gbs,
            burn_ms,
            kernel_ms
        );
    }
    out += &format!(
        "| **one token** | | | | | {:.2}× | | **{:.2}** | **{:.2}** |\n",
        burn_total / kernel_total,
        burn_total,
        kernel_total
    );
    out
}
