//! The one error type that crosses IPC: `{ code, message, details }` (docs/app.md). `message` is
//! for the user — what happened and what to do, in plain words; `details` keeps the technical
//! text (file, tensor, OS error) for the curious and for bug reports.

use iris_models::config::ConfigError;
use iris_models::processor::ProcessorError;
use iris_models::session::SessionError;

/// An error as the page receives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
    pub details: Option<String>,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>, details: Option<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            details,
        }
    }

    /// An error with only a user message.
    pub fn plain(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, message, None)
    }

    pub fn not_found(what: &str) -> Self {
        Self::plain("NOT_FOUND", format!("That {what} no longer exists."))
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::plain("INVALID_INPUT", message)
    }

    pub fn storage(detail: impl std::fmt::Display) -> Self {
        Self::new(
            "STORAGE",
            "Iris could not read or write its data folder. Check free disk space and permissions.",
            Some(detail.to_string()),
        )
    }

    pub fn cancelled() -> Self {
        Self::plain("CANCELLED", "Stopped.")
    }

    /// A model folder that cannot be used, found while listing or importing it.
    pub fn invalid_model(error: &ProcessorError) -> Self {
        let message = match error {
            ProcessorError::NoDir(_) => "This folder does not exist.".to_owned(),
            ProcessorError::Config(ConfigError::Io { .. }) => {
                "This folder has no config.json: it is not a Hugging Face checkpoint folder."
                    .to_owned()
            }
            ProcessorError::Config(ConfigError::NoModelType { .. }) => {
                "config.json has no model_type: this is not a Hugging Face model checkpoint."
                    .to_owned()
            }
            ProcessorError::Config(ConfigError::Unsupported { found, .. }) => format!(
                "Iris cannot run `{found}` models yet. Supported: LLaVA-1.5, LLaVA-OneVision, BLIP-2, InstructBLIP, Idefics3 (SmolVLM, SmolDocling) and Qwen2-VL."
            ),
            ProcessorError::Config(ConfigError::UnsupportedLanguageModel { .. }) => {
                "This checkpoint's language model is not supported yet.".to_owned()
            }
            ProcessorError::Config(_) | ProcessorError::Preprocess { .. } => {
                "The model's configuration files are damaged or in a layout Iris does not know."
                    .to_owned()
            }
            ProcessorError::Prompt(_) => {
                "The model's tokenizer files are missing or damaged (tokenizer.json is needed)."
                    .to_owned()
            }
            ProcessorError::Qwen2Vl(e) => e.to_string(),
            ProcessorError::Idefics3(_) => {
                "The image could not be prepared for this model (is it empty?).".to_owned()
            }
            ProcessorError::NoImageToken => {
                "This checkpoint names no image token, so it cannot read images.".to_owned()
            }
        };
        Self::new("INVALID_MODEL", message, Some(error.to_string()))
    }

    /// An engine error while loading a model or answering.
    pub fn from_session(error: &SessionError) -> Self {
        let details = Some(error.to_string());
        match error {
            SessionError::Processor(ProcessorError::Prompt(_)) => Self::new(
                "GENERATION_FAILED",
                "The message could not be turned into the model's prompt.",
                details,
            ),
            SessionError::Processor(e) => Self::invalid_model(e),
            SessionError::Weights(_) => Self::new(
                "MODEL_LOAD_FAILED",
                "The model's weight files are incomplete or damaged. Download or import it again.",
                details,
            ),
            SessionError::UnsupportedPrecision { .. } => Self::new(
                "MODEL_LOAD_FAILED",
                "This device cannot compute in f16. Choose f32 in Settings.",
                details,
            ),
            SessionError::UnsupportedRope { .. } | SessionError::Family { .. } => Self::new(
                "MODEL_LOAD_FAILED",
                "This checkpoint uses a variant of its family that Iris does not support yet.",
                details,
            ),
            SessionError::Generate(iris_models::generate::GenerateError::PromptTooLong {
                prompt,
                max,
            }) => Self::new(
                "GENERATION_FAILED",
                format!(
                    "The conversation is too long for this model ({prompt} tokens, it reads at most {max}). Start a new chat or send fewer images."
                ),
                details,
            ),
            _ => Self::new(
                "GENERATION_FAILED",
                "The model failed while answering.",
                details,
            ),
        }
    }

    /// A panic caught on the engine thread (a GPU driver or allocation failure): the app lives on.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unknown panic".to_owned());
        let lower = text.to_lowercase();
        if lower.contains("out of memory") || lower.contains("outofmemory") {
            Self::new(
                "OUT_OF_MEMORY",
                "The device ran out of memory. Choose f16 or the CPU in Settings, or a smaller model.",
                Some(text),
            )
        } else {
            Self::new(
                "GENERATION_FAILED",
                "The compute device failed. Your chats are safe; try again, or choose another device in Settings.",
                Some(text),
            )
        }
    }
}

/// What commands return.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_mentioning_memory_become_out_of_memory() {
        let payload: Box<dyn std::any::Any + Send> =
            Box::new("wgpu error: Out of Memory while allocating 4 GiB".to_owned());
        assert_eq!(AppError::from_panic(payload.as_ref()).code, "OUT_OF_MEMORY");
        let payload: Box<dyn std::any::Any + Send> = Box::new("index out of bounds");
        let error = AppError::from_panic(payload.as_ref());
        assert_eq!(error.code, "GENERATION_FAILED");
        assert_eq!(error.details.as_deref(), Some("index out of bounds"));
    }

    #[test]
    fn serialises_as_the_ipc_contract() {
        let json = serde_json::to_value(AppError::plain("NOT_FOUND", "gone")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "NOT_FOUND", "message": "gone", "details": null})
        );
    }
}
