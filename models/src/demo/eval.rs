//! The demo model's quality on held-out scenes, measured through the engine exactly as the app
//! runs it (image processor, prompt, greedy decoding): exact answers per question kind, and
//! how strongly the Q-Former's attention lands on the object a question names.

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

use super::questions::{QuestionKind, written};
use super::scenes::{Scene, Split};
use crate::generate::{CancelToken, Sampling};
use crate::session::{Request, Session, SessionError};
use crate::trace::QFormerAttentionMap;

/// Exact answers of one question kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindScore {
    pub kind: String,
    pub questions: usize,
    pub correct: usize,
}

impl KindScore {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.questions.max(1) as f64
    }
}

/// A wrong answer, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub question: String,
    pub expected: String,
    pub answered: String,
}

/// The quality table.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub scenes: usize,
    pub kinds: Vec<KindScore>,
    /// Mean over questions that name an object of (attention mass per pixel on the object) /
    /// (mass per pixel on the rest of the image), the attention averaged over cross-attention
    /// layers, queries and heads.
    pub grounding_ratio: f64,
    pub grounding_questions: usize,
    /// The first few wrong answers.
    pub misses: Vec<Miss>,
}

pub const KINDS: [QuestionKind; 7] = [
    QuestionKind::Colour,
    QuestionKind::Shape,
    QuestionKind::Count,
    QuestionKind::Position,
    QuestionKind::Size,
    QuestionKind::Word,
    QuestionKind::Describe,
];

pub fn kind_name(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Colour => "colour",
        QuestionKind::Shape => "shape",
        QuestionKind::Count => "count",
        QuestionKind::Position => "position",
        QuestionKind::Size => "size (which is larger)",
        QuestionKind::Word => "printed word",
        QuestionKind::Describe => "description",
    }
}

/// Asks one question of each kind a held-out scene has, for `scenes` scenes drawn from `seed`.
pub fn evaluate(
    session: &Session,
    scenes: usize,
    seed: u64,
    on_scene: &mut dyn FnMut(usize),
) -> Result<Quality, SessionError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let size = session.config().vision_config().image_size() as u32;
    let mut kinds: Vec<KindScore> = KINDS
        .iter()
        .map(|&k| KindScore {
            kind: kind_name(k).into(),
            questions: 0,
            correct: 0,
        })
        .collect();
    let mut misses = Vec::new();
    let (mut ratio_sum, mut ratio_count) = (0.0, 0usize);
    for index in 0..scenes {
        let scene = Scene::generate(&mut rng, Split::Test);
        let image = scene.render(size);
        let attention = session.qformer_attention(&image, "")?;
        let patch_map = mean_patch_map(&attention);
        let qas = scene.questions();
        for (k, &kind) in KINDS.iter().enumerate() {
            let Some(qa) = qas.iter().find(|q| q.kind == kind) else {
                continue;
            };
            let answer = ask(session, &image, &qa.question)?;
            kinds[k].questions += 1;
            let expected = written(&qa.answer);
            if answer.trim() == expected {
                kinds[k].correct += 1;
            } else if misses.len() < 20 {
                misses.push(Miss {
                    question: qa.question.clone(),
                    expected,
                    answered: answer,
                });
            }
            if let Some(target) = qa.target {
                let mask = scene.object_mask(target, size);
                ratio_sum += grounding_ratio(&patch_map, attention.grid, &mask, size as usize);
                ratio_count += 1;
            }
        }
        on_scene(index + 1);
    }
    Ok(Quality {
        scenes,
        kinds,
        grounding_ratio: ratio_sum / ratio_count.max(1) as f64,
        grounding_questions: ratio_count,
        misses,
    })
}

/// Greedy answer to one question about one image.
pub fn ask(
    session: &Session,
    image: &image::RgbImage,
    question: &str,
) -> Result<String, SessionError> {
    let request = Request {
        history: Vec::new(),
        images: vec![image.clone()],
        prompt: question.to_owned(),
        max_new_tokens: 32,
        sampling: Sampling::Greedy,
        multi_image: Default::default(),
    };
    Ok(session
        .generate(&request, &CancelToken::new(), |_| {})?
        .text)
}

/// The Q-Former's attention over the patch grid, averaged over cross-attention layers, queries
/// and heads, with the class token's share left out and the rest renormalised to sum to one.
pub fn mean_patch_map(attention: &QFormerAttentionMap) -> Vec<f64> {
    let [rows, cols] = attention.grid;
    let mut map = vec![0.0f64; rows * cols];
    for index in 0..attention.layers.len() {
        let queries = attention.layers[index].probs[0].len();
        for query in 0..queries {
            let (m, _) = attention.query_map(index, query);
            for (a, b) in map.iter_mut().zip(m) {
                *a += f64::from(b);
            }
        }
    }
    let total: f64 = map.iter().sum();
    map.iter()
        .map(|m| m / total.max(f64::MIN_POSITIVE))
        .collect()
}

/// Mass per pixel on the `mask` over mass per pixel elsewhere, each patch's share spread
/// evenly over its pixels.
pub fn grounding_ratio(patch_map: &[f64], grid: [usize; 2], mask: &[bool], size: usize) -> f64 {
    let [rows, cols] = grid;
    let (mut inside, mut inside_px, mut outside, mut outside_px) = (0.0, 0usize, 0.0, 0usize);
    for y in 0..size {
        for x in 0..size {
            let patch = (y * rows / size) * cols + x * cols / size;
            let per_pixel = patch_map[patch] * (rows * cols) as f64 / (size * size) as f64;
            if mask[y * size + x] {
                inside += per_pixel;
                inside_px += 1;
            } else {
                outside += per_pixel;
                outside_px += 1;
            }
        }
    }
    if inside_px == 0 || outside_px == 0 || outside == 0.0 {
        return 0.0;
    }
    (inside / inside_px as f64) / (outside / outside_px as f64)
}

impl Quality {
    /// The table the CLI prints (Markdown).
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "Held-out scenes: {} (one question of each kind a scene has)\n\n| question kind | questions | exact answers |\n|---|---:|---:|\n",
            self.scenes
        );
        for k in &self.kinds {
            out.push_str(&format!(
                "| {} | {} | {:.1}% |\n",
                k.kind,
                k.questions,
                100.0 * k.accuracy()
            ));
        }
        out.push_str(&format!(
            "\nQ-Former attention on the named object: {:.2}× the mass per pixel of the rest of the image (mean over {} questions)\n",
            self.grounding_ratio, self.grounding_questions
        ));
        out
    }
}
