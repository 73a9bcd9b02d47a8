//! Store tests, each on a real SQLite file in its own temporary folder.
//! Here: chats, images, titles, input checks. `flow`: streaming, edit & resend, regenerate,
//! history. `open`: recognising and migrating files. `crash`: a process killed mid-answer.

mod crash;
mod flow;
mod open;

use std::path::{Path, PathBuf};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A thumbnail the store accepts: it only checks the PNG signature, it decodes nothing.
const PNG_THUMB: &[u8] = b"\x89PNG\r\n\x1a\nthumbnail";

/// A folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("iris-store-{tag}-{}", new_id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        Self(path)
    }

    fn db(&self) -> PathBuf {
        self.0.join("iris.sqlite3")
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn image(store: &mut Store, name: &str) -> Result<ImageRef, StoreError> {
    let bytes = format!("original bytes of {name}").into_bytes();
    store.insert_image(name, "image/jpeg", &bytes, 640, 480, PNG_THUMB)
}

/// A chat with a finished exchange: returns (chat id, user message, answer).
fn chat_with_exchange(
    store: &mut Store,
    question: &str,
    image_ids: &[String],
) -> Result<(String, Message, Message), StoreError> {
    let chat = store.create_chat(Some("llava"))?;
    let id = chat.summary.id;
    let user = store.add_user_message(&id, question, image_ids)?;
    let answer = answer(store, &id, "It is a cat.")?;
    Ok((id, user, answer))
}

fn answer(store: &mut Store, chat_id: &str, text: &str) -> Result<Message, StoreError> {
    let answer = store.begin_assistant_message(chat_id)?;
    store.append_assistant_text(&answer.id, text)?;
    store.finish_assistant_message(&answer.id, MessageStatus::Done, None, None, None)
}

fn ids(images: &[ImageRef]) -> Vec<String> {
    images.iter().map(|image| image.id.clone()).collect()
}

#[test]
fn chat_round_trips_through_the_file() -> TestResult {
    let dir = TempDir::new("crud");
    let created = Store::open(dir.db())?.create_chat(Some("llava-1.5-7b"))?;
    assert_eq!(created.summary.title, DEFAULT_TITLE);
    assert_eq!(created.summary.message_count, 0);
    assert!(created.messages.is_empty());

    let mut store = Store::open(dir.db())?;
    assert_eq!(store.get_chat(&created.summary.id)?, created);
    assert_eq!(store.list_chats()?, vec![created.summary.clone()]);

    let renamed = store.rename_chat(&created.summary.id, "  Cats  ")?;
    assert_eq!(renamed.title, "Cats");
    let moved = store.set_chat_model(&created.summary.id, None)?;
    assert_eq!(moved.model_id, None);
    let reread = Store::open(dir.db())?.get_chat(&created.summary.id)?;
    assert_eq!(
        (reread.summary.title.as_str(), reread.summary.model_id),
        ("Cats", None)
    );
    Ok(())
}

#[test]
fn json_uses_the_ipc_field_names() -> TestResult {
    let dir = TempDir::new("json");
    let mut store = Store::open(dir.db())?;
    let img = image(&mut store, "cat.jpg")?;
    let (chat_id, _, answer) = chat_with_exchange(&mut store, "What is this?", &[img.id])?;
    let stats = MessageStats {
        tokens: 5,
        tokens_per_second: 12.5,
        prompt_tokens: 600,
        image_tokens: 576,
        forgotten_exchanges: 2,
    };
    let redo = store.last_exchange(&chat_id)?;
    assert_eq!(redo.role, Role::User);
    assert!(store.message(&answer.id).is_err(), "the old answer is gone");
    let streaming = store.begin_assistant_message(&chat_id)?;
    store.finish_assistant_message(
        &streaming.id,
        MessageStatus::Done,
        Some("A cat."),
        Some(&stats),
        None,
    )?;

    let json = serde_json::to_value(store.get_chat(&chat_id)?)?;
    for key in [
        "id",
        "title",
        "modelId",
        "updatedAt",
        "messageCount",
        "createdAt",
        "messages",
    ] {
        assert!(json.get(key).is_some(), "Chat JSON lacks {key}: {json}");
    }
    let user = &json["messages"][0];
    assert_eq!(user["role"], "user");
    assert_eq!(user["status"], "done");
    assert!(user["createdAt"].is_i64());
    assert!(user["error"].is_null() && user["stats"].is_null());
    let thumb = user["images"][0]["thumb"].as_str().unwrap_or_default();
    assert!(thumb.starts_with("data:image/png;base64,"), "{thumb}");
    assert_eq!(user["images"][0]["width"], 640);
    let answer = &json["messages"][1];
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["stats"]["tokensPerSecond"], 12.5);
    assert_eq!(answer["stats"]["imageTokens"], 576);
    assert_eq!(answer["stats"]["forgottenExchanges"], 2);
    Ok(())
}

#[test]
fn stats_stored_before_forgotten_exchanges_existed_still_read() -> TestResult {
    let old = r#"{"tokens": 4, "tokensPerSecond": 9.5, "promptTokens": 40, "imageTokens": 16}"#;
    let stats: MessageStats = serde_json::from_str(old)?;
    assert_eq!(stats.forgotten_exchanges, 0);
    assert_eq!(stats.image_tokens, 16);
    Ok(())
}

#[test]
fn chats_are_listed_most_recently_active_first() -> TestResult {
    let dir = TempDir::new("order");
    let mut store = Store::open(dir.db())?;
    let first = store.create_chat(None)?.summary.id;
    let second = store.create_chat(None)?.summary.id;
    let third = store.create_chat(None)?.summary.id;
    let order = |store: &Store| -> Result<Vec<String>, StoreError> {
        Ok(store.list_chats()?.into_iter().map(|c| c.id).collect())
    };
    assert_eq!(
        order(&store)?,
        [third.clone(), second.clone(), first.clone()]
    );

    store.add_user_message(&first, "hello", &[])?;
    assert_eq!(
        order(&store)?,
        [first.clone(), third.clone(), second.clone()]
    );
    store.rename_chat(&second, "renaming is not activity")?;
    assert_eq!(
        order(&store)?,
        [first.clone(), third.clone(), second.clone()]
    );
    answer(&mut store, &third, "hi")?;
    assert_eq!(
        order(&store)?,
        [third.clone(), first.clone(), second.clone()]
    );
    let counts: Vec<u32> = store
        .list_chats()?
        .iter()
        .map(|c| c.message_count)
        .collect();
    assert_eq!(counts, [1, 1, 0]);
    Ok(())
}

#[test]
fn messages_keep_their_order_and_image_positions() -> TestResult {
    let dir = TempDir::new("images");
    let mut store = Store::open(dir.db())?;
    let imgs: Vec<ImageRef> = ["a.png", "b.png", "c.png"]
        .iter()
        .map(|name| image(&mut store, name))
        .collect::<Result<_, _>>()?;
    let attach = vec![imgs[2].id.clone(), imgs[0].id.clone(), imgs[1].id.clone()];
    let (chat_id, user, _) = chat_with_exchange(&mut store, "Compare these", &attach)?;
    assert_eq!(ids(&user.images), attach);
    store.add_user_message(&chat_id, "And this one?", std::slice::from_ref(&imgs[0].id))?;

    let chat = Store::open(dir.db())?.get_chat(&chat_id)?;
    let texts: Vec<&str> = chat.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Compare these", "It is a cat.", "And this one?"]);
    let roles: Vec<Role> = chat.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    assert_eq!(ids(&chat.messages[0].images), attach);
    assert!(chat.messages[1].images.is_empty());
    assert_eq!(ids(&chat.messages[2].images), [imgs[0].id.clone()]);
    assert_eq!(chat.messages[0].images[1], imgs[0]);
    assert_eq!(chat.summary.message_count, 3);

    let bytes = store.images_bytes(&[imgs[1].id.clone(), imgs[0].id.clone()])?;
    assert_eq!(bytes[0].bytes, b"original bytes of b.png");
    assert_eq!(
        (bytes[1].mime.as_str(), bytes[1].id.as_str()),
        ("image/jpeg", imgs[0].id.as_str())
    );
    Ok(())
}

#[test]
fn first_message_names_the_chat_once() -> TestResult {
    let dir = TempDir::new("title");
    let mut store = Store::open(dir.db())?;
    let chat = store.create_chat(None)?.summary.id;
    let img = image(&mut store, "x.png")?;
    store.add_user_message(&chat, "", &[img.id])?; // no words: the title stays
    assert_eq!(store.get_chat(&chat)?.summary.title, DEFAULT_TITLE);
    store.add_user_message(
        &chat,
        "What   breed is the\ncat sitting on the red sofa here?",
        &[],
    )?;
    let title = store.get_chat(&chat)?.summary.title;
    assert_eq!(title, "What breed is the cat sitting on the red…");
    store.add_user_message(&chat, "Another question", &[])?;
    assert_eq!(store.get_chat(&chat)?.summary.title, title);

    let renamed = store.create_chat(None)?.summary.id;
    store.rename_chat(&renamed, "Mine")?;
    store.add_user_message(&renamed, "Hello", &[])?;
    assert_eq!(store.get_chat(&renamed)?.summary.title, "Mine");
    Ok(())
}

#[test]
fn derived_titles_cut_at_word_boundaries() {
    assert_eq!(derive_title("  hi  there "), Some("hi there".into()));
    assert_eq!(derive_title(" \n\t "), None);
    let exact = "a".repeat(40);
    assert_eq!(derive_title(&exact), Some(exact.clone()));
    assert_eq!(
        derive_title(&"é".repeat(50)),
        Some(format!("{}…", "é".repeat(40)))
    );
    let long = "one two three four five six seven eight nine ten";
    assert_eq!(
        derive_title(long),
        Some("one two three four five six seven eight…".into())
    );
}

#[test]
fn deleting_a_chat_removes_only_images_nobody_else_uses() -> TestResult {
    let dir = TempDir::new("delete");
    let mut store = Store::open(dir.db())?;
    let own = image(&mut store, "own.png")?.id;
    let shared = image(&mut store, "shared.png")?.id;
    let staged = image(&mut store, "staged.png")?.id;
    let (doomed, ..) = chat_with_exchange(&mut store, "q", &[own.clone(), shared.clone()])?;
    let (kept, ..) = chat_with_exchange(&mut store, "q", std::slice::from_ref(&shared))?;

    store.delete_chat(&doomed)?;
    let store = Store::open(dir.db())?;
    assert_eq!(
        store.get_chat(&doomed).map_err(|e| e.code()).err(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        store.image_bytes(&own).map_err(|e| e.code()).err(),
        Some("NOT_FOUND")
    );
    assert!(store.image_bytes(&shared).is_ok());
    assert!(store.image_bytes(&staged).is_ok());
    assert_eq!(ids(&store.get_chat(&kept)?.messages[0].images), [shared]);
    let orphan_rows: i64 = store.conn.query_row(
        "SELECT count(*) FROM messages WHERE chat_id = ?1",
        [&doomed],
        |row| row.get(0),
    )?;
    assert_eq!(orphan_rows, 0);
    Ok(())
}

#[test]
fn sweep_deletes_only_old_unsent_images() -> TestResult {
    let dir = TempDir::new("sweep");
    let mut store = Store::open(dir.db())?;
    let sent = image(&mut store, "sent.png")?.id;
    let staged = image(&mut store, "staged.png")?.id;
    chat_with_exchange(&mut store, "q", std::slice::from_ref(&sent))?;
    assert_eq!(
        store.sweep_unreferenced_images(3_600_000)?,
        0,
        "staged just now"
    );
    assert_eq!(store.sweep_unreferenced_images(0)?, 1);
    assert!(store.image_bytes(&staged).is_err());
    assert!(store.image_bytes(&sent).is_ok());
    Ok(())
}

#[test]
fn bad_input_is_refused_without_a_trace() -> TestResult {
    let dir = TempDir::new("input");
    let mut store = Store::open(dir.db())?;
    let chat = store.create_chat(None)?.summary.id;
    let code =
        |result: Result<_, StoreError>| result.map(|_: Message| ()).map_err(|e| e.code()).err();
    assert_eq!(
        code(store.add_user_message(&chat, " ", &[])),
        Some("INVALID_INPUT")
    );
    assert_eq!(
        code(store.add_user_message("nope", "hi", &[])),
        Some("NOT_FOUND")
    );
    assert_eq!(
        code(store.add_user_message(&chat, "hi", &["nope".into()])),
        Some("NOT_FOUND")
    );
    assert_eq!(
        code(store.begin_assistant_message("nope")),
        Some("NOT_FOUND")
    );
    assert!(store.get_chat(&chat)?.messages.is_empty());
    assert_eq!(store.get_chat(&chat)?.summary.title, DEFAULT_TITLE);

    let insert = |store: &mut Store, mime: &str, w: u32, thumb: &[u8]| {
        store
            .insert_image("x", mime, b"bytes", w, 1, thumb)
            .map_err(|e| e.code())
            .err()
    };
    assert_eq!(
        insert(&mut store, "text/plain", 1, PNG_THUMB),
        Some("INVALID_INPUT")
    );
    assert_eq!(
        insert(&mut store, "image/png", 0, PNG_THUMB),
        Some("INVALID_INPUT")
    );
    assert_eq!(
        insert(&mut store, "image/png", 1, b"not an image"),
        Some("INVALID_INPUT")
    );
    assert_eq!(
        insert(&mut store, "image/png", 1, b"\xFF\xD8\xFFjpeg"),
        None
    );
    assert_eq!(
        store.rename_chat(&chat, " ").map_err(|e| e.code()).err(),
        Some("INVALID_INPUT")
    );
    assert_eq!(
        store.rename_chat("nope", "x").map_err(|e| e.code()).err(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        store.delete_chat("nope").map_err(|e| e.code()).err(),
        Some("NOT_FOUND")
    );
    Ok(())
}

#[test]
fn ids_are_random_uuid_v4_strings() {
    let a = new_id();
    let b = new_id();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    let bytes = a.as_bytes();
    assert_eq!(
        (bytes[8], bytes[13], bytes[14], bytes[18], bytes[23]),
        (b'-', b'-', b'4', b'-', b'-')
    );
    assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'), "{a}");
}
