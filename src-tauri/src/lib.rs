//! Iris's desktop shell: Tauri commands over the engine (`iris_models`), the chat store, the
//! models folder and the settings. The page (ui/) calls the commands listed in docs/app.md.
//!
//! State is one managed type per concern: [`store::Store`] (behind [`ChatStore`]),
//! [`catalog::Catalog`], [`demo::Demo`] (the built-in model, installed at start-up),
//! [`settings::SettingsState`], [`engine::Engine`], [`Downloads`].

pub mod catalog;
pub mod commands;
pub mod demo;
pub mod documents;
pub mod engine;
pub mod error;
pub mod explain;
pub mod hub;
pub mod images;
pub mod settings;
pub mod store;

use std::path::{Path, PathBuf};

use tauri::{Manager, Runtime};

pub use commands::chat::ChatStore;
pub use commands::models::Downloads;

/// Environment variable that puts all of Iris's data (chats, settings, models) in a given
/// folder instead of the OS's app data folder (tests, portable use).
pub const DATA_DIR_ENV: &str = "IRIS_DATA_DIR";

/// Adds Iris's commands and start-up to a builder (the real one, or Tauri's mock builder in
/// tests). Data lives in `data_dir`, or the OS's app data folder when it is `None`.
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    data_dir: Option<PathBuf>,
) -> tauri::Builder<R> {
    builder
        .setup(move |app| {
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            manage_state(app.handle(), &dir)?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::models::list_models,
            commands::models::import_model,
            commands::models::delete_model,
            commands::models::download_model,
            commands::models::cancel_download,
            commands::chat::list_chats,
            commands::chat::create_chat,
            commands::chat::get_chat,
            commands::chat::rename_chat,
            commands::chat::set_chat_model,
            commands::chat::delete_chat,
            commands::images::add_image_files,
            commands::images::pick_images,
            commands::images::add_image_bytes,
            commands::images::get_image,
            commands::demo::demo_samples,
            commands::chat::send_message,
            commands::chat::regenerate,
            commands::chat::edit_message,
            commands::chat::stop_generation,
            commands::settings::get_settings,
            commands::settings::set_settings,
            commands::settings::list_devices,
            commands::explain::explain,
            commands::explain::answer_attention,
            commands::explain::save_export,
            commands::documents::open_document,
            commands::documents::document_page,
            commands::documents::read_document,
            commands::documents::cancel_reading,
        ])
}

/// Opens (or creates) everything under `dir` and hands it to Tauri (the builder's setup does
/// this; tests on the mock runtime, whose setup runs only with an event loop, call it).
pub fn manage_state<R: Runtime>(
    app: &tauri::AppHandle<R>,
    dir: &Path,
) -> Result<(), error::AppError> {
    std::fs::create_dir_all(dir).map_err(error::AppError::storage)?;
    app.manage(ChatStore::open(dir)?);
    let catalog = catalog::Catalog::new(dir.join("models"))?;
    // Never fails: without it the app opens with no model, as before there was one.
    app.manage(demo::Demo::install(catalog.dir()));
    app.manage(catalog);
    app.manage(settings::SettingsState::load(dir));
    app.manage(Downloads::new(dir.join("models").join(".downloads")));
    app.manage(engine::Engine::start());
    app.manage(explain::Explanations::default());
    app.manage(documents::Documents::default());
    Ok(())
}

/// Runs the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,iris_app=info".into()),
        )
        .init();
    let data_dir = std::env::var_os(DATA_DIR_ENV).map(PathBuf::from);
    if let Err(e) = builder(tauri::Builder::default(), data_dir).run(tauri::generate_context!()) {
        eprintln!("error: Iris could not start: {e}");
        std::process::exit(1);
    }
}
