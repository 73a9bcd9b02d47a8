//! A reader measured on a page set: every page read, its character error rate against the
//! truth ([`CharErrors`]) and the time the reading took.

use std::time::Instant;

use serde::Serialize;

use super::cer::{CharErrors, normalize};
use super::page_set::SetPage;

/// One page's result.
#[derive(Debug, Clone, Serialize)]
pub struct PageScore {
    /// File stem, e.g. `03-list-and-table`.
    pub page: String,
    /// Characters of the normalised truth.
    pub characters: usize,
    /// Edit distance between the normalised truth and reading.
    pub edits: usize,
    /// `edits / characters`.
    pub cer: f64,
    /// Wall-clock time of the reading.
    pub seconds: f64,
    /// The reading, normalised as it was compared.
    pub reading: String,
}

/// The whole set's result.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Who read the pages, e.g. `tesseract 5.3.0` or a model folder.
    pub reader: String,
    pub pages: Vec<PageScore>,
    /// Sums over the pages; `cer` is their ratio (not a mean of page rates).
    pub characters: usize,
    pub edits: usize,
    pub cer: f64,
    pub seconds: f64,
}

/// Reads every page with `read` (the page's text, Markdown or plain) and scores it;
/// `on_page` hears of each page as it is done. The first reading error stops the run.
pub fn evaluate<E>(
    pages: &[SetPage],
    reader: &str,
    mut read: impl FnMut(&SetPage) -> Result<String, E>,
    mut on_page: impl FnMut(&PageScore),
) -> Result<EvalReport, E> {
    let mut scores = Vec::with_capacity(pages.len());
    for page in pages {
        let _span = tracing::info_span!("ocr_eval_page", page = %page.name).entered();
        let start = Instant::now();
        let reading = read(page)?;
        let seconds = start.elapsed().as_secs_f64();
        let errors = CharErrors::measure(&page.truth, &reading);
        let score = PageScore {
            page: page.name.clone(),
            characters: errors.truth_chars,
            edits: errors.edits,
            cer: errors.rate(),
            seconds,
            reading: normalize(&reading),
        };
        on_page(&score);
        scores.push(score);
    }
    let total: CharErrors = scores
        .iter()
        .map(|s| CharErrors {
            edits: s.edits,
            truth_chars: s.characters,
        })
        .sum();
    Ok(EvalReport {
        reader: reader.to_owned(),
        characters: total.truth_chars,
        edits: total.edits,
        cer: total.rate(),
        seconds: scores.iter().map(|s| s.seconds).sum(),
        pages: scores,
    })
}

impl EvalReport {
    /// The report as a Markdown table: page, characters, edits, CER, seconds, and the total.
    pub fn to_markdown(&self) -> String {
        let row = |page: &str, characters: usize, edits: usize, cer: f64, seconds: f64| {
            format!(
                "| {page} | {characters} | {edits} | {:.2}% | {seconds:.1} |\n",
                100.0 * cer
            )
        };
        let mut out = format!(
            "Reader: {}\n\n| page | characters | edits | CER | seconds |\n|---|---:|---:|---:|---:|\n",
            self.reader
        );
        for s in &self.pages {
            out.push_str(&row(&s.page, s.characters, s.edits, s.cer, s.seconds));
        }
        out.push_str(&row(
            "**total**",
            self.characters,
            self.edits,
            self.cer,
            self.seconds,
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, truth: &str) -> SetPage {
        SetPage {
            name: name.to_owned(),
            image: format!("{name}.png").into(),
            truth: truth.to_owned(),
        }
    }

    #[test]
    fn pages_are_scored_and_summed() {
        let pages = [page("01-a", "Hello world\n"), page("02-b", "abcdefghij\n")];
        let mut heard = Vec::new();
        let report = evaluate(
            &pages,
            "test",
            |p| {
                Ok::<_, ()>(match p.name.as_str() {
                    "01-a" => "# Hello\n\nworld".to_owned(),
                    _ => "abcdefgh".to_owned(),
                })
            },
            |s| heard.push(s.page.clone()),
        )
        .unwrap();
        assert_eq!(heard, ["01-a", "02-b"]);
        assert_eq!((report.pages[0].edits, report.pages[0].characters), (0, 11));
        assert_eq!(report.pages[0].reading, "Hello world");
        assert_eq!((report.pages[1].edits, report.pages[1].cer), (2, 0.2));
        assert_eq!((report.edits, report.characters), (2, 21));
        assert!((report.cer - 2.0 / 21.0).abs() < 1e-12);
        let table = report.to_markdown();
        assert!(table.contains("| 02-b | 10 | 2 | 20.00% |"), "{table}");
        assert!(table.contains("| **total** | 21 | 2 | 9.52% |"), "{table}");
    }

    #[test]
    fn a_reading_error_stops_the_run() {
        let pages = [page("01-a", "x"), page("02-b", "y")];
        let mut calls = 0;
        let result = evaluate(
            &pages,
            "test",
            |_| {
                calls += 1;
                Err::<String, _>("no reader")
            },
            |_| {},
        );
        assert_eq!(result.unwrap_err(), "no reader");
        assert_eq!(calls, 1);
    }
}
