//! A streaming safetensors writer for generated weights: the header is computed from the
//! tensor list, then each tensor's values are generated and written in chunks, so a 7 B
//! checkpoint is written in bounded memory.

use std::io::Write;
use std::path::Path;

use super::{DiskDtype, SyntheticError};

/// How a tensor's values are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    /// Deterministic normal-ish noise with this standard deviation.
    Normal(f32),
    /// Every value the same (1 for norm weights, 0 for biases).
    Constant(f32),
}

/// One tensor of a generated checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub fill: Fill,
}

impl TensorSpec {
    pub fn elements(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }
}

/// Values generated per write (4 MiB of f32).
const CHUNK: usize = 1 << 20;

/// A fast deterministic generator (xorshift64*), seeded per tensor.
struct Noise(u64);

impl Noise {
    /// A stream for `name` under `seed` (FNV-1a of the name, so order does not matter).
    fn new(seed: u64, name: &str) -> Self {
        let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self(h | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Approximately standard normal: the sum of four 16-bit uniforms, centred and scaled
    /// to unit variance (Irwin–Hall), bounded by ±2√3.
    fn normal(&mut self) -> f32 {
        let r = self.next_u64();
        let sum: u32 = (0..4).map(|i| ((r >> (16 * i)) & 0xffff) as u32).sum();
        let uniform_sum = sum as f32 / 65536.0;
        (uniform_sum - 2.0) * 3.0f32.sqrt()
    }
}

/// The safetensors header for `tensors` in order: (JSON bytes padded to 8, total data bytes).
fn header(tensors: &[TensorSpec], dtype: DiskDtype) -> (Vec<u8>, u64) {
    let mut map = serde_json::Map::new();
    map.insert(
        "__metadata__".into(),
        serde_json::json!({"format": "pt", "iris_synthetic": "random weights"}),
    );
    let mut offset = 0u64;
    for t in tensors {
        let end = offset + t.elements() * dtype.bytes() as u64;
        map.insert(
            t.name.clone(),
            serde_json::json!({
                "dtype": dtype.safetensors_name(),
                "shape": t.shape,
                "data_offsets": [offset, end],
            }),
        );
        offset = end;
    }
    let mut json = serde_json::to_vec(&serde_json::Value::Object(map)).expect("JSON serialises");
    // The safetensors crate pads the header with spaces to an 8-byte boundary.
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    (json, offset)
}

/// Bytes `write_safetensors` will write for `tensors`.
pub fn file_size(tensors: &[TensorSpec], dtype: DiskDtype) -> u64 {
    let (json, data) = header(tensors, dtype);
    8 + json.len() as u64 + data
}

/// Writes `tensors` (values generated from `seed`) as one safetensors file, calling
/// `on_progress(bytes written, total bytes)` after each chunk.
pub fn write_safetensors(
    path: &Path,
    tensors: &[TensorSpec],
    dtype: DiskDtype,
    seed: u64,
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<(), SyntheticError> {
    let io = |source| SyntheticError::Io {
        path: path.to_owned(),
        source,
    };
    let (json, data_bytes) = header(tensors, dtype);
    let total = 8 + json.len() as u64 + data_bytes;
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 22, file);
    out.write_all(&(json.len() as u64).to_le_bytes())
        .map_err(io)?;
    out.write_all(&json).map_err(io)?;
    let mut written = 8 + json.len() as u64;
    let mut values = Vec::with_capacity(CHUNK);
    let mut bytes = Vec::with_capacity(CHUNK * 4);
    for t in tensors {
        let mut noise = Noise::new(seed, &t.name);
        let mut left = t.elements();
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            values.clear();
            match t.fill {
                Fill::Normal(std) => values.extend((0..n).map(|_| std * noise.normal())),
                Fill::Constant(v) => values.resize(n, v),
            }
            bytes.clear();
            dtype.encode(&values, &mut bytes);
            out.write_all(&bytes).map_err(io)?;
            written += bytes.len() as u64;
            left -= n as u64;
            on_progress(written, total);
        }
    }
    out.flush().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_per_name_and_roughly_unit_normal() {
        let sample = |name: &str| {
            let mut n = Noise::new(7, name);
            (0..100_000).map(|_| n.normal()).collect::<Vec<f32>>()
        };
        let a = sample("a.weight");
        assert_eq!(a, sample("a.weight"));
        assert_ne!(a[..8], sample("b.weight")[..8]);
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / a.len() as f32;
        // 100k samples: the mean's standard error is 0.003, the variance's about 0.004.
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "variance {var}");
    }

    #[test]
    fn written_file_is_valid_safetensors_with_the_specs_values() {
        let dir = std::env::temp_dir().join(format!("iris-synth-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let tensors = vec![
            TensorSpec {
                name: "norm.weight".into(),
                shape: vec![3],
                fill: Fill::Constant(1.0),
            },
            TensorSpec {
                name: "proj.weight".into(),
                shape: vec![5, 7],
                fill: Fill::Normal(0.02),
            },
        ];
        for dtype in [DiskDtype::F32, DiskDtype::F16, DiskDtype::Bf16] {
            let mut last = (0, 0);
            write_safetensors(&path, &tensors, dtype, 1, &mut |w, t| last = (w, t)).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes.len() as u64, file_size(&tensors, dtype));
            assert_eq!(last, (bytes.len() as u64, bytes.len() as u64));
            let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let norm = st.tensor("norm.weight").unwrap();
            assert_eq!(norm.shape(), [3]);
            let proj = st.tensor("proj.weight").unwrap();
            assert_eq!(proj.shape(), [5, 7]);
            assert_eq!(proj.data().len(), 35 * dtype.bytes());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
