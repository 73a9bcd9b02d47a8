//! The synthetic tokenizer: a word-level vocabulary `w0 … wN` of the model's vocabulary size
//! with the family's special tokens at their real ids, the tokenizer config of the real
//! tokenizer class, and the family's real chat template.
//!
//! Words outside the vocabulary (any ordinary text) become the unknown token, one per word;
//! `w17`-style words are one token each. Prompt lengths therefore differ from the real
//! tokenizer's for the same text, but every special token the processor and the chat template
//! look up (`<image>`, `<|im_start|>`, `<row_1_col_1>`, …) is there, as an added token.

use serde_json::{Value, json};

use super::Preset;

/// The real ids of a family's special tokens (those the prompt code or the template uses).
fn real_specials(preset: Preset) -> Vec<(String, u32)> {
    let named = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
        list.iter().map(|(t, id)| ((*t).to_owned(), *id)).collect()
    };
    match preset {
        // LlamaTokenizer's 32000 pieces, then the two tokens llava-hf added.
        Preset::Llava15_7b => named(&[
            ("<unk>", 0),
            ("<s>", 1),
            ("</s>", 2),
            ("<image>", 32000),
            ("<pad>", 32001),
        ]),
        // Qwen2's 151643 BPE pieces, then its specials and OneVision's image and video tokens.
        Preset::Qwen2_0_5b => named(&[
            ("<|endoftext|>", 151_643),
            ("<|im_start|>", 151_644),
            ("<|im_end|>", 151_645),
            ("<image>", 151_646),
            ("<video>", 151_647),
        ]),
        // SmolLM2's specials at 0–2, then SmolVLM's image tokens after the 49152 base pieces:
        // `<global-img>`, the 36 `<row_r_col_c>`, `<fake_token_around_image>`, `<image>`
        // (49190, as config.json's image_token_id), and `<end_of_utterance>` at the end of the
        // 49280-token vocabulary. The ids other than 0–2 and 49190 are recalled, not checked
        // against the Hub file; they only need to be distinct for the benchmark.
        Preset::Smolvlm256m => {
            let mut list = named(&[
                ("<|endoftext|>", 0),
                ("<|im_start|>", 1),
                ("<|im_end|>", 2),
                ("<global-img>", 49_152),
            ]);
            let mut id = 49_153;
            for r in 1..=6 {
                for c in 1..=6 {
                    list.push((format!("<row_{r}_col_{c}>"), id));
                    id += 1;
                }
            }
            list.extend(named(&[
                ("<fake_token_around_image>", 49_189),
                ("<image>", 49_190),
                ("<end_of_utterance>", 49_279),
            ]));
            list
        }
    }
}

/// The vocabulary of a synthetic checkpoint: `size` ids, the specials among them.
#[derive(Debug, Clone)]
pub(crate) struct Vocabulary {
    pub size: usize,
    /// Special tokens and their ids, in id order.
    pub specials: Vec<(String, u32)>,
}

impl Vocabulary {
    /// The preset's vocabulary at `size` ids. Specials whose real id does not fit a shrunk
    /// vocabulary move to its end, in their order; `None` when `size` is too small for them.
    pub fn new(preset: Preset, size: usize) -> Option<Self> {
        let mut specials = real_specials(preset);
        specials.sort_by_key(|(_, id)| *id);
        let moved = specials
            .iter()
            .filter(|(_, id)| *id as usize >= size)
            .count();
        let first_moved = size.checked_sub(moved)?;
        if specials
            .iter()
            .any(|(_, id)| (*id as usize) < size && *id as usize >= first_moved)
        {
            return None;
        }
        let moved_ids = specials.iter_mut().filter(|(_, id)| *id as usize >= size);
        for (new_id, (_, id)) in (first_moved as u32..).zip(moved_ids) {
            *id = new_id;
        }
        Some(Self { size, specials })
    }

    /// The id of a special token of this vocabulary.
    pub fn id(&self, token: &str) -> u32 {
        self.specials
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| panic!("{token} is not a special token of this preset"))
    }

    /// The token that unknown words become.
    fn unk(&self, preset: Preset) -> &'static str {
        match preset {
            Preset::Llava15_7b => "<unk>",
            Preset::Qwen2_0_5b | Preset::Smolvlm256m => "<|endoftext|>",
        }
    }

    /// `tokenizer.json`: a `WordLevel` model over `w0 … w{size-1}` with the specials in place.
    pub fn tokenizer_json(&self, preset: Preset) -> Value {
        let mut words: Vec<String> = (0..self.size).map(|id| format!("w{id}")).collect();
        for (token, id) in &self.specials {
            words[*id as usize] = token.clone();
        }
        let vocab: serde_json::Map<String, Value> = words
            .into_iter()
            .enumerate()
            .map(|(id, w)| (w, json!(id)))
            .collect();
        let added: Vec<Value> = self
            .specials
            .iter()
            .map(|(t, id)| {
                let mut token = added_token(t);
                token["id"] = json!(id);
                token
            })
            .collect();
        json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": null,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": self.unk(preset)}
        })
    }

    /// `tokenizer_config.json` of the real tokenizer class (which decides whether a BOS
    /// token is added) with every special in `added_tokens_decoder`.
    pub fn tokenizer_config(&self, preset: Preset) -> Value {
        let decoder: serde_json::Map<String, Value> = self
            .specials
            .iter()
            .map(|(t, id)| (id.to_string(), added_token(t)))
            .collect();
        let mut config = match preset {
            Preset::Llava15_7b => json!({
                "tokenizer_class": "LlamaTokenizerFast",
                "processor_class": "LlavaProcessor",
                "add_bos_token": true,
                "add_eos_token": false,
                "bos_token": "<s>",
                "eos_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "legacy": false,
                "model_max_length": 4096,
            }),
            Preset::Qwen2_0_5b => json!({
                "tokenizer_class": "Qwen2Tokenizer",
                "processor_class": "LlavaOnevisionProcessor",
                "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<image>", "<video>"],
                "bos_token": null,
                "eos_token": "<|im_end|>",
                "pad_token": "<|endoftext|>",
                "unk_token": null,
                "model_max_length": 32768,
            }),
            Preset::Smolvlm256m => json!({
                "tokenizer_class": "GPT2Tokenizer",
                "processor_class": "Idefics3Processor",
                "additional_special_tokens":
                    ["<fake_token_around_image>", "<image>", "<end_of_utterance>"],
                "bos_token": "<|im_start|>",
                "eos_token": "<end_of_utterance>",
                "pad_token": "<|im_end|>",
                "unk_token": "<|endoftext|>",
                "model_max_length": 8192,
            }),
        };
        config["added_tokens_decoder"] = Value::Object(decoder);
        config["clean_up_tokenization_spaces"] = json!(false);
        config["padding_side"] = json!("left");
        config
    }
}

fn added_token(content: &str) -> Value {
    json!({
        "content": content, "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": false, "special": true
    })
}

/// The family's chat template (`chat_template.jinja`), as the real checkpoints ship it
/// (copied by hand, as the fixtures' `tests/fixtures/generate.py` does).
pub(crate) fn chat_template(preset: Preset) -> &'static str {
    match preset {
        Preset::Llava15_7b => concat!(
            "{% for message in messages %}{% if message['role'] != 'system' %}",
            "{{ message['role'].upper() + ': '}}{% endif %}{# Render all images first #}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}",
            "{{ '<image>\n' }}{% endfor %}{# Render all text next #}",
            "{% if message['role'] != 'assistant' %}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}",
            "{{ content['text'] + ' '}}{% endfor %}{% else %}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}",
            "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}",
            "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
        ),
        Preset::Qwen2_0_5b => concat!(
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}",
            "{# Render all images first #}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}",
            "{{ '<image>' }}{% endfor %}{# Render all video then #}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}",
            "{{ '<video>' }}{% endfor %}{# Render all text next #}",
            "{% if message['role'] != 'assistant' %}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}",
            "{{ '\n' + content['text'] }}{% endfor %}{% else %}",
            "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}",
            "{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}{% endfor %}",
            "{% endif %}{{'<|im_end|>'}}{% endfor %}",
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        ),
        Preset::Smolvlm256m => concat!(
            "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}",
            "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}",
            "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}",
            "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}",
            "<end_of_utterance>\n{% endfor %}",
            "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_keep_their_real_ids_and_move_to_the_end_of_a_shrunk_vocabulary() {
        let full = Vocabulary::new(Preset::Qwen2_0_5b, 152_000).unwrap();
        assert_eq!(full.id("<image>"), 151_646);
        let small = Vocabulary::new(Preset::Qwen2_0_5b, 1024).unwrap();
        assert_eq!(small.id("<|endoftext|>"), 1019);
        assert_eq!(small.id("<video>"), 1023);
        let smol = Vocabulary::new(Preset::Smolvlm256m, 1024).unwrap();
        assert_eq!(smol.id("<|im_start|>"), 1);
        assert_eq!(smol.id("<end_of_utterance>"), 1023);
        assert_eq!(smol.id("<image>"), 1022);
        assert!(Vocabulary::new(Preset::Smolvlm256m, 30).is_none());
    }
}
