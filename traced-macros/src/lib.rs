//! The `#[traced]` attribute. Use it through `traced_runtime`, which re-exports it and holds
//! everything the expansion calls: `use traced_runtime::traced;`.
//!
//! The pipeline is one file a step: `args` parses `#[traced(...)]` into a typed model,
//! `item` dispatches on the annotated item (function or impl block), `expand` writes the
//! instrumented body. See the `traced_runtime` documentation for the options.

mod args;
mod expand;
mod item;

use proc_macro::TokenStream;

/// Turns a function, a method or every method of an impl block into an OpenTelemetry span.
///
/// See `traced_runtime::traced` for the documentation.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(args.into(), item.into()).into()
}
