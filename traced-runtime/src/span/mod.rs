//! The span of one traced call, from the expansion of `#[traced]` to its end: the callsite, the
//! guard that starts and ends it, the future wrapper, how the returned value or the error is
//! read, attribute values, exception events, and the manual API over the current span; and the
//! span of one operation of an integration (HTTP, database, Redis, messaging).

pub(crate) mod callsite;
pub(crate) mod exception;
pub(crate) mod guard;
pub(crate) mod instrument;
pub(crate) mod manual;
#[cfg(traced_integrations)]
mod operation;
pub(crate) mod outcome;
pub(crate) mod ret;
pub(crate) mod value;

#[cfg(traced_integrations)]
pub(crate) use operation::OperationSpan;
