//! Multi-turn prompts (what the app sends for a chat's later turns) against HF's
//! `processor.apply_chat_template` of the same conversation.

use iris_models::preprocess::load_image;
use iris_models::processor::{Exchange, MultiImage, Processor};

use crate::fixtures;

/// The fixtures with a chat template, and so an HF rendering of the `multi_turn` conversation
/// (tests/fixtures/generate.py, TEMPLATE_CONVERSATIONS).
const TEMPLATED: [&str; 4] = [
    "llava-tiny",
    "llava-tiny-b",
    "llava-onevision-tiny",
    "llava-onevision-tiny-b",
];

fn hf_render(model: &str, name: &str) -> String {
    let path = fixtures::model_dir(model).join("reference/chat_template_renders.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let render = json["renders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{}: no render named {name}", path.display()));
    render["rendered"].as_str().unwrap().to_owned()
}

#[test]
fn a_second_turn_renders_the_whole_conversation_as_hf_does() {
    let image = load_image(&fixtures::image_path("square_64x64.png")).unwrap();
    let history = [Exchange {
        images: vec![image],
        user: "Describe the image.".into(),
        assistant: "A red circle on a blue background.".into(),
    }];
    for model in TEMPLATED {
        let processor = Processor::from_dir(&fixtures::model_dir(model)).unwrap();
        let prepared = processor
            .prepare_chat(
                &history,
                &[],
                "And the colour of the square? 🙂",
                MultiImage::Batched,
            )
            .unwrap();
        assert_eq!(
            prepared.rendered_prompt,
            hf_render(model, "multi_turn"),
            "{model}"
        );
        // The image sent in the first turn is still in the prompt, as one image's tokens.
        assert_eq!(prepared.images.len(), 1, "{model}");
        assert_eq!(prepared.image_tokens, prepared.images[0].tokens, "{model}");
    }
}

#[test]
fn blip2_reads_earlier_turns_as_text_after_all_query_tokens() {
    let processor = Processor::from_dir(&fixtures::model_dir("blip2-opt-tiny")).unwrap();
    let image = load_image(&fixtures::image_path("square_64x64.png")).unwrap();
    let history = [Exchange {
        images: vec![image.clone()],
        user: "Question: what is it? Answer:".into(),
        assistant: "a square".into(),
    }];
    let chat = processor
        .prepare_chat(
            &history,
            std::slice::from_ref(&image),
            "Question: what colour? Answer:",
            MultiImage::Batched,
        )
        .unwrap();
    let single = processor
        .prepare_with(
            &[image.clone(), image],
            "Question: what is it? Answer: a square Question: what colour? Answer:",
            MultiImage::Batched,
        )
        .unwrap();
    assert_eq!(chat.input_ids, single.input_ids);
    assert_eq!(chat.images.len(), 2);
}
