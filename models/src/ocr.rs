//! Reading documents: one page image in, its text out. SmolDocling-style checkpoints (their
//! tokenizer knows `<doctag>`) answer in DocTags, converted here to Markdown; others are asked
//! to read the page and answer with its text. [`page_set`], [`cer`] and [`eval`] measure how
//! well a reader does on pages with known text.

use image::RgbImage;

use crate::generate::{CancelToken, Sampling, StopReason};
use crate::processor::{MultiImage, Processor};
use crate::session::{Request, Session, SessionError};

pub mod cer;
pub mod eval;
pub mod page_set;

/// How a checkpoint is asked to read a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrStyle {
    /// SmolDocling / Granite-Docling: "Convert this page to docling." → DocTags.
    DocTags,
    /// Any other chat model: asked for the page's text as Markdown.
    PlainText,
    /// BLIP-2-style models without a chat template: a question/answer prompt.
    Caption,
}

impl OcrStyle {
    /// The style a checkpoint's tokenizer and template call for.
    pub fn for_processor(processor: &Processor) -> Self {
        if processor.tokenizer().token_id("<doctag>").is_some() {
            Self::DocTags
        } else if processor.has_chat_template() {
            Self::PlainText
        } else {
            Self::Caption
        }
    }

    /// The instruction sent with each page.
    pub fn prompt(self) -> &'static str {
        match self {
            Self::DocTags => "Convert this page to docling.",
            Self::PlainText => {
                "Read all the text in this image, in reading order. Answer with the text only, as Markdown (headings, lists and tables where the page has them)."
            }
            Self::Caption => "Question: what text is written in the image? Answer:",
        }
    }
}

/// One page's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageText {
    /// What the model produced (DocTags keep their tags).
    pub raw: String,
    /// The page as Markdown.
    pub markdown: String,
    pub tokens: usize,
    pub stop: StopReason,
}

/// Reads one page image with `session`, streaming raw text pieces to `on_text`.
pub fn read_page(
    session: &Session,
    page: RgbImage,
    max_new_tokens: usize,
    cancel: &CancelToken,
    on_text: impl FnMut(&str),
) -> Result<PageText, SessionError> {
    let style = OcrStyle::for_processor(session.processor());
    let request = Request {
        history: Vec::new(),
        images: vec![page],
        prompt: style.prompt().to_owned(),
        max_new_tokens,
        sampling: Sampling::Greedy,
        multi_image: MultiImage::Batched,
    };
    let answer = session.generate(&request, cancel, on_text)?;
    let (raw, markdown) = match style {
        OcrStyle::DocTags => {
            let raw = session
                .processor()
                .tokenizer()
                .decode(&answer.token_ids, false)?;
            let markdown = doctags_to_markdown(&raw);
            (raw, markdown)
        }
        OcrStyle::PlainText | OcrStyle::Caption => {
            (answer.text.clone(), answer.text.trim().to_owned())
        }
    };
    Ok(PageText {
        raw,
        markdown,
        tokens: answer.token_ids.len(),
        stop: answer.stop,
    })
}

/// One DocTags element: its tag name and inner text (location tags removed).
fn elements(doctags: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = doctags;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.starts_with('/')
            || tag.starts_with("loc_")
            || tag == "doctag"
            || tag == "end_of_utterance"
        {
            continue;
        }
        let name = tag.split_whitespace().next().unwrap_or(tag).to_owned();
        let close = format!("</{name}>");
        let Some(close_at) = rest.find(&close) else {
            continue;
        };
        let inner = rest[..close_at].to_owned();
        rest = &rest[close_at + close.len()..];
        out.push((name, inner));
    }
    out
}

/// Text with location tags (`<loc_12>`) removed and whitespace tidied.
fn plain(inner: &str) -> String {
    let mut text = String::new();
    let mut rest = inner;
    while let Some(start) = rest.find("<loc_") {
        text.push_str(&rest[..start]);
        rest = match rest[start..].find('>') {
            Some(end) => &rest[start + end + 1..],
            None => "",
        };
    }
    text.push_str(rest);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An OTSL table (`<fcel>`, `<ecel>`, `<lcel>`, `<ucel>`, `<xcel>`, `<ched>`, `<rhed>`,
/// `<nl>`) as a Markdown table; spanned cells are left empty.
fn otsl_to_markdown(inner: &str) -> String {
    let mut rows: Vec<Vec<String>> = vec![Vec::new()];
    let mut rest = inner;
    let mut cell: Option<String> = None;
    let flush = |rows: &mut Vec<Vec<String>>, cell: &mut Option<String>| {
        if let Some(c) = cell.take()
            && let Some(row) = rows.last_mut()
        {
            row.push(plain(&c).replace('|', "\\|"));
        }
    };
    while let Some(start) = rest.find('<') {
        if let Some(c) = cell.as_mut() {
            c.push_str(&rest[..start]);
        }
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        match tag {
            "fcel" | "ched" | "rhed" | "srow" | "ecel" | "lcel" | "ucel" | "xcel" => {
                flush(&mut rows, &mut cell);
                cell = Some(String::new());
            }
            "nl" => {
                flush(&mut rows, &mut cell);
                rows.push(Vec::new());
            }
            _ if tag.starts_with("loc_") => {}
            _ => {}
        }
    }
    flush(&mut rows, &mut cell);
    rows.retain(|r| !r.is_empty());
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let line = |r: &[String]| {
        let mut cells: Vec<String> = r.to_vec();
        cells.resize(width, String::new());
        format!("| {} |", cells.join(" | "))
    };
    let mut out = vec![line(&rows[0]), format!("|{}", " --- |".repeat(width))];
    out.extend(rows[1..].iter().map(|r| line(r)));
    out.join("\n")
}

/// DocTags (SmolDocling's output) as Markdown: headings, paragraphs, list items, code,
/// formulas, tables, captions; page headers and footers are left out, pictures become a note.
pub fn doctags_to_markdown(doctags: &str) -> String {
    let mut blocks: Vec<String> = Vec::new();
    for (name, inner) in elements(doctags) {
        let block = match name.as_str() {
            "title" => format!("# {}", plain(&inner)),
            "section_header_level_0" | "section_header_level_1" => format!("## {}", plain(&inner)),
            n if n.starts_with("section_header_level_") => format!("### {}", plain(&inner)),
            "list_item" => format!("- {}", plain(&inner)),
            "ordered_list" | "unordered_list" => {
                let marker = if name == "ordered_list" { "1." } else { "-" };
                elements(&inner)
                    .into_iter()
                    .map(|(_, item)| format!("{marker} {}", plain(&item)))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            "code" => format!("```\n{}\n```", plain(&inner)),
            "formula" => format!("$$\n{}\n$$", plain(&inner)),
            "otsl" => otsl_to_markdown(&inner),
            "picture" | "chart" => "*[figure]*".to_owned(),
            "page_header" | "page_footer" => continue,
            _ => plain(&inner),
        };
        if !block.trim().is_empty() {
            blocks.push(block);
        }
    }
    if blocks.is_empty() {
        // Not DocTags after all (or cut off before the first element closed): keep the words.
        return strip_tags(doctags);
    }
    blocks.join("\n\n")
}

/// Every `<...>` tag removed, whitespace tidied.
fn strip_tags(text: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Markdown without its syntax: heading marks, list bullets (`-`, `*`, `+`), bold, code
/// fences and backticks, table rules (cells become tab-separated), `<!-- -->` comment lines.
/// What the app's "Export text" saves, and what the OCR quality check compares.
pub fn markdown_to_text(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|l| !l.trim_start().starts_with("```") && !l.trim_start().starts_with("<!--"))
        .filter(|l| !l.trim().chars().all(|c| "|-: ".contains(c)) || l.trim().is_empty())
        .map(|l| {
            let l = l.trim_start_matches('#').trim_start();
            let l = ["- ", "* ", "+ "]
                .iter()
                .find_map(|bullet| l.strip_prefix(bullet))
                .unwrap_or(l);
            let l = l.replace("**", "").replace('`', "");
            if l.starts_with('|') {
                l.trim_matches('|')
                    .split('|')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\t")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctags_become_markdown_blocks() {
        let doctags = "<doctag><title><loc_10><loc_20><loc_30><loc_40>Annual  Report</title>\
            <page_header><loc_1><loc_2><loc_3><loc_4>ACME</page_header>\
            <section_header_level_1><loc_5><loc_6><loc_7><loc_8>1. Results</section_header_level_1>\
            <text><loc_1><loc_2><loc_3><loc_4>Sales grew\nby 4%.</text>\
            <unordered_list><list_item><loc_1><loc_2><loc_3><loc_4>north</list_item>\
            <list_item><loc_1><loc_2><loc_3><loc_4>south</list_item></unordered_list>\
            <formula><loc_1><loc_2><loc_3><loc_4>E = mc^2</formula>\
            <picture><loc_1><loc_2><loc_3><loc_4></picture></doctag>";
        assert_eq!(
            doctags_to_markdown(doctags),
            "# Annual Report\n\n## 1. Results\n\nSales grew by 4%.\n\n- north\n- south\n\n$$\nE = mc^2\n$$\n\n*[figure]*"
        );
    }

    #[test]
    fn otsl_tables_become_markdown_tables() {
        let doctags = "<otsl><loc_1><loc_2><loc_3><loc_4><ched>Year<ched>Sales<nl>\
            <fcel>2024<fcel>10 | 12<nl><fcel>2025<ecel><nl></otsl>";
        assert_eq!(
            doctags_to_markdown(doctags),
            "| Year | Sales |\n| --- | --- |\n| 2024 | 10 \\| 12 |\n| 2025 |  |"
        );
    }

    #[test]
    fn broken_doctags_do_not_panic_and_keep_what_parses() {
        assert_eq!(doctags_to_markdown("<text>half"), "half");
        assert_eq!(doctags_to_markdown("<text>ok</text><text>cut"), "ok");
        assert_eq!(doctags_to_markdown("plain words"), "plain words");
    }

    #[test]
    fn markdown_becomes_plain_text() {
        let md = "<!-- page 1 -->\n\n# Title\n\nSome **bold** `code`.\n\n- one\n* two\n\n| a | b |\n| --- | --- |\n| 1 | 2 |";
        assert_eq!(
            markdown_to_text(md),
            "Title\n\nSome bold code.\n\none\ntwo\n\na\tb\n1\t2"
        );
    }
}
