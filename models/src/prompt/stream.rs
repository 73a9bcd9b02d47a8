//! [`StreamDecoder`]: generated ids in, completed text out, one id at a time.
//!
//! Decoding ids one by one and concatenating goes wrong in two ways: a character split over
//! several byte tokens (byte-level BPE, or SentencePiece `<0xE4>` byte fallback) decodes to
//! U+FFFD until its last byte arrives, and Metaspace decoders drop the leading space of
//! whatever they decode first (`"▁world"` alone is `"world"`). So, like HF's `TextStreamer` and
//! text-generation-inference, the decoder keeps a small window of ids, decodes the window
//! with and without the new id, and emits the difference only when the decoded text does not
//! end in U+FFFD and no byte-fallback run is open (the `ByteFallback` decoder replaces a whole
//! run of `<0xNN>` tokens by U+FFFD when it is invalid, which would change text already
//! shown). The window always starts with ids that were already emitted, so the
//! Metaspace rule applies to both decodes alike.
//!
//! Special tokens are skipped (`skip_special_tokens=True`). When the tokenizer cleans up
//! tokenization spaces (`" ."` → `"."`), the last characters are held back until more text
//! shows whether a pattern completes. The concatenation of every [`StreamDecoder::push`]
//! and [`StreamDecoder::finish`] equals `tokenizer.decode(all_ids, true)`.

use super::tokenizer::clean_up_tokenization;
use super::{PromptError, TextTokenizer};

/// The replacement character a decoder produces for incomplete UTF-8.
const REPLACEMENT: char = '\u{FFFD}';

/// Characters of cleaned text held back while more text may come: HF's clean-up is ten
/// `str.replace` passes with patterns of at most four characters, each of which can change
/// only the last three characters of its input when text is appended.
const CLEANUP_HOLDBACK: usize = 30;

/// Incremental detokeniser over a [`TextTokenizer`].
#[derive(Debug)]
pub struct StreamDecoder<'t> {
    tokenizer: &'t TextTokenizer,
    /// Ids from the start of the window on.
    ids: Vec<u32>,
    /// `ids[..read_offset]` were emitted; `ids[prefix_offset..read_offset]` is the context.
    prefix_offset: usize,
    read_offset: usize,
    /// Decoded text of `ids[prefix_offset..read_offset]`.
    prefix_text: String,
    /// With clean-up: all raw text so far, and how many bytes of its cleaned form were emitted.
    raw: String,
    released: usize,
}

impl<'t> StreamDecoder<'t> {
    /// A decoder for a new generation.
    pub fn new(tokenizer: &'t TextTokenizer) -> Self {
        Self {
            tokenizer,
            ids: Vec::new(),
            prefix_offset: 0,
            read_offset: 0,
            prefix_text: String::new(),
            raw: String::new(),
            released: 0,
        }
    }

    /// Adds a generated id and returns the text it completes (often empty: a special token,
    /// the first bytes of a character, or text held back for clean-up).
    pub fn push(&mut self, id: u32) -> Result<String, PromptError> {
        self.ids.push(id);
        let text = self
            .tokenizer
            .decode_raw(&self.ids[self.prefix_offset..], true)?;
        let complete = text.len() > self.prefix_text.len()
            && !text.ends_with(REPLACEMENT)
            && !self.in_byte_run()
            && text.starts_with(&self.prefix_text);
        if !complete {
            return Ok(String::new());
        }
        let chunk = text[self.prefix_text.len()..].to_string();
        // The new context is what was just emitted.
        self.prefix_offset = self.read_offset;
        self.read_offset = self.ids.len();
        self.ids.drain(..self.prefix_offset);
        self.read_offset -= self.prefix_offset;
        self.prefix_offset = 0;
        self.prefix_text = self
            .tokenizer
            .decode_raw(&self.ids[..self.read_offset], true)?;
        Ok(self.release(chunk, false))
    }

    /// Ends the generation: returns whatever is still pending, including an incomplete
    /// character as U+FFFD (as `decode` would show it).
    pub fn finish(&mut self) -> Result<String, PromptError> {
        let text = self
            .tokenizer
            .decode_raw(&self.ids[self.prefix_offset..], true)?;
        let chunk = match text.strip_prefix(self.prefix_text.as_str()) {
            Some(rest) => rest.to_string(),
            None => {
                tracing::warn!("stream decoding lost its context; the last text may be incomplete");
                String::new()
            }
        };
        self.ids.clear();
        self.prefix_offset = 0;
        self.read_offset = 0;
        self.prefix_text.clear();
        let out = self.release(chunk, true);
        self.raw.clear();
        self.released = 0;
        Ok(out)
    }

    /// Whether the last decoded token is a SentencePiece byte-fallback token (`<0xE4>`): the
    /// `ByteFallback` decoder turns a whole run of them into U+FFFD when the run is not valid
    /// UTF-8, so text from an open run may still change (`<0x00>` alone is `"\0"`, followed
    /// by `<0xC3>` both bytes become `"��"`). Skipped and unknown ids do not end a run.
    fn in_byte_run(&self) -> bool {
        self.ids
            .iter()
            .rev()
            .filter(|&&id| !self.tokenizer.is_special(id))
            .find_map(|&id| self.tokenizer.id_to_token(id))
            .is_some_and(|token| is_byte_token(&token))
    }

    /// Passes raw text through HF's clean-up. Each of its ten `str.replace` passes may still
    /// change its last three characters when more text arrives, so the last
    /// [`CLEANUP_HOLDBACK`] characters of the cleaned text wait for the next chunk.
    fn release(&mut self, chunk: String, last: bool) -> String {
        if !self.tokenizer.clean_up_tokenization_spaces() {
            return chunk;
        }
        self.raw.push_str(&chunk);
        let cleaned = clean_up_tokenization(&self.raw);
        let end = if last {
            cleaned.len()
        } else {
            cleaned
                .char_indices()
                .rev()
                .nth(CLEANUP_HOLDBACK - 1)
                .map_or(0, |(i, _)| i)
        };
        if end <= self.released || !cleaned.is_char_boundary(self.released) {
            return String::new();
        }
        let out = cleaned[self.released..end].to_string();
        self.released = end;
        out
    }
}

/// `<0xNN>`, the form `ByteFallback` decodes as a raw byte.
fn is_byte_token(token: &str) -> bool {
    token.len() == 6
        && token.starts_with("<0x")
        && token.ends_with('>')
        && u8::from_str_radix(&token[3..5], 16).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::SpecialTokens;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use tokenizers::decoders::byte_fallback::ByteFallback;
    use tokenizers::decoders::byte_level::ByteLevel;
    use tokenizers::decoders::fuse::Fuse;
    use tokenizers::decoders::metaspace::{Metaspace, PrependScheme};
    use tokenizers::decoders::sequence::Sequence;
    use tokenizers::decoders::strip::Strip;
    use tokenizers::models::bpe::{BPE, Vocab};
    use tokenizers::normalizers::replace::Replace;
    use tokenizers::{AddedToken, DecoderWrapper, Tokenizer};

    /// Llama-style SentencePiece BPE: Metaspace `▁`, `<0xNN>` byte fallback, leading-space
    /// strip; multi-byte pieces (`é`, `中文`, `🙂`) and special tokens `<s>`, `</s>`.
    fn sentencepiece_tokenizer(clean_up: bool) -> TextTokenizer {
        let decoder = Sequence::new(vec![
            DecoderWrapper::Replace(Replace::new("▁", " ").unwrap()),
            DecoderWrapper::ByteFallback(ByteFallback::new()),
            DecoderWrapper::Fuse(Fuse::new()),
            DecoderWrapper::Strip(Strip::new(' ', 1, 0)),
        ]);
        sentencepiece_with(decoder.into(), clean_up)
    }

    /// The same vocabulary with the `Metaspace` decoder (leading space dropped per decode).
    fn metaspace_tokenizer() -> TextTokenizer {
        let decoder = Metaspace::new('▁', PrependScheme::First, true);
        sentencepiece_with(decoder.into(), false)
    }

    fn sentencepiece_with(decoder: DecoderWrapper, clean_up: bool) -> TextTokenizer {
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for b in 0..=255u32 {
            vocab.insert(format!("<0x{b:02X}>"), b);
        }
        let pieces = [
            "▁", "▁Hello", "▁world", "é", "中文", "🙂", "▁.", ".", "'s", "▁'", "n't", "a", "▁caf",
        ];
        for (i, p) in pieces.iter().enumerate() {
            vocab.insert(p.to_string(), 256 + i as u32);
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), vec![])
            .byte_fallback(true)
            .build()
            .unwrap();
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_decoder(Some(decoder));
        tokenizer
            .add_special_tokens([
                AddedToken::from("<s>", true),
                AddedToken::from("</s>", true),
            ])
            .unwrap();
        let special = SpecialTokens {
            bos_token: Some("<s>".into()),
            eos_token: Some("</s>".into()),
            ..Default::default()
        };
        TextTokenizer::from_parts(tokenizer, special).with_clean_up_tokenization_spaces(clean_up)
    }

    /// GPT-2-style byte-level BPE with one token per byte plus a few merged ones.
    fn byte_level_tokenizer() -> TextTokenizer {
        let mut chars: Vec<char> = ByteLevel::alphabet().into_iter().collect();
        chars.sort_unstable();
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for c in &chars {
            let id = vocab.len() as u32;
            vocab.insert(c.to_string(), id);
        }
        for merged in ["ĠHello", "Ġw", "ä¸Ń", "æĸĩ"] {
            let id = vocab.len() as u32;
            vocab.insert(merged.to_string(), id);
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), vec![])
            .build()
            .unwrap();
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_decoder(Some(ByteLevel::default()));
        tokenizer
            .add_special_tokens([AddedToken::from("<|im_end|>", true)])
            .unwrap();
        TextTokenizer::from_parts(tokenizer, SpecialTokens::default())
    }

    fn streamed(tokenizer: &TextTokenizer, ids: &[u32]) -> (Vec<String>, String) {
        let mut stream = StreamDecoder::new(tokenizer);
        let mut chunks: Vec<String> = ids.iter().map(|&id| stream.push(id).unwrap()).collect();
        chunks.push(stream.finish().unwrap());
        let all = chunks.concat();
        (chunks, all)
    }

    #[test]
    fn byte_fallback_character_is_emitted_whole() {
        let tok = sentencepiece_tokenizer(false);
        // "▁Hello" "▁world", 中 as fallback bytes E4 B8 AD, "é", </s>: the bytes wait for the
        // run to close.
        let ids = [257, 258, 0xE4, 0xB8, 0xAD, 259, 270];
        let (chunks, all) = streamed(&tok, &ids);
        assert_eq!(chunks, ["Hello", " world", "", "", "", "中é", "", ""]);
        assert_eq!(all, tok.decode(&ids, true).unwrap());
    }

    #[test]
    fn invalid_byte_run_replaces_every_byte_like_decode() {
        let tok = sentencepiece_tokenizer(false);
        // <0x41> alone is "A", but <0x41><0xC3> is an invalid run: both bytes become U+FFFD.
        let ids = [257, 0x41, 0xC3, 258];
        let (chunks, all) = streamed(&tok, &ids);
        assert_eq!(chunks, ["Hello", "", "", "\u{FFFD}\u{FFFD} world", ""]);
        assert_eq!(all, tok.decode(&ids, true).unwrap());
    }

    #[test]
    fn skipped_special_token_does_not_end_a_byte_run() {
        let tok = sentencepiece_tokenizer(false);
        // <s> (269) is skipped before decoding, so E4 and B8 AD still form one run: 中.
        for ids in [&[0xE4, 269, 0xB8, 0xAD, 259][..], &[0, 269, 0xC3]] {
            let (_, all) = streamed(&tok, ids);
            assert_eq!(all, tok.decode(ids, true).unwrap(), "{ids:?}");
        }
        assert_eq!(streamed(&tok, &[0xE4, 269, 0xB8, 0xAD, 259]).1, "中é");
    }

    #[test]
    fn incomplete_character_is_flushed_by_finish() {
        let tok = sentencepiece_tokenizer(false);
        let (chunks, all) = streamed(&tok, &[257, 0xE4]);
        assert_eq!(chunks, ["Hello", "", "\u{FFFD}"]);
        assert_eq!(all, tok.decode(&[257, 0xE4], true).unwrap());
    }

    #[test]
    fn clean_up_waits_for_the_next_token() {
        let tok = sentencepiece_tokenizer(true);
        // "▁Hello" "▁." → HF decodes "Hello." with clean-up
        let (chunks, all) = streamed(&tok, &[257, 262]);
        assert_eq!(all, "Hello.");
        assert_eq!(chunks.concat(), tok.decode(&[257, 262], true).unwrap());
    }

    /// `push` chunks never end in U+FFFD (no partial character) when nothing is held back for
    /// clean-up, and everything together is `decode(ids, true)`.
    fn check_stream(tok: &TextTokenizer, ids: &[u32]) -> Result<(), TestCaseError> {
        let (chunks, all) = streamed(tok, ids);
        prop_assert_eq!(&all, &tok.decode(ids, true).unwrap());
        if !tok.clean_up_tokenization_spaces() {
            for chunk in &chunks[..chunks.len() - 1] {
                prop_assert!(!chunk.ends_with(REPLACEMENT), "{:?}", chunks);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 400,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn sentencepiece_stream_equals_decode(ids in prop::collection::vec(
            prop_oneof![0u32..256, 256u32..269, Just(269u32), Just(270u32), 0xC3u32..0xC4, 0xA9u32..0xAA, 0xF0u32..0xF1, 0x9Fu32..0xA0],
            0..40,
        )) {
            check_stream(&sentencepiece_tokenizer(false), &ids)?;
            check_stream(&sentencepiece_tokenizer(true), &ids)?;
            check_stream(&metaspace_tokenizer(), &ids)?;
        }

        #[test]
        fn byte_level_stream_equals_decode(ids in prop::collection::vec(0u32..261, 0..40)) {
            check_stream(&byte_level_tokenizer(), &ids)?;
        }
    }
}
