//! The future adapter of async traced functions: the span is current during every poll, and a
//! panic inside a poll is recorded on it before it goes on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::span::guard::SpanGuard;

pin_project_lite::pin_project! {
    /// Polls `inner` with the span current. Ending the span is the caller's business: the
    /// expansion finishes it with the outcome, and the guard's `Drop` covers cancellation.
    pub struct Instrumented<'a, F> {
        span: &'a mut SpanGuard,
        #[pin]
        inner: F,
    }
}

impl<'a, F> Instrumented<'a, F> {
    /// Wraps `inner` so that `span` is current while it runs.
    #[inline]
    pub fn new(span: &'a mut SpanGuard, inner: F) -> Self {
        Instrumented { span, inner }
    }
}

impl<F: Future> Future for Instrumented<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        this.span.in_scope(|| inner.poll(cx))
    }
}
