//! Message flows: streaming answers, edit & resend, regenerate, the prompt history.

use super::{TempDir, TestResult, answer, chat_with_exchange, image};
use crate::store::{MessageStats, MessageStatus, Role, Store, StoredError};

#[test]
fn truncate_from_drops_that_message_and_everything_after() -> TestResult {
    let dir = TempDir::new("truncate");
    let mut store = Store::open(dir.db())?;
    let img = image(&mut store, "cat.png")?;
    let (chat, first, _) = chat_with_exchange(&mut store, "one", &[])?;
    let edited = store.add_user_message(&chat, "two", std::slice::from_ref(&img.id))?;
    answer(&mut store, &chat, "answer two")?;
    let (other_chat, ..) = chat_with_exchange(&mut store, "elsewhere", &[])?;

    let wrong = store.truncate_from(&other_chat, &edited.id);
    assert_eq!(wrong.map_err(|e| e.code()).err(), Some("NOT_FOUND"));
    assert_eq!(store.truncate_from(&chat, &edited.id)?, 2);
    let left: Vec<String> = store
        .get_chat(&chat)?
        .messages
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(left, ["one", "It is a cat."]);
    assert_eq!(store.get_chat(&other_chat)?.messages.len(), 2);

    // Edit & resend: the edited message may attach the same (still staged) image again.
    let resent = store.add_user_message(&chat, "two, edited", std::slice::from_ref(&img.id))?;
    assert_eq!(resent.images, vec![img]);
    assert_eq!(store.truncate_from(&chat, &first.id)?, 3);
    assert!(store.get_chat(&chat)?.messages.is_empty());
    Ok(())
}

#[test]
fn regenerate_replaces_only_the_last_answer() -> TestResult {
    let dir = TempDir::new("regenerate");
    let mut store = Store::open(dir.db())?;
    let empty = store.create_chat(None)?.summary.id;
    let nothing = store.last_exchange(&empty);
    assert_eq!(nothing.map_err(|e| e.code()).err(), Some("INVALID_INPUT"));

    let img = image(&mut store, "cat.png")?;
    let (chat, _, _) = chat_with_exchange(&mut store, "first", &[])?;
    let question = store.add_user_message(&chat, "what is it?", std::slice::from_ref(&img.id))?;
    let old = answer(&mut store, &chat, "a dog")?;

    let user = store.last_exchange(&chat)?;
    assert_eq!(user, question);
    assert_eq!(
        store.message(&old.id).map_err(|e| e.code()).err(),
        Some("NOT_FOUND")
    );
    let turns = store.history(&chat)?;
    let last = turns.last().ok_or("no history")?;
    assert_eq!((last.role, last.text.as_str()), (Role::User, "what is it?"));
    assert_eq!(last.image_ids, std::slice::from_ref(&img.id));
    assert_eq!(
        store.last_exchange(&chat)?,
        question,
        "no answer left to delete"
    );
    answer(&mut store, &chat, "a cat")?;
    let texts: Vec<String> = store
        .get_chat(&chat)?
        .messages
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["first", "It is a cat.", "what is it?", "a cat"]);
    Ok(())
}

#[test]
fn history_leaves_out_failed_and_unfinished_answers() -> TestResult {
    let dir = TempDir::new("history");
    let mut store = Store::open(dir.db())?;
    let (chat, ..) = chat_with_exchange(&mut store, "hi", &[])?;
    store.add_user_message(&chat, "again", &[])?;
    let failed = store.begin_assistant_message(&chat)?;
    store.append_assistant_text(&failed.id, "half")?;
    let error = StoredError {
        code: "OUT_OF_MEMORY".into(),
        message: "Not enough memory.".into(),
        details: Some("alloc failed".into()),
    };
    let ended = store.finish_assistant_message(
        &failed.id,
        MessageStatus::Error,
        None,
        None,
        Some(&error),
    )?;
    assert_eq!((ended.error, ended.text.as_str()), (Some(error), "half"));
    store.add_user_message(&chat, "third", &[])?;
    store.begin_assistant_message(&chat)?; // streaming: not part of the prompt

    let turns: Vec<(Role, String)> = store
        .history(&chat)?
        .into_iter()
        .map(|t| (t.role, t.text))
        .collect();
    let expected = [
        (Role::User, "hi"),
        (Role::Assistant, "It is a cat."),
        (Role::User, "again"),
        (Role::User, "third"),
    ];
    assert_eq!(turns, expected.map(|(role, text)| (role, text.to_owned())));
    Ok(())
}

#[test]
fn streaming_answers_grow_and_end_once() -> TestResult {
    let dir = TempDir::new("stream");
    let mut store = Store::open(dir.db())?;
    let chat = store.create_chat(None)?.summary.id;
    let started = store.begin_assistant_message(&chat)?;
    assert_eq!(
        (started.status, started.text.as_str()),
        (MessageStatus::Streaming, "")
    );
    for piece in ["The", " cat", " sat."] {
        store.append_assistant_text(&started.id, piece)?;
    }
    assert_eq!(store.message(&started.id)?.text, "The cat sat.");
    assert_eq!(store.message(&started.id)?.status, MessageStatus::Streaming);
    let refuse =
        store.finish_assistant_message(&started.id, MessageStatus::Streaming, None, None, None);
    assert_eq!(refuse.map_err(|e| e.code()).err(), Some("INVALID_INPUT"));

    let stats = MessageStats {
        tokens: 3,
        tokens_per_second: f64::NAN,
        prompt_tokens: 9,
        image_tokens: 0,
        forgotten_exchanges: 0,
    };
    let done = store.finish_assistant_message(
        &started.id,
        MessageStatus::Stopped,
        Some("The cat"),
        Some(&stats),
        None,
    )?;
    assert_eq!(
        (done.status, done.text.as_str()),
        (MessageStatus::Stopped, "The cat")
    );
    assert_eq!(
        done.stats.map(|s| s.tokens_per_second),
        Some(0.0),
        "NaN is not JSON"
    );
    let late = store.append_assistant_text(&started.id, " more");
    assert_eq!(late.map_err(|e| e.code()).err(), Some("INVALID_INPUT"));
    let again = store.finish_assistant_message(&started.id, MessageStatus::Done, None, None, None);
    assert_eq!(again.map_err(|e| e.code()).err(), Some("INVALID_INPUT"));
    let missing = store.append_assistant_text("no-such-id", "x");
    assert_eq!(missing.map_err(|e| e.code()).err(), Some("NOT_FOUND"));
    Ok(())
}
