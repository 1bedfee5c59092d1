//! What the tests share: the OTLP receiver (traces and logs), HTTP servers and clients, the log
//! buffer, span and attribute lookups, running a test in a process of its own, and running the
//! built examples.

#![allow(dead_code)] // each test module uses its own part

pub mod example;
pub mod http;
pub mod logs;
pub mod otlp_receiver;
pub mod process;
pub mod python;
pub mod spans;
