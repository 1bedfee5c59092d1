//! RabbitMQ through lapin (feature `rabbitmq`): the trace context in the AMQP message headers
//! (the `headers` table of `BasicProperties`).
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! use lapin::options::{BasicConsumeOptions, BasicPublishOptions};
//! use lapin::types::FieldTable;
//! use lapin::BasicProperties;
//! use traced_runtime::messaging::rabbitmq;
//!
//! # async fn run(channel: lapin::Channel) -> Result<(), Box<dyn std::error::Error>> {
//! // Publisher: a PRODUCER span `publish orders`; `traceparent` goes in the headers.
//! rabbitmq::publish(
//!     &channel, "", "orders", BasicPublishOptions::default(), b"order 7",
//!     BasicProperties::default(),
//! ).await?;
//!
//! // Worker: each delivery is handled in a CONSUMER span `process orders`, child of the
//! // publisher's span; acked when the handler returns `Ok`, nacked when it returns `Err`.
//! let mut deliveries = channel
//!     .basic_consume("orders", "worker", BasicConsumeOptions::default(), FieldTable::default())
//!     .await?;
//! while let Some(delivery) = deliveries.next().await {
//!     let _ = rabbitmq::process(&delivery?, || async {
//!         Ok::<_, std::io::Error>(())
//!     })
//!     .await;
//! }
//! # Ok(()) }
//! ```
//!
//! - [`publish`]: a PRODUCER span `publish {destination}` around `basic_publish` (it ends when
//!   the channel took the message; awaiting the publisher confirm is yours).
//! - [`process`], [`process_with`]: the CONSUMER span `process {destination}` of one delivery,
//!   current while the handler runs, then the settlement: `ack` after `Ok`; after `Err` the
//!   span is ERROR and the delivery is nacked without requeue (or settled as
//!   [`ProcessOptions::on_error`] says). The settlement is a `settle` event on the span
//!   (`messaging.operation.name` `ack`, `nack` or `reject`, `traced.messaging.requeue`); an
//!   acknowledgement the broker did not take adds `error.type` to the event.
//! - [`consumer_scope`]: the span alone, to settle yourself (then call
//!   [`ConsumerScope::settled`]).
//!
//! The destination: `messaging.destination.name` is the exchange, as the semantic conventions
//! say (empty for the default exchange), with `messaging.rabbitmq.destination.routing_key`;
//! the span name is `{operation} {exchange}`, or `{operation} {routing key}` on the default
//! exchange, where the routing key is the queue's name (`publish orders`). Other attributes:
//! `messaging.message.id` and `messaging.message.conversation_id` (the properties'
//! `message_id` and `correlation_id`), `messaging.message.body.size`,
//! `messaging.rabbitmq.message.delivery_tag`. lapin's `Channel` does not tell the broker's
//! address, so `server.address` is not recorded.
//!
//! This crate turns on no feature of lapin: your own `lapin` dependency chooses the TLS backend
//! and the runtime (its default features, or `ConnectionProperties::with_executor` /
//! `with_reactor` with `tokio-executor-trait` and `tokio-reactor-trait`, as the tests do).

use std::fmt;
use std::future::Future;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicPublishOptions, BasicRejectOptions};
use lapin::publisher_confirm::PublisherConfirm;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::KeyValue;

use super::{ConsumerScope, MessageInfo, ProducerSpan, Settlement};
use crate::propagation::{ExtractCarrier, InjectCarrier};
use crate::semconv::{MESSAGING_RABBITMQ_DELIVERY_TAG, MESSAGING_RABBITMQ_ROUTING_KEY};

/// `messaging.system` of RabbitMQ.
pub const SYSTEM: &str = "rabbitmq";

/// `basic_publish` in a PRODUCER span `publish {destination}`, child of the current span, with
/// its context and the baggage added to the `headers` of `properties`.
pub async fn publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    options: BasicPublishOptions,
    payload: &[u8],
    properties: BasicProperties,
) -> lapin::Result<PublisherConfirm> {
    let info = info(exchange, routing_key, &properties, payload.len());
    let span = ProducerSpan::start("publish", &info);
    let mut headers = properties.headers().clone().unwrap_or_default();
    span.inject(&mut headers);
    let result = channel
        .basic_publish(
            exchange,
            routing_key,
            options,
            payload,
            properties.with_headers(headers),
        )
        .await;
    span.end_with(&result);
    result
}

/// How [`process_with`] handles a delivery.
#[derive(Clone, Copy, Debug)]
pub struct ProcessOptions {
    on_error: Settlement,
    settle: bool,
    linked: bool,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        ProcessOptions {
            on_error: Settlement::Nack { requeue: false },
            settle: true,
            linked: false,
        }
    }
}

impl ProcessOptions {
    /// Ack after `Ok`, nack without requeue after `Err`, child of the publisher's span.
    pub fn new() -> Self {
        Self::default()
    }

    /// How a delivery whose handler returned `Err` is settled (default: nack without requeue,
    /// so that a failing message does not loop; dead-letter it with the queue's policy).
    pub fn on_error(mut self, settlement: Settlement) -> Self {
        self.on_error = settlement;
        self
    }

    /// Do not settle: for consumers started with `no_ack`, or handlers that settle themselves.
    pub fn no_settle(mut self) -> Self {
        self.settle = false;
        self
    }

    /// The CONSUMER span starts a trace of its own, linked to the publisher's span.
    pub fn linked(mut self) -> Self {
        self.linked = true;
        self
    }
}

/// Handles `delivery` in its CONSUMER span (child of the publisher's span; a new trace when the
/// message has no valid `traceparent`), then acks it after `Ok`, or marks the span ERROR and
/// nacks it (no requeue) after `Err`.
pub async fn process<F, Fut, T, E>(delivery: &Delivery, handler: F) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display + 'static,
{
    process_with(delivery, ProcessOptions::default(), handler).await
}

/// [`process`] with options.
pub async fn process_with<F, Fut, T, E>(
    delivery: &Delivery,
    options: ProcessOptions,
    handler: F,
) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: fmt::Display + 'static,
{
    let info = consumer_info(delivery);
    let headers = delivery.properties.headers().clone().unwrap_or_default();
    let scope = if options.linked {
        ConsumerScope::start_linked(&info, &headers)
    } else {
        ConsumerScope::start(&info, &headers)
    };
    let result = scope.handle(handler).await;
    if options.settle {
        let settlement = match result {
            Ok(_) => Settlement::Ack,
            Err(_) => options.on_error,
        };
        match settle(delivery, settlement).await {
            Ok(_) => scope.settled(settlement),
            Err(error) => scope.settle_failed(settlement, &error),
        }
    }
    scope.end();
    result
}

async fn settle(delivery: &Delivery, settlement: Settlement) -> lapin::Result<bool> {
    let acker = &delivery.acker;
    match settlement {
        Settlement::Ack => acker.ack(BasicAckOptions::default()).await,
        Settlement::Nack { requeue } => {
            acker
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue,
                })
                .await
        }
        Settlement::Reject { requeue } => acker.reject(BasicRejectOptions { requeue }).await,
    }
}

/// The CONSUMER span of `delivery`, started: to handle and settle it yourself.
pub fn consumer_scope(delivery: &Delivery) -> ConsumerScope {
    let info = consumer_info(delivery);
    let headers = delivery.properties.headers().clone().unwrap_or_default();
    ConsumerScope::start(&info, &headers)
}

fn consumer_info(delivery: &Delivery) -> MessageInfo {
    let info = info(
        delivery.exchange.as_str(),
        delivery.routing_key.as_str(),
        &delivery.properties,
        delivery.data.len(),
    );
    match i64::try_from(delivery.delivery_tag) {
        Ok(tag) => info.attribute(KeyValue::new(MESSAGING_RABBITMQ_DELIVERY_TAG, tag)),
        Err(_) => info,
    }
}

fn info(
    exchange: &str,
    routing_key: &str,
    properties: &BasicProperties,
    body_size: usize,
) -> MessageInfo {
    let mut info = MessageInfo::new(SYSTEM, exchange.to_owned())
        .named(
            if exchange.is_empty() {
                routing_key
            } else {
                exchange
            }
            .to_owned(),
        )
        .body_size(body_size);
    if !routing_key.is_empty() {
        info = info.attribute(KeyValue::new(
            MESSAGING_RABBITMQ_ROUTING_KEY,
            routing_key.to_owned(),
        ));
    }
    if let Some(id) = properties.message_id() {
        info = info.message_id(id.as_str().to_owned());
    }
    if let Some(id) = properties.correlation_id() {
        info = info.conversation_id(id.as_str().to_owned());
    }
    info
}

/// Writes into an AMQP headers table, as long strings.
struct TableInjector<'a>(&'a mut FieldTable);

impl Injector for TableInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0
            .insert(ShortString::from(key), AMQPValue::LongString(value.into()));
    }
}

/// Reads an AMQP headers table: string values (long or short, UTF-8); other values are not
/// trace context and are skipped.
struct TableExtractor<'a>(&'a FieldTable);

impl Extractor for TableExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.inner().get(key).or_else(|| {
            self.0
                .inner()
                .iter()
                .find(|(name, _)| name.as_str().eq_ignore_ascii_case(key))
                .map(|(_, value)| value)
        })?;
        match value {
            AMQPValue::LongString(value) => std::str::from_utf8(value.as_bytes()).ok(),
            AMQPValue::ShortString(value) => Some(value.as_str()),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.0.inner().keys().map(ShortString::as_str).collect()
    }
}

impl InjectCarrier for FieldTable {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut TableInjector(self))
    }
}

impl ExtractCarrier for FieldTable {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&TableExtractor(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_and_other_values_are_skipped() {
        let mut table = FieldTable::default();
        table.with_injector(|injector| injector.set("traceparent", "tp".to_owned()));
        table.insert("baggage".into(), AMQPValue::ShortString("k=v".into()));
        table.insert("tracestate".into(), AMQPValue::LongLongInt(7));
        table.insert(
            "Other".into(),
            AMQPValue::LongString(vec![0xff, 0xfe].into()),
        );
        table.with_extractor(|extractor| {
            assert_eq!(extractor.get("traceparent"), Some("tp"));
            assert_eq!(extractor.get("baggage"), Some("k=v"));
            assert_eq!(extractor.get("tracestate"), None);
            assert_eq!(extractor.get("other"), None, "not UTF-8");
            assert_eq!(
                extractor.keys(),
                ["Other", "baggage", "traceparent", "tracestate"]
            );
        });
    }
}
