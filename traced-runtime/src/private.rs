//! Everything the `#[traced]` expansion names, and nothing else: the span path behind these
//! names may change without changing the macro. Not a public API.

use std::borrow::Borrow;

use opentelemetry::Context;

pub use crate::pipeline::dispatch::disabled;
pub use crate::span::callsite::{Callsite, CrateScope};
pub use crate::span::guard::{Attributes, SpanGuard};
pub use crate::span::instrument::Instrumented;
pub use crate::span::outcome::Outcome;
pub use crate::span::value::{debug, display, value};
pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::Value;

/// `parent = expr`: accepts a `Context` or a reference to one.
/// The body of a sync traced function, as a closure called once: with the `FnOnce` bound at
/// its creation, a body that returns a borrow of a captured `&mut` compiles as written.
#[inline(always)]
pub fn body<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

#[inline]
pub fn as_parent<C: Borrow<Context>>(parent: &C) -> &Context {
    parent.borrow()
}

/// The outcome dispatch (see `outcome`).
pub mod outcome {
    pub use crate::span::outcome::*;
}

/// The `ret` dispatch (see `ret`).
pub mod ret {
    pub use crate::span::ret::*;
}
