//! anquan-run integration tests.

mod config;
mod metrics;
mod runner;
