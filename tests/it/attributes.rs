//! Names, attributes and their OpenTelemetry types, kinds, statuses and options.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use traced_runtime::opentelemetry::trace::{SpanKind, Status};
use traced_runtime::opentelemetry::{Array, StringValue, Value};
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::testing::{attribute, capture, capture_with_sampler};
use traced_runtime::traced;

#[derive(Debug)]
struct Order {
    id: u64,
    items: Vec<&'static str>,
    total: f32,
}

struct User(&'static str);
impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user:{}", self.0)
    }
}

#[traced("orders.process", attrs(
    component = "orders",
    order.id = order.id,
    order.items = order.items.len(),
    order.total = order.total,
    order.express = express,
    order.skus = order.items,
    "http.route" = route,
    route.owned = route.to_owned(),
    route.cow = Cow::Borrowed(route),
    retries = [1_u8, 2, 3],
    weights = vec![0.5_f64, 1.5],
    flags = &[true, false][..],
    big = u64::MAX,
    user = %user,
    order.debug = ?order.id,
    error.type = "none",
))]
fn process(order: &Order, express: bool, route: &str, user: &User) -> u64 {
    order.id
}

#[traced]
fn default_name() {}

#[traced(name = "named.by.option")]
fn named() {}

#[traced(kind = server)]
fn server() {}
#[traced(kind = client)]
fn client() {}
#[traced(kind = producer)]
fn producer() {}
#[traced(kind = consumer)]
fn consumer() {}
#[traced(kind = internal)]
fn internal() {}

#[traced(unset_status)]
fn library_call() -> u32 {
    1
}

#[traced(ret)]
fn answer() -> u32 {
    42
}

#[traced(ret)]
fn parsed(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.parse()
}

#[traced]
fn secret(password: &str) -> usize {
    password.len()
}

static EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn costly() -> u64 {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    7
}

#[traced(attrs(costly = costly()))]
fn lazily_recorded() {}

fn string(value: &str) -> Value {
    Value::String(value.to_owned().into())
}

#[test]
fn attributes_are_recorded_with_their_opentelemetry_types() {
    let order = Order {
        id: 42,
        items: vec!["a", "b"],
        total: 12.5,
    };
    let (id, spans) = capture(|| process(&order, true, "/orders/{id}", &User("ann")));
    assert_eq!(id, 42);
    let span = spans.find("orders.process").expect("span exported");
    let expect = [
        ("component", string("orders")),
        ("order.id", Value::I64(42)),
        ("order.items", Value::I64(2)),
        ("order.total", Value::F64(12.5)),
        ("order.express", Value::Bool(true)),
        (
            "order.skus",
            Value::Array(Array::String(vec![
                StringValue::from("a"),
                StringValue::from("b"),
            ])),
        ),
        ("http.route", string("/orders/{id}")),
        ("route.owned", string("/orders/{id}")),
        ("route.cow", string("/orders/{id}")),
        ("retries", Value::Array(Array::I64(vec![1, 2, 3]))),
        ("weights", Value::Array(Array::F64(vec![0.5, 1.5]))),
        ("flags", Value::Array(Array::Bool(vec![true, false]))),
        ("big", string("18446744073709551615")),
        ("user", string("user:ann")),
        ("order.debug", string("42")),
        ("error.type", string("none")),
    ];
    for (key, value) in expect {
        assert_eq!(attribute(span, key), Some(&value), "attribute {key}");
    }
    assert_eq!(
        attribute(span, "code.function.name"),
        Some(&string("it::attributes::process"))
    );
    assert_eq!(
        attribute(span, "code.file.path"),
        Some(&string("tests/it/attributes.rs"))
    );
    assert!(matches!(
        attribute(span, "code.line.number"),
        Some(Value::I64(line)) if *line > 0
    ));
    assert_eq!(span.status, Status::Ok);
    assert_eq!(span.span_kind, SpanKind::Internal);
}

#[test]
fn span_names_default_to_the_function_path() {
    let (_, spans) = capture(|| {
        default_name();
        named();
    });
    assert_eq!(
        spans.names(),
        ["it::attributes::default_name", "named.by.option"]
    );
    assert_eq!(
        attribute(spans.find("named.by.option").unwrap(), "code.function.name"),
        Some(&string("it::attributes::named"))
    );
}

#[test]
fn kinds_are_set() {
    let (_, spans) = capture(|| {
        server();
        client();
        producer();
        consumer();
        internal();
    });
    let kinds: Vec<SpanKind> = spans
        .all()
        .iter()
        .map(|span| span.span_kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
            SpanKind::Internal
        ]
    );
}

#[test]
fn unset_status_leaves_success_unset() {
    let (_, spans) = capture(library_call);
    assert_eq!(spans.all()[0].status, Status::Unset);
}

#[test]
fn ret_records_the_return_value_or_the_ok_value() {
    let (_, spans) = capture(|| {
        answer();
        parsed("7").unwrap();
        parsed("x").unwrap_err();
    });
    let values: Vec<Option<&Value>> = spans
        .all()
        .iter()
        .map(|span| attribute(span, traced_runtime::RETURN_VALUE))
        .collect();
    assert_eq!(values, [Some(&string("42")), Some(&string("7")), None]);
}

#[test]
fn arguments_are_not_recorded_unless_named() {
    let (_, spans) = capture(|| secret("hunter2"));
    let span = &spans.all()[0];
    assert!(span
        .attributes
        .iter()
        .all(|kv| !kv.value.as_str().contains("hunter2")));
    let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        ["code.function.name", "code.file.path", "code.line.number"]
    );
}

#[test]
fn attribute_expressions_run_only_when_the_span_is_sampled() {
    EVALUATED.store(0, Ordering::SeqCst);
    let (_, unsampled) = capture_with_sampler(Sampler::AlwaysOff, lazily_recorded);
    assert!(unsampled.all().is_empty());
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 0);

    let (_, sampled) = capture(lazily_recorded);
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 1);
    assert_eq!(attribute(&sampled.all()[0], "costly"), Some(&Value::I64(7)));
}
