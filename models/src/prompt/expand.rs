//! Image placeholder expansion, as the LLaVA-family processors of transformers 4.57 do it.
//!
//! `LlavaProcessor.__call__` and `LlavaOnevisionProcessor._expand_image_tokens` replace each
//! occurrence of the image token string in the rendered prompt, left to right, by the image
//! token repeated once per image feature, and only then tokenise the whole text. Since the image
//! token is an added special token, every copy becomes exactly one id.

use std::ops::Range;

use super::PromptError;

/// Replaces the `i`-th occurrence of `image_token` in `text` by `image_token` repeated
/// `counts[i]` times.
///
/// Occurrences are found left to right without overlap (Python's `str.replace`). The number
/// of occurrences must equal `counts.len()`; note that a user typing the placeholder
/// (`"<image>"`) in their message adds an occurrence, exactly as in HF.
pub fn expand_image_placeholders(
    text: &str,
    image_token: &str,
    counts: &[usize],
) -> Result<String, PromptError> {
    let count_error = |found| PromptError::PlaceholderCount {
        placeholder: image_token.to_string(),
        found,
        expected: counts.len(),
    };
    if image_token.is_empty() {
        return Err(count_error(0));
    }
    let found = text.matches(image_token).count();
    if found != counts.len() {
        return Err(count_error(found));
    }
    let extra: usize = counts.iter().map(|n| n.saturating_sub(1)).sum();
    let mut out = String::with_capacity(text.len() + extra * image_token.len());
    let mut pieces = text.split(image_token);
    if let Some(first) = pieces.next() {
        out.push_str(first);
    }
    for (piece, &n) in pieces.zip(counts) {
        for _ in 0..n {
            out.push_str(image_token);
        }
        out.push_str(piece);
    }
    Ok(out)
}

/// The maximal runs of `image_token_id` in `ids`, in order.
///
/// Images whose placeholders are adjacent in the prompt (`<image><image>`) form one run; use
/// [`image_positions`] to split by image.
pub fn image_token_spans(ids: &[u32], image_token_id: u32) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, &id) in ids.iter().enumerate() {
        match (id == image_token_id, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(s..ids.len());
    }
    spans
}

/// The positions of each image's tokens in `ids`: image `i` takes the next `counts[i]`
/// occurrences of `image_token_id`, which must be contiguous (one range per image).
///
/// Errors when `ids` hold a different number of image tokens than `counts` add up to, or when
/// one image's tokens are interrupted by other ids.
pub fn image_positions(
    ids: &[u32],
    image_token_id: u32,
    counts: &[usize],
) -> Result<Vec<Range<usize>>, PromptError> {
    let found = ids.iter().filter(|&&id| id == image_token_id).count();
    let expected: usize = counts.iter().sum();
    let mismatch = || PromptError::ImageTokenCount {
        token_id: image_token_id,
        found,
        expected,
    };
    if found != expected {
        return Err(mismatch());
    }
    let mut ranges = Vec::with_capacity(counts.len());
    let mut spans = image_token_spans(ids, image_token_id).into_iter();
    let mut current: Option<Range<usize>> = None;
    for &n in counts {
        let span = match current.take().filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => spans.next().ok_or_else(mismatch)?,
        };
        if span.len() < n {
            // The image's tokens are split by other ids: not a layout any processor makes.
            return Err(mismatch());
        }
        ranges.push(span.start..span.start + n);
        current = Some(span.start + n..span.end);
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_each_placeholder_by_its_own_count() {
        let text = "USER: <image>\n<image>\nCompare. ASSISTANT:";
        let out = expand_image_placeholders(text, "<image>", &[2, 3]).unwrap();
        assert_eq!(
            out,
            "USER: <image><image>\n<image><image><image>\nCompare. ASSISTANT:"
        );
        assert_eq!(
            expand_image_placeholders("no images", "<image>", &[]).unwrap(),
            "no images"
        );
    }

    #[test]
    fn placeholder_count_must_match_images() {
        let err = expand_image_placeholders("<image> and <image>", "<image>", &[5]).unwrap_err();
        assert!(
            matches!(
                err,
                PromptError::PlaceholderCount {
                    found: 2,
                    expected: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = expand_image_placeholders("text", "<image>", &[5]).unwrap_err();
        assert!(matches!(
            err,
            PromptError::PlaceholderCount {
                found: 0,
                expected: 1,
                ..
            }
        ));
    }

    #[test]
    fn spans_and_positions() {
        let ids = [1, 9, 9, 5, 9, 9, 9, 2, 9];
        assert_eq!(image_token_spans(&ids, 9), vec![1..3, 4..7, 8..9]);
        assert_eq!(
            image_positions(&ids, 9, &[2, 3, 1]).unwrap(),
            vec![1..3, 4..7, 8..9]
        );
        // adjacent images share one run
        let adjacent = [1, 9, 9, 9, 9, 2];
        assert_eq!(image_token_spans(&adjacent, 9), vec![1..5]);
        assert_eq!(
            image_positions(&adjacent, 9, &[1, 3]).unwrap(),
            vec![1..2, 2..5]
        );
        assert!(image_positions(&adjacent, 9, &[1, 2]).is_err());
        assert!(image_positions(&ids, 9, &[3, 3]).is_err());
    }
}
