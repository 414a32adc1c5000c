//! anquan-llm: the OpenAI-compatible client every anquan component uses to talk to a model.
//!
//! Chat completions with and without SSE streaming (time to first token recorded), multi-turn
//! messages, bounded concurrency, client-side requests-per-minute and tokens-per-minute limits,
//! back-off on 429 that honours `Retry-After` and pauses every worker, bounded retries with
//! jitter, connect / first-byte / total timeouts, token accounting from `usage` or an estimate
//! labelled as such. A templated HTTP target covers services that are not OpenAI-compatible.
//! Keys come from environment variables and never appear in errors or `Debug` output.
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod limit;
mod sse;

pub use client::{
    ChatResponse, Client, Message, Timings, Usage, client, estimate_tokens, json_path,
    parse_retry_after,
};
pub use config::{TargetConfig, TargetKind};
pub use error::{LlmError, redact_url};
pub use sse::SseParser;
