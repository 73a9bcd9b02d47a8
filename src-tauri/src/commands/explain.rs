//! The teaching views: one answer with capture on, and attention maps read on demand.

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use iris_models::processor::MultiImage;
use iris_models::session::Request;

use crate::catalog::Catalog;
use crate::commands::blocking;
use crate::commands::chat::{ChatStore, store_error};
use crate::engine::{Engine, Job, Placement, Progress, Work};
use crate::error::{AppError, AppResult};
use crate::explain::{AttentionMapReply, Explanation, Explanations};
use crate::settings::SettingsState;

/// The most answer tokens an explanation captures (each keeps every layer's attention rows).
pub const MAX_EXPLAINED_TOKENS: usize = 64;

/// What the page hears while `explain` runs (docs/teaching.md `ExplainEvent`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ExplainEvent {
    Loading { progress: f32, stage: String },
    Token { text: String },
}

/// The engine key under which the (single) running explanation is registered.
const EXPLAIN_KEY: &str = "\u{0}explain";

#[tauri::command]
pub async fn explain<R: Runtime>(
    app: AppHandle<R>,
    model_id: String,
    image_id: String,
    prompt: String,
    on_event: Channel<ExplainEvent>,
) -> AppResult<Explanation> {
    let handle = app.clone();
    let (model, image) = (model_id.clone(), image_id.clone());
    let (model_dir, rgb) = blocking(move || {
        let dir = handle.state::<Catalog>().path_of(&model)?;
        let stored = handle
            .state::<ChatStore>()
            .lock()
            .image_bytes(&image)
            .map_err(store_error)?;
        Ok((dir, crate::images::decode("The image", &stored.bytes)?))
    })
    .await?;
    let settings = app.state::<SettingsState>().get();
    let request = Request {
        history: Vec::new(),
        images: vec![rgb],
        prompt: prompt.clone(),
        max_new_tokens: settings.max_new_tokens.min(MAX_EXPLAINED_TOKENS),
        sampling: settings.sampling(),
        multi_image: MultiImage::Batched,
    };
    let placement = Placement {
        model_dir,
        device: settings.device_setting()?,
        precision: settings.precision,
    };
    let engine = app.state::<Engine>();
    let cancel = engine.begin(EXPLAIN_KEY)?;
    let events = on_event.clone();
    let on_progress = Box::new(move |progress: Progress| {
        let _ = events.send(match progress {
            Progress::Loading { fraction, stage } => ExplainEvent::Loading {
                progress: fraction,
                stage,
            },
            Progress::Text(text) => ExplainEvent::Token { text },
        });
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let submitted = engine.submit(Job {
        placement,
        request,
        cancel,
        on_progress,
        work: Work::Explain(done),
    });
    let outcome = match submitted {
        Ok(()) => result.await.unwrap_or_else(|_| {
            Err(AppError::plain(
                "GENERATION_FAILED",
                "The engine stopped unexpectedly.",
            ))
        }),
        Err(e) => Err(e),
    };
    engine.end(EXPLAIN_KEY);
    let capture = outcome?;
    Ok(app
        .state::<Explanations>()
        .add(&model_id, &image_id, &prompt, *capture))
}

#[tauri::command]
pub fn answer_attention(
    explanation_id: String,
    token: usize,
    layer: Option<usize>,
    head: Option<usize>,
    rollout: Option<bool>,
    explanations: State<'_, Explanations>,
) -> AppResult<AttentionMapReply> {
    explanations.map(
        &explanation_id,
        token,
        layer,
        head,
        rollout.unwrap_or(false),
    )
}

/// Saves an export (a view's PNG or its numbers as JSON) where the user picks; returns the path,
/// or null when the dialog was cancelled. With `path` given, writes there without asking (tests,
/// and the page's "save again").
#[tauri::command]
pub async fn save_export<R: Runtime>(
    app: AppHandle<R>,
    suggested_name: String,
    data_base64: String,
    path: Option<String>,
) -> AppResult<Option<String>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data_base64.trim())
        .map_err(|e| {
            AppError::new(
                "INVALID_INPUT",
                "The export data is damaged.",
                Some(e.to_string()),
            )
        })?;
    let target = match path {
        Some(p) => std::path::PathBuf::from(p),
        None => match crate::commands::dialogs::save_path(&app, suggested_name).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let shown = target.display().to_string();
    blocking(move || {
        std::fs::write(&target, bytes).map_err(|e| {
            AppError::new(
                "STORAGE",
                format!("Iris could not write {}.", target.display()),
                Some(e.to_string()),
            )
        })
    })
    .await?;
    Ok(Some(shown))
}
