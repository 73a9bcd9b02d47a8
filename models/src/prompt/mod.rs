//! Prompts: from a conversation to token ids, and from generated ids back to text.
//!
//! The pipeline mirrors what a Hugging Face processor does in transformers 4.57:
//!
//! 1. [`ChatTemplate::render`] renders the checkpoint's own Jinja chat template exactly as
//!    `processor.apply_chat_template(messages, add_generation_prompt=True)` does.
//! 2. [`expand_image_placeholders`] replaces each image placeholder (`<image>`) by the image
//!    token repeated once per image feature, as `LlavaProcessor` / `LlavaOnevisionProcessor` do.
//! 3. [`TextTokenizer::encode_prompt`] tokenises the expanded text once, adding the BOS token
//!    only when the rendered text does not already start with it (the processor's rule).
//! 4. [`StreamDecoder`] turns generated ids back into text chunk by chunk, never splitting a
//!    UTF-8 character, with the same result as `decode(ids, skip_special_tokens=True)`.
//!
//! See `docs/prompting.md` for the HF quirks this module reproduces.

mod config;
mod error;
mod expand;
mod jinja;
mod pyfmt;
mod stream;
mod strftime;
mod template;
mod tokenizer;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod template_tests;

pub use config::SpecialTokens;
pub use error::PromptError;
pub use expand::{expand_image_placeholders, image_positions, image_token_spans};
pub use stream::StreamDecoder;
pub use template::{ChatMessage, ChatTemplate, ContentPart, Role, TemplateOrigin};
pub use tokenizer::TextTokenizer;
