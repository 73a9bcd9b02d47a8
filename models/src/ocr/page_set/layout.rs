//! Typesetting the set's pages: blocks of text placed top to bottom in columns. Each block is
//! drawn into the page's PDF and, in the same reading order, written to its ground truth.

use super::pdf::{Face, Metrics, Sheet};

/// A face at a size in points; lines are 1.25 × the size apart.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub face: Face,
    pub size: f32,
}

impl Style {
    pub(super) const fn new(face: Face, size: f32) -> Self {
        Self { face, size }
    }

    fn leading(self) -> f32 {
        self.size * 1.25
    }
}

/// Where blocks go: a column `width` points wide at `x`, filled from `y` (points from the top
/// of the page) downwards.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub x: f32,
    pub width: f32,
    pub y: f32,
}

impl Column {
    /// Moves down by `points`.
    pub(super) fn skip(&mut self, points: f32) {
        self.y += points;
    }
}

/// How a table column aligns its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

/// How list items are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListMarker {
    /// "•": drawn, but not text (the truth leaves it out).
    Bullets,
    /// "1.", "2.", …: part of the text.
    Numbers,
}

/// A page being typeset, with its ground truth so far.
pub(super) struct Page<'m> {
    metrics: &'m Metrics,
    sheet: Sheet,
    blocks: Vec<String>,
}

impl<'m> Page<'m> {
    /// An empty page `width` × `height` points.
    pub(super) fn new(metrics: &'m Metrics, width: f32, height: f32) -> Self {
        Self {
            metrics,
            sheet: Sheet::new(width, height),
            blocks: Vec::new(),
        }
    }

    /// The drawing and the ground truth: blocks in reading order, a blank line between them.
    pub(super) fn finish(self) -> (Sheet, String) {
        (self.sheet, self.blocks.join("\n\n") + "\n")
    }

    fn width(&self, style: Style, text: &str) -> f32 {
        self.metrics.width(style.face, style.size, text)
    }

    /// `text` broken into lines at most `width` points wide, at spaces (no hyphenation).
    fn wrap(&self, style: Style, text: &str, width: f32) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            let fits = |line: &String| self.width(style, &format!("{line} {word}")) <= width;
            match lines.last_mut() {
                Some(line) if fits(line) => {
                    line.push(' ');
                    line.push_str(word);
                }
                _ => {
                    self.assert_fits(style, word, width);
                    lines.push(word.to_owned());
                }
            }
        }
        lines
    }

    fn assert_fits(&self, style: Style, text: &str, width: f32) {
        let needed = self.width(style, text);
        assert!(
            needed <= width,
            "{text:?} needs {needed:.1} pt, the room is {width:.1} pt"
        );
    }

    /// Draws one line at the column's cursor, `indent` points in, and moves the cursor down.
    fn draw_line(&mut self, column: &mut Column, style: Style, indent: f32, text: &str) {
        let baseline = column.y + style.size;
        self.sheet
            .text(style.face, style.size, column.x + indent, baseline, text);
        column.y += style.leading();
    }

    /// Half a line of space after a block.
    fn end_block(&mut self, column: &mut Column, style: Style, truth: String) {
        column.y += style.leading() / 2.0;
        self.blocks.push(truth);
    }

    /// A paragraph (or heading) filled into the column's width.
    pub(super) fn paragraph(&mut self, column: &mut Column, style: Style, text: &str) {
        let lines = self.wrap(style, text, column.width);
        for line in &lines {
            self.draw_line(column, style, 0.0, line);
        }
        self.end_block(column, style, lines.join("\n"));
    }

    /// Lines set exactly as given (spaces kept, no wrapping), e.g. a monospaced listing.
    pub(super) fn preformatted(&mut self, column: &mut Column, style: Style, lines: &[&str]) {
        for line in lines {
            self.assert_fits(style, line, column.width);
            self.draw_line(column, style, 0.0, line);
        }
        let truth: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
        self.end_block(column, style, truth.join("\n"));
    }

    /// A list; long items wrap under their first word.
    pub(super) fn list(
        &mut self,
        column: &mut Column,
        style: Style,
        items: &[&str],
        marker: ListMarker,
    ) {
        let indent = style.size * 1.6;
        let mut truth = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mark = match marker {
                ListMarker::Numbers => format!("{}.", i + 1),
                ListMarker::Bullets => "•".to_owned(),
            };
            let lines = self.wrap(style, item, column.width - indent);
            let baseline = column.y + style.size;
            self.sheet
                .text(style.face, style.size, column.x, baseline, &mark);
            for line in &lines {
                self.draw_line(column, style, indent, line);
            }
            let text = lines.join("\n");
            truth.push(match marker {
                ListMarker::Numbers => format!("{mark} {text}"),
                ListMarker::Bullets => text,
            });
        }
        self.end_block(column, style, truth.join("\n"));
    }

    /// A table with a header row in `header` style, rules above and below the header and below
    /// the last row; `columns` gives each column's width and alignment. The truth has one line
    /// per row, cells separated by tabs.
    pub(super) fn table(
        &mut self,
        column: &mut Column,
        (header, body): (Style, Style),
        columns: &[(f32, Align)],
        rows: &[&[&str]],
    ) {
        let pad = body.size * 0.4;
        let right = column.x + columns.iter().map(|c| c.0).sum::<f32>();
        let rule = |sheet: &mut Sheet, y: f32| sheet.rule(column.x, right, y, 0.6);
        rule(&mut self.sheet, column.y);
        column.y += pad;
        let mut truth = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let style = if r == 0 { header } else { body };
            let baseline = column.y + style.size;
            let mut x = column.x;
            for (cell, &(width, align)) in row.iter().zip(columns) {
                let room = width - 2.0 * pad;
                self.assert_fits(style, cell, room);
                let offset = match align {
                    Align::Left => pad,
                    Align::Right => width - pad - self.width(style, cell),
                };
                self.sheet
                    .text(style.face, style.size, x + offset, baseline, cell);
                x += width;
            }
            column.y += style.leading() + pad;
            if r == 0 || r + 1 == rows.len() {
                rule(&mut self.sheet, column.y - pad / 2.0);
            }
            truth.push(row.join("\t"));
        }
        self.end_block(column, body, truth.join("\n"));
    }
}
