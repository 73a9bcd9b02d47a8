//! Generation controls on a real (tiny) checkpoint: cancel, token limits, seeded sampling.

use burn::prelude::Device;
use iris_models::generate::{CancelToken, Sampling, StopReason};
use iris_models::preprocess::load_image;
use iris_models::session::{Request, Session};

use crate::fixtures;

fn session() -> Session {
    Session::load_on(
        &fixtures::model_dir("llava-tiny"),
        Device::flex(),
        "cpu".into(),
    )
    .unwrap()
}

fn request(max_new_tokens: usize, sampling: Sampling) -> Request {
    Request {
        history: Vec::new(),
        images: vec![load_image(&fixtures::image_path("square_64x64.png")).unwrap()],
        prompt: "Describe the picture.".into(),
        max_new_tokens,
        sampling,
        multi_image: Default::default(),
    }
}

#[test]
fn cancel_stops_generation_at_once_and_keeps_what_was_produced() {
    let s = session();
    let cancel = CancelToken::new();
    let mut pieces = Vec::new();
    let answer = s
        .generate(&request(64, Sampling::Greedy), &cancel, |piece| {
            pieces.push(piece.to_owned());
            cancel.cancel();
        })
        .unwrap();
    assert_eq!(answer.stop, StopReason::Cancelled);
    assert!(
        !answer.token_ids.is_empty() && answer.token_ids.len() < 64,
        "{:?}",
        answer.token_ids
    );
    // What was streamed before the cancel is a prefix of the final text.
    assert!(answer.text.starts_with(&pieces.concat()));
}

#[test]
fn max_new_tokens_bounds_the_answer() {
    let answer = session()
        .generate(&request(5, Sampling::Greedy), &CancelToken::new(), |_| {})
        .unwrap();
    assert_eq!(answer.stop, StopReason::MaxTokens);
    assert_eq!(answer.token_ids.len(), 5);
}

#[test]
fn sampling_is_reproducible_from_its_seed_and_top_k_one_is_greedy() {
    let s = session();
    let sample = |seed, top_k| {
        let sampling = Sampling::Sample {
            temperature: 1.0,
            top_k,
            top_p: 0.95,
            seed,
        };
        s.generate(&request(12, sampling), &CancelToken::new(), |_| {})
            .unwrap()
            .token_ids
    };
    assert_eq!(sample(3, 0), sample(3, 0));
    let seeds: Vec<Vec<u32>> = (0..4).map(|seed| sample(seed, 0)).collect();
    assert!(
        seeds.windows(2).any(|w| w[0] != w[1]),
        "four seeds gave one answer: {seeds:?}"
    );
    let greedy = s
        .generate(&request(12, Sampling::Greedy), &CancelToken::new(), |_| {})
        .unwrap()
        .token_ids;
    assert_eq!(sample(9, 1), greedy);
}
