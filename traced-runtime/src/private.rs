//! Everything the `#[traced]` expansion names, and nothing else: the span path behind these
//! names may change without changing the macro. Not a public API.

use std::borrow::Borrow;

use opentelemetry::Context;

pub use crate::span::callsite::{Callsite, CrateScope};
pub use crate::span::guard::{Attributes, SpanGuard};
pub use crate::span::instrument::Instrumented;
pub use crate::span::outcome::Outcome;
pub use crate::span::value::{debug, display, value};
pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::Value;

/// `parent = expr`: accepts a `Context` or a reference to one.
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
