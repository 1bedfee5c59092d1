//! What `#[traced]` knows about a span at compile time, stored in a `static` per function, and
//! which traced function is running on this thread (for the `in_span` spans inside it).

use std::cell::Cell;

use opentelemetry::trace::SpanKind;
use opentelemetry::InstrumentationScope;

use crate::pipeline::scope::{SCOPE_NAME, SCOPE_VERSION};

/// The static description of one traced function. Built by the macro; nothing in it is
/// allocated or computed per call.
#[derive(Debug)]
pub struct Callsite {
    /// The span name: the function's path, or the name given to `#[traced("...")]`.
    pub name: &'static str,
    /// `code.function.name`: the function's path, `my_crate::orders::Type::method`.
    pub function: &'static str,
    /// `code.file.path`.
    pub file: &'static str,
    /// `code.line.number`.
    pub line: u32,
    /// The span kind (`kind = ..`).
    pub kind: SpanKind,
    /// `unset_status`: leave the status Unset on success instead of setting OK.
    pub unset_status: bool,
    /// How many `attrs(...)` the span records, to size the attribute buffer once.
    pub attr_count: usize,
    /// The instrumentation scope: the crate the function is written in.
    pub scope: CrateScope,
}

/// The instrumentation scope of a span: the package name and version of the crate its code is
/// written in, read at compile time in that crate (`CARGO_PKG_NAME`, `CARGO_PKG_VERSION`).
/// Without them (a build without Cargo), the scope is traced's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrateScope {
    /// `CARGO_PKG_NAME` of the crate.
    pub name: Option<&'static str>,
    /// `CARGO_PKG_VERSION` of the crate.
    pub version: Option<&'static str>,
}

impl CrateScope {
    /// traced's own scope, for spans whose crate is not known.
    pub(crate) const TRACED: CrateScope = CrateScope {
        name: Some(SCOPE_NAME),
        version: Some(SCOPE_VERSION),
    };

    /// The SDK's form. Built from `&'static str`s: no allocation.
    pub(crate) fn instrumentation_scope(self) -> InstrumentationScope {
        let builder = InstrumentationScope::builder(self.name.unwrap_or(SCOPE_NAME));
        match self.version {
            Some(version) => builder.with_version(version).build(),
            None => builder.build(),
        }
    }
}

thread_local! {
    /// The innermost `#[traced]` function running on this thread: set while its body runs (each
    /// poll, for an async one).
    static CURRENT: Cell<Option<&'static Callsite>> = const { Cell::new(None) };
}

/// Makes `callsite` the running traced function until the returned value is given to [`leave`].
#[inline]
pub(crate) fn enter(callsite: &'static Callsite) -> Option<&'static Callsite> {
    CURRENT
        .try_with(|current| current.replace(Some(callsite)))
        .unwrap_or(None)
}

/// Restores the running traced function [`enter`] replaced.
#[inline]
pub(crate) fn leave(previous: Option<&'static Callsite>) {
    let _ = CURRENT.try_with(|current| current.set(previous));
}

/// The innermost `#[traced]` function running on this thread, if any.
#[inline]
pub(crate) fn current() -> Option<&'static Callsite> {
    CURRENT.try_with(Cell::get).unwrap_or(None)
}
