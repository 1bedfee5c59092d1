//! The tracer that `#[traced]` spans start from, resolved once per thread rather than per call.
//!
//! `opentelemetry::global::tracer()` takes a lock and allocates on every call. Instead, each
//! thread keeps the tracer it resolved, tagged with a generation number; installing a provider
//! through this crate ([`set_tracer_provider`], [`SpanPipeline::install`](crate::SpanPipeline),
//! `Telemetry::install`) bumps the generation, and each thread resolves again on its next span.
//!
//! The tracer is, from fastest to most general: the fast path of a [`SpanPipeline`]
//! (`Fast`, with the thread's own queue to the collector), an SDK tracer installed with
//! [`set_tracer_provider`] (`Sdk`), whatever the global provider is (`Global`), or nothing when the
//! global provider turned out to be the no-op one (`Disabled`).
//!
//! [`SpanPipeline`]: crate::SpanPipeline

use std::cell::{Cell, RefCell};
use std::rc::Rc;
#[cfg(feature = "testing")]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(feature = "testing")]
use std::sync::Arc;
use std::sync::{PoisonError, RwLock};

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::pipeline::collector::Collector;
use crate::pipeline::fast_tracer::{FastTracer, TracerRef};
use crate::pipeline::scope::scope;
use crate::span::callsite::CrateScope;

/// Where spans go.
pub(crate) enum Tracer {
    /// The fast path of an installed `SpanPipeline`, and this thread's queue to its collector.
    Fast(TracerRef),
    /// An SDK tracer installed through this crate: spans are built without boxing.
    Sdk(SdkTracer),
    /// Whatever the global provider is.
    Global(BoxedTracer),
    /// The global provider is the no-op one: no span is started.
    Disabled,
}

/// What was installed through this crate.
#[derive(Clone)]
enum Installed {
    Nothing,
    Sdk(SdkTracer, SdkTracerProvider),
    /// Leaked on install: pipelines are installed once or a few times per process, and a
    /// `'static` reference keeps reference counting off the span path.
    Fast(&'static FastTracer),
}

static INSTALLED: RwLock<Installed> = RwLock::new(Installed::Nothing);
static GENERATION: AtomicU64 = AtomicU64::new(1);
/// The generation in which a thread found only the no-op global provider: while nothing is
/// installed since, no span is started.
static DISABLED_IN: AtomicU64 = AtomicU64::new(0);
/// `DISABLED_IN` is the current generation: what a traced call reads first, so that a program
/// without a provider pays one load and a branch ([`disabled`]).
static DISABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CACHE: RefCell<Option<(u64, Rc<Tracer>)>> = const { RefCell::new(None) };
    /// This thread's fast tracer and the generation it was found in: the common case, read
    /// without borrowing the cache or counting a reference.
    static FAST: Cell<(u64, Option<&'static FastTracer>)> = const { Cell::new((0, None)) };
    /// The SDK or global tracers of other scopes than traced's (the crates of `#[traced]`
    /// functions, the integrations), resolved once per thread and generation.
    static SCOPED: RefCell<(u64, ScopedTracers)> = const { RefCell::new((0, Vec::new())) };
}

/// A thread's tracers of other scopes than traced's.
type ScopedTracers = Vec<(CrateScope, Rc<Tracer>)>;

/// Most scopes a thread keeps tracers for; beyond, a tracer is made for each span.
const MAX_SCOPED: usize = 64;

/// Sets `provider` as the global tracer provider and as the one `#[traced]` spans use.
///
/// `Telemetry::install` does this for you. Call it when you build the `SdkTracerProvider`
/// yourself: `opentelemetry::global::set_tracer_provider` alone is not seen by threads that
/// already created `#[traced]` spans.
pub fn set_tracer_provider(provider: &SdkTracerProvider) {
    global::set_tracer_provider(provider.clone());
    install(Installed::Sdk(
        provider.tracer_with_scope(scope()),
        provider.clone(),
    ));
}

/// Makes the fast path of a pipeline the one every thread uses from its next span on.
pub(crate) fn install_fast(mut tracer: FastTracer) {
    tracer.per_thread_queues = true;
    install(Installed::Fast(leak(tracer)));
}

/// Gives an installed fast tracer the `'static` lifetime spans refer to it with: installs are
/// rare (once or a few times per process), and a plain reference keeps reference counting off
/// the span path.
fn leak(tracer: FastTracer) -> &'static FastTracer {
    Box::leak(Box::new(tracer))
}

/// After `collector` shut down, threads go back to the global provider (which is its SDK
/// provider, now returning non-recording spans).
pub(crate) fn uninstall_fast(collector: &Collector) {
    let mut installed = INSTALLED.write().unwrap_or_else(PoisonError::into_inner);
    if matches!(&*installed, Installed::Fast(fast) if fast.collector.is(collector)) {
        *installed = Installed::Nothing;
        new_generation();
    }
}

/// Spans go to the global provider again.
pub(crate) fn uninstall() {
    install(Installed::Nothing);
}

fn install(installed: Installed) {
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = installed;
    new_generation();
}

/// Starts a new generation: each thread resolves its tracer again, spans are started again.
fn new_generation() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    // After the generation: a `disable_global` that saw the old one either set `DISABLED`
    // before this store, or sees the new generation after its own store and clears it.
    DISABLED.store(false, Ordering::SeqCst);
}

fn resolve() -> Tracer {
    let installed = INSTALLED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match installed {
        Installed::Fast(tracer) => Tracer::Fast(TracerRef::Installed(tracer)),
        Installed::Sdk(tracer, _) => Tracer::Sdk(tracer),
        Installed::Nothing => Tracer::Global(global::tracer_with_scope(scope())),
    }
}

/// The SDK (or global) tracer for `scope`: the fast path's provider, the installed SDK
/// provider, or the global one.
fn resolve_scoped(scope: CrateScope) -> Tracer {
    let installed = INSTALLED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let scope = scope.instrumentation_scope();
    match installed {
        Installed::Fast(tracer) => Tracer::Sdk(tracer.provider.tracer_with_scope(scope)),
        Installed::Sdk(_, provider) => Tracer::Sdk(provider.tracer_with_scope(scope)),
        Installed::Nothing => Tracer::Global(global::tracer_with_scope(scope)),
    }
}

/// Runs `f` with a tracer of `scope` for a span that is not on the fast path: `tracer` (from
/// [`with_tracer`]) when it is traced's scope or a test capture's, else the SDK or global
/// tracer of that scope, cached per thread.
pub(crate) fn with_scoped_tracer<R>(
    tracer: &Tracer,
    scope: Option<CrateScope>,
    f: impl FnOnce(&Tracer) -> R,
) -> R {
    let Some(scope) = scope.filter(|scope| *scope != CrateScope::TRACED) else {
        return f(tracer);
    };
    match tracer {
        #[cfg(feature = "testing")]
        Tracer::Fast(TracerRef::Captured(captured)) => f(&Tracer::Sdk(
            captured
                .provider
                .tracer_with_scope(scope.instrumentation_scope()),
        )),
        Tracer::Disabled => f(tracer),
        _ => {
            let generation = GENERATION.load(Ordering::Acquire);
            let cached = SCOPED.try_with(|scoped| {
                let mut scoped = scoped.borrow_mut();
                if scoped.0 != generation {
                    *scoped = (generation, Vec::new());
                }
                if let Some((_, tracer)) = scoped.1.iter().find(|(seen, _)| *seen == scope) {
                    return Rc::clone(tracer);
                }
                let tracer = Rc::new(resolve_scoped(scope));
                if scoped.1.len() < MAX_SCOPED {
                    scoped.1.push((scope, Rc::clone(&tracer)));
                }
                tracer
            });
            match cached {
                Ok(tracer) => f(&tracer),
                Err(_) => f(&resolve_scoped(scope)),
            }
        }
    }
}

/// The global tracer of this thread produced a span without ids: it is the no-op one. Spans are
/// not started until something is installed through this crate.
pub(crate) fn disable_global() {
    let generation = GENERATION.load(Ordering::Acquire);
    let _ = CACHE.try_with(|cache| {
        let cache = cache.borrow();
        if matches!(&*cache, Some((seen, tracer)) if *seen == generation && matches!(**tracer, Tracer::Global(_)))
        {
            DISABLED_IN.store(generation, Ordering::SeqCst);
            DISABLED.store(true, Ordering::SeqCst);
            // An install since bumped the generation: undone (see `new_generation`).
            if GENERATION.load(Ordering::SeqCst) != generation {
                DISABLED.store(false, Ordering::SeqCst);
            }
        }
    });
}

/// Whether no span is started: nothing was installed through this crate and the global
/// provider turned out to be the no-op one. The first thing a traced call checks.
#[inline]
pub fn disabled() -> bool {
    #[cfg(feature = "testing")]
    if CAPTURES.load(Ordering::Relaxed) > 0 {
        return false;
    }
    DISABLED.load(Ordering::Relaxed)
}

/// This thread's installed fast tracer, when it is the one spans go to: the common case, checked
/// before anything else [`with_tracer`] does.
#[inline]
pub(crate) fn installed_fast() -> Option<&'static FastTracer> {
    #[cfg(feature = "testing")]
    if CAPTURES.load(Ordering::Relaxed) > 0 {
        return None;
    }
    let generation = GENERATION.load(Ordering::Acquire);
    match FAST.try_with(Cell::get) {
        Ok((seen, Some(fast))) if seen == generation => Some(fast),
        _ => None,
    }
}

/// How many `testing::capture` calls are running: only then is the context consulted.
#[cfg(feature = "testing")]
pub(crate) static CAPTURES: AtomicUsize = AtomicUsize::new(0);

/// A tracer carried by the context, set by `testing::capture` for the code it runs.
#[cfg(feature = "testing")]
#[derive(Clone)]
pub(crate) struct ContextTracer(pub(crate) Arc<FastTracer>);

/// Runs `f` with the tracer for a new span.
#[inline]
pub(crate) fn with_tracer<R>(f: impl FnOnce(&Tracer) -> R) -> R {
    #[cfg(feature = "testing")]
    if CAPTURES.load(Ordering::Relaxed) > 0 {
        if let Some(ContextTracer(tracer)) =
            opentelemetry::Context::map_current(|cx| cx.get::<ContextTracer>().cloned())
        {
            return f(&Tracer::Fast(TracerRef::Captured(tracer)));
        }
    }
    let generation = GENERATION.load(Ordering::Acquire);
    if DISABLED_IN.load(Ordering::Relaxed) == generation {
        return f(&Tracer::Disabled);
    }
    if let Ok((seen, Some(fast))) = FAST.try_with(Cell::get) {
        if seen == generation {
            return f(&Tracer::Fast(TracerRef::Installed(fast)));
        }
    }
    let cached = CACHE.try_with(|cache| {
        let mut cache = cache.borrow_mut();
        match &*cache {
            Some((seen, tracer)) if *seen == generation => Rc::clone(tracer),
            _ => {
                let tracer = Rc::new(resolve());
                let fast = match &*tracer {
                    Tracer::Fast(TracerRef::Installed(fast)) => Some(*fast),
                    _ => None,
                };
                let _ = FAST.try_with(|cell| cell.set((generation, fast)));
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
