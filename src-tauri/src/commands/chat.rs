//! Chats: the list, one chat, and answering (send, regenerate, edit & resend, stop). An answer
//! streams through a `Channel<GenEvent>`; every piece is saved before the page sees it, so a
//! crash loses nothing that was shown.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use iris_models::generate::StopReason;
use iris_models::processor::{Exchange, MultiImage};
use iris_models::session::{Answer, Request};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

use crate::catalog::Catalog;
use crate::commands::blocking;
use crate::demo::Demo;
use crate::engine::{Engine, Job, Placement, Progress, Work};
use crate::error::{AppError, AppResult};
use crate::settings::SettingsState;
use crate::store::{
    Chat, ChatSummary, Message, MessageStats, MessageStatus, Role, Store, StoreError, StoredError,
};

/// The chat database, shared by the commands.
pub struct ChatStore(Mutex<Store>);

impl ChatStore {
    /// Opens `iris.sqlite3` in `dir`. A damaged or foreign file there is moved aside (kept,
    /// renamed `iris.sqlite3.unreadable-<time>`) and a fresh database is started.
    pub fn open(dir: &Path) -> AppResult<Self> {
        let path = dir.join("iris.sqlite3");
        let store = match Store::open(&path) {
            Ok(store) => store,
            Err(e @ (StoreError::Corrupt { .. } | StoreError::NotIris { .. })) => {
                let aside = dir.join(format!(
                    "iris.sqlite3.unreadable-{}",
                    crate::store::now_ms()
                ));
                tracing::error!("{e}; moving it to {} and starting afresh", aside.display());
                std::fs::rename(&path, &aside).map_err(AppError::storage)?;
                Store::open(&path).map_err(store_error)?
            }
            Err(e) => return Err(store_error(e)),
        };
        let mut store = store;
        // Images added a day ago and never sent are of no further use.
        if let Err(e) = store.sweep_unreferenced_images(24 * 3600 * 1000) {
            tracing::warn!("sweeping unsent images failed: {e}");
        }
        Ok(Self(Mutex::new(store)))
    }

    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn store_error(e: StoreError) -> AppError {
    AppError::new(e.code(), e.user_message(), Some(e.to_string()))
}

/// What the page hears while an answer runs (docs/app.md `GenEvent`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum GenEvent {
    Loading {
        model_id: String,
        progress: f32,
        stage: String,
    },
    Started {
        user_message: Message,
        assistant_message: Message,
    },
    Token {
        message_id: String,
        text: String,
    },
    Finished {
        message: Message,
    },
    Error {
        message_id: Option<String>,
        error: AppError,
    },
}

fn with_store<R: Runtime, T>(
    app: &AppHandle<R>,
    work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
) -> AppResult<T> {
    work(&mut app.state::<ChatStore>().lock()).map_err(store_error)
}

#[tauri::command]
pub async fn list_chats<R: Runtime>(app: AppHandle<R>) -> AppResult<Vec<ChatSummary>> {
    blocking(move || with_store(&app, |s| s.list_chats())).await
}

/// A new chat with `model_id`, or with the built-in demo model when none is given.
#[tauri::command]
pub async fn create_chat<R: Runtime>(
    app: AppHandle<R>,
    model_id: Option<String>,
) -> AppResult<Chat> {
    blocking(move || {
        let model_id = model_id.or_else(|| default_model(&app));
        with_store(&app, |s| s.create_chat(model_id.as_deref()))
    })
    .await
}

/// The model a chat uses when none was chosen: the built-in demo, when it is installed.
fn default_model<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    app.state::<Demo>().model_id(&app.state::<Catalog>())
}

#[tauri::command]
pub async fn get_chat<R: Runtime>(app: AppHandle<R>, id: String) -> AppResult<Chat> {
    blocking(move || with_store(&app, |s| s.get_chat(&id))).await
}

#[tauri::command]
pub async fn rename_chat<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    title: String,
) -> AppResult<ChatSummary> {
    blocking(move || with_store(&app, |s| s.rename_chat(&id, &title))).await
}

#[tauri::command]
pub async fn set_chat_model<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    model_id: String,
) -> AppResult<ChatSummary> {
    blocking(move || {
        app.state::<Catalog>().path_of(&model_id)?;
        with_store(&app, |s| s.set_chat_model(&id, Some(&model_id)))
    })
    .await
}

#[tauri::command]
pub async fn delete_chat<R: Runtime>(app: AppHandle<R>, id: String) -> AppResult<()> {
    app.state::<Engine>().stop(&id);
    blocking(move || with_store(&app, |s| s.delete_chat(&id))).await
}

#[tauri::command]
pub async fn send_message<R: Runtime>(
    app: AppHandle<R>,
    chat_id: String,
    text: String,
    image_ids: Vec<String>,
    on_event: Channel<GenEvent>,
) -> AppResult<Message> {
    let handle = app.clone();
    let id = chat_id.clone();
    answer(app, chat_id, on_event, move || {
        with_store(&handle, |s| s.add_user_message(&id, &text, &image_ids))
    })
    .await
}

/// Answers the last user message again, replacing the last answer.
#[tauri::command]
pub async fn regenerate<R: Runtime>(
    app: AppHandle<R>,
    chat_id: String,
    on_event: Channel<GenEvent>,
) -> AppResult<Message> {
    let handle = app.clone();
    let id = chat_id.clone();
    answer(app, chat_id, on_event, move || {
        with_store(&handle, |s| s.last_exchange(&id))
    })
    .await
}

/// Replaces user message `message_id` (and everything after it) with a new text, then answers.
#[tauri::command]
pub async fn edit_message<R: Runtime>(
    app: AppHandle<R>,
    chat_id: String,
    message_id: String,
    text: String,
    image_ids: Vec<String>,
    on_event: Channel<GenEvent>,
) -> AppResult<Message> {
    let handle = app.clone();
    let id = chat_id.clone();
    answer(app, chat_id, on_event, move || {
        with_store(&handle, |s| {
            let old = s.message(&message_id)?;
            if old.role != Role::User {
                return Err(StoreError::InvalidInput(
                    "Only your own messages can be edited.".into(),
                ));
            }
            s.truncate_from(&id, &message_id)?;
            s.add_user_message(&id, &text, &image_ids)
        })
    })
    .await
}

#[tauri::command]
pub fn stop_generation<R: Runtime>(app: AppHandle<R>, chat_id: String) {
    app.state::<Engine>().stop(&chat_id);
}

/// The shared body of send / regenerate / edit: checks the chat can answer, lets `prepare`
/// store the user's side, then runs the engine and stores the answer as it streams.
async fn answer<R: Runtime>(
    app: AppHandle<R>,
    chat_id: String,
    on_event: Channel<GenEvent>,
    prepare: impl FnOnce() -> AppResult<Message> + Send + 'static,
) -> AppResult<Message> {
    let engine = app.state::<Engine>();
    let cancel = engine.begin(&chat_id)?;
    let handle = app.clone();
    let id = chat_id.clone();
    let events = on_event.clone();
    let started = blocking(move || start_turn(&handle, &id, prepare, &events)).await;
    let result = match started {
        Ok((assistant, placement, request)) => {
            run_turn(&app, assistant, placement, request, cancel, &on_event).await
        }
        Err(error) => {
            let _ = on_event.send(GenEvent::Error {
                message_id: None,
                error: error.clone(),
            });
            Err(error)
        }
    };
    engine.end(&chat_id);
    result
}

/// Checks the chat's model, stores the user's message, builds the request from the whole
/// conversation, and creates the (streaming) answer message.
fn start_turn<R: Runtime>(
    app: &AppHandle<R>,
    chat_id: &str,
    prepare: impl FnOnce() -> AppResult<Message>,
    on_event: &Channel<GenEvent>,
) -> AppResult<(Message, Placement, Request)> {
    let chat = with_store(app, |s| s.get_chat(chat_id))?;
    let chosen = chat.summary.model_id.is_some();
    let model_id = chat
        .summary
        .model_id
        .or_else(|| default_model(app))
        .ok_or_else(|| {
            AppError::plain(
                "NO_MODEL",
                "Choose a model for this chat first (Models page to add one).",
            )
        })?;
    let model_dir = app.state::<Catalog>().path_of(&model_id)?;
    let settings = app.state::<SettingsState>().get();
    let user = prepare()?;
    if !chosen {
        // The chat remembers the model that answered it.
        with_store(app, |s| s.set_chat_model(chat_id, Some(&model_id)))?;
    }
    let turns = with_store(app, |s| s.history(chat_id))?;
    let request = build_request(app, &turns, &settings)?;
    let assistant = with_store(app, |s| s.begin_assistant_message(chat_id))?;
    let _ = on_event.send(GenEvent::Started {
        user_message: user,
        assistant_message: assistant.clone(),
    });
    let placement = Placement {
        model_dir,
        device: settings.device_setting()?,
        precision: settings.precision,
    };
    Ok((assistant, placement, request))
}

/// The engine request for a conversation whose last turn is the user's new message.
fn build_request<R: Runtime>(
    app: &AppHandle<R>,
    turns: &[crate::store::Turn],
    settings: &crate::settings::Settings,
) -> AppResult<Request> {
    let Some((current, earlier)) = turns.split_last() else {
        return Err(AppError::invalid_input("There is no message to answer."));
    };
    let load = |ids: &[String]| -> AppResult<Vec<image::RgbImage>> {
        let stored = with_store(app, |s| s.images_bytes(ids))?;
        stored
            .iter()
            .map(|img| crate::images::decode("An image in this chat", &img.bytes))
            .collect()
    };
    let mut history: Vec<Exchange> = Vec::new();
    for turn in earlier {
        match turn.role {
            Role::User => history.push(Exchange {
                images: load(&turn.image_ids)?,
                user: turn.text.clone(),
                assistant: String::new(),
            }),
            Role::Assistant => {
                if let Some(last) = history.last_mut() {
                    last.assistant = turn.text.clone();
                }
            }
        }
    }
    Ok(Request {
        history,
        images: load(&current.image_ids)?,
        prompt: current.text.clone(),
        max_new_tokens: settings.max_new_tokens,
        sampling: settings.sampling(),
        multi_image: MultiImage::Batched,
    })
}

/// Runs the engine for one answer, saving and forwarding each piece, and stores the end.
async fn run_turn<R: Runtime>(
    app: &AppHandle<R>,
    assistant: Message,
    placement: Placement,
    request: Request,
    cancel: iris_models::generate::CancelToken,
    on_event: &Channel<GenEvent>,
) -> AppResult<Message> {
    let (done, result) = tokio::sync::oneshot::channel();
    let handle = app.clone();
    let events = on_event.clone();
    let message_id = assistant.id.clone();
    let model_id = chat_model_label(&placement);
    let on_progress = Box::new(move |progress: Progress| match progress {
        Progress::Loading { fraction, stage } => {
            let _ = events.send(GenEvent::Loading {
                model_id: model_id.clone(),
                progress: fraction,
                stage,
            });
        }
        Progress::Text(text) => {
            // Saved first: what the page shows is always on disk.
            if let Err(e) = with_store(&handle, |s| s.append_assistant_text(&message_id, &text)) {
                tracing::error!("saving an answer piece failed: {e}");
            }
            let _ = events.send(GenEvent::Token {
                message_id: message_id.clone(),
                text,
            });
        }
    });
    app.state::<Engine>().submit(Job {
        placement,
        request,
        cancel,
        on_progress,
        work: Work::Chat(done),
    })?;
    let outcome = result.await.unwrap_or_else(|_| {
        Err(AppError::plain(
            "GENERATION_FAILED",
            "The engine stopped unexpectedly.",
        ))
    });
    let handle = app.clone();
    let id = assistant.id.clone();
    let finished = blocking(move || finish(&handle, &id, outcome)).await?;
    match finished {
        Ok(message) => {
            let _ = on_event.send(GenEvent::Finished {
                message: message.clone(),
            });
            Ok(message)
        }
        Err((message, error)) => {
            let _ = on_event.send(GenEvent::Error {
                message_id: Some(message.id),
                error: error.clone(),
            });
            Err(error)
        }
    }
}

fn chat_model_label(placement: &Placement) -> String {
    placement
        .model_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

type Finished = Result<Message, (Message, AppError)>;

/// Stores how an answer ended: done, stopped (cancelled) or failed (with its error).
fn finish<R: Runtime>(
    app: &AppHandle<R>,
    id: &str,
    outcome: AppResult<Answer>,
) -> AppResult<Finished> {
    match outcome {
        Ok(answer) => {
            let status = match answer.stop {
                StopReason::Cancelled => MessageStatus::Stopped,
                _ => MessageStatus::Done,
            };
            let stats = stats_of(&answer);
            let message = with_store(app, |s| {
                s.finish_assistant_message(id, status, Some(&answer.text), Some(&stats), None)
            })?;
            Ok(Ok(message))
        }
        Err(error) if error.code == "CANCELLED" => {
            let message = with_store(app, |s| {
                s.finish_assistant_message(id, MessageStatus::Stopped, None, None, None)
            })?;
            Ok(Ok(message))
        }
        Err(error) => {
            let stored = StoredError {
                code: error.code.clone(),
                message: error.message.clone(),
                details: error.details.clone(),
            };
            let message = with_store(app, |s| {
                s.finish_assistant_message(id, MessageStatus::Error, None, None, Some(&stored))
            })?;
            Ok(Err((message, error)))
        }
    }
}

fn stats_of(answer: &Answer) -> MessageStats {
    let tokens = answer.token_ids.len() as u32;
    let seconds = (answer.timings_ms.prefill + answer.timings_ms.decode) / 1e3;
    MessageStats {
        tokens,
        tokens_per_second: if seconds > 0.0 {
            f64::from(tokens) / seconds
        } else {
            0.0
        },
        prompt_tokens: answer.prompt_tokens as u32,
        image_tokens: answer.image_tokens as u32,
        forgotten_exchanges: answer.forgotten_exchanges as u32,
    }
}
