//! Character error rate (CER): how far a reading is from a page's known text.
//!
//! Both texts are first normalised by [`normalize`]: Markdown syntax removed with
//! [`markdown_to_text`] (what "Export text" does, so a model answering in Markdown is compared
//! on its text), then every run of whitespace — spaces, tabs, line and page breaks — made one
//! space, and the ends trimmed. Nothing else changes: case, punctuation, accents and digits
//! all count.
//!
//! The error count is the Levenshtein distance over Unicode scalar values (`char`s):
//! substitutions, insertions and deletions each cost 1. The rate divides it by the truth's
//! length, so it is 0 for a perfect reading and may exceed 1 when a reading adds much text.

use serde::Serialize;

use super::markdown_to_text;

/// A text as the CER compares it: Markdown syntax removed, whitespace runs made one space,
/// ends trimmed.
pub fn normalize(text: &str) -> String {
    markdown_to_text(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fewest single-character substitutions, insertions and deletions that turn `a` into `b`.
pub fn edit_distance(a: &[char], b: &[char]) -> usize {
    // One row of the dynamic-programming table at a time: row[j] = distance(a[..i], b[..j]).
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The errors of one reading against its truth, both normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CharErrors {
    /// Edit distance between the normalised truth and reading.
    pub edits: usize,
    /// Characters in the normalised truth.
    pub truth_chars: usize,
}

impl CharErrors {
    /// Compares `reading` with `truth` after [`normalize`] on both.
    pub fn measure(truth: &str, reading: &str) -> Self {
        let truth: Vec<char> = normalize(truth).chars().collect();
        let reading: Vec<char> = normalize(reading).chars().collect();
        Self {
            edits: edit_distance(&truth, &reading),
            truth_chars: truth.len(),
        }
    }

    /// Edits per truth character. An empty truth counts as one character, so the rate of any
    /// reading of it stays finite (0 for an empty reading).
    pub fn rate(&self) -> f64 {
        self.edits as f64 / self.truth_chars.max(1) as f64
    }
}

impl std::ops::Add for CharErrors {
    type Output = Self;

    /// Errors of several pages together: the total rate is the sum of edits over the sum of
    /// truth characters (long pages weigh more), not a mean of page rates.
    fn add(self, other: Self) -> Self {
        Self {
            edits: self.edits + other.edits,
            truth_chars: self.truth_chars + other.truth_chars,
        }
    }
}

impl std::iter::Sum for CharErrors {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cer(truth: &str, reading: &str) -> (usize, usize) {
        let e = CharErrors::measure(truth, reading);
        (e.edits, e.truth_chars)
    }

    #[test]
    fn identical_texts_have_no_errors() {
        assert_eq!(cer("The quick brown fox.", "The quick brown fox."), (0, 20));
        assert_eq!(CharErrors::measure("abc", "abc").rate(), 0.0);
    }

    #[test]
    fn substitution_insertion_and_deletion_cost_one_each() {
        assert_eq!(cer("kitten", "sitten"), (1, 6));
        assert_eq!(cer("kitten", "kitteny"), (1, 6));
        assert_eq!(cer("kitten", "kiten"), (1, 6));
        assert_eq!(cer("kitten", "sitting"), (3, 6));
        assert_eq!(CharErrors::measure("abcd", "abxd").rate(), 0.25);
    }

    #[test]
    fn a_reading_may_cost_more_than_the_truth_is_long() {
        let e = CharErrors::measure("ab", "xyzw");
        assert_eq!((e.edits, e.truth_chars), (4, 2));
        assert_eq!(e.rate(), 2.0);
    }

    #[test]
    fn empty_truth_or_reading() {
        assert_eq!(cer("", ""), (0, 0));
        assert_eq!(CharErrors::measure("", "").rate(), 0.0);
        assert_eq!(cer("", "abc"), (3, 0));
        assert_eq!(CharErrors::measure("", "abc").rate(), 3.0);
        assert_eq!(cer("abc", ""), (3, 3));
        assert_eq!(CharErrors::measure("abc", "").rate(), 1.0);
    }

    #[test]
    fn characters_are_unicode_scalar_values_not_bytes() {
        // "é" is two bytes in UTF-8 but one character; "ß" → "ss" is a substitution and an
        // insertion.
        assert_eq!(cer("café", "cafe"), (1, 4));
        assert_eq!(cer("Straße", "Strasse"), (2, 6));
        assert_eq!(cer("日本語", "日本"), (1, 3));
        assert_eq!(edit_distance(&['€'], &['E']), 1);
    }

    #[test]
    fn whitespace_and_markdown_are_normalised_away() {
        assert_eq!(
            normalize("  two\n\nlines\tand   tabs \u{c}"),
            "two lines and tabs"
        );
        assert_eq!(
            normalize("# Title\n\n- **one**\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
            "Title one two a b 1 2"
        );
        assert_eq!(cer("Title\nSome text", "## Title\n\nSome  text"), (0, 15));
        // Case and punctuation still count.
        assert_eq!(cer("Total: 12.", "total 12"), (3, 10));
    }

    #[test]
    fn page_errors_add_up_to_a_total() {
        let total: CharErrors = [
            CharErrors::measure("abcd", "abcd"),
            CharErrors::measure("abcdef", "abc"),
        ]
        .into_iter()
        .sum();
        assert_eq!((total.edits, total.truth_chars), (3, 10));
        assert_eq!(total.rate(), 0.3);
    }
}
