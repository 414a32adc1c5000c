//! anquan-llm integration tests: faults against the fake upstream (named as such), the protocol
//! against the real local model server.

mod faults;
mod real_model;
