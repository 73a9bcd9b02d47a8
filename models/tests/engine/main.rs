//! The engine's integration tests: HF parity on fixture checkpoints and the `iris` CLI contract.

mod answer_attention;
mod bench_cli;
mod cli;
mod conversation;
mod demo;
mod fixtures;
mod generation;
mod ocr_eval;
mod parity;
mod real_checkpoint;
mod synthetic;
mod weights;
