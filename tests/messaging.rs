//! Runs tests/it/messaging.rs on its own during development.

#[path = "it/messaging.rs"]
mod messaging;
