//! Parity with transformers 4.57.6 on the committed tiny checkpoints in
//! `tests/fixtures/models/<name>/` (see `tests/fixtures/generate.py`).
//!
//! Each `reference/cases.json` entry was made with
//! `processor.apply_chat_template([{"role": "user", "content": [images..., text]}],
//! add_generation_prompt=True)` (`rendered_prompt`), then `processor(text=..., images=...)`
//! (`input_ids`, after image-token expansion), and greedy generation decoded with
//! `skip_special_tokens=True` (`greedy_ids`, `greedy_text`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    ChatMessage, ChatTemplate, ContentPart, Role, StreamDecoder, TemplateOrigin, TextTokenizer,
    expand_image_placeholders, image_positions, image_token_spans,
};

const FIXTURES: [&str; 4] = [
    "llava-tiny",
    "llava-tiny-b",
    "llava-onevision-tiny",
    "llava-onevision-tiny-b",
];

#[derive(Debug, Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    prompt: String,
    images: Vec<String>,
    rendered_prompt: String,
    input_ids: Vec<u32>,
    /// Given for LLaVA-OneVision, whose adjacent `<image><image>` expansions merge into one run.
    #[serde(default)]
    image_tokens_per_image: Option<Vec<usize>>,
    #[serde(default)]
    greedy_ids: Vec<u32>,
    #[serde(default)]
    greedy_text: String,
}

#[derive(Debug, Deserialize)]
struct ProcessorConfig {
    image_token: Option<String>,
}

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/models")
        .join(name)
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let path = dir.join("reference/cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with tests/fixtures/generate.py)",
            path.display()
        )
    });
    serde_json::from_str::<Cases>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .cases
}

fn image_token(dir: &Path) -> String {
    let path = dir.join("processor_config.json");
    let config: ProcessorConfig =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config.image_token.unwrap_or_else(|| "<image>".to_string())
}

/// Tokens per image as the processor expanded them: given, or one run of image ids per image.
fn tokens_per_image(case: &Case, image_token_id: u32) -> Vec<usize> {
    if let Some(counts) = &case.image_tokens_per_image {
        return counts.clone();
    }
    let spans = image_token_spans(&case.input_ids, image_token_id);
    assert_eq!(
        spans.len(),
        case.images.len(),
        "{}: one run of image tokens per image",
        case.name
    );
    spans.iter().map(|s| s.len()).collect()
}

#[test]
fn templates_render_like_hf() {
    for name in FIXTURES {
        let dir = fixture_dir(name);
        let template = ChatTemplate::from_checkpoint(&dir).unwrap();
        let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
        for case in load_cases(&dir) {
            let mut content = vec![ContentPart::Image; case.images.len()];
            content.push(ContentPart::Text(case.prompt.clone()));
            let messages = [ChatMessage {
                role: Role::User,
                content,
            }];
            let rendered = template
                .render(&messages, true, tokenizer.special_tokens())
                .unwrap();
            assert_eq!(rendered, case.rendered_prompt, "{name}/{}", case.name);
        }
    }
}

#[test]
fn expanded_prompts_tokenise_like_hf() {
    for name in FIXTURES {
        let dir = fixture_dir(name);
        let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
        let placeholder = image_token(&dir);
        let image_id = tokenizer.token_id(&placeholder).unwrap();
        for case in load_cases(&dir) {
            let counts = tokens_per_image(&case, image_id);
            let text =
                expand_image_placeholders(&case.rendered_prompt, &placeholder, &counts).unwrap();
            let ids = tokenizer.encode_prompt(&text).unwrap();
            assert_eq!(ids, case.input_ids, "{name}/{}", case.name);
            let positions = image_positions(&ids, image_id, &counts).unwrap();
            assert_eq!(
                positions.iter().map(|r| r.len()).collect::<Vec<_>>(),
                counts
            );
        }
    }
}

#[test]
fn generated_ids_decode_and_stream_like_hf() {
    for name in FIXTURES {
        let dir = fixture_dir(name);
        let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
        for case in load_cases(&dir) {
            let decoded = tokenizer.decode(&case.greedy_ids, true).unwrap();
            assert_eq!(decoded, case.greedy_text, "{name}/{}", case.name);
            let mut stream = StreamDecoder::new(&tokenizer);
            let mut streamed: String = case
                .greedy_ids
                .iter()
                .map(|&id| stream.push(id).unwrap())
                .collect();
            streamed.push_str(&stream.finish().unwrap());
            assert_eq!(streamed, case.greedy_text, "{name}/{} streamed", case.name);
        }
    }
}

#[test]
fn tokenizer_special_tokens_match_the_checkpoints() {
    let llava = TextTokenizer::from_dir(&fixture_dir("llava-tiny")).unwrap();
    assert_eq!(llava.bos_id(), Some(1));
    assert_eq!(llava.eos_id(), Some(2));
    assert_eq!(llava.pad_id(), llava.token_id("<pad>"));
    // LlamaTokenizerFast with add_bos_token: BOS only with special tokens.
    let plain = llava.encode("hello", false).unwrap();
    assert_eq!(
        llava.encode("hello", true).unwrap(),
        [&[1][..], &plain].concat()
    );
    assert!(llava.is_special(1) && !llava.is_special(plain[0]));

    let onevision = TextTokenizer::from_dir(&fixture_dir("llava-onevision-tiny")).unwrap();
    assert_eq!(onevision.bos_id(), None);
    assert_eq!(onevision.eos_id(), onevision.token_id("<|im_end|>"));
    assert_eq!(
        onevision.encode("hello", true).unwrap(),
        onevision.encode("hello", false).unwrap()
    );
    let special = onevision.special_tokens();
    assert_eq!(
        special.additional_special_tokens,
        ["<|im_start|>", "<|im_end|>", "<image>", "<video>"]
    );
}

#[test]
fn processor_templates_come_from_the_processor_files() {
    let jinja = ChatTemplate::from_checkpoint(&fixture_dir("llava-tiny")).unwrap();
    assert!(matches!(
        jinja.origin(),
        TemplateOrigin::ChatTemplateJinja(_)
    ));
    let json = ChatTemplate::from_checkpoint(&fixture_dir("llava-tiny-b")).unwrap();
    assert!(matches!(json.origin(), TemplateOrigin::ChatTemplateJson(_)));
    assert_eq!(jinja.source().trim_end(), json.source().trim_end());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Random ids over the whole vocabulary (special tokens, byte-fallback bytes, byte-level
    /// pieces) stream to exactly `decode(ids, true)` with the real fixture tokenizers.
    #[test]
    fn fixture_tokenizers_stream_like_decode(seed_ids in proptest::collection::vec(0u32..u32::MAX, 0..48)) {
        for name in ["llava-tiny", "llava-onevision-tiny"] {
            let tokenizer = TextTokenizer::from_dir(&fixture_dir(name)).unwrap();
            let vocab = tokenizer.vocab_size() as u32;
            let ids: Vec<u32> = seed_ids.iter().map(|s| s % vocab).collect();
            let mut stream = StreamDecoder::new(&tokenizer);
            let mut streamed = String::new();
            for &id in &ids {
                let chunk = stream.push(id).unwrap();
                proptest::prop_assert!(!chunk.ends_with('\u{FFFD}'), "{name}: {chunk:?}");
                streamed.push_str(&chunk);
            }
            streamed.push_str(&stream.finish().unwrap());
            proptest::prop_assert_eq!(streamed, tokenizer.decode(&ids, true).unwrap(), "{} {:?}", name, ids);
        }
    }
}
