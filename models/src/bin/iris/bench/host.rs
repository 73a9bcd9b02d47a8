//! What `iris bench` reports about the machine: CPU, cores, memory, the process's peak
//! resident memory, and the device allocator's high-water mark where burn reports one.

use burn::prelude::Device;

/// The machine a benchmark ran on, as a BENCHMARKS.md entry names it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`'s `model name` on Linux), `None` where unknown.
    pub cpu: Option<String>,
    pub logical_cores: usize,
    /// Installed memory (`/proc/meminfo`'s `MemTotal`), `None` where unknown.
    pub memory_bytes: Option<u64>,
    pub os: &'static str,
}

impl Machine {
    pub fn current() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpu,
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: kib_field(&meminfo, "MemTotal:"),
            os: std::env::consts::OS,
        }
    }

    pub fn describe(&self) -> String {
        let memory = self
            .memory_bytes
            .map(|b| format!(", {} RAM", gib(b)))
            .unwrap_or_default();
        format!(
            "{}, {} logical cores{memory}, {}",
            self.cpu.as_deref().unwrap_or("unknown CPU"),
            self.logical_cores,
            self.os
        )
    }
}

/// A `Key:   123 kB` field of a /proc file, in bytes.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// The process's peak resident memory so far (`VmHWM`, Linux only): weights, activations,
/// the memory-mapped checkpoint pages read, and everything else the process touched.
pub fn peak_host_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&status, "VmHWM:")
}

/// The most memory the device allocator held at any of the moments it was sampled.
///
/// burn reports its allocator's state for cubecl devices (wgpu): `bytes_reserved` is what the
/// pools hold on the device, in use or kept for reuse. Pools keep their pages, so sampling
/// after load, after the prefill and after each run sees the high-water mark. The CPU (flex)
/// backend reports nothing: its tensors live in host memory, counted by [`peak_host_bytes`].
#[derive(Debug, Default)]
pub struct DeviceMemory {
    peak_reserved: Option<u64>,
}

impl DeviceMemory {
    pub fn sample(&mut self, device: &Device) {
        if let Some(usage) = device.memory_pool_usage() {
            let peak = self.peak_reserved.unwrap_or(0).max(usage.bytes_reserved);
            self.peak_reserved = Some(peak);
        }
    }

    pub fn peak_bytes(&self) -> Option<u64> {
        self.peak_reserved
    }

    /// What [`peak_bytes`](Self::peak_bytes) measures, or why there is no figure.
    pub fn note(&self) -> &'static str {
        match self.peak_reserved {
            Some(_) => {
                "bytes the device allocator (cubecl) reserved: the highest sample after load, \
                 the prefill and each run"
            }
            None => {
                "this backend reports no allocator statistics (on the CPU, tensors are host \
                 memory, counted in the host peak)"
            }
        }
    }
}

pub fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_are_read_in_bytes() {
        let status = "Name:\tiris\nVmPeak:\t  200 kB\nVmHWM:\t    1536 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(1536 * 1024));
        assert_eq!(kib_field(status, "VmRSS:"), None);
    }
}
