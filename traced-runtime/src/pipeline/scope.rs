//! The instrumentation scope of the spans traced creates.

use opentelemetry::InstrumentationScope;

/// The instrumentation scope name of every span `traced` creates.
pub const SCOPE_NAME: &str = "traced";
/// The instrumentation scope version: this crate's version.
pub const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The instrumentation scope of `traced` spans.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(SCOPE_VERSION)
        .build()
}
