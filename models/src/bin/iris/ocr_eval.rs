//! `iris ocr-eval`: a model's (or Tesseract's) character error rate on the OCR quality set;
//! `iris ocr-set`: writes that set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args};
use iris_models::device::{DeviceChoice, Precision};
use iris_models::document::parse_page_range;
use iris_models::generate::CancelToken;
use iris_models::ocr::eval::{EvalReport, PageScore, evaluate};
use iris_models::ocr::page_set::{self, SetPage};
use iris_models::ocr::{OcrStyle, read_page};
use iris_models::preprocess::load_image;

use crate::{ModelArgs, load_session};

#[derive(Args)]
#[command(group(ArgGroup::new("reader").required(true).args(["model", "tesseract"])))]
pub struct EvalArgs {
    /// The page set: `NN-name.png` pages, each with its text in `NN-name.txt`
    /// (the committed one is tests/fixtures/ocr).
    #[arg(long)]
    set: PathBuf,
    /// Read the pages with this checkpoint, exactly as `iris ocr` reads an image.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Read the pages with Tesseract (`tesseract PAGE - --psm 3`; Debian: tesseract-ocr).
    #[arg(long)]
    tesseract: bool,
    /// With --model: where to run (auto, gpu or cpu).
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// With --model: f32 or f16.
    #[arg(long, default_value = "f32")]
    dtype: Precision,
    /// With --model: most tokens per page.
    #[arg(long, default_value_t = 1024)]
    max_new_tokens: usize,
    /// Pages to read, 1-based in file-name order: `3`, `1-5`, `2,4-6` (default: all).
    #[arg(long)]
    pages: Option<String>,
    /// Print one JSON object (with each page's reading as compared) instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SetArgs {
    /// Folder for the pages (`NN-name.png`) and their texts (`NN-name.txt`).
    #[arg(long, short = 'o')]
    out: PathBuf,
}

pub fn run_set(args: SetArgs) -> Result<()> {
    let pages = page_set::write(&args.out)?;
    eprintln!("{} pages in {}", pages.len(), args.out.display());
    Ok(())
}

pub fn run_eval(args: EvalArgs) -> Result<()> {
    let mut pages = page_set::load(&args.set)?;
    if let Some(spec) = &args.pages {
        let chosen = parse_page_range(spec, pages.len())?;
        pages = chosen.into_iter().map(|i| pages[i].clone()).collect();
    }
    let total = pages.len();
    let mut done = 0;
    let on_page = |score: &PageScore| {
        done += 1;
        eprintln!(
            "page {done}/{total} {}: CER {:.2}% ({:.1} s)",
            score.page,
            100.0 * score.cer,
            score.seconds
        );
    };
    let report = match &args.model {
        Some(model) => eval_model(&args, model, &pages, on_page)?,
        None => {
            let reader = tesseract_version()?;
            evaluate(&pages, &reader, |p| tesseract(&p.image), on_page)?
        }
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(stdout, "{}", report.to_markdown())?;
    }
    Ok(())
}

fn eval_model(
    args: &EvalArgs,
    model: &Path,
    pages: &[SetPage],
    on_page: impl FnMut(&PageScore),
) -> Result<EvalReport> {
    let session = load_session(&ModelArgs {
        model: model.to_path_buf(),
        device: args.device,
        dtype: args.dtype,
    })?;
    let reader = format!(
        "{} ({}, {:?} reading, {})",
        model.display(),
        session.config().model_type(),
        OcrStyle::for_processor(session.processor()),
        session.device_label()
    );
    let cancel = CancelToken::new();
    evaluate(
        pages,
        &reader,
        |page| -> Result<String> {
            let image = load_image(&page.image)?;
            let text = read_page(&session, image, args.max_new_tokens, &cancel, |_| {})
                .with_context(|| format!("reading {}", page.image.display()))?;
            Ok(text.markdown)
        },
        on_page,
    )
}

const INSTALL_TESSERACT: &str =
    "tesseract is not installed (Debian/Ubuntu: sudo apt-get install tesseract-ocr)";

/// `tesseract 5.3.0`: the first line of `tesseract --version`.
fn tesseract_version() -> Result<String> {
    let out = match Command::new("tesseract").arg("--version").output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(INSTALL_TESSERACT),
        other => other.context("cannot run tesseract")?,
    };
    // Tesseract 4 and later print the version on stdout, earlier ones on stderr.
    let text = [out.stdout, out.stderr].concat();
    let first = String::from_utf8_lossy(&text)
        .lines()
        .next()
        .unwrap_or("tesseract")
        .trim()
        .to_owned();
    Ok(format!("{first} (--psm 3)"))
}

/// The text Tesseract reads on `image` (automatic page segmentation, its default language).
fn tesseract(image: &Path) -> Result<String> {
    let out = Command::new("tesseract")
        .arg(image)
        .arg("-")
        .args(["--psm", "3"])
        .output()
        .context(INSTALL_TESSERACT)?;
    if !out.status.success() {
        bail!(
            "tesseract failed on {}: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
