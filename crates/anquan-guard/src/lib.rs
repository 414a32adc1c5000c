//! anquan-guard: the guardrail proxy (安全护栏) for a live OpenAI-compatible service.
//!
//! Framework 2.0 asks for a guardrail and GB/T 45654 asks a provider to filter inputs and outputs,
//! stop repeat offenders, keep logs and be able to stop the service at once. This crate is that,
//! as a reverse proxy any OpenAI client can point at: it runs the same detection engine as the
//! evaluator (`anquan-detect`), unchanged.
//!
//! The main design decision: **pingora-style phases over axum** ([`phase::Phases`]:
//! `request_filter` → `upstream` → `response_filter` → `response_body_filter` → `logging`) with
//! one per-request context, and **streamed output inspected over a sliding window**
//! ([`stream::StreamInspector`]) that holds back only the end of the text that could still become
//! a keyword or a piece of personal information, so a keyword split across chunks never reaches the
//! client while the time to first token stays close to the upstream's.
//!
//! Entry point: [`server::Guard::start`]. The HTTP error table is [`errors`]; the configuration
//! is [`config`] (`examples/guard.toml`); the phase chart is `docs/specs/guard-phases.md`.
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod config;
pub mod errors;
pub mod mask;
pub mod metrics;
pub mod phase;
pub mod policy;
pub mod proxy;
pub mod server;
pub mod stream;
pub mod violations;

pub use config::GuardConfig;
pub use errors::{GuardError, Level};
pub use server::{Guard, LogFn, Running, StartError, StartOptions};
