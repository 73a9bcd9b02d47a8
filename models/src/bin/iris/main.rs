//! `iris`: the engine from the command line.
//!
//! ```text
//! iris generate --model DIR [--image FILE]... --prompt TEXT [--json]
//! iris inspect  --model DIR --image FILE... [--json]
//! iris attention --model DIR --image FILE [--json] [--png OUT_DIR]
//! iris bench    (--model DIR | --synthetic PRESET) [--device D] [--image FILE] [--prompt-tokens N]
//! iris ocr      FILE.pdf|IMAGE --model DIR [-o out.md] [--pages 1-5] [--dpi N]
//! iris ocr-eval --set DIR (--model DIR | --tesseract) [--pages 1-5] [--json]
//! iris ocr-set  -o DIR
//! iris train-demo [-o DIR] [--seed N] [--device cpu|gpu]
//! iris eval-demo --model DIR [--scenes N]
//! iris devices
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use image::RgbImage;
use iris_models::device::{DeviceChoice, Precision, adapters};
use iris_models::generate::{CancelToken, Sampling};
use iris_models::preprocess::load_image;
use iris_models::session::{Request, Session};

mod attention;
mod bench;
mod demo;
mod ocr;
mod ocr_eval;

#[derive(Parser)]
#[command(
    name = "iris",
    version,
    about = "Chat with images offline: Hugging Face VLM checkpoints on your GPU or CPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer one prompt about zero or more images.
    Generate(GenerateArgs),
    /// Show how images are tiled and how many tokens they become, without running the model.
    Inspect(InspectArgs),
    /// Show what each BLIP-2 Q-Former query reads from an image (JSON and heat-maps).
    Attention(attention::AttentionArgs),
    /// Measure load time, image encoding, prefill and decode speed, time to first token and
    /// peak memory (of a checkpoint, or of a synthetic one with a real architecture).
    Bench(bench::BenchArgs),
    /// Read a PDF (page by page) or an image of a page into Markdown.
    Ocr(ocr::OcrArgs),
    /// Measure OCR quality: a model's or Tesseract's character error rate on a page set.
    OcrEval(ocr_eval::EvalArgs),
    /// Write the OCR quality page set (pages with known text; tests/fixtures/ocr).
    OcrSet(ocr_eval::SetArgs),
    /// Train the built-in demo model (a small BLIP-2) on synthetic scenes.
    TrainDemo(demo::TrainArgs),
    /// Measure the demo model on held-out scenes (a table of exact answers and grounding).
    EvalDemo(demo::EvalArgs),
    /// Write held-out sample scenes with suggested questions (the app's samples).
    DemoSamples(demo::SamplesArgs),
    /// List the graphics adapters Iris can use.
    Devices,
}

#[derive(Args)]
struct ModelArgs {
    /// Checkpoint folder (Hugging Face layout: config.json, *.safetensors, tokenizer files).
    #[arg(long)]
    model: PathBuf,
    /// Where to run: auto (a hardware GPU if there is one), gpu or cpu.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Weights and activations in f32 (exact HF parity) or f16 (GPUs with shader-f16).
    #[arg(long, default_value = "f32")]
    dtype: Precision,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// An image file; repeat for several images (they come before the text, in order).
    #[arg(long)]
    image: Vec<PathBuf>,
    /// The question or instruction.
    #[arg(long)]
    prompt: String,
    /// Most tokens to generate (default: the checkpoint's generation_config, else 256).
    #[arg(long)]
    max_new_tokens: Option<usize>,
    /// 0 (the default) is greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// 0: no top-k limit.
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InspectArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long, required = true)]
    image: Vec<PathBuf>,
    #[arg(long, default_value = "")]
    prompt: String,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("IRIS_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => run_generate(args),
        Command::Inspect(args) => run_inspect(args),
        Command::Attention(args) => attention::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Ocr(args) => ocr::run(args),
        Command::OcrEval(args) => ocr_eval::run_eval(args),
        Command::OcrSet(args) => ocr_eval::run_set(args),
        Command::TrainDemo(args) => demo::run_train(args),
        Command::EvalDemo(args) => demo::run_eval(args),
        Command::DemoSamples(args) => demo::run_samples(args),
        Command::Devices => run_devices(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line (multi-line details, e.g. every bad tensor, follow).
fn error_chain(err: &anyhow::Error) -> String {
    // Library errors often quote their source in their own message: print each cause once.
    let mut out = String::new();
    for cause in err.chain().map(|e| e.to_string()) {
        if !out.contains(&cause) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&cause);
        }
    }
    out
}

pub(crate) fn load_images(paths: &[PathBuf]) -> Result<Vec<RgbImage>> {
    paths
        .iter()
        .map(|p| load_image(p).map_err(anyhow::Error::from))
        .collect()
}

pub(crate) fn load_session(args: &ModelArgs) -> Result<Session> {
    Session::load(&args.model, args.device, args.dtype)
        .with_context(|| format!("cannot load the model in {}", args.model.display()))
}

fn run_generate(args: GenerateArgs) -> Result<()> {
    let images = load_images(&args.image)?;
    let session = load_session(&args.model)?;
    let sampling = if args.temperature > 0.0 {
        Sampling::Sample {
            temperature: args.temperature,
            top_k: args.top_k,
            top_p: args.top_p,
            seed: args.seed,
        }
    } else {
        Sampling::Greedy
    };
    let request = Request {
        history: Vec::new(),
        images,
        prompt: args.prompt,
        max_new_tokens: args
            .max_new_tokens
            .unwrap_or_else(|| session.default_max_new_tokens()),
        sampling,
        multi_image: Default::default(),
    };
    let cancel = CancelToken::new();
    let mut stdout = std::io::stdout().lock();
    let answer = session.generate(&request, &cancel, |piece| {
        if !args.json {
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    })?;
    if args.json {
        let mut value = serde_json::to_value(&answer)?;
        value["device"] = session.device_label().into();
        writeln!(stdout, "{}", serde_json::to_string(&value)?)?;
    } else {
        writeln!(stdout)?;
    }
    Ok(())
}

fn run_inspect(args: InspectArgs) -> Result<()> {
    let images = load_images(&args.image)?;
    let session = iris_models::processor::Processor::from_dir(&args.model.model)
        .with_context(|| format!("cannot read the model in {}", args.model.model.display()))?;
    let report = session.inspect(&images, &args.prompt)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.to_text());
    }
    Ok(())
}

fn run_devices() -> Result<()> {
    let found = adapters();
    if found.is_empty() {
        println!("no graphics adapters found; Iris will run on the CPU");
    }
    for a in found {
        let kind = if a.hardware { "gpu" } else { "software" };
        println!("{} ({}, {}, {kind})", a.name, a.backend, a.device_type);
    }
    Ok(())
}
