//! Fused RMSNorm kernel vs the plain-burn reference.

use burn::prelude::*;
use burn::tensor::DType;
use iris_shaders::rms_norm::{WORKGROUP_SIZE, reference, rms_norm, runs_kernel};
use proptest::prelude::*;

use crate::common::{assert_close, random, to_f32, wgpu};

/// f32 tolerance, relative. Both sides compute x / sqrt(mean(x²) + eps) * w in f32, but sum the
/// (up to 2048) squares in different orders: the kernel as a 256-wide tree, burn with its own
/// reduction. f32 carries 24 bits (ε ≈ 6e-8); a sum of n positive terms drifts ~√n·ε ≈ 3e-6 at
/// n = 2048 (halved again by the square root), plus a few roundings per element (WGSL allows
/// 2.5 ULP for division). 1e-5 keeps a margin over that while any indexing, bounds or
/// reduction bug shows up as an O(1) error.
const F32_REL: f32 = 1e-5;

/// f16 tolerance, relative (~5 f16 ULPs; ε = 2⁻¹⁰ ≈ 9.8e-4). The reference rounds rms to f16
/// and divides and multiplies in f16 (up to ~3.5 ULP with WGSL's 2.5-ULP division); the kernel
/// computes in f32 and rounds once.
const F16_REL: f32 = 5e-3;
/// Below the smallest normal f16 (2⁻¹⁴) values are subnormal and their relative precision
/// decays, so the f16 bound is relative to at least this.
const F16_FLOOR: f32 = 6.103_515_6e-5;

const EPS: f64 = 1e-6;

/// Runs kernel and reference on the same data on the wgpu device and compares them in f32.
fn check<const D: usize>(seed: u64, shape: [usize; D], dtype: DType) -> Result<(), String> {
    let device = wgpu();
    assert!(runs_kernel(&device, dtype), "the kernel must apply here");
    let x = random(seed, shape, 4.0, &device).cast(dtype);
    let w = random(seed ^ 0xA5A5, [shape[D - 1]], 2.0, &device).cast(dtype);
    let kernel = rms_norm(x.clone(), w.clone(), EPS);
    let expected = reference(x, w, EPS);
    assert_eq!(kernel.dims(), expected.dims());
    assert_eq!(kernel.dtype(), dtype);
    let (rel, floor) = match dtype {
        DType::F16 => (F16_REL, F16_FLOOR),
        _ => (F32_REL, f32::MIN_POSITIVE),
    };
    assert_close(&to_f32(kernel), &to_f32(expected), rel, floor)
        .map_err(|e| format!("shape {shape:?} seed {seed} {dtype:?}: {e}"))
}

/// Hidden sizes around the workgroup size as often as anywhere else: below it, exact multiples,
/// and one either side of a multiple.
fn hidden() -> impl Strategy<Value = usize> {
    let wg = WORKGROUP_SIZE as usize;
    prop_oneof![
        1usize..2048,
        (1usize..8).prop_map(move |k| k * wg),
        (1usize..8).prop_map(move |k| k * wg - 1),
        (1usize..8).prop_map(move |k| k * wg + 1),
    ]
}

proptest! {
    // lavapipe runs shaders on the CPU: a few cases, each up to 64 × 2048.
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn kernel_matches_reference_f32(rows in 1usize..64, hidden in hidden(), seed in any::<u64>()) {
        check(seed, [rows, hidden], DType::F32).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn edge_hidden_sizes_and_ranks() {
    for (i, hidden) in [1, 2, 255, 256, 257, 511, 4096].into_iter().enumerate() {
        check(i as u64, [3, hidden], DType::F32).unwrap();
    }
    check(7, [1, 1], DType::F32).unwrap();
    check(8, [2, 5, 300], DType::F32).unwrap();
    check(9, [2, 2, 3, 64], DType::F32).unwrap();
    check(10, [777], DType::F32).unwrap();
}

/// More rows than one dispatch dimension holds (65 535): the grid wraps into y.
#[test]
fn rows_past_the_dispatch_limit() {
    check(11, [70_000, 3], DType::F32).unwrap();
}

#[test]
fn zero_rows_stay_zero() {
    let device = wgpu();
    let x = Tensor::<2>::zeros([4, 300], &device);
    let w = Tensor::<1>::ones([300], &device);
    let y = to_f32(rms_norm(x, w, EPS));
    assert!(
        y.iter().all(|&v| v == 0.0),
        "eps keeps 0 / sqrt(0 + eps) finite"
    );
}

/// A transposed (strided) input goes through `into_contiguous` before the launch.
#[test]
fn non_contiguous_input() {
    let device = wgpu();
    let x = random(12, [300, 5], 4.0, &device).transpose();
    let w = random(13, [300], 2.0, &device);
    let kernel = to_f32(rms_norm(x.clone(), w.clone(), EPS));
    let expected = to_f32(reference(x, w, EPS));
    assert_close(&kernel, &expected, F32_REL, f32::MIN_POSITIVE).unwrap();
}

/// A row slice is contiguous but may start inside its buffer (here at byte 1200, not a multiple
/// of wgpu's 256-byte binding alignment), as the decoder's last-token slice does.
#[test]
fn sliced_rows_input() {
    let device = wgpu();
    let full = random(20, [5, 300], 4.0, &device);
    let w = random(21, [300], 2.0, &device);
    let x = full.narrow(0, 1, 3);
    let kernel = to_f32(rms_norm(x.clone(), w.clone(), EPS));
    let expected = to_f32(reference(x, w, EPS));
    assert_close(&kernel, &expected, F32_REL, f32::MIN_POSITIVE).unwrap();
}

/// Lazy (fused) ops before and after the custom kernel: the Fusion extension has to flush its
/// inputs and hand its output on.
#[test]
fn composes_with_fused_ops() {
    let device = wgpu();
    let x = random(14, [6, 513], 4.0, &device);
    let w = random(15, [513], 2.0, &device);
    let kernel = to_f32(rms_norm(x.clone() * 2.0 + 1.0, w.clone(), EPS) * 3.0);
    let expected = to_f32(reference(x * 2.0 + 1.0, w, EPS) * 3.0);
    assert_close(&kernel, &expected, F32_REL, f32::MIN_POSITIVE).unwrap();
}

/// A weight of another dtype than x is cast to x's before the launch.
#[test]
fn weight_dtype_follows_x() {
    let device = wgpu();
    if !device.supports_dtype(DType::F16) {
        return;
    }
    let x = random(16, [4, 300], 4.0, &device);
    let w = random(17, [300], 2.0, &device);
    let kernel = rms_norm(x.clone(), w.clone().cast(DType::F16), EPS);
    assert_eq!(kernel.dtype(), DType::F32);
    // The f16 weight is the only rounding: compare against the reference with that weight.
    let expected = reference(x, w.cast(DType::F16).cast(DType::F32), EPS);
    assert_close(
        &to_f32(kernel),
        &to_f32(expected),
        F32_REL,
        f32::MIN_POSITIVE,
    )
    .unwrap();
}

#[test]
fn f16_matches_reference_where_supported() {
    let device = wgpu();
    if !device.supports_dtype(DType::F16) {
        eprintln!("skipped: this wgpu adapter has no shader-f16");
        return;
    }
    for (i, shape) in [[1, 1], [3, 255], [8, 256], [5, 257], [2, 2048]]
        .into_iter()
        .enumerate()
    {
        check(100 + i as u64, shape, DType::F16).unwrap();
    }
}

#[test]
fn kernel_applies_on_wgpu_only() {
    let device = wgpu();
    assert!(runs_kernel(&device, DType::F32));
    assert!(!runs_kernel(&device, DType::I32));
    assert!(!runs_kernel(&Device::flex(), DType::F32));
}

/// On a non-wgpu device the launcher is the reference, bit for bit.
#[test]
fn falls_back_to_reference_on_flex() {
    let device = Device::flex();
    let x = random(18, [5, 300], 4.0, &device);
    let w = random(19, [300], 2.0, &device);
    let y = rms_norm(x.clone(), w.clone(), EPS);
    assert_eq!(y.device(), device);
    y.into_data()
        .assert_eq(&reference(x, w, EPS).into_data(), true);
}

#[test]
#[should_panic(expected = "weight has 3 elements")]
fn weight_length_is_checked() {
    let device = Device::flex();
    let _ = rms_norm(
        Tensor::<2>::zeros([2, 4], &device),
        Tensor::ones([3], &device),
        EPS,
    );
}
