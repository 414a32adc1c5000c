//! anquan-guard: the guardrail proxy (安全护栏). Work in progress (issue 8).
#![warn(missing_docs)]
