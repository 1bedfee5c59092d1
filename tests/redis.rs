//! The Redis integration against a real server: see `it/redis.rs`.

#[path = "it/redis.rs"]
mod redis_tests;
