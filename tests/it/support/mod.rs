//! What the tests share: the OTLP receiver (traces and logs), HTTP servers and clients, the log
//! buffer, span and attribute lookups, and running a test in a process of its own.

#![allow(dead_code)] // each test module uses its own part

pub mod http;
pub mod logs;
pub mod otlp_receiver;
pub mod process;
pub mod python;
pub mod spans;
