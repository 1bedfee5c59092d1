//! The instrumentation scopes of the spans traced creates.
//!
//! A `#[traced]` function's span, and an `in_span` span inside one, carry the scope of the crate
//! the function is written in (its package name and version, read at compile time; see
//! `span::callsite`). The integrations' spans carry a scope of their own, named after traced and
//! the integration as the semantic conventions name their namespaces: `traced.http`,
//! `traced.db`, `traced.redis`, `traced.messaging`, with traced's version. Anything else (an
//! `in_span` outside any traced function) carries `traced`.

use opentelemetry::InstrumentationScope;

use crate::span::callsite::CrateScope;

/// The instrumentation scope name of spans whose crate is not known.
pub const SCOPE_NAME: &str = "traced";
/// The instrumentation scope version of traced's own scopes: this crate's version.
pub const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The instrumentation scope name of the HTTP server and client spans.
pub const HTTP_SCOPE_NAME: &str = "traced.http";
/// The instrumentation scope name of the database spans.
pub const DB_SCOPE_NAME: &str = "traced.db";
/// The instrumentation scope name of the Redis spans.
pub const REDIS_SCOPE_NAME: &str = "traced.redis";
/// The instrumentation scope name of the messaging spans.
pub const MESSAGING_SCOPE_NAME: &str = "traced.messaging";

/// The scope of one integration's spans.
#[cfg_attr(not(traced_integrations), allow(dead_code))]
pub(crate) const fn integration(name: &'static str) -> CrateScope {
    CrateScope {
        name: Some(name),
        version: Some(SCOPE_VERSION),
    }
}

/// The instrumentation scope of spans whose crate is not known.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(SCOPE_VERSION)
        .build()
}
