//! `iris bench`: load time, image encoding, prefill and decode speed, time to first token and
//! peak memory of one checkpoint on one device, over several runs (the first run, which
//! compiles GPU kernels, is reported apart). `--synthetic` measures a checkpoint with a real
//! architecture and random weights, written on first use, so nothing has to be downloaded.

mod host;
mod ops;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{ArgGroup, Args};
use iris_models::device::{DeviceChoice, Precision};
use iris_models::generate::{CancelToken, Sampling};
use iris_models::prompt::TextTokenizer;
use iris_models::session::{Request, Session};
use iris_models::synthetic::{
    DiskDtype, Preset, SyntheticOptions, default_cache_dir, ensure_synthetic,
};

use super::{ModelArgs, load_images, load_session};
use host::{DeviceMemory, Machine, gib, peak_host_bytes};
use report::{ImageViews, Report, Row, SyntheticReport};

#[derive(Args)]
#[command(group(ArgGroup::new("checkpoint").required(true).args(["model", "synthetic"])))]
pub struct BenchArgs {
    /// Checkpoint folder to measure.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Measure a synthetic checkpoint instead: the real architecture and shapes with random
    /// weights, written on first use and kept (qwen2-0.5b, smolvlm-256m, llava-1.5-7b).
    #[arg(long)]
    synthetic: Option<Preset>,
    /// Where synthetic checkpoints are kept (default: $XDG_CACHE_HOME/iris/synthetic, else
    /// ~/.cache/iris/synthetic); each preset and dtype in its own folder.
    #[arg(long, requires = "synthetic")]
    synthetic_dir: Option<PathBuf>,
    /// Dtype of the synthetic weights on disk (converted at load, as a real checkpoint's).
    #[arg(long, default_value = "f16", requires = "synthetic")]
    synthetic_dtype: DiskDtype,
    /// For tests: layers of each tower of the synthetic checkpoint.
    #[arg(long, hide = true, requires = "synthetic")]
    synthetic_layers: Option<usize>,
    /// For tests: vocabulary size of the synthetic checkpoint.
    #[arg(long, hide = true, requires = "synthetic")]
    synthetic_vocab: Option<usize>,
    /// Where to run: auto (a hardware GPU if there is one), gpu or cpu.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Weights and activations in f32 or f16.
    #[arg(long, default_value = "f32")]
    dtype: Precision,
    /// An image to encode (default: none, a text-only prompt).
    #[arg(long)]
    image: Vec<PathBuf>,
    #[arg(long, default_value = "Describe the image in detail.")]
    prompt: String,
    /// Replace the prompt's text by exactly N tokens (a common word repeated), so the prefill
    /// length is controlled: template + visual tokens + N.
    #[arg(long)]
    prompt_tokens: Option<usize>,
    /// Most tokens to decode per run (greedy; an end-of-sequence token stops a run early).
    #[arg(long, default_value_t = 32)]
    new_tokens: usize,
    /// Timed runs after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Our WGSL kernels the models use (the decode attention over the KV cache) on or off; off
    /// runs burn's own ops everywhere, to see what the kernels buy.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    kernels: String,
    /// Instead of generating: time each kernel against the burn ops it replaces, at the decode
    /// shapes of the --synthetic preset's language model (nothing is written or loaded).
    #[arg(long, requires = "synthetic", conflicts_with_all = ["image", "model"])]
    ops: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Writes (or finds) the synthetic checkpoint the arguments ask for.
fn prepare_synthetic(args: &BenchArgs, preset: Preset) -> Result<SyntheticReport> {
    let options = SyntheticOptions {
        dtype: args.synthetic_dtype,
        vision_layers: args.synthetic_layers,
        text_layers: args.synthetic_layers,
        vocab_size: args.synthetic_vocab,
        seed: 0,
    };
    let root = args.synthetic_dir.clone().unwrap_or_else(default_cache_dir);
    let dir = root.join(options.folder_name(preset));
    let start = Instant::now();
    let mut shown = 0;
    let checkpoint = ensure_synthetic(preset, &dir, &options, &mut |done, total| {
        // Every 10% of a large file (a 7 B checkpoint takes minutes to write).
        let percent = done * 100 / total.max(1);
        if total >= 1 << 28 && (percent >= shown + 10 || done == total) {
            shown = percent;
            eprintln!(
                "writing synthetic {preset} weights: {percent}% of {}",
                gib(total)
            );
        }
    })
    .with_context(|| format!("cannot write the synthetic checkpoint in {}", dir.display()))?;
    Ok(SyntheticReport {
        preset: preset.to_string(),
        architecture_of: preset.hub_repo(),
        dtype_on_disk: args.synthetic_dtype.to_string(),
        checkpoint,
        prepare_ms: start.elapsed().as_secs_f64() * 1e3,
    })
}

/// `n` tokens of text: a few common words (one token each in the supported tokenizers, and
/// one unknown-word token each in a synthetic one), grown or cut until the count is exact.
fn filler_text(tokenizer: &TextTokenizer, n: usize) -> Result<String> {
    const WORDS: [&str; 6] = ["the", "of", "and", "a", "to", "in"];
    let text = |k: usize| -> String {
        let words: Vec<&str> = (0..k).map(|i| WORDS[i % WORDS.len()]).collect();
        words.join(" ")
    };
    let mut k = n;
    for _ in 0..8 {
        let count = tokenizer.encode(&text(k), false)?.len();
        if count == n {
            return Ok(text(k));
        }
        k = (k + n).saturating_sub(count).max(1);
    }
    anyhow::bail!("cannot make a prompt of exactly {n} tokens with this tokenizer")
}

/// One warm-up run, then `--runs` timed runs and their median; the prompt's token count.
fn measure(
    session: &Session,
    request: &Request,
    args: &BenchArgs,
    views: usize,
    device_memory: &mut DeviceMemory,
) -> Result<(Vec<Row>, usize)> {
    let cancel = CancelToken::new();
    let mut rows = Vec::new();
    let mut prompt_tokens = 0;
    for run in 0..=args.runs {
        let mut first = true;
        let answer = session.generate(request, &cancel, |_| {
            // After the prefill: the activations of the whole prompt have been allocated.
            if std::mem::take(&mut first) {
                device_memory.sample(session.device());
            }
        })?;
        device_memory.sample(session.device());
        prompt_tokens = answer.prompt_tokens;
        let label = match run {
            0 => "warm-up".to_owned(),
            n => n.to_string(),
        };
        let images = request.images.len();
        rows.push(Row::from_answer(label, &answer, images, views));
    }
    if let Some(median) = Row::median(&rows[1..]) {
        rows.push(median);
    }
    Ok((rows, prompt_tokens))
}

/// `--ops`: the kernels against burn's ops, one row each.
fn run_ops(args: &BenchArgs, preset: Preset) -> Result<()> {
    let (device, label) = iris_models::device::resolve(args.device);
    let dtype = args.dtype.dtype();
    if !device.supports_dtype(dtype) {
        anyhow::bail!("{label} cannot compute in {}", args.dtype);
    }
    let rows = ops::measure(preset, &device, dtype, 0.3)?;
    if args.json {
        let report = serde_json::json!({
            "preset": preset.to_string(),
            "machine": Machine::current(),
            "device": label,
            "dtype": args.dtype.to_string(),
            "ops": rows,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let machine = Machine::current();
        println!("machine: {}", machine.describe());
        println!(
            "device:  {label}, {} — decode-step shapes of synthetic {preset}\n",
            args.dtype
        );
        print!("{}", ops::table(&rows));
    }
    Ok(())
}

pub fn run(args: BenchArgs) -> Result<()> {
    iris_shaders::set_enabled(args.kernels == "on");
    if args.ops {
        let preset = args.synthetic.expect("clap: --ops requires --synthetic");
        return run_ops(&args, preset);
    }
    let synthetic = args
        .synthetic
        .map(|preset| prepare_synthetic(&args, preset))
        .transpose()?;
    let model = match (&synthetic, &args.model) {
        (Some(s), _) => s.checkpoint.dir.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => unreachable!("clap requires --model or --synthetic"),
    };
    let images = load_images(&args.image)?;
    let session = load_session(&ModelArgs {
        model: model.clone(),
        device: args.device,
        dtype: args.dtype,
    })?;
    let mut device_memory = DeviceMemory::default();
    device_memory.sample(session.device());
    let prompt = match args.prompt_tokens {
        Some(n) => filler_text(session.processor().tokenizer(), n)?,
        None => args.prompt.clone(),
    };
    let inspect = session.processor().inspect(&images, &prompt)?;
    let views: usize = inspect.images.iter().map(|i| i.tiles).sum();
    let request = Request {
        history: Vec::new(),
        images,
        prompt,
        max_new_tokens: args.new_tokens,
        sampling: Sampling::Greedy,
        multi_image: Default::default(),
    };
    let (rows, prompt_tokens) = measure(&session, &request, &args, views, &mut device_memory)?;
    let report = Report {
        model,
        synthetic,
        machine: Machine::current(),
        device: session.device_label().to_owned(),
        dtype: args.dtype.to_string(),
        kernels: iris_shaders::enabled(),
        load_ms: session.load_ms(),
        prompt_tokens,
        prompt_text_tokens: args.prompt_tokens,
        image_tokens: inspect.image_tokens,
        images: inspect.images.iter().map(ImageViews::from).collect(),
        runs: rows,
        peak_host_bytes: peak_host_bytes(),
        peak_device_bytes: device_memory.peak_bytes(),
        device_memory: device_memory.note(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
