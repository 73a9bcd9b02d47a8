//! Training examples: a rendered scene as normalised pixels, a prompt (earlier exchanges about
//! the same scene, then a question) and its answer in token ids, and the scene's attributes
//! for the stage-1 alignment objective.

use std::collections::HashMap;

use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

use crate::preprocess::{Filter, resize};

use super::checkpoint::{EOS_ID, IMAGE_MEAN, IMAGE_STD, UNK, vocabulary};
use super::questions::{Qa, QuestionKind, words};
use super::scenes::{COLOURS, PRINTED_WORDS, SHAPES, Scene, Size, Split};

/// Attribute targets: one presence bit per (colour, shape) pair, then the shape count
/// (1–5) and the printed word (none or one of the list) as classes.
pub const PRESENCE: usize = COLOURS.len() * SHAPES.len();
pub const COUNTS: usize = 5;
pub const WORDS: usize = PRINTED_WORDS.len() + 1;
pub const ATTRIBUTES: usize = PRESENCE + COUNTS + WORDS;
/// Per-patch targets: what covers the patch (background, a shape kind, the printed word) and
/// its colour (none or a shape colour).
pub const PATCH_KINDS: usize = SHAPES.len() + 2;
pub const PATCH_COLOURS: usize = COLOURS.len() + 1;
/// Also per patch: which printed word covers it (word patches only), and where the patch is
/// (its centre, 0..1 units), so the tower's output keeps its position for the queries to read.
pub const PATCH_WORDS: usize = PRINTED_WORDS.len();
/// And what the patch looks like inside: whether each cell of a [`MASK_SIDE`]² split of it is
/// inked (a shape or a letter). A 16 px patch holds an arc, a corner or an edge at any offset;
/// its ink mask is almost a linear function of its pixels, and asking for it makes the tower
/// keep the outline's geometry, which shapes and words are read from.
pub const MASK_SIDE: usize = 8;
pub const PATCH_MASK: usize = MASK_SIDE * MASK_SIDE;
pub const PATCH_TARGETS: usize = PATCH_KINDS + PATCH_COLOURS + PATCH_WORDS + 2 + PATCH_MASK;
/// Per-query (slot) targets: each object of a scene (its shapes, then its printed word) is
/// matched to one Q-Former query, which must say what the object is — its kind (a shape kind,
/// the word, or [`SLOT_NONE`] for an unmatched query), colour, size, centre and, for the word,
/// which word — and look at it. Binding colour, kind and place in one query is what the
/// language model needs to answer "what colour is the star?".
pub const SLOT_KINDS: usize = SHAPES.len() + 2;
pub const SLOT_WORD: usize = SHAPES.len();
pub const SLOT_NONE: usize = SHAPES.len() + 1;
pub const SLOT_OUTPUTS: usize = SLOT_KINDS + COLOURS.len() + 2 + 2 + PRINTED_WORDS.len();
/// At most five shapes and a word.
pub const MAX_OBJECTS: usize = 6;

/// One object of a scene, as a slot target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Object {
    /// A shape kind's index in [`SHAPES`], or [`SLOT_WORD`].
    pub kind: usize,
    /// Shapes only: the colour's index in [`COLOURS`] and whether it is large.
    pub colour: Option<usize>,
    pub large: Option<bool>,
    /// The printed word only: its index in [`PRINTED_WORDS`].
    pub word: Option<usize>,
    /// Centre, as a fraction of the image side.
    pub x: f32,
    pub y: f32,
}

/// Word → id, as the checkpoint's `tokenizer.json` maps them.
pub struct Vocab {
    ids: HashMap<&'static str, u32>,
    unk: u32,
}

impl Default for Vocab {
    fn default() -> Self {
        let ids: HashMap<&'static str, u32> = vocabulary()
            .into_iter()
            .enumerate()
            .map(|(i, w)| (w, i as u32))
            .collect();
        let unk = ids[UNK];
        Self { ids, unk }
    }
}

impl Vocab {
    /// Ids of a text (lower-cased and split as the tokenizer does), without the BOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let lower = text.to_lowercase();
        words(&lower)
            .into_iter()
            .map(|w| self.ids.get(w).copied().unwrap_or(self.unk))
            .collect()
    }
}

/// One training example.
pub struct Example {
    /// `[3, size, size]` normalised as BLIP-2's image processor does.
    pub pixels: Vec<f32>,
    /// BOS, earlier exchanges, then the question.
    pub prompt: Vec<u32>,
    /// The answer, then EOS.
    pub answer: Vec<u32>,
    /// Stage-1 targets: presence bits (0/1), the count class, the word class.
    pub presence: [f32; PRESENCE],
    pub count: usize,
    pub word: usize,
    /// Per patch (row-major over the `grid`): the kind class and the colour class of what
    /// covers most of it.
    pub patch_kind: Vec<usize>,
    pub patch_colour: Vec<usize>,
    /// The scene's objects (shapes, then the word), and per patch which object covers most
    /// of it (0 for none, `i + 1` for `objects[i]`).
    pub objects: Vec<Object>,
    pub patch_object: Vec<usize>,
    /// Per patch, its ink mask (see [`PATCH_MASK`]).
    pub patch_mask: Vec<f32>,
}

/// The per-patch labels of a `grid` × `grid` split of a scene.
pub struct PatchLabels {
    /// Kind class of what covers most of the patch: 0 background, 1..=5 the shapes, 6 the
    /// printed word.
    pub kinds: Vec<usize>,
    /// Its colour class: 0 none, 1..=7 a shape colour.
    pub colours: Vec<usize>,
    /// Which object covers it: 0 none, `i + 1` for `scene.shapes[i]`, `shapes.len() + 1` for
    /// the word.
    pub objects: Vec<usize>,
    /// Its ink mask ([`PATCH_MASK`] values of 0 or 1 per patch, row-major within the patch).
    pub masks: Vec<f32>,
}

/// What covers most of each cell of a `grid` × `grid` split of the scene (16 samples per cell;
/// at least 2 needed).
pub fn patch_labels(scene: &Scene, grid: usize) -> PatchLabels {
    const SAMPLES: usize = 4;
    let mut kinds = Vec::with_capacity(grid * grid);
    let mut colours = Vec::with_capacity(grid * grid);
    let mut objects = Vec::with_capacity(grid * grid);
    let mut masks = Vec::with_capacity(grid * grid * PATCH_MASK);
    for row in 0..grid {
        for col in 0..grid {
            let mut hits = vec![0usize; scene.shapes.len() + 1];
            for sy in 0..SAMPLES {
                for sx in 0..SAMPLES {
                    let x = (col as f32 + (sx as f32 + 0.5) / SAMPLES as f32) / grid as f32;
                    let y = (row as f32 + (sy as f32 + 0.5) / SAMPLES as f32) / grid as f32;
                    if let Some(i) = scene.shapes.iter().position(|s| s.contains(x, y)) {
                        hits[i] += 1;
                    } else if scene
                        .word
                        .as_ref()
                        .is_some_and(|w| w.distance_to_box(x, y) == 0.0)
                    {
                        hits[scene.shapes.len()] += 1;
                    }
                }
            }
            let (best, &count) = hits
                .iter()
                .enumerate()
                .max_by_key(|&(_, c)| *c)
                .expect("non-empty");
            let (kind, colour) = if count < 2 {
                (0, 0)
            } else if best == scene.shapes.len() {
                (SHAPES.len() + 1, 0)
            } else {
                let s = &scene.shapes[best];
                let k = SHAPES.iter().position(|&k| k == s.kind).expect("known");
                let c = COLOURS.iter().position(|&c| c == s.colour).expect("known");
                (1 + k, 1 + c)
            };
            kinds.push(kind);
            colours.push(colour);
            objects.push(if count < 2 { 0 } else { best + 1 });
            for sy in 0..MASK_SIDE {
                for sx in 0..MASK_SIDE {
                    let x = (col as f32 + (sx as f32 + 0.5) / MASK_SIDE as f32) / grid as f32;
                    let y = (row as f32 + (sy as f32 + 0.5) / MASK_SIDE as f32) / grid as f32;
                    let inked = scene.shapes.iter().any(|s| s.contains(x, y))
                        || scene.word.as_ref().is_some_and(|w| w.contains(x, y));
                    masks.push(if inked { 1.0 } else { 0.0 });
                }
            }
        }
    }
    PatchLabels {
        kinds,
        colours,
        objects,
        masks,
    }
}

/// A scene's objects as slot targets: its shapes in order, then its printed word.
pub fn objects(scene: &Scene) -> Vec<Object> {
    let mut out: Vec<Object> = scene
        .shapes
        .iter()
        .map(|s| Object {
            kind: SHAPES.iter().position(|&k| k == s.kind).expect("known"),
            colour: Some(COLOURS.iter().position(|&c| c == s.colour).expect("known")),
            large: Some(s.size == Size::Large),
            word: None,
            x: s.cx,
            y: s.cy,
        })
        .collect();
    if let Some(w) = &scene.word {
        let (width, height) = w.extent();
        out.push(Object {
            kind: SLOT_WORD,
            colour: None,
            large: None,
            word: PRINTED_WORDS.iter().position(|&p| p == w.text),
            x: w.x + width / 2.0,
            y: w.y + height / 2.0,
        });
    }
    out
}

/// Normalises an RGB image to `[3, h, w]` as `BlipImageProcessor` does (rescale, then CLIP
/// mean/std).
pub fn normalise(image: &image::RgbImage) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0.0; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            let v = f32::from(pixel[c]) / 255.0;
            out[c * plane + i] = (v - IMAGE_MEAN[c]) / IMAGE_STD[c];
        }
    }
    out
}

/// How users phrase the same question: "color" for "colour", and no final "?".
fn vary(question: &str, rng: &mut impl Rng) -> String {
    let mut q = question.to_owned();
    if rng.random_bool(0.3) {
        q = q.replace("colour", "color");
    }
    if rng.random_bool(0.3) {
        q = q.trim_end_matches(" ?").to_owned();
    }
    q
}

/// Picks a question: a kind first (uniformly among those the scene has), then one of its
/// questions, so that rare kinds (the printed word) are seen as often as common ones.
pub fn pick_question(scene: &Scene, rng: &mut impl Rng) -> Qa {
    let qas = scene.questions();
    let mut kinds: Vec<QuestionKind> = qas.iter().map(|q| q.kind).collect();
    kinds.dedup();
    let kind = *kinds.choose(rng).expect("every scene has questions");
    let of_kind: Vec<_> = qas.into_iter().filter(|q| q.kind == kind).collect();
    of_kind.choose(rng).expect("kind present").clone()
}

impl Example {
    /// A fresh scene from `split`, rendered at `size`, with 0–2 earlier exchanges.
    pub fn generate(
        rng: &mut impl Rng,
        vocab: &Vocab,
        size: u32,
        grid: usize,
        split: Split,
    ) -> Self {
        let scene = Scene::generate(rng, split);
        let history = match rng.random_range(0..10) {
            0..5 => 0,
            5..8 => 1,
            _ => 2,
        };
        let mut prompt = vec![EOS_ID];
        for _ in 0..history {
            let qa = pick_question(&scene, rng);
            prompt.extend(vocab.encode(&vary(&qa.question, rng)));
            prompt.extend(vocab.encode(&qa.answer));
        }
        let qa = pick_question(&scene, rng);
        prompt.extend(vocab.encode(&vary(&qa.question, rng)));
        let mut answer = vocab.encode(&qa.answer);
        answer.push(EOS_ID);
        let mut presence = [0.0; PRESENCE];
        for s in &scene.shapes {
            let c = COLOURS.iter().position(|&c| c == s.colour).expect("known");
            let k = SHAPES.iter().position(|&k| k == s.kind).expect("known");
            presence[c * SHAPES.len() + k] = 1.0;
        }
        let word = scene.word.as_ref().map_or(0, |w| {
            1 + PRINTED_WORDS
                .iter()
                .position(|&p| p == w.text)
                .expect("known")
        });
        // Some scenes come larger and are shrunk as the image processor shrinks what users
        // drop in (bicubic), so the model knows both looks.
        let image = if rng.random_bool(0.3) {
            let large = rng.random_range(size + 32..=3 * size);
            resize(&scene.render(large), size, size, Filter::Bicubic)
        } else {
            scene.render(size)
        };
        let labels = patch_labels(&scene, grid);
        Self {
            pixels: normalise(&image),
            patch_kind: labels.kinds,
            patch_colour: labels.colours,
            objects: objects(&scene),
            patch_object: labels.objects,
            patch_mask: labels.masks,
            prompt,
            answer,
            presence,
            count: scene.shapes.len() - 1,
            word,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Slot targets agree with the scene and its patch labels: one object per shape (in order)
    /// then the word, every object covers some patch of the tower's 8×8 grid, and a patch names
    /// an object exactly when its kind label is not background, with that object's kind and
    /// colour.
    #[test]
    fn slot_targets_agree_with_the_scene_and_its_patches() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut words = 0;
        for _ in 0..200 {
            let scene = Scene::generate(&mut rng, Split::Train);
            let objects = objects(&scene);
            let labels = patch_labels(&scene, 8);
            assert!(objects.len() <= MAX_OBJECTS);
            assert_eq!(
                objects.len(),
                scene.shapes.len() + usize::from(scene.word.is_some())
            );
            for (o, s) in objects.iter().zip(&scene.shapes) {
                assert_eq!(SHAPES[o.kind], s.kind);
                assert_eq!(COLOURS[o.colour.expect("a shape's colour")], s.colour);
                assert_eq!(o.large, Some(s.size == Size::Large));
                assert_eq!((o.x, o.y), (s.cx, s.cy));
            }
            if let Some(w) = &scene.word {
                let last = objects.last().expect("the word");
                assert_eq!(last.kind, SLOT_WORD);
                assert_eq!(PRINTED_WORDS[last.word.expect("which word")], w.text);
                assert!((0.0..1.0).contains(&last.x) && (0.0..1.0).contains(&last.y));
                words += 1;
            }
            assert_eq!(labels.masks.len(), 64 * PATCH_MASK);
            assert!(labels.masks.iter().all(|&m| m == 0.0 || m == 1.0));
            assert!(labels.masks.contains(&1.0));
            for o in 1..=objects.len() {
                assert!(labels.objects.contains(&o), "object {o} covers no patch");
            }
            for ((&kind, &colour), &object) in labels
                .kinds
                .iter()
                .zip(&labels.colours)
                .zip(&labels.objects)
            {
                assert_eq!(kind == 0, object == 0);
                if object > 0 {
                    let o = &objects[object - 1];
                    let expected_kind = if o.kind == SLOT_WORD {
                        PATCH_KINDS - 1
                    } else {
                        1 + o.kind
                    };
                    assert_eq!(kind, expected_kind);
                    assert_eq!(colour, o.colour.map_or(0, |c| c + 1));
                }
            }
        }
        assert!(words > 40, "{words} scenes of 200 with a word");
    }
}
