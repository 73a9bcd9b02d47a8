//! The Documents view (docs/documents.md): open a PDF or an image, draw its pages, read them
//! with a model page by page.

use std::path::PathBuf;

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

use iris_models::document::parse_page_range;
use iris_models::generate::{CancelToken, StopReason};
use iris_models::ocr::markdown_to_text;
use iris_models::processor::MultiImage;
use iris_models::session::Request;

use crate::catalog::Catalog;
use crate::commands::blocking;
use crate::documents::{DocumentInfo, Documents, READ_LONG_SIDE};
use crate::engine::{Engine, Job, Placement, Progress, Work};
use crate::error::{AppError, AppResult};
use crate::settings::SettingsState;

/// Tokens a page may take at least (a page of text is long; the chat default is not enough).
pub const MIN_PAGE_TOKENS: usize = 1024;

#[derive(Debug, Clone, serde::Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum OcrEvent {
    Loading {
        progress: f32,
        stage: String,
    },
    PageStarted {
        page: usize,
        index: usize,
        total: usize,
    },
    Token {
        page: usize,
        text: String,
    },
    PageDone {
        page: usize,
        markdown: String,
        tokens: usize,
        stopped: bool,
    },
    PageError {
        page: usize,
        error: AppError,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageResult {
    pub page: usize,
    pub markdown: String,
    pub tokens: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentResult {
    pub document_id: String,
    pub pages: Vec<PageResult>,
    pub cancelled: bool,
    pub markdown: String,
    pub text: String,
}

/// Opens a PDF or an image; with no path, the file dialog asks (null when cancelled).
#[tauri::command]
pub async fn open_document<R: Runtime>(
    app: AppHandle<R>,
    path: Option<String>,
) -> AppResult<Option<DocumentInfo>> {
    let path = match path {
        Some(p) => PathBuf::from(p),
        None => match crate::commands::dialogs::pick_document(&app).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    blocking(move || app.state::<Documents>().open(&path).map(Some)).await
}

/// One page as a PNG `data:` URL, its longest side `max_side` pixels.
#[tauri::command]
pub async fn document_page<R: Runtime>(
    app: AppHandle<R>,
    document_id: String,
    page: usize,
    max_side: u32,
) -> AppResult<String> {
    let side = max_side.clamp(16, 4096) as f32;
    blocking(move || {
        app.state::<Documents>()
            .page_data_url(&document_id, page, side)
    })
    .await
}

/// Stops `document_id`'s running read after the token in flight; finished pages are kept.
#[tauri::command]
pub fn cancel_reading<R: Runtime>(app: AppHandle<R>, document_id: String) {
    app.state::<Engine>().stop(&reading_key(&document_id));
}

fn reading_key(document_id: &str) -> String {
    format!("\u{0}document:{document_id}")
}

/// Reads the chosen pages (all when `pages` is null) with `model_id`, streaming each page.
#[tauri::command]
pub async fn read_document<R: Runtime>(
    app: AppHandle<R>,
    document_id: String,
    model_id: String,
    pages: Option<String>,
    on_event: Channel<OcrEvent>,
) -> AppResult<DocumentResult> {
    let info = app.state::<Documents>().info(&document_id)?;
    let indices = match pages.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(spec) => parse_page_range(spec, info.pages.len())
            .map_err(|e| AppError::invalid_input(e.to_string()))?,
        None => (0..info.pages.len()).collect(),
    };
    let model_dir = app.state::<Catalog>().path_of(&model_id)?;
    let settings = app.state::<SettingsState>().get();
    let placement = Placement {
        model_dir,
        device: settings.device_setting()?,
        precision: settings.precision,
    };
    let max_new_tokens = settings.max_new_tokens.max(MIN_PAGE_TOKENS);
    let key = reading_key(&document_id);
    let engine = app.state::<Engine>();
    let cancel = engine.begin(&key)?;
    let mut done = Vec::new();
    for (index, &page) in indices.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let _ = on_event.send(OcrEvent::PageStarted {
            page,
            index,
            total: indices.len(),
        });
        let outcome = read_page(
            &app,
            &document_id,
            page,
            &placement,
            max_new_tokens,
            &cancel,
            &on_event,
        )
        .await;
        match outcome {
            Ok(result) => done.push(result),
            Err(error) if error.code == "CANCELLED" => break,
            Err(error) => {
                let _ = on_event.send(OcrEvent::PageError { page, error });
            }
        }
    }
    engine.end(&key);
    let markdown = done
        .iter()
        .map(|p| format!("<!-- page {} -->\n\n{}", p.page + 1, p.markdown))
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(DocumentResult {
        document_id,
        cancelled: cancel.is_cancelled(),
        text: markdown_to_text(&markdown),
        markdown,
        pages: done,
    })
}

/// Renders one page, reads it on the engine thread and reports it.
async fn read_page<R: Runtime>(
    app: &AppHandle<R>,
    document_id: &str,
    page: usize,
    placement: &Placement,
    max_new_tokens: usize,
    cancel: &CancelToken,
    on_event: &Channel<OcrEvent>,
) -> AppResult<PageResult> {
    let handle = app.clone();
    let id = document_id.to_owned();
    let image = blocking(move || {
        handle
            .state::<Documents>()
            .render(&id, page, READ_LONG_SIDE)
    })
    .await?;
    let events = on_event.clone();
    let on_progress = Box::new(move |progress: Progress| {
        let _ = events.send(match progress {
            Progress::Loading { fraction, stage } => OcrEvent::Loading {
                progress: fraction,
                stage,
            },
            Progress::Text(text) => OcrEvent::Token { page, text },
        });
    });
    let request = Request {
        history: Vec::new(),
        images: vec![image],
        prompt: String::new(),
        max_new_tokens,
        sampling: iris_models::generate::Sampling::Greedy,
        multi_image: MultiImage::Batched,
    };
    let (done, result) = tokio::sync::oneshot::channel();
    app.state::<Engine>().submit(Job {
        placement: placement.clone(),
        request,
        cancel: cancel.clone(),
        on_progress,
        work: Work::Ocr(done),
    })?;
    let text = result.await.unwrap_or_else(|_| {
        Err(AppError::plain(
            "GENERATION_FAILED",
            "The engine stopped unexpectedly.",
        ))
    })?;
    let stopped = text.stop == StopReason::Cancelled;
    let _ = on_event.send(OcrEvent::PageDone {
        page,
        markdown: text.markdown.clone(),
        tokens: text.tokens,
        stopped,
    });
    Ok(PageResult {
        page,
        markdown: text.markdown,
        tokens: text.tokens,
    })
}
