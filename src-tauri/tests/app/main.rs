//! The shell's commands on Tauri's mock runtime, with the real engine, store and models folder:
//! IPC shapes (camelCase arguments, `{code, message, details}` errors) and whole chat turns on a
//! tiny fixture checkpoint, checked against HF's greedy answer.

mod chat;
mod demo;
mod documents;
mod explain;
mod harness;
mod models;
mod settings;
