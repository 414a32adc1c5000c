//! anquan-testkit (not published): what anquan's tests and benchmarks share.
//!
//! - [`ModelServer`]: starts the **real** local model server (Qwen2.5-Coder 0.5B behind our
//!   OpenAI-compatible wrapper around node-llama-cpp, installed by `scripts/setup-model`) on a
//!   free loopback port, waits until it answers, and stops it.
//! - [`FakeUpstream`]: a **fake** OpenAI-compatible server, for runner-overhead benchmarks and
//!   for faults a real server cannot be made to produce. It is named as a fake wherever used.

mod fake;
mod model;

pub use fake::{FakeUpstream, Fault, canned_answer};
pub use model::{ModelServer, ModelServerError, cache_dir, model_path, server_script};
