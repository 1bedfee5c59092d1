//! Background work keeps its trace: `traced_runtime::spawn`, `spawn_blocking`, `spawn_thread`
//! and `in_current_trace` make the work a child of the span that started it, on both runtime
//! flavours, nested, and after the spawner's span has ended.

use std::time::Duration;

use traced_runtime::opentelemetry::trace::{SpanId, TraceId};
use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::{capture_async, Spans};
use traced_runtime::{traced, InCurrentTrace as _};

#[traced]
async fn step(n: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    n
}

#[traced]
fn blocking_step(n: u64) -> u64 {
    n
}

/// Whether a span is the one of the function `name` of this file (spans are named after the
/// function's path, whatever the module this file is compiled as).
fn is(span: &SpanData, name: &str) -> bool {
    span.name.ends_with(&format!("tasks::{name}"))
}

fn span<'a>(spans: &'a Spans, name: &str) -> &'a SpanData {
    spans
        .all()
        .iter()
        .find(|span| is(span, name))
        .unwrap_or_else(|| panic!("no span {name} in {:?}", spans.names()))
}

/// Every span named `child` is a child of the span named `parent`, in its trace.
fn assert_children(spans: &Spans, parent: &str, child: &str, count: usize) {
    let parent = span(spans, parent);
    let children: Vec<_> = spans.all().iter().filter(|s| is(s, child)).collect();
    assert_eq!(children.len(), count, "{:?}", spans.names());
    for child in children {
        assert_eq!(child.parent_span_id, parent.span_context.span_id());
        assert_eq!(
            child.span_context.trace_id(),
            parent.span_context.trace_id()
        );
    }
}

#[traced]
async fn spawner() -> u64 {
    let a = traced_runtime::spawn(step(1));
    let b = traced_runtime::spawn(step(2));
    a.await.unwrap() + b.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_are_children_on_a_multi_thread_runtime() {
    let (sum, spans) = capture_async(spawner()).await;
    assert_eq!(sum, 3);
    assert_children(&spans, "spawner", "step", 2);
}

#[tokio::test(flavor = "current_thread")]
async fn spawned_tasks_are_children_on_a_current_thread_runtime() {
    let (_, spans) = capture_async(spawner()).await;
    assert_children(&spans, "spawner", "step", 2);
}

#[tokio::test]
async fn without_the_helper_a_spawned_task_starts_its_own_trace() {
    #[traced]
    async fn plain_spawner() -> u64 {
        tokio::spawn(step(1)).await.unwrap()
    }
    let (_, spans) = capture_async(plain_spawner()).await;
    // What tokio::spawn does: the task has no current context, so its span is not in the
    // capture (it went to no pipeline at all) and the trace is broken.
    assert_eq!(spans.all().len(), 1, "{:?}", spans.names());
    assert!(is(&spans.all()[0], "plain_spawner"));
}

#[traced]
async fn join_set_spawner() -> u64 {
    let mut set = tokio::task::JoinSet::new();
    for n in 0..4 {
        set.spawn(step(n).in_current_trace());
    }
    let mut sum = 0;
    while let Some(n) = set.join_next().await {
        sum += n.unwrap();
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_set_tasks_are_children() {
    let (sum, spans) = capture_async(join_set_spawner()).await;
    assert_eq!(sum, 6);
    assert_children(&spans, "join_set_spawner", "step", 4);
}

#[traced]
async fn blocking_spawner() -> u64 {
    let handle = traced_runtime::spawn_blocking(|| blocking_step(5));
    handle.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_work_is_a_child() {
    let (n, spans) = capture_async(blocking_spawner()).await;
    assert_eq!(n, 5);
    assert_children(&spans, "blocking_spawner", "blocking_step", 1);
}

#[traced]
fn thread_spawner() -> u64 {
    let threads: Vec<_> = (0..3)
        .map(|n| traced_runtime::spawn_thread(move || blocking_step(n)))
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

#[test]
fn threads_are_children() {
    let (sum, spans) = traced_runtime::testing::capture(thread_spawner);
    assert_eq!(sum, 3);
    assert_children(&spans, "thread_spawner", "blocking_step", 3);
}

#[traced]
async fn outer() -> u64 {
    traced_runtime::spawn(inner()).await.unwrap()
}

#[traced]
async fn inner() -> u64 {
    traced_runtime::spawn(step(9)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_spawns_keep_the_chain() {
    let (n, spans) = capture_async(outer()).await;
    assert_eq!(n, 9);
    assert_children(&spans, "outer", "inner", 1);
    assert_children(&spans, "inner", "step", 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_outliving_its_spawner_stays_its_child() {
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();

    #[traced]
    async fn fire_and_forget(
        release: tokio::sync::oneshot::Receiver<()>,
        done: tokio::sync::oneshot::Sender<u64>,
    ) {
        traced_runtime::spawn(async move {
            // Runs only after the spawner's span has ended.
            release.await.unwrap();
            let _ = done.send(step(4).await);
        });
    }

    let (_, spans) = capture_async(async move {
        fire_and_forget(release_rx, done_tx).await;
        // The spawner has returned; its span has ended. Now let the task run.
        release_tx.send(()).unwrap();
        done_rx.await.unwrap()
    })
    .await;
    let spawner = span(&spans, "fire_and_forget");
    let late = span(&spans, "step");
    assert!(
        spawner.end_time <= late.start_time,
        "the spawner ended first"
    );
    assert_eq!(late.parent_span_id, spawner.span_context.span_id());
    assert_ne!(late.span_context.trace_id(), TraceId::INVALID);
    assert_ne!(late.parent_span_id, SpanId::INVALID);
}
