//! Declares Iris's commands to Tauri's access control: each gets an `allow-<name>` permission,
//! granted to the main window through the `allow-app-commands` set (permissions/app.toml).

/// Every command the page may call (src/commands/); one not listed here is refused at runtime.
pub const COMMANDS: &[&str] = &[
    "list_models",
    "import_model",
    "delete_model",
    "download_model",
    "cancel_download",
    "list_chats",
    "create_chat",
    "get_chat",
    "rename_chat",
    "set_chat_model",
    "delete_chat",
    "add_image_files",
    "pick_images",
    "add_image_bytes",
    "get_image",
    "demo_samples",
    "send_message",
    "regenerate",
    "edit_message",
    "stop_generation",
    "get_settings",
    "set_settings",
    "list_devices",
    "explain",
    "answer_attention",
    "save_export",
    "open_document",
    "document_page",
    "read_document",
    "cancel_reading",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
