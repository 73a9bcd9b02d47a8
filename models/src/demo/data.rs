//! Training examples: a rendered scene as normalised pixels, a prompt (earlier exchanges about
//! the same scene, then a question) and its answer in token ids, and the scene's attributes
//! for the stage-1 alignment objective.

use std::collections::HashMap;

use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

use crate::preprocess::{Filter, resize};

use super::checkpoint::{EOS_ID, IMAGE_MEAN, IMAGE_STD, UNK, vocabulary};
use super::questions::{Qa, QuestionKind, words};
use super::scenes::{COLOURS, PRINTED_WORDS, SHAPES, Scene, Split};

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
pub const PATCH_TARGETS: usize = PATCH_KINDS + PATCH_COLOURS;

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
}

/// What covers most of each cell of a `grid` × `grid` split of the scene (16 samples per cell;
/// at least 2 needed), as (kind class, colour class): 0 is background; kinds 1..=5 are the
/// shapes, 6 the printed word; colours 1..=7.
pub fn patch_labels(scene: &Scene, grid: usize) -> (Vec<usize>, Vec<usize>) {
    const SAMPLES: usize = 4;
    let mut kinds = Vec::with_capacity(grid * grid);
    let mut colours = Vec::with_capacity(grid * grid);
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
        }
    }
    (kinds, colours)
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
        let (patch_kind, patch_colour) = patch_labels(&scene, grid);
        Self {
            pixels: normalise(&image),
            patch_kind,
            patch_colour,
            prompt,
            answer,
            presence,
            count: scene.shapes.len() - 1,
            word,
        }
    }
}
