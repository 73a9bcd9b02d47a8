//! The values the store hands out, serialised exactly as docs/app.md's IPC types (camelCase).

use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// Where a message stands; only assistant messages are ever anything but `Done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Complete.
    Done,
    /// Being generated right now (text grows through `append_assistant_text`).
    Streaming,
    /// Cut short: the user pressed stop, or the app died mid-answer.
    Stopped,
    /// Generation failed; `Message::error` says why.
    Error,
}

impl Role {
    /// The value kept in the `messages.role` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

impl MessageStatus {
    /// The value kept in the `messages.status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Error => "error",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "done" => Some(Self::Done),
            "streaming" => Some(Self::Streaming),
            "stopped" => Some(Self::Stopped),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// An image as the page sees it: a small thumbnail inline, the full bytes fetched by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    pub id: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `data:image/png;base64,...` (or jpeg/webp/gif, whatever the caller stored).
    pub thumb: String,
}

/// An image's original file bytes, for the model or for `get_image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBytes {
    pub id: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Generation numbers shown under an answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStats {
    pub tokens: u32,
    pub tokens_per_second: f64,
    pub prompt_tokens: u32,
    pub image_tokens: u32,
    /// Earlier exchanges whose words were left out because the chat no longer fit the model's
    /// context (their images were kept). Absent in answers stored before it existed.
    #[serde(default)]
    pub forgotten_exchanges: u32,
}

/// A failed answer's error, kept with the message: the IPC `AppError` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredError {
    pub code: String,
    pub message: String,
    pub details: Option<String>,
}

/// One chat message with its images in the order they were attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub role: Role,
    pub text: String,
    pub images: Vec<ImageRef>,
    pub status: MessageStatus,
    pub error: Option<StoredError>,
    pub created_at: i64,
    pub stats: Option<MessageStats>,
}

/// A chat as listed in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatSummary {
    pub id: String,
    pub title: String,
    pub model_id: Option<String>,
    pub updated_at: i64,
    pub message_count: u32,
}

/// A whole chat: `ChatSummary & { createdAt, messages }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub created_at: i64,
    pub messages: Vec<Message>,
}

/// One turn of the conversation as the prompt builder needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: Role,
    pub text: String,
    pub image_ids: Vec<String>,
}
