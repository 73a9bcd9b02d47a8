//! Page ranges as people type them on a command line: `"3"`, `"1-5"`, `"2,4-6"`, `"10-"`.

use super::PdfError;

/// Parses a comma-separated list of 1-based page numbers and inclusive ranges — `"3"`, `"1-5"`,
/// `"2,4-6"` — where `"10-"` means page 10 to the last page, into 0-based page indices for
/// [`PdfDocument::render_page`](super::PdfDocument::render_page) and
/// [`PdfDocument::pages`](super::PdfDocument::pages). Spaces around the parts are allowed.
/// Overlapping parts are merged and the indices come in document order (`"5,1-2"` gives
/// `[0, 1, 4]`), since a document is read front to back.
///
/// Fails with [`PdfError::BadPageRange`] when a part is empty or not a number, a range runs
/// backwards, or a page is 0 or past `page_count`.
pub fn parse_page_range(spec: &str, page_count: usize) -> Result<Vec<usize>, PdfError> {
    let bad = |problem: String| PdfError::BadPageRange {
        spec: spec.to_string(),
        problem,
    };
    let mut chosen = vec![false; page_count];
    for part in spec.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(bad(
                "it is empty or has an empty part between commas".to_string()
            ));
        }
        let (first, last) = match part.split_once('-') {
            None => {
                let page = page_number(part).map_err(&bad)?;
                (page, page)
            }
            Some((from, to)) => {
                let first = page_number(from.trim()).map_err(&bad)?;
                let last = match to.trim() {
                    "" => page_count.max(first),
                    to => page_number(to).map_err(&bad)?,
                };
                if last < first {
                    return Err(bad(format!(
                        "the range {first}-{last} runs backwards; write {last}-{first}"
                    )));
                }
                (first, last)
            }
        };
        if last > page_count {
            return Err(bad(format!(
                "page {last} does not exist: the document has {page_count} page{}",
                if page_count == 1 { "" } else { "s" }
            )));
        }
        chosen[first - 1..last].fill(true);
    }
    Ok((0..page_count).filter(|&i| chosen[i]).collect())
}

/// A 1-based page number from a part of the spec.
fn page_number(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("pages are numbered from 1, so page 0 does not exist".to_string()),
        Ok(page) => Ok(page),
        Err(_) if text.is_empty() => Err("a range is missing its first page".to_string()),
        Err(_) => Err(format!(
            "\"{text}\" is not a page number (write pages like 3, ranges like 1-5, \
             and separate them with commas)"
        )),
    }
}

#[cfg(test)]
#[path = "page_range_tests.rs"]
mod tests;
