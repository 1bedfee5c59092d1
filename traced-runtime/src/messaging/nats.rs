//! NATS through async-nats (feature `nats`): the trace context in the NATS message headers.
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! use traced_runtime::messaging::nats;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = async_nats::connect("nats://127.0.0.1:4222").await?;
//!
//! // Worker: each message is handled in a CONSUMER span `process orders`, child of the
//! // publisher's span.
//! let mut orders = client.subscribe("orders").await?;
//! tokio::spawn(async move {
//!     while let Some(message) = orders.next().await {
//!         let _ = nats::process(&message, || async {
//!             // #[traced] functions called here are in the publisher's trace
//!             Ok::<_, std::io::Error>(())
//!         })
//!         .await;
//!     }
//! });
//!
//! // Publisher: a PRODUCER span `publish orders`; `traceparent` goes in the headers.
//! nats::publish(&client, "orders", "order 7".into()).await?;
//! # Ok(()) }
//! ```
//!
//! - [`publish`], [`publish_with_headers`]: a PRODUCER span `publish {subject}`, its context
//!   and the baggage written into the message's `HeaderMap`; ERROR with `error.type`
//!   `max_payload_exceeded`, `bad_subject` or `send` when the client refuses the message.
//! - [`request`]: a PRODUCER span `request {subject}` that lasts until the reply arrives
//!   (ERROR with `error.type` `timeout` or `no_responders` when none does); the responder's
//!   `process {subject}` is its child, and the [`reply`] published from there (a PRODUCER span
//!   `publish (temporary)`, `messaging.destination.temporary`) is the responder's child: the
//!   whole exchange is one trace.
//! - [`process`], [`process_linked`], [`consumer_scope`]: the CONSUMER span of one message,
//!   current while the handler runs; an `Err` from the handler marks it ERROR. Core NATS has no
//!   acknowledgements, so nothing is settled here.
//!
//! Attributes: `messaging.system = "nats"`, `messaging.destination.name` (the subject),
//! `messaging.operation.type`, `messaging.operation.name`, `messaging.message.body.size`,
//! `server.address` and `server.port` (as the server announces itself in its `INFO`).
//!
//! The span names carry the subject: with many distinct subjects (ids in subjects), build the
//! span yourself with [`ConsumerScope`] and a [`MessageInfo`]
//! [`named`](MessageInfo::named) after the subscription's pattern.

use std::fmt;
use std::future::Future;

use async_nats::client::{PublishError, PublishErrorKind, RequestError, RequestErrorKind};
use async_nats::{Client, HeaderMap, Message, Subject};
use bytes::Bytes;
use opentelemetry::propagation::{Extractor, Injector};

use super::{ConsumerScope, MessageInfo, ProducerSpan};
use crate::propagation::{ExtractCarrier, InjectCarrier};

/// `messaging.system` of NATS.
pub const SYSTEM: &str = "nats";

/// Publishes `payload` to `subject` in a PRODUCER span `publish {subject}`, child of the
/// current span, with its context in the message's headers.
pub async fn publish(
    client: &Client,
    subject: impl Into<Subject>,
    payload: Bytes,
) -> Result<(), PublishError> {
    publish_with_headers(client, subject, HeaderMap::new(), payload).await
}

/// [`publish`] with headers of your own (the trace context is added to them).
pub async fn publish_with_headers(
    client: &Client,
    subject: impl Into<Subject>,
    mut headers: HeaderMap,
    payload: Bytes,
) -> Result<(), PublishError> {
    let subject = subject.into();
    let info = info(client, &subject, payload.len());
    let span = ProducerSpan::start("publish", &info);
    span.inject(&mut headers);
    let result = match check_max_payload(client, &payload) {
        Ok(()) => client.publish_with_headers(subject, headers, payload).await,
        Err(error) => Err(error),
    };
    end_publish(span, &result);
    result
}

/// The check `Client::publish` makes and `Client::publish_with_headers` does not: a payload over
/// the server's `max_payload` is refused here, instead of the server closing the connection.
fn check_max_payload(client: &Client, payload: &Bytes) -> Result<(), PublishError> {
    let max_payload = client.server_info().max_payload;
    if payload.len() > max_payload {
        return Err(PublishError::with_source(
            PublishErrorKind::MaxPayloadExceeded,
            format!(
                "payload size limit of {max_payload} exceeded by message size of {}",
                payload.len()
            ),
        ));
    }
    Ok(())
}

/// Ends a publish span, with `error.type` the kind of failure (`max_payload_exceeded`,
/// `bad_subject`, `send`).
fn end_publish(span: ProducerSpan, result: &Result<(), PublishError>) {
    match result {
        Ok(()) => span.end(),
        Err(error) => {
            let error_type = match error.kind() {
                PublishErrorKind::MaxPayloadExceeded => "max_payload_exceeded",
                PublishErrorKind::BadSubject => "bad_subject",
                PublishErrorKind::Send => "send",
            };
            span.end_with_error_as(error_type, error);
        }
    }
}

/// Sends a request to `subject` and waits for the reply, in a PRODUCER span
/// `request {subject}` whose context goes out with the request: the responder's
/// [`process`] span is its child.
pub async fn request(
    client: &Client,
    subject: impl Into<Subject>,
    payload: Bytes,
) -> Result<Message, RequestError> {
    request_with_headers(client, subject, HeaderMap::new(), payload).await
}

/// [`request`] with headers of your own (the trace context is added to them).
pub async fn request_with_headers(
    client: &Client,
    subject: impl Into<Subject>,
    mut headers: HeaderMap,
    payload: Bytes,
) -> Result<Message, RequestError> {
    let subject = subject.into();
    let info = info(client, &subject, payload.len());
    let span = ProducerSpan::start("request", &info);
    span.inject(&mut headers);
    let result = client.request_with_headers(subject, headers, payload).await;
    match &result {
        Ok(_) => span.end(),
        Err(error) => {
            let error_type = match error.kind() {
                RequestErrorKind::TimedOut => "timeout",
                RequestErrorKind::NoResponders => "no_responders",
                RequestErrorKind::Other => "async_nats::client::RequestError",
            };
            span.end_with_error_as(error_type, error);
        }
    }
    result
}

/// Publishes `payload` to the reply subject of `request` in a PRODUCER span
/// `publish (temporary)` (a reply inbox is a temporary destination), child of the current span:
/// the responder's consumer span when called from [`process`]. A request without a reply
/// subject publishes nothing and returns `Ok`.
pub async fn reply(client: &Client, request: &Message, payload: Bytes) -> Result<(), PublishError> {
    let Some(reply) = request.reply.clone() else {
        return Ok(());
    };
    let info = info(client, &reply, payload.len()).temporary();
    let span = ProducerSpan::start("publish", &info);
    let mut headers = HeaderMap::new();
    span.inject(&mut headers);
    let result = match check_max_payload(client, &payload) {
        Ok(()) => client.publish_with_headers(reply, headers, payload).await,
        Err(error) => Err(error),
    };
    end_publish(span, &result);
    result
}

/// Handles `message` in a CONSUMER span `process {subject}`, child of the publisher's span (a
/// new trace when the message has no valid `traceparent`): the handler runs with it current,
/// and its `Err` marks the span ERROR.
pub async fn process<F, Fut, T, E>(message: &Message, handler: F) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display + 'static,
{
    consumer_scope(message).run(handler).await
}

/// [`process`] in a trace of its own, linked to the publisher's span.
pub async fn process_linked<F, Fut, T, E>(message: &Message, handler: F) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display + 'static,
{
    let info = consumer_info(message);
    let headers = message.headers.clone().unwrap_or_default();
    ConsumerScope::start_linked(&info, &headers)
        .run(handler)
        .await
}

/// The CONSUMER span of `message`, started, for handlers that need more than [`process`]
/// gives (a synchronous handler, attributes of their own).
pub fn consumer_scope(message: &Message) -> ConsumerScope {
    let info = consumer_info(message);
    match &message.headers {
        Some(headers) => ConsumerScope::start(&info, headers),
        None => ConsumerScope::start(&info, &HeaderMap::new()),
    }
}

fn consumer_info(message: &Message) -> MessageInfo {
    MessageInfo::new(SYSTEM, message.subject.to_string()).body_size(message.payload.len())
}

fn info(client: &Client, subject: &Subject, body_size: usize) -> MessageInfo {
    let info = MessageInfo::new(SYSTEM, subject.to_string()).body_size(body_size);
    let server = client.server_info();
    if server.host.is_empty() {
        info
    } else {
        info.server(server.host, server.port)
    }
}

/// Writes into NATS headers; a key is set once (a second write replaces the first).
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value);
    }
}

/// Reads NATS headers. NATS header names keep their case; a name is looked up as written, then
/// in any case, since HTTP-minded producers may write `Traceparent`.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(value) = self.0.get(key) {
            return Some(value.as_str());
        }
        self.0
            .iter()
            .find(|(name, _)| AsRef::<str>::as_ref(*name).eq_ignore_ascii_case(key))
            .and_then(|(_, values)| values.first())
            .map(|value| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self.0.get_all(key).map(|value| value.as_str()).collect();
        if values.is_empty() {
            self.get(key).map(|value| vec![value])
        } else {
            Some(values)
        }
    }
}

impl InjectCarrier for HeaderMap {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut HeaderInjector(self))
    }
}

impl ExtractCarrier for HeaderMap {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&HeaderExtractor(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_names_are_found_in_any_case() {
        let mut headers = HeaderMap::new();
        headers.with_injector(|injector| {
            injector.set("traceparent", "a".to_owned());
            injector.set("traceparent", "b".to_owned());
        });
        headers.insert("Baggage", "k=v");
        headers.with_extractor(|extractor| {
            assert_eq!(extractor.get("traceparent"), Some("b"));
            assert_eq!(extractor.get_all("traceparent"), Some(vec!["b"]));
            assert_eq!(extractor.get("baggage"), Some("k=v"));
            assert_eq!(extractor.get("tracestate"), None);
            let mut keys = extractor.keys();
            keys.sort_unstable();
            assert_eq!(keys, ["Baggage", "traceparent"]);
        });
    }
}
