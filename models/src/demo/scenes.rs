//! Procedural scenes for the "Iris shapes" demo model: one to five flat coloured shapes on a
//! dark background, sometimes with a printed word, and the questions each scene answers.
//!
//! Scenes are drawn from the caller's RNG, so a seed fixes them. Geometry is in 0..1 image
//! units (x to the right, y down), so a scene renders the same at any size. Train and test
//! scenes are kept apart by a hash of their content (see [`Scene::content_key`]).

use std::sync::OnceLock;

use image::{Rgb, RgbImage};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use super::font;

/// Every shape kind, in a fixed order.
pub const SHAPES: [ShapeKind; 5] = [
    ShapeKind::Circle,
    ShapeKind::Square,
    ShapeKind::Triangle,
    ShapeKind::Star,
    ShapeKind::Cross,
];

/// Every shape colour, in a fixed order.
pub const COLOURS: [Colour; 7] = [
    Colour::Red,
    Colour::Orange,
    Colour::Yellow,
    Colour::Green,
    Colour::Blue,
    Colour::Purple,
    Colour::White,
];

/// The words a scene may print (in capitals), none of them a colour, shape, size or count word.
pub const PRINTED_WORDS: [&str; 16] = [
    "cat", "dog", "sun", "sky", "fish", "tree", "bird", "moon", "boat", "cake", "frog", "king",
    "lamp", "rose", "wolf", "zoo",
];

/// Nominal radii of the two sizes, as a fraction of the image side; each shape's radius is
/// jittered by up to ±[`RADIUS_JITTER`] of this, which keeps the sizes well apart.
const SMALL_RADIUS: f32 = 0.085;
const LARGE_RADIUS: f32 = 0.15;
const RADIUS_JITTER: f32 = 0.08;
/// Least clearance between two shapes' bounding circles.
const SHAPE_GAP: f32 = 0.03;
/// Least clearance between anything drawn and the image edge, and around the word's box.
const MARGIN: f32 = 0.02;
/// Positions tried for one shape before the layout is started again.
const PLACEMENT_TRIES: usize = 100;
const WORD_PROBABILITY: f64 = 0.4;
/// Brightest background channel, and the most its noise adds or takes; every shape colour is
/// far brighter in some channel.
const BACKGROUND_MAX: u8 = 70;
const MAX_NOISE: u8 = 6;
/// One scene in this many (by content key) belongs to the test split.
const TEST_ONE_IN: u64 = 10;
/// Samples per pixel side when rendering (4×4 supersampling).
const SUPERSAMPLE: u32 = 4;
/// Centre band of the image for position questions: a shape whose centre lies inside it is
/// neither left nor right (top nor bottom), and gets no question on that axis.
const CENTRE_BAND: (f32, f32) = (0.4, 0.6);

/// Half the side of a square, a star's inner radius, and a cross's arm length and half width,
/// in units of the shape's radius; every shape lies within its radius.
const SQUARE_HALF_SIDE: f32 = 0.7;
const STAR_INNER_RADIUS: f32 = 0.42;
const CROSS_ARM_LENGTH: f32 = 0.94;
const CROSS_ARM_HALF_WIDTH: f32 = 0.35 * CROSS_ARM_LENGTH;
/// An upward equilateral triangle inscribed in the unit circle.
const TRIANGLE: [[f32; 2]; 3] = [[0.0, -1.0], [0.866_025_4, 0.5], [-0.866_025_4, 0.5]];

/// The kind of a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    Circle,
    Square,
    Triangle,
    Star,
    Cross,
}

impl ShapeKind {
    /// The word for this kind, as it appears in questions and answers.
    pub fn name(self) -> &'static str {
        ["circle", "square", "triangle", "star", "cross"][self as usize]
    }

    /// The plural word, for "how many circles are there ?".
    pub fn plural(self) -> &'static str {
        ["circles", "squares", "triangles", "stars", "crosses"][self as usize]
    }

    /// Whether the point (`u`, `v`), in units of the radius from the centre, is inside.
    fn contains(self, u: f32, v: f32) -> bool {
        if u * u + v * v > 1.0 {
            return false;
        }
        match self {
            Self::Circle => true,
            Self::Square => u.abs() <= SQUARE_HALF_SIDE && v.abs() <= SQUARE_HALF_SIDE,
            Self::Triangle => inside_polygon(&TRIANGLE, u, v),
            Self::Star => inside_polygon(star_outline(), u, v),
            Self::Cross => {
                let arm = |along: f32, across: f32| {
                    along.abs() <= CROSS_ARM_LENGTH && across.abs() <= CROSS_ARM_HALF_WIDTH
                };
                arm(u, v) || arm(v, u)
            }
        }
    }
}

/// A shape's fill colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colour {
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    White,
}

impl Colour {
    /// The word for this colour.
    pub fn name(self) -> &'static str {
        [
            "red", "orange", "yellow", "green", "blue", "purple", "white",
        ][self as usize]
    }

    /// The fill, bright and saturated so that it stands out from every background.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Red => [230, 40, 40],
            Self::Orange => [255, 140, 0],
            Self::Yellow => [250, 220, 30],
            Self::Green => [40, 200, 60],
            Self::Blue => [40, 90, 255],
            Self::Purple => [170, 60, 230],
            Self::White => [245, 245, 245],
        }
    }
}

/// A shape's size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    Small,
    Large,
}

impl Size {
    /// The word for this size.
    pub fn name(self) -> &'static str {
        ["small", "large"][self as usize]
    }

    fn nominal_radius(self) -> f32 {
        [SMALL_RADIUS, LARGE_RADIUS][self as usize]
    }
}

/// One flat-filled shape. The shape lies within the circle of `radius` around its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub kind: ShapeKind,
    pub colour: Colour,
    pub size: Size,
    /// Centre, as a fraction of the image side.
    pub cx: f32,
    pub cy: f32,
    /// Bounding-circle radius, as a fraction of the image side.
    pub radius: f32,
}

impl Shape {
    /// Whether the image point (`x`, `y`) (0..1 units) is inside the shape.
    pub fn contains(&self, x: f32, y: f32) -> bool {
        self.kind
            .contains((x - self.cx) / self.radius, (y - self.cy) / self.radius)
    }

    /// "red circle": names the shape uniquely, as a scene never repeats a (colour, kind) pair.
    pub(super) fn label(&self) -> String {
        format!("{} {}", self.colour.name(), self.kind.name())
    }

    fn touches_box(&self, x0: f32, y0: f32, x1: f32, y1: f32) -> bool {
        x0 <= self.cx + self.radius
            && x1 >= self.cx - self.radius
            && y0 <= self.cy + self.radius
            && y1 >= self.cy - self.radius
    }
}

/// A dark background: a vertical gradient from `top` to `bottom` plus per-pixel noise of up to
/// ±`noise` levels (seeded by `noise_seed`, so rendering stays deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Background {
    pub top: [u8; 3],
    pub bottom: [u8; 3],
    pub noise: u8,
    pub noise_seed: u32,
}

impl Background {
    /// A plain background of one colour.
    pub fn plain(rgb: [u8; 3]) -> Self {
        Self {
            top: rgb,
            bottom: rgb,
            noise: 0,
            noise_seed: 0,
        }
    }

    fn random(rng: &mut impl Rng) -> Self {
        let top = dark_tone(rng);
        let gradient = rng.random_bool(0.5);
        let bottom = if gradient { dark_tone(rng) } else { top };
        let noise = rng.random_range(0..=MAX_NOISE);
        Self {
            top,
            bottom,
            noise,
            noise_seed: rng.random(),
        }
    }

    /// The colour of pixel (`px`, `py`) of a `size`×`size` rendering, before clamping.
    fn at(&self, px: u32, py: u32, size: u32) -> [f32; 3] {
        let t = (py as f32 + 0.5) / size as f32;
        let offset = if self.noise == 0 {
            0.0
        } else {
            let hash = mix32(px ^ mix32(py ^ mix32(self.noise_seed)));
            let span = 2 * u32::from(self.noise) + 1;
            (hash % span) as f32 - f32::from(self.noise)
        };
        [0, 1, 2].map(|c| {
            let (a, b) = (f32::from(self.top[c]), f32::from(self.bottom[c]));
            a + (b - a) * t + offset
        })
    }
}

/// A word printed in capitals in the 5×7 bitmap font, in grey level `grey` on every channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintedWord {
    /// One of [`PRINTED_WORDS`] (lower case; drawn in capitals).
    pub text: &'static str,
    /// Top-left corner, as a fraction of the image side.
    pub x: f32,
    pub y: f32,
    /// The side of one font pixel, as a fraction of the image side (a glyph is 5×7 of these).
    pub dot: f32,
    pub grey: u8,
}

impl PrintedWord {
    fn random(rng: &mut impl Rng) -> Self {
        let text = PRINTED_WORDS[rng.random_range(..PRINTED_WORDS.len())];
        let dot = rng.random_range(0.013..0.015);
        let mut word = Self {
            text,
            x: 0.0,
            y: 0.0,
            dot,
            grey: rng.random_range(200..=255),
        };
        let (width, height) = word.extent();
        word.x = rng.random_range(MARGIN..1.0 - MARGIN - width);
        word.y = rng.random_range(MARGIN..1.0 - MARGIN - height);
        word
    }

    /// Width and height, as fractions of the image side.
    pub fn extent(&self) -> (f32, f32) {
        let columns = self.text.len() * font::ADVANCE - 1;
        (
            columns as f32 * self.dot,
            font::GLYPH_HEIGHT as f32 * self.dot,
        )
    }

    /// Whether the image point (`x`, `y`) falls on an inked font pixel.
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let column = ((x - self.x) / self.dot).floor();
        let row = ((y - self.y) / self.dot).floor();
        if column < 0.0 || row < 0.0 {
            return false;
        }
        let (column, row) = (column as usize, row as usize);
        let letter = self.text.as_bytes().get(column / font::ADVANCE);
        letter.is_some_and(|&c| font::is_inked(c, column % font::ADVANCE, row))
    }

    /// Distance from (`x`, `y`) to the word's box (0 inside it).
    pub(super) fn distance_to_box(&self, x: f32, y: f32) -> f32 {
        let (width, height) = self.extent();
        let dx = (self.x - x).max(x - self.x - width).max(0.0);
        let dy = (self.y - y).max(y - self.y - height).max(0.0);
        dx.hypot(dy)
    }
}

/// Which half of the data a scene belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Test,
}

/// A scene: shapes that neither overlap each other nor the word, all inside the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub background: Background,
    /// In no particular order; no two share both colour and kind.
    pub shapes: Vec<Shape>,
    pub word: Option<PrintedWord>,
}

impl Scene {
    /// A random scene from `split`: scenes are drawn until one falls in it (about ten draws
    /// for a test scene).
    pub fn generate(rng: &mut impl Rng, split: Split) -> Self {
        loop {
            let scene = Self::random(rng);
            if scene.split() == split {
                return scene;
            }
        }
    }

    /// A random scene from either split.
    pub fn random(rng: &mut impl Rng) -> Self {
        let background = Background::random(rng);
        let word = rng
            .random_bool(WORD_PROBABILITY)
            .then(|| PrintedWord::random(rng));
        let count = rng.random_range(1..=SHAPES.len());
        let mut pairs: Vec<(ShapeKind, Colour)> = SHAPES
            .iter()
            .flat_map(|&kind| COLOURS.map(|colour| (kind, colour)))
            .collect();
        pairs.shuffle(rng);
        pairs.truncate(count);
        let shapes = loop {
            if let Some(shapes) = place_shapes(rng, &pairs, word.as_ref()) {
                break shapes;
            }
        };
        Self {
            background,
            shapes,
            word,
        }
    }

    /// The scene's content at the granularity the questions see: each shape's colour, kind,
    /// size and position band (left / centre / right × top / middle / bottom, split as the
    /// position questions split them), sorted, plus the word. Two scenes with one key answer
    /// nearly every question alike.
    pub fn content_key(&self) -> String {
        let mut parts: Vec<String> = self
            .shapes
            .iter()
            .map(|s| {
                let cell = 3 * band(s.cx) + band(s.cy);
                format!("{} {} {cell}", s.size.name(), s.label())
            })
            .collect();
        parts.sort();
        if let Some(word) = &self.word {
            parts.push(format!("word {}", word.text));
        }
        parts.join(" ")
    }

    /// The split, from a hash of [`Self::content_key`]: about one scene in ten is `Test`, and a
    /// test scene's content never occurs in training.
    pub fn split(&self) -> Split {
        if fnv1a(self.content_key().as_bytes()).is_multiple_of(TEST_ONE_IN) {
            Split::Test
        } else {
            Split::Train
        }
    }

    /// The scene as a `size`×`size` image, anti-aliased by 4×4 supersampling.
    pub fn render(&self, size: u32) -> RgbImage {
        let pixel = 1.0 / size as f32;
        let step = pixel / SUPERSAMPLE as f32;
        RgbImage::from_fn(size, size, |px, py| {
            let background = self.background.at(px, py, size);
            let (x0, y0) = (px as f32 * pixel, py as f32 * pixel);
            if !self.ink_near(x0, y0, x0 + pixel, y0 + pixel) {
                return to_pixel(background);
            }
            let mut sum = [0.0f32; 3];
            for sy in 0..SUPERSAMPLE {
                for sx in 0..SUPERSAMPLE {
                    let x = x0 + (sx as f32 + 0.5) * step;
                    let y = y0 + (sy as f32 + 0.5) * step;
                    let colour = self
                        .ink_at(x, y)
                        .map_or(background, |rgb| rgb.map(f32::from));
                    sum = [0, 1, 2].map(|c| sum[c] + colour[c]);
                }
            }
            to_pixel(sum.map(|s| s / (SUPERSAMPLE * SUPERSAMPLE) as f32))
        })
    }

    /// Which pixels of a `size`×`size` rendering have their centre in shape `index`, row-major.
    ///
    /// # Panics
    /// If `index` is not an index into `shapes`.
    pub fn object_mask(&self, index: usize, size: u32) -> Vec<bool> {
        let shape = &self.shapes[index];
        let pixel = 1.0 / size as f32;
        let centre = |t: u32| (t as f32 + 0.5) * pixel;
        (0..size * size)
            .map(|i| shape.contains(centre(i % size), centre(i / size)))
            .collect()
    }

    fn ink_near(&self, x0: f32, y0: f32, x1: f32, y1: f32) -> bool {
        let near_word = self.word.as_ref().is_some_and(|w| {
            let (width, height) = w.extent();
            x0 <= w.x + width && x1 >= w.x && y0 <= w.y + height && y1 >= w.y
        });
        near_word || self.shapes.iter().any(|s| s.touches_box(x0, y0, x1, y1))
    }

    fn ink_at(&self, x: f32, y: f32) -> Option<[u8; 3]> {
        if let Some(word) = self.word.as_ref().filter(|w| w.contains(x, y)) {
            return Some([word.grey; 3]);
        }
        self.shapes
            .iter()
            .find(|s| s.contains(x, y))
            .map(|s| s.colour.rgb())
    }
}

/// Places one shape per (kind, colour) pair, each with a random size and position clear of
/// the edges, the other shapes and the word; `None` if some shape found no room.
fn place_shapes(
    rng: &mut impl Rng,
    pairs: &[(ShapeKind, Colour)],
    word: Option<&PrintedWord>,
) -> Option<Vec<Shape>> {
    let mut shapes: Vec<Shape> = Vec::with_capacity(pairs.len());
    for &(kind, colour) in pairs {
        let size = if rng.random_bool(0.5) {
            Size::Large
        } else {
            Size::Small
        };
        let radius =
            size.nominal_radius() * rng.random_range(1.0 - RADIUS_JITTER..1.0 + RADIUS_JITTER);
        let span = radius + MARGIN..1.0 - radius - MARGIN;
        let shape = (0..PLACEMENT_TRIES)
            .map(|_| Shape {
                kind,
                colour,
                size,
                cx: rng.random_range(span.clone()),
                cy: rng.random_range(span.clone()),
                radius,
            })
            .find(|new| {
                let clear_of_word =
                    word.is_none_or(|w| w.distance_to_box(new.cx, new.cy) >= radius + MARGIN);
                let clear_of_shapes = shapes
                    .iter()
                    .all(|s| (s.cx - new.cx).hypot(s.cy - new.cy) >= s.radius + radius + SHAPE_GAP);
                clear_of_word && clear_of_shapes
            })?;
        shapes.push(shape);
    }
    Some(shapes)
}

/// A colour with every channel at most [`BACKGROUND_MAX`].
fn dark_tone(rng: &mut impl Rng) -> [u8; 3] {
    [(); 3].map(|_| rng.random_range(0..=BACKGROUND_MAX))
}

/// 0, 1 or 2 for a coordinate before, inside or after [`CENTRE_BAND`].
pub(super) fn band(t: f32) -> u8 {
    if t < CENTRE_BAND.0 {
        0
    } else if t > CENTRE_BAND.1 {
        2
    } else {
        1
    }
}

/// The ten corners of a five-pointed star inscribed in the unit circle, first point up.
fn star_outline() -> &'static [[f32; 2]] {
    static OUTLINE: OnceLock<[[f32; 2]; 10]> = OnceLock::new();
    OUTLINE.get_or_init(|| {
        std::array::from_fn(|k| {
            let angle = -std::f32::consts::FRAC_PI_2 + k as f32 * std::f32::consts::PI / 5.0;
            let r = if k % 2 == 0 { 1.0 } else { STAR_INNER_RADIUS };
            [r * angle.cos(), r * angle.sin()]
        })
    })
}

/// Even-odd point-in-polygon test.
fn inside_polygon(points: &[[f32; 2]], u: f32, v: f32) -> bool {
    let mut inside = false;
    let mut previous = points[points.len() - 1];
    for &[x, y] in points {
        let [px, py] = previous;
        if (y > v) != (py > v) && u < (px - x) * (v - y) / (py - y) + x {
            inside = !inside;
        }
        previous = [x, y];
    }
    inside
}

fn to_pixel(rgb: [f32; 3]) -> Rgb<u8> {
    Rgb(rgb.map(|c| c.round().clamp(0.0, 255.0) as u8))
}

/// A 32-bit integer hash (lowbias32), for background noise.
fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// 64-bit FNV-1a: a hash that, unlike std's, is fixed across Rust releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    pub(crate) fn shape(kind: ShapeKind, colour: Colour, size: Size, cx: f32, cy: f32) -> Shape {
        let radius = size.nominal_radius();
        Shape {
            kind,
            colour,
            size,
            cx,
            cy,
            radius,
        }
    }

    /// A small red circle on the left, a large blue star at the top right, and "CAT" below it.
    pub(crate) fn known_scene() -> Scene {
        let circle = shape(ShapeKind::Circle, Colour::Red, Size::Small, 0.2, 0.5);
        let star = shape(ShapeKind::Star, Colour::Blue, Size::Large, 0.75, 0.25);
        let (x, y, dot, grey) = (0.55, 0.7, 0.014, 230);
        let word = PrintedWord {
            text: "cat",
            x,
            y,
            dot,
            grey,
        };
        let background = Background::plain([20, 30, 40]);
        Scene {
            background,
            shapes: vec![circle, star],
            word: Some(word),
        }
    }

    #[test]
    fn a_seed_fixes_the_scenes() {
        let scenes = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let splits = [Split::Train, Split::Test].repeat(10);
            splits
                .into_iter()
                .map(|split| Scene::generate(&mut rng, split))
                .collect::<Vec<_>>()
        };
        let (first, second) = (scenes(7), scenes(7));
        assert_eq!(first, second);
        assert_ne!(first, scenes(8));
        assert_eq!(first[0].render(64), second[0].render(64));
    }

    #[test]
    fn train_and_test_scenes_share_no_content() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut keys = |split| -> HashSet<String> {
            let scenes = (0..2000).map(|_| Scene::generate(&mut rng, split));
            scenes
                .inspect(|scene| assert_eq!(scene.split(), split))
                .map(|scene| scene.content_key())
                .collect()
        };
        let (train, test) = (keys(Split::Train), keys(Split::Test));
        assert!(train.is_disjoint(&test));
        let tests = (0..2000)
            .filter(|_| Scene::random(&mut rng).split() == Split::Test)
            .count();
        assert!(
            (100..=300).contains(&tests),
            "{tests} of 2000 scenes in the test split"
        );
    }

    #[test]
    fn generated_scenes_follow_the_layout_rules() {
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..1000 {
            let scene = Scene::random(&mut rng);
            assert!((1..=5).contains(&scene.shapes.len()));
            let pairs: HashSet<_> = scene.shapes.iter().map(|s| (s.kind, s.colour)).collect();
            assert_eq!(pairs.len(), scene.shapes.len());
            for (i, s) in scene.shapes.iter().enumerate() {
                let nominal = s.size.nominal_radius();
                assert!((s.radius - nominal).abs() <= nominal * RADIUS_JITTER + 1e-6);
                let edge = s.cx.min(s.cy).min(1.0 - s.cx).min(1.0 - s.cy);
                assert!(edge >= s.radius + MARGIN - 1e-6, "{s:?} leaves the image");
                for other in &scene.shapes[i + 1..] {
                    let distance = (s.cx - other.cx).hypot(s.cy - other.cy);
                    assert!(distance >= s.radius + other.radius + SHAPE_GAP - 1e-6);
                }
                let word_clearance = scene.word.map_or(1.0, |w| w.distance_to_box(s.cx, s.cy));
                assert!(word_clearance >= s.radius + MARGIN - 1e-6);
            }
            if let Some(word) = &scene.word {
                let (width, height) = word.extent();
                assert!(word.x.min(word.y) >= MARGIN);
                assert!((word.x + width).max(word.y + height) <= 1.0 - MARGIN);
            }
        }
    }

    #[test]
    fn a_circle_mask_covers_its_area() {
        let circle = shape(ShapeKind::Circle, Colour::Green, Size::Large, 0.5, 0.4);
        let scene = Scene {
            background: Background::plain([0; 3]),
            shapes: vec![circle],
            word: None,
        };
        let mask = scene.object_mask(0, 128);
        assert_eq!(mask.len(), 128 * 128);
        let area = mask.iter().filter(|&&m| m).count() as f32;
        let expected = std::f32::consts::PI * (circle.radius * 128.0).powi(2);
        assert!(
            (area / expected - 1.0).abs() < 0.03,
            "{area} pixels, expected {expected}"
        );
        for i in (0..mask.len()).filter(|&i| mask[i]) {
            let (x, y) = ((i % 128) as f32 / 128.0, (i / 128) as f32 / 128.0);
            assert!((x - circle.cx).hypot(y - circle.cy) <= circle.radius + 0.01);
        }
    }

    #[test]
    fn rendering_shows_shape_colours_and_background() {
        let image = known_scene().render(128);
        assert_eq!(image.get_pixel(25, 64).0, Colour::Red.rgb());
        assert_eq!(image.get_pixel(96, 32).0, Colour::Blue.rgb());
        assert_eq!(image.get_pixel(0, 127).0, [20, 30, 40]);
        let mut rng = StdRng::seed_from_u64(4);
        for _ in 0..30 {
            let scene = Scene::random(&mut rng);
            let image = scene.render(128);
            for s in &scene.shapes {
                let centre = image.get_pixel((s.cx * 128.0) as u32, (s.cy * 128.0) as u32);
                assert_eq!(centre.0, s.colour.rgb(), "{s:?}");
            }
            assert_eq!(
                *image.get_pixel(0, 0),
                to_pixel(scene.background.at(0, 0, 128))
            );
        }
    }

    #[test]
    fn rendering_looks_the_same_at_any_size() {
        let scene = known_scene();
        let (small, large) = (scene.render(128), scene.render(512));
        let mut total = 0.0;
        for (x, y, pixel) in small.enumerate_pixels() {
            for c in 0..3 {
                let block =
                    (0..16).map(|k| f32::from(large.get_pixel(4 * x + k % 4, 4 * y + k / 4)[c]));
                total += (block.sum::<f32>() / 16.0 - f32::from(pixel[c])).abs();
            }
        }
        let mean = total / (128.0 * 128.0 * 3.0);
        assert!(mean < 1.0, "mean difference {mean}");
    }

    #[test]
    fn a_printed_word_is_light_and_stays_in_its_box() {
        let mut scene = known_scene();
        scene.shapes.clear();
        let word = scene.word.expect("the known scene has a word");
        let (width, height) = word.extent();
        let image = scene.render(128);
        let light = image
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0.iter().all(|&c| c >= 150));
        let light: Vec<(f32, f32)> = light
            .map(|(x, y, _)| (x as f32 / 128.0, y as f32 / 128.0))
            .collect();
        let ink = font::inked_count(word.text) as f32 * (word.dot * 128.0).powi(2);
        assert!(
            light.len() as f32 >= 0.3 * ink,
            "{} light pixels for {ink}",
            light.len()
        );
        for (x, y) in light {
            assert!(
                x >= word.x - 0.01 && x <= word.x + width,
                "{x} outside the word"
            );
            assert!(
                y >= word.y - 0.01 && y <= word.y + height,
                "{y} outside the word"
            );
        }
        assert_eq!(image.pixels().map(|p| p.0[0]).max(), Some(word.grey));
    }
}
