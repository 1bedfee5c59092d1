//! Spans: the guard of one traced call, and the span of one operation of an integration.

mod operation;

pub(crate) use operation::OperationSpan;
