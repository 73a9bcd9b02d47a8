//! [`ChatTemplate`]: the checkpoint's own Jinja chat template, found and rendered the way
//! transformers 4.57 does it.
//!
//! Where the template comes from (first match wins):
//! - for a processor (`ProcessorMixin.get_processor_dict`): `chat_template.json` (legacy,
//!   `{"chat_template": "..."}`), then `chat_template.jinja`, then the `chat_template` key of
//!   `processor_config.json`;
//! - for a tokenizer: `chat_template.jinja`, then `tokenizer_config.json`'s `chat_template`
//!   (a string, or a list of `{name, template}` of which `default` is used).
//!
//! VLM checkpoints are prompted through their processor, so [`ChatTemplate::from_checkpoint`]
//! tries the processor's sources first and falls back to the tokenizer's.

use std::path::{Path, PathBuf};

use minijinja::Environment;
use minijinja::value::Value;
use serde::Deserialize;

use super::config::{ChatTemplateField, HfTokenizerConfig, read_json_opt};
use super::jinja::{TemplateRaised, hf_environment, rewrite_generation_tags};
use super::{PromptError, SpecialTokens};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person chatting.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role as chat templates see it (`"system"`, `"user"`, `"assistant"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// An image; the template sees `{"type": "image"}`.
    Image,
    /// Text; the template sees `{"type": "text", "text": ...}`.
    Text(String),
}

/// One message of a conversation, with its content as typed parts (the processor format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said, in order.
    pub content: Vec<ContentPart>,
}

impl ChatMessage {
    /// A message of text only.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text(text.into())],
        }
    }

    /// Number of image parts.
    pub fn image_count(&self) -> usize {
        self.content
            .iter()
            .filter(|p| matches!(p, ContentPart::Image))
            .count()
    }

    /// The message as the template sees it: `{"role": ..., "content": [{"type": ...}, ...]}`.
    fn to_value(&self) -> Value {
        let parts: Vec<Value> = self
            .content
            .iter()
            .map(|part| match part {
                ContentPart::Image => Value::from_pairs([("type", "image")]),
                ContentPart::Text(text) => Value::from_pairs([("type", "text"), ("text", text)]),
            })
            .collect();
        Value::from_pairs([
            ("role", Value::from(self.role.as_str())),
            ("content", Value::from(parts)),
        ])
    }
}

/// Which file a template was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// The processor's legacy `chat_template.json`.
    ChatTemplateJson(PathBuf),
    /// `chat_template.jinja`.
    ChatTemplateJinja(PathBuf),
    /// The `chat_template` key of `processor_config.json`.
    ProcessorConfig(PathBuf),
    /// The `chat_template` key of `tokenizer_config.json`.
    TokenizerConfig(PathBuf),
    /// Given in code.
    Inline,
}

/// A compiled chat template.
#[derive(Clone)]
pub struct ChatTemplate {
    env: Environment<'static>,
    name: String,
    source: String,
    origin: TemplateOrigin,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// `chat_template.json` / `processor_config.json`: only the template key matters here.
#[derive(Debug, Deserialize)]
struct TemplateHolder {
    chat_template: Option<ChatTemplateField>,
}

impl ChatTemplate {
    /// Compiles template `source`; `name` appears in error messages (usually the file name).
    pub fn from_source(
        name: impl Into<String>,
        source: impl Into<String>,
    ) -> Result<Self, PromptError> {
        Self::compile(name.into(), source.into(), TemplateOrigin::Inline)
    }

    fn compile(name: String, source: String, origin: TemplateOrigin) -> Result<Self, PromptError> {
        let mut env = hf_environment();
        env.add_template_owned(name.clone(), rewrite_generation_tags(&source))
            .map_err(|e| PromptError::TemplateSyntax {
                name: name.clone(),
                line: e.line().unwrap_or(0),
                message: error_message(&e),
            })?;
        Ok(Self {
            env,
            name,
            source,
            origin,
        })
    }

    /// The template the checkpoint's processor uses, falling back to the tokenizer's.
    pub fn from_checkpoint(dir: &Path) -> Result<Self, PromptError> {
        match Self::for_processor(dir)? {
            Some(template) => Ok(template),
            None => Self::for_tokenizer(dir)?.ok_or_else(|| PromptError::NoChatTemplate {
                dir: dir.to_path_buf(),
            }),
        }
    }

    /// The processor's template (`chat_template.json`, `chat_template.jinja`,
    /// `processor_config.json`), or `None` when the processor has none.
    pub fn for_processor(dir: &Path) -> Result<Option<Self>, PromptError> {
        let json = dir.join("chat_template.json");
        if let Some(TemplateHolder {
            chat_template: Some(field),
        }) = read_json_opt(&json)?
        {
            let source = pick_default(field, &json)?;
            let origin = TemplateOrigin::ChatTemplateJson(json.clone());
            return Self::compile(path_name(&json), source, origin).map(Some);
        }
        if let Some(template) = Self::from_jinja_file(dir)? {
            return Ok(Some(template));
        }
        let config = dir.join("processor_config.json");
        if let Some(TemplateHolder {
            chat_template: Some(field),
        }) = read_json_opt(&config)?
        {
            let source = pick_default(field, &config)?;
            return Self::compile(
                path_name(&config),
                source,
                TemplateOrigin::ProcessorConfig(config),
            )
            .map(Some);
        }
        Ok(None)
    }

    /// The tokenizer's template (`chat_template.jinja`, then `tokenizer_config.json`), or
    /// `None` when the tokenizer has none.
    pub fn for_tokenizer(dir: &Path) -> Result<Option<Self>, PromptError> {
        if let Some(template) = Self::from_jinja_file(dir)? {
            return Ok(Some(template));
        }
        let config_path = dir.join("tokenizer_config.json");
        let config: Option<HfTokenizerConfig> = read_json_opt(&config_path)?;
        match config.and_then(|c| c.chat_template) {
            Some(field) => {
                let source = pick_default(field, &config_path)?;
                let origin = TemplateOrigin::TokenizerConfig(config_path.clone());
                Self::compile(path_name(&config_path), source, origin).map(Some)
            }
            None => Ok(None),
        }
    }

    fn from_jinja_file(dir: &Path) -> Result<Option<Self>, PromptError> {
        let path = dir.join("chat_template.jinja");
        match std::fs::read_to_string(&path) {
            Ok(source) => Self::compile(
                path_name(&path),
                source,
                TemplateOrigin::ChatTemplateJinja(path),
            )
            .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PromptError::io(path, e)),
        }
    }

    /// Renders `messages` like `processor.apply_chat_template(messages,
    /// add_generation_prompt=...)`: the template sees `messages`, `add_generation_prompt`,
    /// `tools` and `documents` (both `None`) and every special token of `special`
    /// (`bos_token`, `eos_token`, …, `additional_special_tokens`, `image_token` …).
    ///
    /// The result is the text before image expansion and tokenisation; whether it starts with
    /// the BOS token depends on the template (see [`TextTokenizer::encode_prompt`]).
    ///
    /// [`TextTokenizer::encode_prompt`]: super::TextTokenizer::encode_prompt
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        special: &SpecialTokens,
    ) -> Result<String, PromptError> {
        let _span = tracing::debug_span!("chat_template", name = %self.name).entered();
        let messages: Vec<Value> = messages.iter().map(ChatMessage::to_value).collect();
        let mut context: Vec<(String, Value)> = special
            .named()
            .into_iter()
            .map(|(name, token)| (name.to_string(), Value::from(token)))
            .collect();
        if !special.additional_special_tokens.is_empty() {
            let list: Vec<Value> = special
                .additional_special_tokens
                .iter()
                .map(|t| Value::from(t.as_str()))
                .collect();
            context.push(("additional_special_tokens".into(), Value::from(list)));
        }
        context.push(("messages".into(), Value::from(messages)));
        context.push(("tools".into(), Value::from(())));
        context.push(("documents".into(), Value::from(())));
        context.push((
            "add_generation_prompt".into(),
            Value::from(add_generation_prompt),
        ));
        let template = self
            .env
            .get_template(&self.name)
            .map_err(|e| self.render_error(e))?;
        template
            .render(Value::from_pairs(context))
            .map_err(|e| self.render_error(e))
    }

    fn render_error(&self, err: minijinja::Error) -> PromptError {
        let line = err.line().unwrap_or(0);
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            if let Some(raised) = cause.downcast_ref::<TemplateRaised>() {
                return PromptError::TemplateRaised {
                    name: self.name.clone(),
                    line,
                    message: raised.0.clone(),
                };
            }
            source = cause.source();
        }
        PromptError::TemplateRender {
            name: self.name.clone(),
            line,
            message: error_message(&err),
        }
    }

    /// The template's name in error messages (the file it came from).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template source as the checkpoint wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Which file the template was read from.
    pub fn origin(&self) -> &TemplateOrigin {
        &self.origin
    }
}

/// The template of a `chat_template` field: the string itself, or the entry named `default`.
fn pick_default(field: ChatTemplateField, path: &Path) -> Result<String, PromptError> {
    match field {
        ChatTemplateField::Single(source) => Ok(source),
        ChatTemplateField::Named(list) => {
            let available: Vec<String> = list.iter().map(|t| t.name.clone()).collect();
            list.into_iter()
                .find(|t| t.name == "default")
                .map(|t| t.template)
                .ok_or_else(|| PromptError::NoDefaultTemplate {
                    path: path.to_path_buf(),
                    available,
                })
        }
    }
}

fn path_name(path: &Path) -> String {
    path.display().to_string()
}

/// minijinja's error as one line: kind and detail, without the source-context dump.
fn error_message(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}
