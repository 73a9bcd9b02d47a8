//! `iris train-demo` and `iris eval-demo`: the built-in demo model, trained from a seed and
//! measured on held-out scenes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use iris_models::demo::eval::evaluate;
use iris_models::demo::train::{StepReport, TrainOptions, train};
use iris_models::device::{DeviceChoice, resolve};

#[derive(Args)]
pub struct TrainArgs {
    /// Where to write the checkpoint (a BLIP-2 folder in the Hugging Face layout).
    #[arg(long, short = 'o', default_value = "iris-shapes")]
    out: PathBuf,
    /// Everything (scenes, initial weights, batches) follows from this seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Where to train: cpu (the default), gpu, or auto.
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    #[arg(long, default_value_t = TrainOptions::default().stage1_steps)]
    stage1_steps: usize,
    #[arg(long, default_value_t = TrainOptions::default().stage2_steps)]
    stage2_steps: usize,
    #[arg(long, default_value_t = TrainOptions::default().batch)]
    batch: usize,
    /// Image side in pixels (scenes are rendered at this size).
    #[arg(long, default_value_t = TrainOptions::default().spec.image_size)]
    image_size: usize,
    /// Side of the vision tower's square patches in pixels.
    #[arg(long, default_value_t = TrainOptions::default().spec.patch_size)]
    patch_size: usize,
    /// Peak learning rate (AdamW).
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    learning_rate: f64,
}

pub fn run_train(args: TrainArgs) -> Result<()> {
    let (device, name) = resolve(args.device);
    let options = TrainOptions {
        spec: iris_models::demo::checkpoint::DemoSpec {
            image_size: args.image_size,
            patch_size: args.patch_size,
            ..Default::default()
        },
        seed: args.seed,
        batch: args.batch,
        stage1_steps: args.stage1_steps,
        stage2_steps: args.stage2_steps,
        learning_rate: args.learning_rate,
    };
    eprintln!(
        "training the demo model on {name}: {} + {} steps of {} scenes, seed {}, into {}",
        options.stage1_steps,
        options.stage2_steps,
        options.batch,
        options.seed,
        args.out.display()
    );
    let mut smoothed = None::<f32>;
    let mut on_step = |r: &StepReport| {
        let s = smoothed.map_or(r.loss, |s| 0.95 * s + 0.05 * r.loss);
        smoothed = Some(s);
        let done = r.step as f32 / r.total as f32;
        let width = 30;
        let filled = (done * width as f32) as usize;
        let eta = r.seconds / done * (1.0 - done);
        eprint!(
            "\r[{}{}] stage {} step {}/{} loss {:.4} ({:.4} avg) {:>4.0}s, ~{:.0}s left ",
            "#".repeat(filled),
            ".".repeat(width - filled),
            r.stage,
            r.step,
            r.total,
            r.loss,
            s,
            r.seconds,
            eta
        );
        if r.step.is_multiple_of(100) || r.step == r.total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    };
    train(&args.out, &options, &device, &mut on_step)
        .with_context(|| format!("training into {}", args.out.display()))?;
    eprintln!(
        "done: {} (loss curve in {})",
        args.out.display(),
        args.out.join("training.csv").display()
    );
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// The demo checkpoint to measure.
    #[arg(long)]
    model: PathBuf,
    /// How many held-out scenes (each asked one question of every kind it has).
    #[arg(long, default_value_t = 300)]
    scenes: usize,
    /// Draws the held-out scenes (they never occur in training, whatever the seed).
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run_eval(args: EvalArgs) -> Result<()> {
    let session = iris_models::session::Session::load(
        &args.model,
        args.device,
        iris_models::device::Precision::F32,
    )
    .with_context(|| format!("cannot load the model in {}", args.model.display()))?;
    let mut on_scene = |n: usize| {
        eprint!("\rscene {n}/{}", args.scenes);
        let _ = std::io::stderr().flush();
    };
    let quality = evaluate(&session, args.scenes, args.seed, &mut on_scene)?;
    eprintln!();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&quality)?);
    } else {
        print!("{}", quality.to_markdown());
        if !quality.misses.is_empty() {
            println!("\nSome wrong answers:");
            for m in quality.misses.iter().take(10) {
                println!(
                    "  {} → {:?} (expected {:?})",
                    m.question, m.answered, m.expected
                );
            }
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct SamplesArgs {
    /// Folder for the PNGs and samples.json.
    #[arg(long, short = 'o')]
    out: PathBuf,
    #[arg(long, default_value_t = 6)]
    count: usize,
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Side of each image in pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
}

pub fn run_samples(args: SamplesArgs) -> Result<()> {
    iris_models::demo::samples::write_samples(&args.out, args.count, args.seed, args.size)
        .with_context(|| format!("writing samples into {}", args.out.display()))?;
    eprintln!("{} sample scenes in {}", args.count, args.out.display());
    Ok(())
}
