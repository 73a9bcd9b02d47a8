//! [`TextTokenizer`]: a checkpoint's fast tokenizer, configured the way transformers 4.57
//! configures `AutoTokenizer.from_pretrained(dir)`.
//!
//! What transformers adds on top of `tokenizer.json`, and this type reproduces:
//! - tokens from `added_tokens_decoder` and special tokens missing from `tokenizer.json` are
//!   added (`PreTrainedTokenizerFast.__init__`);
//! - Llama/Gemma/Cohere/GPT-NeoX tokenizers rebuild the post-processor from `add_bos_token` / `add_eos_token`
//!   (`LlamaTokenizerFast.update_post_processor`), so those flags decide whether
//!   `encode(text, true)` adds `<s>`; other classes keep `tokenizer.json`'s post-processor;
//! - truncation and padding stored in `tokenizer.json` are ignored (HF disables them per call);
//! - `decode` applies `clean_up_tokenization` when `clean_up_tokenization_spaces` is set
//!   (default `false` in 4.57).

use std::collections::HashSet;
use std::path::Path;

use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

use super::config::{TokenizerFiles, load_tokenizer_files};
use super::{PromptError, SpecialTokens};

/// A tokenizer class whose fast version rebuilds the post-processor from `add_bos_token` and
/// `add_eos_token` (`update_post_processor`), with the defaults of its `__init__`.
struct BosEosClass {
    /// The class name without `Fast` (AutoTokenizer loads `<class>Fast` for `<class>`).
    name: &'static str,
    add_bos: bool,
    add_eos: bool,
    bos: &'static str,
    eos: &'static str,
    unk: &'static str,
}

const fn class(name: &'static str, add_bos: bool, tokens: [&'static str; 3]) -> BosEosClass {
    let [bos, eos, unk] = tokens;
    BosEosClass {
        name,
        add_bos,
        add_eos: false,
        bos,
        eos,
        unk,
    }
}

/// The classes of transformers 4.57 with `update_post_processor`.
const BOS_EOS_CLASSES: [BosEosClass; 5] = [
    class("LlamaTokenizer", true, ["<s>", "</s>", "<unk>"]),
    class("CodeLlamaTokenizer", true, ["<s>", "</s>", "<unk>"]),
    class("GemmaTokenizer", true, ["<bos>", "<eos>", "<unk>"]),
    class(
        "CohereTokenizer",
        true,
        ["<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", "<UNK>"],
    ),
    class(
        "GPTNeoXTokenizer",
        false,
        ["<|endoftext|>", "<|endoftext|>", "<|endoftext|>"],
    ),
];

/// A checkpoint's text tokenizer (`tokenizer.json` plus `tokenizer_config.json`).
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    special: SpecialTokens,
    clean_up_tokenization_spaces: bool,
}

impl TextTokenizer {
    /// Loads the tokenizer of the checkpoint folder `dir`.
    ///
    /// `tokenizer.json` is required (only fast tokenizers are supported);
    /// `tokenizer_config.json` and `special_tokens_map.json` are read when present.
    pub fn from_dir(dir: &Path) -> Result<Self, PromptError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(PromptError::MissingFile {
                path,
                what: "the fast tokenizer; checkpoints with only a slow tokenizer \
                       (tokenizer.model / vocab.json) must be converted with transformers first",
            });
        }
        let mut inner = Tokenizer::from_file(&path).map_err(|e| PromptError::TokenizerLoad {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut files = load_tokenizer_files(dir)?;
        let class_name = files.config.tokenizer_class.clone().unwrap_or_default();
        let class_name = class_name.strip_suffix("Fast").unwrap_or(&class_name);
        let bos_eos_class = BOS_EOS_CLASSES.iter().find(|c| c.name == class_name);
        if let Some(class) = bos_eos_class {
            files.apply_class_defaults(class.bos, class.eos, class.unk);
        }
        inner
            .with_truncation(None)
            .map_err(|e| PromptError::TokenizerLoad {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        inner.with_padding(None);
        add_missing_tokens(&mut inner, &files).map_err(|e| PromptError::TokenizerLoad {
            path: path.clone(),
            reason: format!("cannot add the tokens of tokenizer_config.json: {e}"),
        })?;
        if let Some(class) = bos_eos_class {
            if files.config.add_prefix_space.is_some() {
                tracing::warn!(
                    "{}: add_prefix_space is set; transformers would rebuild this tokenizer \
                     from its slow files, Iris uses tokenizer.json as is",
                    files.config_path.display()
                );
            }
            let add_bos = files.config.add_bos_token.unwrap_or(class.add_bos);
            let add_eos = files.config.add_eos_token.unwrap_or(class.add_eos);
            let processor = bos_eos_processor(&inner, &files, add_bos, add_eos)?;
            inner.with_post_processor(Some(processor));
        }
        Ok(Self {
            inner,
            special: files.special,
            clean_up_tokenization_spaces: files
                .config
                .clean_up_tokenization_spaces
                .unwrap_or(false),
        })
    }

    /// Wraps a tokenizer built in code (tests, converted checkpoints) with its special tokens.
    pub fn from_parts(inner: Tokenizer, special: SpecialTokens) -> Self {
        Self {
            inner,
            special,
            clean_up_tokenization_spaces: false,
        }
    }

    /// Sets whether `decode` applies HF's `clean_up_tokenization` (`" ."` → `"."`, …).
    pub fn with_clean_up_tokenization_spaces(mut self, yes: bool) -> Self {
        self.clean_up_tokenization_spaces = yes;
        self
    }

    /// Token ids of `text`, like HF `tokenizer(text, add_special_tokens=...)["input_ids"]`.
    ///
    /// With `add_special_tokens` the post-processor adds its tokens (BOS for Llama-style
    /// tokenizers with `add_bos_token`, nothing for Qwen2-style ones).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, PromptError> {
        let encoding =
            self.inner
                .encode(text, add_special_tokens)
                .map_err(|e| PromptError::Encode {
                    reason: e.to_string(),
                })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Token ids of a rendered (and image-expanded) chat prompt, as a processor's
    /// `apply_chat_template(..., tokenize=True)` computes them: special tokens are added unless
    /// the text already starts with the BOS token.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>, PromptError> {
        let starts_with_bos = self
            .special
            .bos_token
            .as_deref()
            .is_some_and(|bos| text.starts_with(bos));
        self.encode(text, !starts_with_bos)
    }

    /// Text of `ids`, like HF `tokenizer.decode(ids, skip_special_tokens=...)`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, PromptError> {
        let text = self.decode_raw(ids, skip_special_tokens)?;
        Ok(if self.clean_up_tokenization_spaces {
            clean_up_tokenization(&text)
        } else {
            text
        })
    }

    /// Text of `ids` straight from the tokenizer's decoder, without the clean-up step.
    pub(crate) fn decode_raw(
        &self,
        ids: &[u32],
        skip_special_tokens: bool,
    ) -> Result<String, PromptError> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| PromptError::Decode {
                reason: e.to_string(),
            })
    }

    /// Whether `decode` applies HF's `clean_up_tokenization`.
    pub fn clean_up_tokenization_spaces(&self) -> bool {
        self.clean_up_tokenization_spaces
    }

    /// The id of a token string (vocabulary or added token), if it exists.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token string of an id, if it exists.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Whether `id` is a special added token (skipped by `decode(.., true)`).
    pub fn is_special(&self, id: u32) -> bool {
        let added = self.inner.get_added_vocabulary();
        added
            .simple_id_to_token(id)
            .is_some_and(|t| added.is_special_token(&t))
    }

    /// The id of the BOS token, if the tokenizer has one.
    pub fn bos_id(&self) -> Option<u32> {
        self.special
            .bos_token
            .as_deref()
            .and_then(|t| self.token_id(t))
    }

    /// The id of the EOS token, if the tokenizer has one.
    pub fn eos_id(&self) -> Option<u32> {
        self.special
            .eos_token
            .as_deref()
            .and_then(|t| self.token_id(t))
    }

    /// The id of the padding token, if the tokenizer has one.
    pub fn pad_id(&self) -> Option<u32> {
        self.special
            .pad_token
            .as_deref()
            .and_then(|t| self.token_id(t))
    }

    /// The special tokens (the variables chat templates see).
    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

/// Adds what `PreTrainedTokenizerFast.__init__` adds: `added_tokens_decoder` entries that
/// `tokenizer.json` lacks (or holds with other attributes), then special tokens not yet known.
fn add_missing_tokens(inner: &mut Tokenizer, files: &TokenizerFiles) -> tokenizers::Result<()> {
    let existing = inner.get_added_tokens_decoder();
    let specials: HashSet<&str> = files.special.all().into_iter().collect();
    let mut to_add: Vec<AddedToken> = Vec::new();
    let mut entries: Vec<_> = files
        .config
        .added_tokens_decoder
        .iter()
        .flatten()
        .filter_map(|(id, spec)| Some((id.parse::<u32>().ok()?, spec)))
        .collect();
    entries.sort_by_key(|(id, _)| *id);
    for (_, spec) in entries {
        let special = spec.special.unwrap_or(false);
        let token = AddedToken::from(spec.content.clone(), special)
            .lstrip(spec.lstrip)
            .rstrip(spec.rstrip)
            .single_word(spec.single_word)
            .normalized(spec.normalized.unwrap_or(!special));
        if !existing.values().any(|t| *t == token) {
            let special = special || specials.contains(spec.content.as_str());
            to_add.push(token.special(special));
        }
    }
    let mut known: HashSet<String> = existing.values().map(|t| t.content.clone()).collect();
    known.extend(to_add.iter().map(|t| t.content.clone()));
    for spec in &files.specs {
        let content = spec.content();
        if known.insert(content.to_string()) {
            let token = match spec {
                super::config::TokenSpec::Text(_) => AddedToken::from(content, true),
                super::config::TokenSpec::Added(a) => AddedToken::from(content, true)
                    .lstrip(a.lstrip)
                    .rstrip(a.rstrip)
                    .single_word(a.single_word)
                    .normalized(a.normalized.unwrap_or(false)),
            };
            to_add.push(token);
        }
    }
    if !to_add.is_empty() {
        tracing::debug!(
            count = to_add.len(),
            "adding tokens missing from tokenizer.json"
        );
        inner.add_tokens(to_add)?;
    }
    Ok(())
}

/// `LlamaTokenizerFast.update_post_processor`: `<bos>:0 $A:0 <eos>:0` (each part optional).
fn bos_eos_processor(
    inner: &Tokenizer,
    files: &TokenizerFiles,
    add_bos: bool,
    add_eos: bool,
) -> Result<TemplateProcessing, PromptError> {
    let path = || files.config_path.clone();
    let mut tokens: Vec<(String, u32)> = Vec::new();
    let mut resolve = |name: &str, token: &Option<String>| -> Result<String, PromptError> {
        let token = token.clone().ok_or_else(|| PromptError::TokenizerConfig {
            path: path(),
            reason: format!("add_{name}_token is true but there is no {name}_token"),
        })?;
        let id = inner
            .token_to_id(&token)
            .ok_or_else(|| PromptError::TokenizerConfig {
                path: path(),
                reason: format!("{name}_token {token:?} is not in the vocabulary"),
            })?;
        tokens.push((token.clone(), id));
        Ok(token)
    };
    let bos = if add_bos {
        Some(resolve("bos", &files.special.bos_token)?)
    } else {
        None
    };
    let eos = if add_eos {
        Some(resolve("eos", &files.special.eos_token)?)
    } else {
        None
    };
    let part = |sequence: &str, type_id: u8| {
        let mut out: Vec<String> = bos.iter().map(|b| format!("{b}:{type_id}")).collect();
        out.push(format!("{sequence}:{type_id}"));
        out.extend(eos.iter().map(|e| format!("{e}:{type_id}")));
        out
    };
    let single = part("$A", 0);
    let pair = [single.clone(), part("$B", 1)].concat();
    let build_error = |e: String| PromptError::TokenizerConfig {
        path: path(),
        reason: format!("cannot build the BOS/EOS post-processor: {e}"),
    };
    TemplateProcessing::builder()
        .try_single(single)
        .map_err(|e| build_error(e.to_string()))?
        .try_pair(pair)
        .map_err(|e| build_error(e.to_string()))?
        .special_tokens(tokens)
        .build()
        .map_err(|e| build_error(e.to_string()))
}

/// HF `PreTrainedTokenizerBase.clean_up_tokenization`.
pub(crate) fn clean_up_tokenization(text: &str) -> String {
    text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("iris-prompt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn missing_tokenizer_json_is_named() {
        let dir = temp_dir("missing");
        let err = TextTokenizer::from_dir(&dir).unwrap_err();
        assert!(
            matches!(&err, PromptError::MissingFile { path, .. } if path.ends_with("tokenizer.json"))
        );
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }

    #[test]
    fn malformed_files_are_named_with_the_reason() {
        let dir = temp_dir("malformed");
        std::fs::write(dir.join("tokenizer.json"), "{not json").unwrap();
        let err = TextTokenizer::from_dir(&dir).unwrap_err();
        assert!(matches!(err, PromptError::TokenizerLoad { .. }), "{err}");
        assert!(err.to_string().contains("tokenizer.json"), "{err}");

        let model = tokenizers::models::wordlevel::WordLevel::builder()
            .vocab(
                [("a".to_string(), 0), ("<unk>".to_string(), 1)]
                    .into_iter()
                    .collect(),
            )
            .unk_token("<unk>".to_string())
            .build()
            .unwrap();
        Tokenizer::new(model)
            .save(dir.join("tokenizer.json"), false)
            .unwrap();
        std::fs::write(dir.join("tokenizer_config.json"), r#"{"bos_token": 3"#).unwrap();
        let err = TextTokenizer::from_dir(&dir).unwrap_err();
        assert!(
            matches!(err, PromptError::Json { ref path, .. } if path.ends_with("tokenizer_config.json")),
            "{err}"
        );
    }

    #[test]
    fn llama_class_defaults_and_bos_eos_flags() {
        let dir = temp_dir("nobos");
        let model = tokenizers::models::wordlevel::WordLevel::builder()
            .vocab(
                [("a".to_string(), 0), ("<unk>".to_string(), 1)]
                    .into_iter()
                    .collect(),
            )
            .unk_token("<unk>".to_string())
            .build()
            .unwrap();
        Tokenizer::new(model)
            .save(dir.join("tokenizer.json"), false)
            .unwrap();
        // "<s>" (the class default) is added as a special token, so this works ...
        std::fs::write(
            dir.join("tokenizer_config.json"),
            r#"{"tokenizer_class": "LlamaTokenizer"}"#,
        )
        .unwrap();
        let tok = TextTokenizer::from_dir(&dir).unwrap();
        assert_eq!(tok.encode("a", true).unwrap(), [tok.bos_id().unwrap(), 0]);
        // ... and add_bos_token=false drops it.
        std::fs::write(
            dir.join("tokenizer_config.json"),
            r#"{"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": false, "add_eos_token": true}"#,
        )
        .unwrap();
        let tok = TextTokenizer::from_dir(&dir).unwrap();
        assert_eq!(tok.encode("a", true).unwrap(), [0, tok.eos_id().unwrap()]);
        // An explicit `"bos_token": null` with add_bos_token is what HF rejects too.
        std::fs::write(
            dir.join("tokenizer_config.json"),
            r#"{"tokenizer_class": "LlamaTokenizerFast", "bos_token": null}"#,
        )
        .unwrap();
        let err = TextTokenizer::from_dir(&dir).unwrap_err();
        assert!(matches!(err, PromptError::TokenizerConfig { .. }), "{err}");
        assert!(err.to_string().contains("add_bos_token"), "{err}");
    }

    #[test]
    fn clean_up_matches_hf() {
        assert_eq!(
            clean_up_tokenization("Hello , world ! It 's , is n't . Yes ' no"),
            "Hello, world! It's, isn't. Yes'no"
        );
    }
}
