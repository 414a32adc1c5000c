//! anquan-guard integration tests (one binary).

mod audit_chain;
mod metrics_alerts;
mod violations;

// G1: the proxy.
mod config;
mod faults;
mod kill_load;
mod real_model;
mod support;
