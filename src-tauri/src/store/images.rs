//! Images: staged by `insert_image`, attached to messages by id, swept when nobody sent them.
//!
//! The store decodes nothing: the caller passes the original file bytes, their MIME type, the
//! dimensions and a ready thumbnail (PNG, JPEG, WebP or GIF, recognised by its magic bytes).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::{SqlContext, StoreError};
use super::types::{ImageBytes, ImageRef};
use super::{Store, new_id, now_ms};

/// Longest image name kept, in characters (longer names are shortened).
const MAX_NAME_CHARS: usize = 255;

const REF_COLUMNS: &str = "i.id, i.name, i.width, i.height, i.thumb_mime, i.thumb";

impl Store {
    /// Stages an image (stored, attached to nothing yet) and returns its reference.
    pub fn insert_image(
        &mut self,
        name: &str,
        mime: &str,
        bytes: &[u8],
        width: u32,
        height: u32,
        thumb: &[u8],
    ) -> Result<ImageRef, StoreError> {
        if bytes.is_empty() {
            return Err(invalid("The image file is empty."));
        }
        if !mime.starts_with("image/") {
            return Err(invalid(&format!("{mime:?} is not an image type.")));
        }
        if width == 0 || height == 0 {
            return Err(invalid(
                "An image must be at least one pixel wide and high.",
            ));
        }
        let thumb_mime = sniff_image_mime(thumb)
            .ok_or_else(|| invalid("The thumbnail is not a PNG, JPEG, WebP or GIF image."))?;
        let name = clean_name(name);
        let id = new_id();
        self.conn
            .execute(
                "INSERT INTO images (id, name, width, height, mime, thumb_mime, created_at, \
                 thumb, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    name,
                    width,
                    height,
                    mime,
                    thumb_mime,
                    now_ms(),
                    thumb,
                    bytes
                ],
            )
            .ctx("storing an image")?;
        Ok(ImageRef {
            id,
            name,
            width,
            height,
            thumb: data_url(thumb_mime, thumb),
        })
    }

    /// An image's original bytes and MIME type.
    pub fn image_bytes(&self, id: &str) -> Result<ImageBytes, StoreError> {
        self.conn
            .query_row(
                "SELECT id, mime, bytes FROM images WHERE id = ?1",
                [id],
                bytes_from_row,
            )
            .optional()
            .ctx("reading an image")?
            .ok_or_else(|| image_not_found(id))
    }

    /// Whether image `id` is stored (staged or attached).
    pub fn has_image(&self, id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM images WHERE id = ?1")
            .and_then(|mut stmt| stmt.exists([id]))
            .ctx("looking up an image")
    }

    /// Several images' bytes, in the order of `ids` (for the model's prompt).
    pub fn images_bytes(&self, ids: &[String]) -> Result<Vec<ImageBytes>, StoreError> {
        ids.iter().map(|id| self.image_bytes(id)).collect()
    }

    /// Deletes images attached to no message and staged more than `older_than_ms` ago
    /// (0: all unattached ones). Returns how many went.
    pub fn sweep_unreferenced_images(&mut self, older_than_ms: i64) -> Result<usize, StoreError> {
        let cutoff = now_ms().saturating_sub(older_than_ms.max(0));
        self.conn
            .execute(
                "DELETE FROM images WHERE created_at <= ?1 \
                 AND NOT EXISTS (SELECT 1 FROM message_images mi WHERE mi.image_id = images.id)",
                [cutoff],
            )
            .ctx("sweeping unsent images")
    }
}

/// `NotFound` for the first id that names no image.
pub(crate) fn ensure_images(conn: &Connection, ids: &[String]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM images WHERE id = ?1")
        .ctx("looking up images")?;
    for id in ids {
        if !stmt.exists([id]).ctx("looking up images")? {
            return Err(image_not_found(id));
        }
    }
    Ok(())
}

/// Links images to a message at positions 0, 1, ...
pub(crate) fn attach_images(
    conn: &Connection,
    message_id: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO message_images (message_id, image_id, position) VALUES (?1, ?2, ?3)",
        )
        .ctx("attaching images")?;
    for (position, id) in ids.iter().enumerate() {
        stmt.execute(params![message_id, id, position as i64])
            .ctx("attaching images")?;
    }
    Ok(())
}

/// The images of every message of a chat, keyed by message id, each list by position.
pub(crate) fn chat_image_refs(
    conn: &Connection,
    chat_id: &str,
) -> Result<HashMap<String, Vec<ImageRef>>, StoreError> {
    let sql = format!(
        "SELECT mi.message_id, {REF_COLUMNS} FROM message_images mi \
         JOIN messages m ON m.id = mi.message_id JOIN images i ON i.id = mi.image_id \
         WHERE m.chat_id = ?1 ORDER BY mi.message_id, mi.position"
    );
    let mut stmt = conn.prepare(&sql).ctx("loading a chat's images")?;
    let rows = stmt
        .query_map([chat_id], |row| {
            Ok((row.get::<_, String>(0)?, ref_from_row(row, 1)?))
        })
        .ctx("loading a chat's images")?;
    let mut refs: HashMap<String, Vec<ImageRef>> = HashMap::new();
    for row in rows {
        let (message_id, image) = row.ctx("loading a chat's images")?;
        refs.entry(message_id).or_default().push(image);
    }
    Ok(refs)
}

/// The images of one message, by position.
pub(crate) fn message_image_refs(
    conn: &Connection,
    message_id: &str,
) -> Result<Vec<ImageRef>, StoreError> {
    let sql = format!(
        "SELECT {REF_COLUMNS} FROM message_images mi JOIN images i ON i.id = mi.image_id \
         WHERE mi.message_id = ?1 ORDER BY mi.position"
    );
    let mut stmt = conn
        .prepare_cached(&sql)
        .ctx("loading a message's images")?;
    let rows = stmt
        .query_map([message_id], |row| ref_from_row(row, 0))
        .ctx("loading a message's images")?;
    rows.collect::<Result<_, _>>()
        .ctx("loading a message's images")
}

/// The MIME type of a thumbnail from its first bytes.
fn sniff_image_mime(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        _ => None,
    }
}

/// `data:<mime>;base64,<bytes>`.
pub(crate) fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", BASE64.encode(bytes))
}

fn clean_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return "image".to_owned();
    }
    name.chars().take(MAX_NAME_CHARS).collect()
}

fn ref_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<ImageRef> {
    let thumb_mime: String = row.get(first + 4)?;
    let thumb: Vec<u8> = row.get(first + 5)?;
    Ok(ImageRef {
        id: row.get(first)?,
        name: row.get(first + 1)?,
        width: row.get(first + 2)?,
        height: row.get(first + 3)?,
        thumb: data_url(&thumb_mime, &thumb),
    })
}

fn bytes_from_row(row: &Row<'_>) -> rusqlite::Result<ImageBytes> {
    Ok(ImageBytes {
        id: row.get(0)?,
        mime: row.get(1)?,
        bytes: row.get(2)?,
    })
}

fn image_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "image",
        id: id.to_owned(),
    }
}

fn invalid(why: &str) -> StoreError {
    StoreError::InvalidInput(why.to_owned())
}
