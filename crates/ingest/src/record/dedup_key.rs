//! What identifies a call across copies of it (a Claude Code message's
//! lines, a stream's chunks), kept per held-back record by the pipeline's
//! deduplication (`crate::pipeline::dedup`).

use tokenaudit_core::CallRecord;
use xxhash_rust::xxh3::xxh3_128;

/// What identifies a logged call, and how complete this copy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedupKey {
    /// Hash of (`message.id`, `requestId`).
    pub key: u128,
    /// Hash of `message.id` alone (for sidechain replays).
    pub message: u128,
    pub sidechain: bool,
    /// All tokens of the copy (input including the cache, and output).
    pub tokens: u64,
    pub output: u64,
    /// Web searches the copy counts (a later streamed line may give more
    /// with the same tokens).
    pub searches: u64,
    /// 0 for the line's own call; from 1, the calls its usage's iterations
    /// bill beside it ([`crate::record::iterations`]), whose copies are not
    /// counted as dropped lines (their line's copy is).
    pub part: u8,
    /// The copy is a stream's last chunk without usage
    /// ([`CallRecord::usage_missing`]).
    pub bare: bool,
}

impl DedupKey {
    /// The same key, replayed by sidechain copies that name `message_id`
    /// (by default the key's own message id).
    pub fn with_message(mut self, message_id: &str) -> Self {
        self.message = xxh3_128(message_id.as_bytes());
        self
    }

    /// A streaming chunk's key: its stream's id, model and second (see
    /// [`CallRecord::stream_chunk`]; a stream's chunks share their
    /// `created`, and a server that draws ids from a few hundred, as
    /// Ollama's does, repeats them across calls: hunt94). The most complete
    /// chunk is the one with the most tokens (a running total's last), then
    /// the one with a finish reason, then the first.
    pub fn stream(id: &str, r: &CallRecord<'_>) -> Self {
        // (Gemini's ids are its own, never drawn again: its chunks, each
        // logged at its arrival, are one stream whatever their seconds.)
        let second = match (r.stream_created, r.timestamp) {
            _ if r.gemini_response => i64::MIN,
            (Some(created), _) => created,
            (None, Some(t)) => t.timestamp(),
            (None, None) => i64::MIN,
        };
        let key = xxh3_128(format!("stream\0{id}\0{}\0{second}", r.model).as_bytes());
        DedupKey {
            key,
            message: key,
            sidechain: false,
            tokens: r.usage.total(),
            output: r.usage.output,
            // (Ranked after the tokens: a finishing chunk that repeats the
            // total keeps its finish reason.)
            searches: r.usage.web_searches << 1 | u64::from(r.finish_reason.is_some()),
            part: 0,
            bare: r.usage_missing,
        }
    }

    pub fn new(message_id: &str, request_id: &str, sidechain: bool, r: &CallRecord<'_>) -> Self {
        let mut buf = Vec::with_capacity(message_id.len() + request_id.len() + 1);
        buf.extend_from_slice(message_id.as_bytes());
        buf.push(0);
        buf.extend_from_slice(request_id.as_bytes());
        DedupKey {
            key: xxh3_128(&buf),
            message: xxh3_128(message_id.as_bytes()),
            sidechain,
            tokens: r.usage.total(),
            output: r.usage.output,
            searches: r.usage.web_searches,
            part: 0,
            bare: r.usage_missing,
        }
    }

    /// The key of the `part`-th call (from 1) the iterations of this key's
    /// line bill beside it: the same for every copy of the line.
    pub fn part(&self, part: u8, r: &CallRecord<'_>) -> Self {
        let mut buf = self.key.to_le_bytes().to_vec();
        buf.push(part);
        let mut message = self.message.to_le_bytes().to_vec();
        message.push(part);
        DedupKey {
            key: xxh3_128(&buf),
            message: xxh3_128(&message),
            sidechain: self.sidechain,
            tokens: r.usage.total(),
            output: r.usage.output,
            searches: 0,
            part,
            bare: false,
        }
    }
}
