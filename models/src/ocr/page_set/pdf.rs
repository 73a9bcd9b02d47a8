//! A one-page PDF written by hand: text in the standard 14 fonts (no font file to embed or
//! commit: hayro draws them with its built-in Foxit substitutes) and straight rules.

use std::fmt::Write as _;
use std::sync::Arc;

use hayro_font::{Font, FontCache, FontQuery, FontResolverFn, StandardFont};

/// A typeface of the set: three families, each with the styles its pages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Face {
    Sans,
    SansBold,
    SansOblique,
    Serif,
    SerifBold,
    SerifItalic,
    Mono,
    MonoBold,
}

impl Face {
    const ALL: [Face; 8] = [
        Face::Sans,
        Face::SansBold,
        Face::SansOblique,
        Face::Serif,
        Face::SerifBold,
        Face::SerifItalic,
        Face::Mono,
        Face::MonoBold,
    ];

    fn standard(self) -> StandardFont {
        match self {
            Face::Sans => StandardFont::Helvetica,
            Face::SansBold => StandardFont::HelveticaBold,
            Face::SansOblique => StandardFont::HelveticaOblique,
            Face::Serif => StandardFont::TimesRoman,
            Face::SerifBold => StandardFont::TimesBold,
            Face::SerifItalic => StandardFont::TimesItalic,
            Face::Mono => StandardFont::Courier,
            Face::MonoBold => StandardFont::CourierBold,
        }
    }

    /// The font's number: its resource name in the page (`/F0` …) and its place in `ALL`.
    fn resource(self) -> usize {
        self as usize
    }
}

/// The byte of `c` in WinAnsiEncoding (the PDF's text encoding), for the characters the set
/// uses: ASCII, Latin-1 letters and a few typographic marks.
fn win_ansi(c: char) -> Option<u8> {
    match c {
        ' '..='~' | '\u{a0}'..='\u{ff}' => Some(c as u32 as u8),
        '€' => Some(0x80),
        '•' => Some(0x95),
        '–' => Some(0x96),
        '—' => Some(0x97),
        _ => None,
    }
}

/// A character code in the fonts' built-in StandardEncoding with the same advance width as
/// `c`: accented letters are as wide as their base letters, € as a digit in these fonts.
fn standard_code(c: char) -> Option<u8> {
    let base = match c {
        ' '..='~' => return Some(c as u8),
        '€' => '0',
        '•' => return Some(0xb7),
        '–' => return Some(0xb1),
        '—' => return Some(0xd0),
        'ß' => return Some(0xfb),
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' => 'o',
        'ù'..='ü' => 'u',
        'À'..='Å' => 'A',
        'Ç' => 'C',
        'È'..='Ë' => 'E',
        'Ñ' => 'N',
        'Ò'..='Ö' => 'O',
        'Ù'..='Ü' => 'U',
        _ => return None,
    };
    Some(base as u8)
}

/// Advance widths of the eight faces, read from the same font metrics hayro draws with.
pub(super) struct Metrics {
    fonts: Vec<Font<'static>>,
}

impl Metrics {
    pub(super) fn new() -> Self {
        let resolver: FontResolverFn = Arc::new(|query: &FontQuery| match query {
            FontQuery::Standard(font) => Some(font.get_font_data()),
            FontQuery::Fallback(_) => None,
        });
        let cache = FontCache::new();
        let fonts = Face::ALL
            .iter()
            .map(|face| {
                cache
                    .standard_font(face.standard(), &resolver)
                    .expect("hayro embeds the standard 14 fonts")
            })
            .collect();
        Self { fonts }
    }

    /// The width of `text` set in `face` at `size` points, in points.
    ///
    /// # Panics
    /// On a character outside WinAnsiEncoding: the set's text is fixed in the code.
    pub(super) fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let font = &self.fonts[face.resource()];
        let units: f64 = text
            .chars()
            .map(|c| {
                let code = standard_code(c).unwrap_or_else(|| panic!("{c:?} is not in the set"));
                font.code_advance(u32::from(code)).x
            })
            .sum();
        (units / 1000.0) as f32 * size
    }
}

/// One page's drawing operators, in points with y measured down from the top edge.
pub(super) struct Sheet {
    width: f32,
    height: f32,
    ops: String,
}

impl Sheet {
    pub(super) fn new(width: f32, height: f32) -> Self {
        Self {
            width,
            height,
            ops: String::new(),
        }
    }

    /// `text` in `face` at `size` points, its baseline starting at (`x`, `baseline`).
    pub(super) fn text(&mut self, face: Face, size: f32, x: f32, baseline: f32, text: &str) {
        let hex: String = text
            .chars()
            .map(|c| {
                let byte = win_ansi(c).unwrap_or_else(|| panic!("{c:?} is not in WinAnsi"));
                format!("{byte:02X}")
            })
            .collect();
        let _ = writeln!(
            self.ops,
            "BT /F{} {size} Tf {x:.2} {:.2} Td <{hex}> Tj ET",
            face.resource(),
            self.height - baseline
        );
    }

    /// A horizontal rule from `x0` to `x1` at `y`, `weight` points thick.
    pub(super) fn rule(&mut self, x0: f32, x1: f32, y: f32, weight: f32) {
        let y = self.height - y;
        let _ = writeln!(self.ops, "{weight} w {x0:.2} {y:.2} m {x1:.2} {y:.2} l S");
    }

    /// The page as a PDF file.
    pub(super) fn to_pdf(&self) -> Vec<u8> {
        let fonts: String = Face::ALL
            .iter()
            .enumerate()
            .map(|(i, _)| format!("/F{i} {} 0 R ", 5 + i))
            .collect();
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font << {fonts}>> >> /Contents 4 0 R >>",
                self.width, self.height
            ),
            format!(
                "<< /Length {} >>\nstream\n{}endstream",
                self.ops.len(),
                self.ops
            ),
        ];
        objects.extend(Face::ALL.iter().map(|face| {
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>",
                face.standard().postscript_name()
            )
        }));
        let mut pdf = String::from("%PDF-1.4\n");
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            let _ = write!(pdf, "{} 0 obj\n{object}\nendobj\n", i + 1);
        }
        let xref = pdf.len();
        let _ = write!(pdf, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for offset in offsets {
            let _ = writeln!(pdf, "{offset:010} 00000 n ");
        }
        let _ = write!(
            pdf,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        pdf.into_bytes()
    }
}
