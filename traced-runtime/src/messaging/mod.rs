//! One trace from the code that sends a message to the worker that processes it: PRODUCER and
//! CONSUMER spans of the OpenTelemetry messaging semantic conventions, the trace context carried
//! in the message's headers (feature `messaging`; `nats` and `rabbitmq` for the brokers).
//!
//! The guide's Celery instrumentation, for any broker:
//! - the sender makes a PRODUCER span `{operation} {destination}` (`publish orders`) and writes
//!   its context (`traceparent`, `tracestate`) and the baggage into the message's headers
//!   through the global propagator;
//! - the worker reads them back and handles the message in a CONSUMER span
//!   `process {destination}`, child of the producer's span (or, with
//!   [`ConsumerScope::start_linked`], in a trace of its own with a link to it; a batch gets one
//!   link per message). The handler runs with that span current, so its own spans are children
//!   of it, and an `Err` it returns marks the span ERROR;
//! - a message without a valid `traceparent` (missing, malformed, hostile) starts a new trace:
//!   never a panic, never a refused message.
//!
//! Attributes: `messaging.system`, `messaging.operation.type` (`send`, `process`),
//! `messaging.operation.name`, `messaging.destination.name`, and as known
//! `messaging.message.id`, `messaging.message.conversation_id`, `messaging.message.body.size`,
//! `server.address`, `server.port`, the system's own; `error.type` on failure. How the consumer
//! settled the message (ack, nack, reject) is a `settle` event on the CONSUMER span
//! (`messaging.operation.type = "settle"`, `messaging.operation.name = "ack"`, ...): the outcome
//! sits on the span that explains it, without a span per acknowledgement.
//!
//! # Any broker (Kafka, SQS, ...)
//!
//! ```
//! use std::collections::HashMap;
//! use traced_runtime::messaging::{ConsumerScope, MessageInfo, ProducerSpan};
//!
//! # async fn run() -> Result<(), std::io::Error> {
//! // Sending: the headers are any `Injector` (here the map you send as message attributes).
//! let info = MessageInfo::new("kafka", "orders").message_id("42").body_size(5);
//! let span = ProducerSpan::start("send", &info);
//! let mut headers = HashMap::new();
//! span.inject(&mut headers);
//! // producer.send("orders", headers, b"hello").await ..
//! span.end();
//!
//! // Receiving: the headers are any `Extractor`.
//! let info = MessageInfo::new("kafka", "orders").message_id("42");
//! ConsumerScope::start(&info, &headers)
//!     .run(|| async {
//!         // spans made here are children of `process orders`, in the producer's trace
//!         Ok::<_, std::io::Error>(())
//!     })
//!     .await?;
//! # Ok(()) }
//! # futures_util::FutureExt::now_or_never(run()).unwrap().unwrap();
//! ```
//!
//! A carrier of your own is an [`Injector`](opentelemetry::propagation::Injector) /
//! [`Extractor`](opentelemetry::propagation::Extractor), passed as `&mut carrier as &mut dyn
//! Injector` and `&carrier as &dyn Extractor`.
//!
//! # NATS and RabbitMQ
//!
//! `nats` (feature `nats`, async-nats) and `rabbitmq` (feature `rabbitmq`, lapin) do all of
//! this for their clients: publish with the context in the message headers, process each
//! message in its CONSUMER span, request/reply in one trace, acknowledgements recorded.

mod consumer;
#[cfg(feature = "nats")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "nats")))]
pub mod nats;
mod producer;
#[cfg(feature = "rabbitmq")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "rabbitmq")))]
pub mod rabbitmq;

use std::borrow::Cow;

use opentelemetry::{KeyValue, StringValue};

use crate::semconv::{
    MESSAGING_DESTINATION_NAME, MESSAGING_DESTINATION_TEMPORARY, MESSAGING_MESSAGE_BODY_SIZE,
    MESSAGING_MESSAGE_CONVERSATION_ID, MESSAGING_MESSAGE_ID, MESSAGING_SYSTEM, SERVER_ADDRESS,
    SERVER_PORT,
};

pub use consumer::{ConsumerScope, Settlement};
pub use producer::ProducerSpan;

/// What a messaging span says about the message and where it goes: the system
/// (`messaging.system`: `kafka`, `rabbitmq`, `nats`, `aws_sqs`, ...), the destination (topic,
/// queue, subject, exchange), and what else is known.
#[derive(Clone, Debug)]
pub struct MessageInfo {
    system: Cow<'static, str>,
    destination: Cow<'static, str>,
    temporary: bool,
    named: Option<Cow<'static, str>>,
    attributes: Vec<KeyValue>,
}

impl MessageInfo {
    /// A message of `system` sent to (or received from) `destination`.
    pub fn new(
        system: impl Into<Cow<'static, str>>,
        destination: impl Into<Cow<'static, str>>,
    ) -> Self {
        MessageInfo {
            system: system.into(),
            destination: destination.into(),
            temporary: false,
            named: None,
            attributes: Vec::new(),
        }
    }

    /// The destination is temporary (a reply inbox): `messaging.destination.temporary = true`,
    /// and the span is named `{operation} (temporary)`, so that names stay few.
    pub fn temporary(mut self) -> Self {
        self.temporary = true;
        self
    }

    /// The destination as the span name shows it, when it is not the destination's name: the
    /// pattern of a subscription to many subjects (`orders.*`), so that span names stay few.
    pub fn named(mut self, destination: impl Into<Cow<'static, str>>) -> Self {
        self.named = Some(destination.into());
        self
    }

    /// `messaging.message.id`.
    pub fn message_id(self, id: impl Into<StringValue>) -> Self {
        self.attribute(KeyValue::new(MESSAGING_MESSAGE_ID, id.into()))
    }

    /// `messaging.message.conversation_id` (the correlation id).
    pub fn conversation_id(self, id: impl Into<StringValue>) -> Self {
        self.attribute(KeyValue::new(MESSAGING_MESSAGE_CONVERSATION_ID, id.into()))
    }

    /// `messaging.message.body.size`, in bytes.
    pub fn body_size(self, bytes: usize) -> Self {
        self.attribute(KeyValue::new(
            MESSAGING_MESSAGE_BODY_SIZE,
            i64::try_from(bytes).unwrap_or(i64::MAX),
        ))
    }

    /// `server.address` and `server.port` of the broker.
    pub fn server(self, address: impl Into<StringValue>, port: u16) -> Self {
        self.attribute(KeyValue::new(SERVER_ADDRESS, address.into()))
            .attribute(KeyValue::new(SERVER_PORT, i64::from(port)))
    }

    /// Any other attribute (`messaging.kafka.message.key`, ...).
    pub fn attribute(mut self, attribute: KeyValue) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// The destination as span names show it.
    fn span_destination(&self) -> &str {
        if self.temporary {
            "(temporary)"
        } else {
            self.named.as_deref().unwrap_or(&self.destination)
        }
    }

    /// The attributes every span of this message has.
    fn attributes(&self) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(self.attributes.len() + 6);
        attributes.push(KeyValue::new(MESSAGING_SYSTEM, self.system.clone()));
        attributes.push(KeyValue::new(
            MESSAGING_DESTINATION_NAME,
            self.destination.clone(),
        ));
        if self.temporary {
            attributes.push(KeyValue::new(MESSAGING_DESTINATION_TEMPORARY, true));
        }
        attributes.extend(self.attributes.iter().cloned());
        attributes
    }
}
