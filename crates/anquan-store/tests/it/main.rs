//! anquan-store integration tests.

mod store_story;
