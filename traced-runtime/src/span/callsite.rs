//! What `#[traced]` knows about a span at compile time, stored in a `static` per function.

use opentelemetry::trace::SpanKind;

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
}
