//! `tokenizer_config.json` and `special_tokens_map.json`, as transformers 4.57 reads them.
//!
//! Upstream: `PreTrainedTokenizerBase._from_pretrained` in
//! <https://github.com/huggingface/transformers/blob/v4.57.0/src/transformers/tokenization_utils_base.py>.
//! Special tokens may be plain strings or serialised `AddedToken` objects (`{"content": ...}`);
//! `special_tokens_map.json` only overrides `tokenizer_config.json` for legacy checkpoints, i.e.
//! those whose config has no `added_tokens_decoder`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::PromptError;

/// A special token as written in the tokenizer files: a string or an `AddedToken` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum TokenSpec {
    Text(String),
    Added(AddedTokenSpec),
}

/// A serialised `tokenizers.AddedToken` (`added_tokens_decoder` entries and special tokens).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AddedTokenSpec {
    pub content: String,
    #[serde(default)]
    pub lstrip: bool,
    #[serde(default)]
    pub rstrip: bool,
    #[serde(default)]
    pub single_word: bool,
    #[serde(default)]
    pub normalized: Option<bool>,
    #[serde(default)]
    pub special: Option<bool>,
}

impl TokenSpec {
    /// The token's text.
    pub fn content(&self) -> &str {
        match self {
            TokenSpec::Text(text) => text,
            TokenSpec::Added(added) => &added.content,
        }
    }
}

/// `chat_template` in `tokenizer_config.json`: one template or a list of named ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum ChatTemplateField {
    Single(String),
    Named(Vec<NamedTemplate>),
}

/// One entry of a named template list.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NamedTemplate {
    pub name: String,
    pub template: String,
}

/// The keys of `tokenizer_config.json` (and `special_tokens_map.json`) that prompting needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct HfTokenizerConfig {
    pub bos_token: Option<TokenSpec>,
    pub eos_token: Option<TokenSpec>,
    pub unk_token: Option<TokenSpec>,
    pub sep_token: Option<TokenSpec>,
    pub pad_token: Option<TokenSpec>,
    pub cls_token: Option<TokenSpec>,
    pub mask_token: Option<TokenSpec>,
    pub additional_special_tokens: Option<Vec<TokenSpec>>,
    /// Model-specific named tokens (`{"image_token": "<image>"}`), transformers >= 4.48.
    pub extra_special_tokens: Option<serde_json::Value>,
    pub add_bos_token: Option<bool>,
    pub add_eos_token: Option<bool>,
    pub chat_template: Option<ChatTemplateField>,
    /// Token id (as a string) to token.
    pub added_tokens_decoder: Option<BTreeMap<String, AddedTokenSpec>>,
    pub tokenizer_class: Option<String>,
    pub clean_up_tokenization_spaces: Option<bool>,
    pub add_prefix_space: Option<bool>,
}

/// The special tokens of a tokenizer, as strings: what HF's `tokenizer.special_tokens_map`
/// holds and what chat templates see as `bos_token`, `eos_token`, ….
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    /// Beginning-of-sequence token (`<s>`), if any.
    pub bos_token: Option<String>,
    /// End-of-sequence token.
    pub eos_token: Option<String>,
    /// Unknown token.
    pub unk_token: Option<String>,
    /// Separator token.
    pub sep_token: Option<String>,
    /// Padding token.
    pub pad_token: Option<String>,
    /// Classifier token.
    pub cls_token: Option<String>,
    /// Mask token.
    pub mask_token: Option<String>,
    /// `additional_special_tokens`.
    pub additional_special_tokens: Vec<String>,
    /// Model-specific named tokens (`image_token`, `video_token`, …) from `extra_special_tokens`.
    pub extra: BTreeMap<String, String>,
}

impl TokenizerFiles {
    /// Fills the special tokens that neither file mentions with a tokenizer class's defaults
    /// (the `__init__` defaults of e.g. `LlamaTokenizerFast`), as transformers does.
    pub fn apply_class_defaults(&mut self, bos: &str, eos: &str, unk: &str) {
        let keys = &self.config_keys;
        let slots = [
            ("bos_token", bos, &mut self.special.bos_token),
            ("eos_token", eos, &mut self.special.eos_token),
            ("unk_token", unk, &mut self.special.unk_token),
        ];
        for (key, token, slot) in slots {
            if slot.is_none() && !keys.iter().any(|k| k == key) {
                *slot = Some(token.to_string());
                self.specs.push(TokenSpec::Text(token.to_string()));
            }
        }
    }
}

impl SpecialTokens {
    /// The named tokens as (attribute, token) pairs, in HF's `SPECIAL_TOKENS_ATTRIBUTES` order,
    /// leaving out absent and empty ones (HF keeps only truthy values).
    pub fn named(&self) -> Vec<(&str, &str)> {
        let fixed = [
            ("bos_token", &self.bos_token),
            ("eos_token", &self.eos_token),
            ("unk_token", &self.unk_token),
            ("sep_token", &self.sep_token),
            ("pad_token", &self.pad_token),
            ("cls_token", &self.cls_token),
            ("mask_token", &self.mask_token),
        ];
        let fixed = fixed
            .into_iter()
            .filter_map(|(name, token)| Some((name, token.as_deref()?)));
        let extra = self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        fixed.chain(extra).filter(|(_, t)| !t.is_empty()).collect()
    }

    /// The image placeholder the processor expands (`image_token`), if the tokenizer names one.
    pub fn image_token(&self) -> Option<&str> {
        self.extra.get("image_token").map(String::as_str)
    }

    /// Every special token string: named, additional and extra ones.
    pub fn all(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.named().into_iter().map(|(_, t)| t).collect();
        all.extend(self.additional_special_tokens.iter().map(String::as_str));
        all
    }
}

/// The tokenizer files of a checkpoint folder, merged the way transformers merges them.
#[derive(Debug, Clone)]
pub(crate) struct TokenizerFiles {
    /// `tokenizer_config.json` (defaults when the file is absent).
    pub config: HfTokenizerConfig,
    /// Where `tokenizer_config.json` is (it may not exist).
    pub config_path: PathBuf,
    /// The top-level keys of `tokenizer_config.json` (`"bos_token": null` is set, not absent).
    pub config_keys: Vec<String>,
    /// The special tokens with their `AddedToken` attributes, for adding missing ones.
    pub specs: Vec<TokenSpec>,
    /// The special tokens as strings.
    pub special: SpecialTokens,
}

/// Reads and parses a JSON file, or `None` when it does not exist.
pub(crate) fn read_json_opt<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, PromptError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PromptError::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| PromptError::json(path, e))
}

/// Loads `tokenizer_config.json` and `special_tokens_map.json` from `dir`.
pub(crate) fn load_tokenizer_files(dir: &Path) -> Result<TokenizerFiles, PromptError> {
    let config_path = dir.join("tokenizer_config.json");
    let raw: serde_json::Value = read_json_opt(&config_path)?.unwrap_or_default();
    let config_keys = raw
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let config: HfTokenizerConfig = if raw.is_null() {
        HfTokenizerConfig::default()
    } else {
        serde_json::from_value(raw).map_err(|e| PromptError::json(&config_path, e))?
    };
    let map_path = dir.join("special_tokens_map.json");
    let map: HfTokenizerConfig = read_json_opt(&map_path)?.unwrap_or_default();
    // Legacy checkpoints (no added_tokens_decoder): special_tokens_map.json wins.
    let legacy = config.added_tokens_decoder.is_none();
    let pick = |from_config: &Option<TokenSpec>, from_map: &Option<TokenSpec>| {
        let (first, second) = if legacy {
            (from_map, from_config)
        } else {
            (from_config, from_map)
        };
        first.clone().or_else(|| second.clone())
    };
    let named = [
        pick(&config.bos_token, &map.bos_token),
        pick(&config.eos_token, &map.eos_token),
        pick(&config.unk_token, &map.unk_token),
        pick(&config.sep_token, &map.sep_token),
        pick(&config.pad_token, &map.pad_token),
        pick(&config.cls_token, &map.cls_token),
        pick(&config.mask_token, &map.mask_token),
    ];
    let mut additional = config.additional_special_tokens.clone().unwrap_or_default();
    for token in map.additional_special_tokens.iter().flatten() {
        if !additional.iter().any(|t| t.content() == token.content()) {
            additional.push(token.clone());
        }
    }
    let mut extra = BTreeMap::new();
    for source in [&map.extra_special_tokens, &config.extra_special_tokens] {
        parse_extra(source.as_ref(), &mut extra, &mut additional, &config_path)?;
    }
    let text = |spec: &Option<TokenSpec>| spec.as_ref().map(|s| s.content().to_string());
    let special = SpecialTokens {
        bos_token: text(&named[0]),
        eos_token: text(&named[1]),
        unk_token: text(&named[2]),
        sep_token: text(&named[3]),
        pad_token: text(&named[4]),
        cls_token: text(&named[5]),
        mask_token: text(&named[6]),
        additional_special_tokens: additional.iter().map(|t| t.content().to_string()).collect(),
        extra: extra
            .iter()
            .map(|(k, v): (&String, &TokenSpec)| (k.clone(), v.content().to_string()))
            .collect(),
    };
    let specs = named
        .into_iter()
        .flatten()
        .chain(additional)
        .chain(extra.into_values())
        .collect();
    Ok(TokenizerFiles {
        config,
        config_path,
        config_keys,
        specs,
        special,
    })
}

/// Parses `extra_special_tokens`: a map of name to token (4.x), or a list (5.x, where it
/// replaces `additional_special_tokens`).
fn parse_extra(
    value: Option<&serde_json::Value>,
    extra: &mut BTreeMap<String, TokenSpec>,
    additional: &mut Vec<TokenSpec>,
    path: &Path,
) -> Result<(), PromptError> {
    let Some(value) = value else { return Ok(()) };
    match value {
        serde_json::Value::Object(map) => {
            for (name, token) in map {
                let spec = TokenSpec::deserialize(token).map_err(|e| PromptError::json(path, e))?;
                extra.insert(name.clone(), spec);
            }
        }
        serde_json::Value::Array(_) => {
            let list =
                Vec::<TokenSpec>::deserialize(value).map_err(|e| PromptError::json(path, e))?;
            for token in list {
                if !additional.iter().any(|t| t.content() == token.content()) {
                    additional.push(token);
                }
            }
        }
        _ => {}
    }
    Ok(())
}
