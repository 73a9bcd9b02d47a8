//! A 5×7 bitmap font for the capital letters A–Z, used to print words on demo scenes.

/// Glyph width in font pixels.
pub(super) const GLYPH_WIDTH: usize = 5;
/// Glyph height in font pixels.
pub(super) const GLYPH_HEIGHT: usize = 7;
/// Horizontal distance between the left edges of neighbouring glyphs (one blank column).
pub(super) const ADVANCE: usize = GLYPH_WIDTH + 1;

/// One row per entry, top first; bit 4 is the leftmost column.
#[rustfmt::skip]
const GLYPHS: [[u8; GLYPH_HEIGHT]; 26] = [
    [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001], // A
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110], // B
    [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110], // C
    [0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110], // D
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111], // E
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000], // F
    [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111], // G
    [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001], // H
    [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110], // I
    [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100], // J
    [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001], // K
    [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111], // L
    [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001], // M
    [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001], // N
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110], // O
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000], // P
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101], // Q
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001], // R
    [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110], // S
    [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100], // T
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110], // U
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100], // V
    [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010], // W
    [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001], // X
    [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100], // Y
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111], // Z
];

/// Whether font pixel (`column`, `row`) of `letter` is inked, drawing `a`–`z` as capitals;
/// false outside the glyph cell and for anything but a Latin letter.
pub(super) fn is_inked(letter: u8, column: usize, row: usize) -> bool {
    let letter = letter.to_ascii_uppercase();
    if !letter.is_ascii_uppercase() || column >= GLYPH_WIDTH || row >= GLYPH_HEIGHT {
        return false;
    }
    let bits = GLYPHS[usize::from(letter - b'A')][row];
    bits >> (GLYPH_WIDTH - 1 - column) & 1 == 1
}

/// The number of inked font pixels in `text` (anything but a Latin letter counts as blank).
#[cfg(test)]
pub(super) fn inked_count(text: &str) -> usize {
    text.bytes()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_uppercase())
        .map(|c| {
            GLYPHS[usize::from(c - b'A')]
                .iter()
                .map(|row| row.count_ones() as usize)
                .sum::<usize>()
        })
        .sum()
}
