//! The database tests (`tests/it/db.rs`) as a binary of their own.

#[path = "it/db.rs"]
mod db;
