//! Messages: the user's turns, streamed answers, edit & resend, regenerate, prompt history.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::chats::{ensure_chat, title_from_first_message, touch_chat};
use super::error::{SqlContext, StoreError};
use super::images::{attach_images, chat_image_refs, ensure_images, message_image_refs};
use super::types::{ImageRef, Message, MessageStats, MessageStatus, Role, StoredError, Turn};
use super::{Store, new_id, now_ms};

const MESSAGE_COLUMNS: &str = "id, role, text, status, error_json, stats_json, created_at";

impl Store {
    /// Adds the user's message with its (already staged) images, in the given order. Names the
    /// chat after it if the chat still has the default title.
    pub fn add_user_message(
        &mut self,
        chat_id: &str,
        text: &str,
        image_ids: &[String],
    ) -> Result<Message, StoreError> {
        if text.trim().is_empty() && image_ids.is_empty() {
            return Err(StoreError::InvalidInput(
                "Write a message or attach an image first.".into(),
            ));
        }
        let tx = self.conn.transaction().ctx("adding a message")?;
        ensure_chat(&tx, chat_id)?;
        ensure_images(&tx, image_ids)?;
        let now = now_ms();
        let id = insert_message(&tx, chat_id, Role::User, text, MessageStatus::Done, now)?;
        attach_images(&tx, &id, image_ids)?;
        title_from_first_message(&tx, chat_id, text)?;
        touch_chat(&tx, chat_id, now)?;
        let message = load_message(&tx, &id)?;
        tx.commit().ctx("adding a message")?;
        Ok(message)
    }

    /// Starts an empty assistant answer with status `streaming`.
    pub fn begin_assistant_message(&mut self, chat_id: &str) -> Result<Message, StoreError> {
        let tx = self.conn.transaction().ctx("starting an answer")?;
        ensure_chat(&tx, chat_id)?;
        let now = now_ms();
        let id = insert_message(
            &tx,
            chat_id,
            Role::Assistant,
            "",
            MessageStatus::Streaming,
            now,
        )?;
        touch_chat(&tx, chat_id, now)?;
        let message = load_message(&tx, &id)?;
        tx.commit().ctx("starting an answer")?;
        Ok(message)
    }

    /// Appends a piece of a streaming answer, committed before this returns: call it before
    /// showing the piece, and a crash can never lose text the user saw (see the module docs).
    pub fn append_assistant_text(
        &mut self,
        message_id: &str,
        piece: &str,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET text = text || ?2 WHERE id = ?1 AND status = 'streaming'",
            )
            .and_then(|mut stmt| stmt.execute(params![message_id, piece]))
            .ctx("saving a piece of an answer")?;
        if changed == 0 {
            return Err(not_streaming(&self.conn, message_id));
        }
        Ok(())
    }

    /// Ends a streaming answer with `status` (`done`, `stopped` or `error`). `final_text`, when
    /// given, replaces the appended text; `None` keeps it.
    pub fn finish_assistant_message(
        &mut self,
        message_id: &str,
        status: MessageStatus,
        final_text: Option<&str>,
        stats: Option<&MessageStats>,
        error: Option<&StoredError>,
    ) -> Result<Message, StoreError> {
        if status == MessageStatus::Streaming {
            return Err(StoreError::InvalidInput(
                "An answer cannot finish as still streaming.".into(),
            ));
        }
        // JSON has no NaN or infinity (serde_json would write null and fail to read it back).
        let stats = stats.map(|stats| MessageStats {
            tokens_per_second: finite_or_zero(stats.tokens_per_second),
            ..*stats
        });
        let stats_json = stats.as_ref().map(to_json).transpose()?;
        let error_json = error.map(to_json).transpose()?;
        let tx = self.conn.transaction().ctx("finishing an answer")?;
        let changed = tx
            .execute(
                "UPDATE messages SET status = ?2, text = coalesce(?3, text), stats_json = ?4, \
                 error_json = ?5 WHERE id = ?1 AND status = 'streaming'",
                params![
                    message_id,
                    status.as_str(),
                    final_text,
                    stats_json,
                    error_json
                ],
            )
            .ctx("finishing an answer")?;
        if changed == 0 {
            return Err(not_streaming(&tx, message_id));
        }
        let chat_id: String = tx
            .query_row(
                "SELECT chat_id FROM messages WHERE id = ?1",
                [message_id],
                |row| row.get(0),
            )
            .ctx("finishing an answer")?;
        touch_chat(&tx, &chat_id, now_ms())?;
        let message = load_message(&tx, message_id)?;
        tx.commit().ctx("finishing an answer")?;
        Ok(message)
    }

    /// Deletes `message_id` and every later message of the chat (edit & resend). Their images
    /// stay staged, so the edited message can attach them again; the start-up sweep removes
    /// those that end up unused. Returns how many messages went.
    pub fn truncate_from(&mut self, chat_id: &str, message_id: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction().ctx("removing messages")?;
        let seq: i64 = tx
            .query_row(
                "SELECT seq FROM messages WHERE id = ?1 AND chat_id = ?2",
                [message_id, chat_id],
                |row| row.get(0),
            )
            .optional()
            .ctx("removing messages")?
            .ok_or_else(|| message_not_found(message_id))?;
        let deleted = tx
            .execute(
                "DELETE FROM messages WHERE chat_id = ?1 AND seq >= ?2",
                params![chat_id, seq],
            )
            .ctx("removing messages")?;
        tx.commit().ctx("removing messages")?;
        Ok(deleted)
    }

    /// For regenerate: deletes the chat's last answer (if the last message is one) and returns
    /// the user message before it, with its images. Changes nothing when it fails.
    pub fn last_exchange(&mut self, chat_id: &str) -> Result<Message, StoreError> {
        let tx = self.conn.transaction().ctx("preparing to regenerate")?;
        ensure_chat(&tx, chat_id)?;
        let mut last = last_message(&tx, chat_id)?;
        if let Some((id, Role::Assistant)) = &last {
            tx.execute("DELETE FROM messages WHERE id = ?1", [id])
                .ctx("removing the last answer")?;
            last = last_message(&tx, chat_id)?;
        }
        let Some((user_id, Role::User)) = last else {
            return Err(StoreError::InvalidInput(
                "There is no message to answer again in this chat.".into(),
            ));
        };
        let message = load_message(&tx, &user_id)?;
        tx.commit().ctx("preparing to regenerate")?;
        Ok(message)
    }

    /// The conversation for the model's prompt, in order: user messages, and assistant answers
    /// that have text and did not fail (still-streaming answers are left out).
    pub fn history(&self, chat_id: &str) -> Result<Vec<Turn>, StoreError> {
        ensure_chat(&self.conn, chat_id)?;
        let messages = self.chat_messages(chat_id)?;
        let turns = messages
            .into_iter()
            .filter(|m| match m.role {
                Role::User => true,
                Role::Assistant => {
                    matches!(m.status, MessageStatus::Done | MessageStatus::Stopped)
                        && !m.text.is_empty()
                }
            })
            .map(|m| Turn {
                role: m.role,
                image_ids: m.images.into_iter().map(|image| image.id).collect(),
                text: m.text,
            })
            .collect();
        Ok(turns)
    }

    /// One message with its images.
    pub fn message(&self, id: &str) -> Result<Message, StoreError> {
        load_message(&self.conn, id)
    }

    /// A chat's messages in order, each with its images.
    pub(crate) fn chat_messages(&self, chat_id: &str) -> Result<Vec<Message>, StoreError> {
        let mut images = chat_image_refs(&self.conn, chat_id)?;
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql).ctx("loading messages")?;
        let rows = stmt
            .query_map([chat_id], RawMessage::from_row)
            .ctx("loading messages")?;
        let mut messages = Vec::new();
        for row in rows {
            let raw = row.ctx("loading messages")?;
            let refs = images.remove(&raw.id).unwrap_or_default();
            messages.push(raw.into_message(refs)?);
        }
        Ok(messages)
    }
}

/// Inserts a message after the chat's last one and returns its id.
fn insert_message(
    conn: &Connection,
    chat_id: &str,
    role: Role,
    text: &str,
    status: MessageStatus,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO messages (id, chat_id, seq, role, text, status, created_at) \
         SELECT ?1, ?2, coalesce(max(seq), 0) + 1, ?3, ?4, ?5, ?6 \
         FROM messages WHERE chat_id = ?2",
        params![id, chat_id, role.as_str(), text, status.as_str(), now],
    )
    .ctx("inserting a message")?;
    Ok(id)
}

fn load_message(conn: &Connection, id: &str) -> Result<Message, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let raw = conn
        .query_row(&sql, [id], RawMessage::from_row)
        .optional()
        .ctx("loading a message")?
        .ok_or_else(|| message_not_found(id))?;
    let images = message_image_refs(conn, id)?;
    raw.into_message(images)
}

/// The id and role of the chat's last message.
fn last_message(conn: &Connection, chat_id: &str) -> Result<Option<(String, Role)>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT id, role FROM messages WHERE chat_id = ?1 ORDER BY seq DESC LIMIT 1",
            [chat_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .ctx("finding the last message")?;
    row.map(|(id, role)| {
        let role = Role::parse(&role).ok_or_else(|| bad_row("role", &id, &role))?;
        Ok((id, role))
    })
    .transpose()
}

/// Why a message could not be appended to or finished: missing, or no longer streaming.
fn not_streaming(conn: &Connection, id: &str) -> StoreError {
    let status = conn
        .query_row("SELECT status FROM messages WHERE id = ?1", [id], |row| {
            row.get::<_, String>(0)
        })
        .optional();
    match status {
        Err(source) => StoreError::Sqlite {
            context: "looking up a message",
            source,
        },
        Ok(None) => message_not_found(id),
        Ok(Some(status)) => StoreError::InvalidInput(format!(
            "This answer has already ended (its status is {status})."
        )),
    }
}

/// A `messages` row before its text columns are parsed.
struct RawMessage {
    id: String,
    role: String,
    text: String,
    status: String,
    error_json: Option<String>,
    stats_json: Option<String>,
    created_at: i64,
}

impl RawMessage {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            role: row.get(1)?,
            text: row.get(2)?,
            status: row.get(3)?,
            error_json: row.get(4)?,
            stats_json: row.get(5)?,
            created_at: row.get(6)?,
        })
    }

    fn into_message(self, images: Vec<ImageRef>) -> Result<Message, StoreError> {
        let role = Role::parse(&self.role).ok_or_else(|| bad_row("role", &self.id, &self.role))?;
        let status = MessageStatus::parse(&self.status)
            .ok_or_else(|| bad_row("status", &self.id, &self.status))?;
        let error = parse_json("error", &self.id, self.error_json.as_deref())?;
        let stats = parse_json("stats", &self.id, self.stats_json.as_deref())?;
        Ok(Message {
            id: self.id,
            role,
            text: self.text,
            images,
            status,
            error,
            created_at: self.created_at,
            stats,
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    id: &str,
    json: Option<&str>,
) -> Result<Option<T>, StoreError> {
    json.map(|json| serde_json::from_str(json).map_err(|e| bad_row(what, id, &e.to_string())))
        .transpose()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::InvalidInput(format!("cannot encode a value as JSON: {e}")))
}

fn finite_or_zero(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

fn bad_row(what: &'static str, id: &str, detail: &str) -> StoreError {
    StoreError::BadRow {
        what,
        id: id.to_owned(),
        detail: detail.to_owned(),
    }
}

fn message_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "message",
        id: id.to_owned(),
    }
}
