//! `iris ocr`: a PDF (page by page) or an image to Markdown, with progress on stderr.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use iris_models::document::{PdfDocument, parse_page_range};
use iris_models::generate::CancelToken;
use iris_models::ocr::{OcrStyle, read_page};
use iris_models::preprocess::load_image;

use crate::{ModelArgs, load_session};

#[derive(Args)]
pub struct OcrArgs {
    /// A PDF, or an image of a page (PNG, JPEG, …).
    file: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Write the Markdown here instead of to standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Pages to read, 1-based: `3`, `1-5`, `2,4-6` (default: all).
    #[arg(long)]
    pages: Option<String>,
    /// Rendering resolution for PDF pages.
    #[arg(long, default_value_t = 144)]
    dpi: u32,
    /// Most tokens per page.
    #[arg(long, default_value_t = 1024)]
    max_new_tokens: usize,
}

fn is_pdf(path: &std::path::Path) -> Result<bool> {
    let mut head = [0u8; 5];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let n = std::io::Read::read(&mut file, &mut head)?;
    Ok(&head[..n] == b"%PDF-")
}

/// A one-line progress bar on stderr.
fn progress(done: usize, total: usize, tokens: usize) {
    let width = 24;
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    eprint!(
        "\r[{}{}] page {done}/{total}  {tokens} tokens ",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let _ = std::io::stderr().flush();
}

pub fn run(args: OcrArgs) -> Result<()> {
    let session = load_session(&args.model)?;
    let style = OcrStyle::for_processor(session.processor());
    let cancel = CancelToken::new();
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if !is_pdf(&args.file)? {
        if args.pages.is_some() {
            bail!(
                "--pages applies to PDFs; {} is an image",
                args.file.display()
            );
        }
        let image = load_image(&args.file)?;
        progress(0, 1, 0);
        let page = read_page(&session, image, args.max_new_tokens, &cancel, |_| {})?;
        progress(1, 1, page.tokens);
        eprintln!();
        writeln!(out, "{}", page.markdown)?;
        return Ok(());
    }
    let pdf = PdfDocument::open(&args.file)?;
    let pages = match &args.pages {
        Some(spec) => parse_page_range(spec, pdf.page_count())?,
        None => (0..pdf.page_count()).collect(),
    };
    eprintln!(
        "{}: {} of {} pages, {} dpi, {:?} reading",
        args.file.display(),
        pages.len(),
        pdf.page_count(),
        args.dpi,
        style
    );
    let mut tokens = 0;
    progress(0, pages.len(), 0);
    for (done, &index) in pages.iter().enumerate() {
        let image = pdf.render_page(index, args.dpi)?;
        let page = read_page(&session, image, args.max_new_tokens, &cancel, |_| {})?;
        tokens += page.tokens;
        if done > 0 {
            writeln!(out)?;
        }
        writeln!(out, "<!-- page {} -->\n\n{}", index + 1, page.markdown)?;
        out.flush()?;
        progress(done + 1, pages.len(), tokens);
    }
    eprintln!();
    Ok(())
}
