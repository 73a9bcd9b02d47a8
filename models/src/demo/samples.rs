//! Sample scenes that ship with the app (held-out scenes, never trained on), with suggested
//! questions written as a person would type them.

use std::path::Path;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::eval::KINDS;
use super::questions::{QuestionKind, written};
use super::scenes::{Scene, Split};

/// One sample: its image file and suggested questions with the answers the scene implies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    pub file: String,
    pub questions: Vec<SampleQuestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleQuestion {
    pub question: String,
    pub answer: String,
}

/// "what colour is the star ?" → "What colour is the star?"
pub fn as_typed(question: &str) -> String {
    let text = written(question);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// `count` held-out scenes drawn from `seed`, each with one question of each kind it has
/// (the description last).
pub fn samples(count: usize, seed: u64) -> Vec<(Scene, Sample)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (1..=count)
        .map(|i| {
            let scene = Scene::generate(&mut rng, Split::Test);
            let qas = scene.questions();
            let questions = KINDS
                .iter()
                .filter(|&&k| k != QuestionKind::Size)
                .filter_map(|&k| qas.iter().find(|q| q.kind == k))
                .map(|qa| SampleQuestion {
                    question: as_typed(&qa.question),
                    answer: written(&qa.answer),
                })
                .collect();
            let sample = Sample {
                file: format!("scene-{i}.png"),
                questions,
            };
            (scene, sample)
        })
        .collect()
}

/// Writes the samples as `size`-pixel PNGs and `samples.json` into `dir`.
pub fn write_samples(dir: &Path, count: usize, seed: u64, size: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut index = Vec::new();
    for (scene, sample) in samples(count, seed) {
        scene
            .render(size)
            .save(dir.join(&sample.file))
            .map_err(std::io::Error::other)?;
        index.push(sample);
    }
    let json = serde_json::to_string_pretty(&index).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("samples.json"), json + "\n")
}
