//! Decode matrix-vector kernel vs `Linear::forward`.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;
use iris_shaders::matvec::{LANES, MAX_ROWS, applies, linear, reference};
use proptest::prelude::*;

use crate::common::{assert_close, random, to_f32, wgpu};

/// f32 tolerance, relative to at least √k (the typical output magnitude with inputs in
/// [-1, 1)). Both sides sum k products in f32 in different orders (the kernel: 32 strided lanes
/// of vec4 dots, then a tree; burn: its matmul's tiles), and where the products cancel the
/// result's own size says nothing about the rounding, which is ~√k·ε·|term| typically and up to
/// ~k·ε·|term| ≈ 2e-5 at k = 1276 (seen). 2e-5 · √k is ~35× that, while a wrong index or bound
/// is O(1).
const F32_REL: f32 = 2e-5;
/// f16: the reference rounds the product and the bias sum to f16 separately, the kernel
/// accumulates in f32 and rounds once; a few f16 ULPs (ε ≈ 9.8e-4) of outputs of magnitude ~1.
const F16_REL: f32 = 8e-3;

/// A `Linear` as the engine loads one: the checkpoint's `[out, in]` weight, used transposed.
fn layer(
    seed: u64,
    d_in: usize,
    d_out: usize,
    bias: bool,
    dtype: DType,
    device: &Device,
) -> Linear {
    let weight = random(seed, [d_out, d_in], 1.0, device)
        .cast(dtype)
        .transpose();
    Linear {
        weight: Param::from_tensor(weight),
        bias: bias
            .then(|| Param::from_tensor(random(seed ^ 0x5A5A, [d_out], 1.0, device).cast(dtype))),
    }
}

fn check(
    seed: u64,
    rows: usize,
    d_in: usize,
    d_out: usize,
    bias: bool,
    dtype: DType,
) -> Result<(), String> {
    let device = wgpu();
    let l = layer(seed, d_in, d_out, bias, dtype, &device);
    let x = random(seed ^ 0xC3C3, [1, rows, d_in], 1.0, &device).cast(dtype);
    if !applies(&x, dtype) {
        return Err(format!(
            "the kernel must apply to {rows} x {d_in} {dtype:?}"
        ));
    }
    let kernel = linear(&l, x.clone());
    let expected = reference(&l, x);
    assert_eq!(kernel.dims(), [1, rows, d_out]);
    assert_eq!(kernel.dtype(), dtype);
    let rel = if dtype == DType::F16 {
        F16_REL
    } else {
        F32_REL
    };
    assert_close(
        &to_f32(kernel),
        &to_f32(expected),
        rel,
        (d_in as f32).sqrt(),
    )
    .map_err(|e| format!("{rows}x{d_in} -> {d_out} bias {bias} seed {seed} {dtype:?}: {e}"))
}

/// Widths around the lanes' stride (LANES vec4s = 128 values) as often as anywhere else.
fn width() -> impl Strategy<Value = usize> {
    let stride = 4 * LANES as usize;
    prop_oneof![
        (1usize..600).prop_map(|k| 4 * k),
        (1usize..8).prop_map(move |m| m * stride),
        (1usize..8).prop_map(move |m| m * stride - 4),
        (1usize..8).prop_map(move |m| m * stride + 4),
    ]
}

proptest! {
    // lavapipe runs shaders on the CPU: a few cases, each up to 4 × 2400 × 700.
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn kernel_matches_linear_f32(
        rows in 1usize..=MAX_ROWS,
        d_in in width(),
        d_out in 1usize..700,
        bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        check(seed, rows, d_in, d_out, bias, DType::F32).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn decoder_shapes() {
    // Qwen2-0.5B's projections (q, k/v, o, gate/up, down) and a head wider than 65 535 × 8
    // outputs would need is not needed here: 152 000 outputs fit one grid row.
    for (i, (d_in, d_out, bias)) in [
        (896, 896, true),
        (896, 128, true),
        (896, 4864, false),
        (4864, 896, false),
    ]
    .into_iter()
    .enumerate()
    {
        check(i as u64, 1, d_in, d_out, bias, DType::F32).unwrap();
    }
}

/// More outputs than one grid row holds (65 535 workgroups × 8): the grid wraps into y.
#[test]
fn outputs_past_the_dispatch_limit() {
    check(30, 1, 4, 65_535 * 8 + 3, true, DType::F32).unwrap();
}

#[test]
fn f16_matches_reference_where_supported() {
    if !wgpu().supports_dtype(DType::F16) {
        eprintln!("skipped: this wgpu adapter has no shader-f16");
        return;
    }
    for (i, (rows, d_in, d_out)) in [(1, 4, 1), (1, 896, 300), (3, 132, 77), (4, 1024, 64)]
        .into_iter()
        .enumerate()
    {
        check(200 + i as u64, rows, d_in, d_out, i % 2 == 0, DType::F16).unwrap();
    }
}

/// The decoder's inputs: a slice of the last position (a view into a larger buffer) and the
/// output of lazy fused ops, with fused ops after the kernel too.
#[test]
fn composes_with_views_and_fused_ops() {
    let device = wgpu();
    let l = layer(40, 256, 100, true, DType::F32, &device);
    let hidden = random(41, [1, 7, 256], 1.0, &device);
    let last = hidden.narrow(1, 6, 1);
    let kernel = to_f32(linear(&l, last.clone() * 2.0 + 1.0) * 3.0);
    let expected = to_f32(reference(&l, last * 2.0 + 1.0) * 3.0);
    assert_close(&kernel, &expected, F32_REL, 1.0).unwrap();
}

/// A weight that is not a view of `[out, in]` (a contiguous `[in, out]` one, as `Linear::init`
/// makes) is made contiguous in the other layout first: slower, same numbers.
#[test]
fn weight_in_the_other_layout() {
    let device = wgpu();
    let l = Linear {
        weight: Param::from_tensor(random(42, [64, 40], 1.0, &device)),
        bias: None,
    };
    let x = random(43, [1, 64], 1.0, &device);
    assert_close(
        &to_f32(linear(&l, x.clone())),
        &to_f32(reference(&l, x)),
        F32_REL,
        1.0,
    )
    .unwrap();
}

#[test]
fn prefill_rows_odd_widths_and_other_devices_use_the_reference() {
    let device = wgpu();
    let rows = random(44, [1, MAX_ROWS + 1, 64], 1.0, &device);
    assert!(!applies(&rows, DType::F32));
    assert!(!applies(&random(45, [1, 1, 63], 1.0, &device), DType::F32));
    assert!(!applies(&random(46, [1, 1, 64], 1.0, &device), DType::F16));
    let flex = Device::flex();
    let x = random(47, [1, 64], 1.0, &flex);
    assert!(!applies(&x, DType::F32));
    let l = layer(48, 64, 10, true, DType::F32, &flex);
    linear(&l, x.clone())
        .into_data()
        .assert_eq(&reference(&l, x).into_data(), true);
}
