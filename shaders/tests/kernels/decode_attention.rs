//! Decode attention kernels vs the engine's plain-burn attention.

use burn::prelude::*;
use burn::tensor::DType;
use iris_shaders::decode_attention::{applies, decode_attention, reference, workgroup_size};
use proptest::prelude::*;

use crate::common::{assert_close, random, to_f32, wgpu};

/// f32: both sides compute the softmax-weighted sum in f32 but in other orders (the kernel per
/// block of keys, rescaled to the global maximum; burn over all keys at once); outputs are
/// averages of values in [-1, 1), so an absolute 2e-5 bound below magnitude 1 leaves a margin of
/// ~100× over the rounding while any indexing or rescaling error is O(0.1).
const F32_REL: f32 = 2e-5;
/// f16: the reference rounds scores, probabilities and the sum to f16; the kernel works in f32.
const F16_REL: f32 = 1e-2;

fn check(
    seed: u64,
    heads: usize,
    kv_heads: usize,
    keys: usize,
    d: usize,
    dtype: DType,
) -> Result<(), String> {
    let device = wgpu();
    let q = random(seed, [1, heads, 1, d], 1.0, &device).cast(dtype);
    // Scores of a few units, as real attention has: peaked enough that a wrong max shows.
    let k = random(seed ^ 1, [1, kv_heads, keys, d], 3.0, &device).cast(dtype);
    let v = random(seed ^ 2, [1, kv_heads, keys, d], 1.0, &device).cast(dtype);
    if !applies(&q, &k, &v) {
        return Err(format!(
            "the kernel must apply: {heads}/{kv_heads} heads, {keys} keys, d {d}"
        ));
    }
    let scale = (d as f64).powf(-0.5);
    let kernel = decode_attention(q.clone(), k.clone(), v.clone(), scale);
    let expected = reference(q, k, v, scale);
    assert_eq!(kernel.dims(), [1, heads, 1, d]);
    let rel = if dtype == DType::F16 {
        F16_REL
    } else {
        F32_REL
    };
    assert_close(&to_f32(kernel), &to_f32(expected), rel, 1.0).map_err(|e| {
        format!("{heads}/{kv_heads} heads, {keys} keys, d {d}, seed {seed}, {dtype:?}: {e}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn kernel_matches_reference_f32(
        kv_heads in 1usize..5,
        group in 1usize..8,
        keys in 1usize..700,
        d in prop_oneof![Just(64usize), Just(128), 1usize..=256],
        seed in any::<u64>(),
    ) {
        check(seed, kv_heads * group, kv_heads, keys, d, DType::F32).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn model_shapes_and_block_edges() {
    let wg = workgroup_size(64) as usize;
    // Qwen2-0.5B (14 heads / 2 kv, d 64), SmolLM2 (9 / 3, d 64), Llama-2 (32 / 32, d 128);
    // key counts either side of a block boundary.
    for (i, (heads, kv, keys, d)) in [
        (14, 2, 1, 64),
        (14, 2, wg, 64),
        (14, 2, wg + 1, 64),
        (9, 3, 3 * wg - 1, 64),
        (32, 32, 517, 128),
        (8, 1, 40, 256),
    ]
    .into_iter()
    .enumerate()
    {
        check(i as u64, heads, kv, keys, d, DType::F32).unwrap();
    }
}

/// A long context: thousands of keys over many blocks, one of them scoring far above the rest
/// (the global maximum sits in one block; every other block is rescaled by a tiny factor).
#[test]
fn many_blocks_with_one_dominant_key() {
    let device = wgpu();
    let (heads, kv, keys, d) = (4, 2, 5000, 64);
    let q = random(60, [1, heads, 1, d], 1.0, &device);
    let mut k = random(61, [1, kv, keys, d], 1.0, &device);
    // Key 4321 of every kv head points along the queries: a score ~30 above the rest.
    let spike = q.clone().narrow(1, 0, 1).reshape([1, 1, 1, d]) * 40.0;
    for h in 0..kv {
        k = k.slice_assign([0..1, h..h + 1, 4321..4322, 0..d], spike.clone());
    }
    let v = random(62, [1, kv, keys, d], 1.0, &device);
    let scale = (d as f64).powf(-0.5);
    let kernel = to_f32(decode_attention(q.clone(), k.clone(), v.clone(), scale));
    let expected = to_f32(reference(q, k, v, scale));
    assert_close(&kernel, &expected, F32_REL, 1.0).unwrap();
}

#[test]
fn f16_matches_reference_where_supported() {
    if !wgpu().supports_dtype(DType::F16) {
        eprintln!("skipped: this wgpu adapter has no shader-f16");
        return;
    }
    check(70, 14, 2, 300, 64, DType::F16).unwrap();
    check(71, 4, 4, 129, 128, DType::F16).unwrap();
}

/// The decoder's inputs: q from fused ops and a cache grown by concatenation.
#[test]
fn composes_with_a_concatenated_cache() {
    let device = wgpu();
    let (heads, kv, d) = (6, 2, 64);
    let q = random(80, [1, heads, 1, d], 1.0, &device) * 0.5 + 0.1;
    let k = Tensor::cat(
        vec![
            random(81, [1, kv, 130, d], 1.0, &device),
            random(82, [1, kv, 1, d], 1.0, &device),
        ],
        2,
    );
    let v = Tensor::cat(
        vec![
            random(83, [1, kv, 130, d], 1.0, &device),
            random(84, [1, kv, 1, d], 1.0, &device),
        ],
        2,
    );
    let scale = 0.125;
    let kernel = to_f32(decode_attention(q.clone(), k.clone(), v.clone(), scale) * 2.0);
    let expected = to_f32(reference(q, k, v, scale) * 2.0);
    assert_close(&kernel, &expected, F32_REL, 1.0).unwrap();
}

#[test]
fn prefill_batches_and_other_devices_use_the_reference() {
    let device = wgpu();
    let k = random(90, [1, 2, 10, 64], 1.0, &device);
    assert!(!applies(&random(91, [1, 4, 2, 64], 1.0, &device), &k, &k));
    assert!(!applies(&random(92, [1, 3, 1, 64], 1.0, &device), &k, &k));
    let wide = random(93, [1, 2, 10, 320], 1.0, &device);
    assert!(!applies(
        &random(94, [1, 2, 1, 320], 1.0, &device),
        &wide,
        &wide
    ));
    let flex = Device::flex();
    let (q, k) = (
        random(95, [1, 4, 1, 64], 1.0, &flex),
        random(96, [1, 2, 10, 64], 1.0, &flex),
    );
    assert!(!applies(&q, &k, &k));
    decode_attention(q.clone(), k.clone(), k.clone(), 0.125)
        .into_data()
        .assert_eq(&reference(q, k.clone(), k, 0.125).into_data(), true);
}
