//! Helpers shared by the kernel tests: devices, deterministic random data, tolerant comparison.

use burn::prelude::*;
use burn::tensor::{DType, DeviceKind, TensorData};

/// The wgpu device the kernels run on (lavapipe on CI).
pub fn wgpu() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

/// `len` values uniform in `[-scale, scale)`, from a splitmix64 stream seeded with `seed`:
/// reproducible from the seed proptest prints, and no `rand` dependency.
pub fn values(seed: u64, len: usize, scale: f32) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // 24 random bits -> [0, 1) exactly representable in f32.
            let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
            (unit * 2.0 - 1.0) * scale
        })
        .collect()
}

/// A tensor of `shape` filled with [`values`].
pub fn random<const D: usize>(
    seed: u64,
    shape: [usize; D],
    scale: f32,
    device: &Device,
) -> Tensor<D> {
    let len = shape.iter().product();
    Tensor::from_data(TensorData::new(values(seed, len, scale), shape), device)
}

/// The tensor's values as f32 (f16 widens exactly).
pub fn to_f32<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.cast(DType::F32)
        .try_into_data()
        .expect("read back from the device")
        .try_into_vec::<f32>()
        .expect("f32 data")
}

/// Asserts `|actual - expected| <= rel * max(|expected|, floor)` element-wise, naming the first
/// element that fails. `floor` only matters for values too small for `rel` to be meaningful
/// (f16 subnormals); pass `f32::MIN_POSITIVE` for a purely relative check.
pub fn assert_close(actual: &[f32], expected: &[f32], rel: f32, floor: f32) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!("length {} != {}", actual.len(), expected.len()));
    }
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let bound = rel * e.abs().max(floor);
        if a.is_nan() || e.is_nan() || (a - e).abs() > bound {
            return Err(format!(
                "element {i}: kernel {a:e}, reference {e:e}, |diff| {:e} > {bound:e}",
                (a - e).abs()
            ));
        }
    }
    Ok(())
}
