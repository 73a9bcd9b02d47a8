//! The engine's integration tests: HF parity on fixture checkpoints and the `iris` CLI contract.

mod fixtures;
mod parity;
