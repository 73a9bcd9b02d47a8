//! Choosing where the model runs: `gpu` (burn's wgpu backend on Vulkan/Metal/DX12), `cpu`
//! (burn's pure-Rust `flex` backend) or `auto` (a hardware GPU adapter when there is one).

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{DType, DeviceKind};

/// The user's device choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    #[default]
    Auto,
    Gpu,
    Cpu,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "gpu" | "wgpu" => Ok(Self::Gpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            other => Err(format!(
                "unknown device `{other}` (expected auto, gpu or cpu)"
            )),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Gpu => "gpu",
            Self::Cpu => "cpu",
        })
    }
}

/// The float type weights and activations are computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 everywhere: the precision HF parity is defined in.
    #[default]
    F32,
    /// f16 weights and activations, on devices that support it (GPUs with shader-f16, and
    /// burn's flex CPU backend); burn's norms accumulate in f32.
    F16,
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
        }
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            other => Err(format!("unknown dtype `{other}` (expected f32 or f16)")),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        })
    }
}

/// A graphics adapter wgpu can see.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterInfo {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    /// A real GPU (discrete, integrated or virtual), not a software rasteriser.
    pub hardware: bool,
}

/// Every adapter on the machine, on every graphics API wgpu supports here.
pub fn adapters() -> Vec<AdapterInfo> {
    // Vulkan/Metal/DX12 only: initialising the GL backend on a headless machine logs EGL errors.
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    descriptor.backends &= wgpu::Backends::PRIMARY;
    let instance = wgpu::Instance::new(descriptor);
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            AdapterInfo {
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                hardware: matches!(
                    info.device_type,
                    wgpu::DeviceType::DiscreteGpu
                        | wgpu::DeviceType::IntegratedGpu
                        | wgpu::DeviceType::VirtualGpu
                ),
            }
        })
        .collect()
}

/// The device the choice resolves to, with a human description.
pub fn resolve(choice: DeviceChoice) -> (Device, String) {
    match choice {
        DeviceChoice::Cpu => (Device::flex(), "cpu (flex)".into()),
        DeviceChoice::Gpu => (
            Device::wgpu(DeviceKind::DefaultDevice),
            describe_gpu(&adapters()),
        ),
        DeviceChoice::Auto => {
            let found = adapters();
            let pick = |ty: &str| found.iter().any(|a| a.device_type == ty);
            let kind = if pick("DiscreteGpu") {
                Some(DeviceKind::DiscreteGpu(0))
            } else if pick("IntegratedGpu") {
                Some(DeviceKind::IntegratedGpu(0))
            } else if pick("VirtualGpu") {
                Some(DeviceKind::VirtualGpu(0))
            } else {
                None
            };
            match kind {
                Some(kind) => (Device::wgpu(kind), describe_gpu(&found)),
                None => (
                    Device::flex(),
                    "cpu (flex; no hardware GPU adapter found)".into(),
                ),
            }
        }
    }
}

/// Names the adapter wgpu will pick: the first hardware one, else the first at all.
fn describe_gpu(found: &[AdapterInfo]) -> String {
    let best = found.iter().find(|a| a.hardware).or(found.first());
    match best {
        Some(a) => format!("gpu ({} via {})", a.name, a.backend),
        None => "gpu (wgpu: no adapter found)".into(),
    }
}

/// The device for adapter `index` of [`adapters`] (what the app's device setting names), or
/// `None` when there is no such adapter now (a GPU was removed since the setting was saved).
pub fn resolve_adapter(index: usize) -> Option<(Device, String)> {
    let found = adapters();
    let chosen = found.get(index)?;
    // burn numbers adapters per type, in the order wgpu enumerates them.
    let nth = found[..index]
        .iter()
        .filter(|a| a.device_type == chosen.device_type)
        .count();
    let kind = match chosen.device_type.as_str() {
        "DiscreteGpu" => DeviceKind::DiscreteGpu(nth),
        "IntegratedGpu" => DeviceKind::IntegratedGpu(nth),
        "VirtualGpu" => DeviceKind::VirtualGpu(nth),
        "Cpu" => DeviceKind::Cpu,
        _ => DeviceKind::DefaultDevice,
    };
    let label = format!("gpu ({} via {})", chosen.name, chosen.backend);
    Some((Device::wgpu(kind), label))
}
