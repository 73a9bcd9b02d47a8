//! Chats: create, list, load, rename, pick a model, delete.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::{SqlContext, StoreError};
use super::types::{Chat, ChatSummary};
use super::{Store, new_id, now_ms};

/// The title of a chat until its first user message names it.
pub const DEFAULT_TITLE: &str = "New chat";

/// Longest title a chat gets from its first message, in characters (before the ellipsis).
const DERIVED_TITLE_CHARS: usize = 40;

/// Longest title `rename_chat` accepts, in characters.
const MAX_TITLE_CHARS: usize = 200;

const SUMMARY_COLUMNS: &str = "c.id, c.title, c.model_id, c.updated_at, \
     (SELECT count(*) FROM messages m WHERE m.chat_id = c.id)";

impl Store {
    /// A new, empty chat titled [`DEFAULT_TITLE`].
    pub fn create_chat(&mut self, model_id: Option<&str>) -> Result<Chat, StoreError> {
        let id = new_id();
        let now = now_ms();
        let updated_at = activity_time(&self.conn, now)?;
        self.conn
            .execute(
                "INSERT INTO chats (id, title, model_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, DEFAULT_TITLE, model_id, now, updated_at],
            )
            .ctx("creating a chat")?;
        self.get_chat(&id)
    }

    /// All chats, most recently active first (a new message or answer is activity; renaming
    /// is not), with their message counts.
    pub fn list_chats(&self) -> Result<Vec<ChatSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM chats c ORDER BY c.updated_at DESC, c.rowid DESC"
        );
        let mut stmt = self.conn.prepare(&sql).ctx("listing chats")?;
        let rows = stmt.query_map([], summary_from_row).ctx("listing chats")?;
        rows.collect::<Result<_, _>>().ctx("listing chats")
    }

    /// One chat with all its messages in order, each with its images.
    pub fn get_chat(&self, id: &str) -> Result<Chat, StoreError> {
        let summary = chat_summary(&self.conn, id)?;
        let created_at: i64 = self
            .conn
            .query_row("SELECT created_at FROM chats WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .ctx("loading a chat")?;
        Ok(Chat {
            summary,
            created_at,
            messages: self.chat_messages(id)?,
        })
    }

    /// Renames a chat (does not move it up the list).
    pub fn rename_chat(&mut self, id: &str, title: &str) -> Result<ChatSummary, StoreError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::InvalidInput(
                "A chat title cannot be empty.".into(),
            ));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(StoreError::InvalidInput(format!(
                "A chat title can be at most {MAX_TITLE_CHARS} characters long."
            )));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE chats SET title = ?2 WHERE id = ?1",
                params![id, title],
            )
            .ctx("renaming a chat")?;
        expect_chat(changed, id)?;
        chat_summary(&self.conn, id)
    }

    /// Sets (or clears) the model a chat talks to.
    pub fn set_chat_model(
        &mut self,
        id: &str,
        model_id: Option<&str>,
    ) -> Result<ChatSummary, StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE chats SET model_id = ?2 WHERE id = ?1",
                params![id, model_id],
            )
            .ctx("setting a chat's model")?;
        expect_chat(changed, id)?;
        chat_summary(&self.conn, id)
    }

    /// Deletes a chat, its messages, and the images no other chat's message uses.
    pub fn delete_chat(&mut self, id: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction().ctx("deleting a chat")?;
        let image_ids: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT DISTINCT mi.image_id FROM message_images mi \
                     JOIN messages m ON m.id = mi.message_id WHERE m.chat_id = ?1",
                )
                .ctx("collecting a chat's images")?;
            let rows = stmt
                .query_map([id], |row| row.get(0))
                .ctx("collecting a chat's images")?;
            rows.collect::<Result<_, _>>()
                .ctx("collecting a chat's images")?
        };
        // The cascade drops the chat's messages and their image links.
        let deleted = tx
            .execute("DELETE FROM chats WHERE id = ?1", [id])
            .ctx("deleting a chat")?;
        expect_chat(deleted, id)?;
        for image_id in &image_ids {
            tx.execute(
                "DELETE FROM images WHERE id = ?1 \
                 AND NOT EXISTS (SELECT 1 FROM message_images WHERE image_id = ?1)",
                [image_id],
            )
            .ctx("deleting a chat's images")?;
        }
        tx.commit().ctx("deleting a chat")
    }
}

/// A chat's summary row, or `NotFound`.
pub(crate) fn chat_summary(conn: &Connection, id: &str) -> Result<ChatSummary, StoreError> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM chats c WHERE c.id = ?1");
    conn.query_row(&sql, [id], summary_from_row)
        .optional()
        .ctx("loading a chat")?
        .ok_or_else(|| not_found(id))
}

/// `NotFound` unless the chat exists.
pub(crate) fn ensure_chat(conn: &Connection, id: &str) -> Result<(), StoreError> {
    let found = conn
        .query_row("SELECT 1 FROM chats WHERE id = ?1", [id], |_| Ok(()))
        .optional()
        .ctx("looking up a chat")?;
    found.ok_or_else(|| not_found(id))
}

/// Marks a chat as active now: it moves to the top of the list.
pub(crate) fn touch_chat(conn: &Connection, id: &str, now: i64) -> Result<(), StoreError> {
    let updated_at = activity_time(conn, now)?;
    let changed = conn
        .execute(
            "UPDATE chats SET updated_at = ?2 WHERE id = ?1",
            params![id, updated_at],
        )
        .ctx("updating a chat's time")?;
    expect_chat(changed, id)
}

/// `now`, or just after the latest activity of any chat if that is not earlier (several
/// actions in one millisecond, or a clock set back), so the active chat is always first.
fn activity_time(conn: &Connection, now: i64) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT max(?1, coalesce(max(updated_at) + 1, ?1)) FROM chats",
        [now],
        |row| row.get(0),
    )
    .ctx("reading the latest chat activity")
}

/// Gives a chat still titled [`DEFAULT_TITLE`] a title taken from `text`.
pub(crate) fn title_from_first_message(
    conn: &Connection,
    id: &str,
    text: &str,
) -> Result<(), StoreError> {
    let Some(title) = derive_title(text) else {
        return Ok(());
    };
    conn.execute(
        "UPDATE chats SET title = ?2 WHERE id = ?1 AND title = ?3",
        params![id, title, DEFAULT_TITLE],
    )
    .ctx("titling a chat")?;
    Ok(())
}

/// A title from a message: whitespace collapsed, cut at a word boundary after at most
/// 40 characters, with "…" when cut. `None` for a message without words.
pub fn derive_title(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let mut title = String::new();
    let mut chars = 0;
    for word in &words {
        let extra = word.chars().count() + usize::from(chars > 0);
        if chars + extra > DERIVED_TITLE_CHARS {
            if chars == 0 {
                // One word longer than the limit: cut inside it.
                title = word.chars().take(DERIVED_TITLE_CHARS).collect();
            }
            title.push('…');
            return Some(title);
        }
        if chars > 0 {
            title.push(' ');
        }
        title.push_str(word);
        chars += extra;
    }
    Some(title)
}

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<ChatSummary> {
    Ok(ChatSummary {
        id: row.get(0)?,
        title: row.get(1)?,
        model_id: row.get(2)?,
        updated_at: row.get(3)?,
        message_count: row.get(4)?,
    })
}

fn expect_chat(changed: usize, id: &str) -> Result<(), StoreError> {
    if changed == 0 {
        return Err(not_found(id));
    }
    Ok(())
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "chat",
        id: id.to_owned(),
    }
}
