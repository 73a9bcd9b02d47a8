//! `iris ocr-set`: writes the OCR quality set.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use iris_models::ocr::page_set;

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
