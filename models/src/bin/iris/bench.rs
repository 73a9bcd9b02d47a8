//! `iris bench`: load, vision, prefill and decode timings of one checkpoint on one device,
//! over several runs (the first run, which compiles GPU kernels, is reported apart).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use iris_models::generate::{CancelToken, Sampling};
use iris_models::session::{Answer, Request};

use super::{ModelArgs, load_images, load_session};

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// An image to encode (default: none, a text-only prompt).
    #[arg(long)]
    image: Vec<PathBuf>,
    #[arg(long, default_value = "Describe the image in detail.")]
    prompt: String,
    /// Most tokens to decode per run (greedy; an end-of-sequence token stops a run early).
    #[arg(long, default_value_t = 32)]
    new_tokens: usize,
    /// Timed runs after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Row {
    run: String,
    preprocess_ms: f64,
    vision_ms: f64,
    prefill_ms: f64,
    prefill_tok_s: f64,
    decode_ms: f64,
    decode_tok_s: f64,
    new_tokens: usize,
}

impl Row {
    fn from_answer(run: String, a: &Answer) -> Self {
        let t = &a.timings_ms;
        let n = a.token_ids.len();
        // The first token comes from the prefill logits; decode steps produce the rest.
        let steps = n.saturating_sub(1).max(1);
        Self {
            run,
            preprocess_ms: t.preprocess,
            vision_ms: t.vision,
            prefill_ms: t.prefill,
            prefill_tok_s: a.prompt_tokens as f64 / (t.prefill / 1e3),
            decode_ms: t.decode,
            decode_tok_s: steps as f64 / (t.decode / 1e3),
            new_tokens: n,
        }
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let images = load_images(&args.image)?;
    let session = load_session(&args.model)?;
    let request = Request {
        history: Vec::new(),
        images,
        prompt: args.prompt.clone(),
        max_new_tokens: args.new_tokens,
        sampling: Sampling::Greedy,
        multi_image: Default::default(),
    };
    let cancel = CancelToken::new();
    let mut rows = Vec::new();
    let mut prompt_tokens = 0;
    for run in 0..=args.runs {
        let answer = session.generate(&request, &cancel, |_| {})?;
        prompt_tokens = answer.prompt_tokens;
        let label = if run == 0 {
            "warm-up".to_owned()
        } else {
            format!("{run}")
        };
        rows.push(Row::from_answer(label, &answer));
    }
    if args.json {
        let value = serde_json::json!({
            "model": args.model.model,
            "device": session.device_label(),
            "load_ms": session.load_ms(),
            "prompt_tokens": prompt_tokens,
            "runs": rows,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("model:   {}", args.model.model.display());
    println!("device:  {}", session.device_label());
    println!(
        "load:    {:.1} ms   prompt tokens: {prompt_tokens}",
        session.load_ms()
    );
    println!(
        "{:>8} {:>12} {:>10} {:>11} {:>12} {:>10} {:>11} {:>7}",
        "run", "preprocess", "vision", "prefill", "prefill t/s", "decode", "decode t/s", "tokens"
    );
    for r in &rows {
        println!(
            "{:>8} {:>10.1}ms {:>8.1}ms {:>9.1}ms {:>12.1} {:>8.1}ms {:>11.1} {:>7}",
            r.run,
            r.preprocess_ms,
            r.vision_ms,
            r.prefill_ms,
            r.prefill_tok_s,
            r.decode_ms,
            r.decode_tok_s,
            r.new_tokens
        );
    }
    Ok(())
}
