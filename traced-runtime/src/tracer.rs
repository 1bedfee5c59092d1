//! The tracer that `#[traced]` spans start from, resolved once per thread rather than per call.
//!
//! `opentelemetry::global::tracer()` takes a lock and allocates on every call. Instead, each
//! thread keeps the tracer it resolved, tagged with a generation number; installing a provider
//! through this crate ([`set_tracer_provider`], `Telemetry::install`) bumps the generation, and
//! each thread resolves again on its next span.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::RwLock;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

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

/// Where spans go.
pub(crate) enum Tracer {
    /// An SDK tracer installed through this crate: spans are built without boxing.
    Sdk(SdkTracer),
    /// Whatever the global provider is (a no-op one when nothing is installed).
    Global(BoxedTracer),
}

static INSTALLED: RwLock<Option<SdkTracer>> = RwLock::new(None);
static GENERATION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CACHE: RefCell<Option<(u64, Rc<Tracer>)>> = const { RefCell::new(None) };
}

/// Sets `provider` as the global tracer provider and as the one `#[traced]` spans use.
///
/// `Telemetry::install` does this for you. Call it when you build the `SdkTracerProvider`
/// yourself: `opentelemetry::global::set_tracer_provider` alone is not seen by threads that
/// already created `#[traced]` spans.
pub fn set_tracer_provider(provider: &SdkTracerProvider) {
    global::set_tracer_provider(provider.clone());
    install(Some(provider.tracer_with_scope(scope())));
}

/// Makes `tracer` the one every thread uses from its next span on (`None`: the global one).
pub(crate) fn install(tracer: Option<SdkTracer>) {
    *INSTALLED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = tracer;
    GENERATION.fetch_add(1, Ordering::Release);
}

fn resolve() -> Tracer {
    let installed = INSTALLED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    match installed {
        Some(tracer) => Tracer::Sdk(tracer),
        None => Tracer::Global(global::tracer_with_scope(scope())),
    }
}

/// How many `testing::capture` calls are running: only then is the context consulted.
pub(crate) static CAPTURES: AtomicUsize = AtomicUsize::new(0);

/// A tracer carried by the context, set by `testing::capture` for the code it runs.
#[derive(Clone)]
pub(crate) struct ContextTracer(pub(crate) SdkTracer);

/// Runs `f` with the tracer for a new span.
#[inline]
pub(crate) fn with_tracer<R>(f: impl FnOnce(&Tracer) -> R) -> R {
    if CAPTURES.load(Ordering::Relaxed) > 0 {
        if let Some(ContextTracer(tracer)) =
            Context::map_current(|cx| cx.get::<ContextTracer>().cloned())
        {
            return f(&Tracer::Sdk(tracer));
        }
    }
    let generation = GENERATION.load(Ordering::Acquire);
    let cached = CACHE.try_with(|cache| {
        let mut cache = cache.borrow_mut();
        match &*cache {
            Some((seen, tracer)) if *seen == generation => Rc::clone(tracer),
            _ => {
                let tracer = Rc::new(resolve());
                *cache = Some((generation, Rc::clone(&tracer)));
                tracer
            }
        }
    });
    match cached {
        Ok(tracer) => f(&tracer),
        // The thread is exiting and its locals are gone: resolve without caching.
        Err(_) => f(&resolve()),
    }
}
