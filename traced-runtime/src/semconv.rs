//! Every attribute key and event name this crate writes, as the OpenTelemetry semantic
//! conventions (stable names, v1.37) spell them, and the few of its own (`traced.*`).
//!
//! A key is written in one place: the code that records it names the constant, so a renamed
//! convention is one edit, and a reader finds here everything traced can put on a span.

// Not every integration is compiled in every build.
#![allow(dead_code)]

// Errors and exceptions.
/// The short class of failure (an error type, a status code, a class such as `timeout`).
pub(crate) const ERROR_TYPE: &str = "error.type";
/// The event an error or a panic is recorded as.
pub(crate) const EXCEPTION_EVENT: &str = "exception";
pub(crate) const EXCEPTION_TYPE: &str = "exception.type";
pub(crate) const EXCEPTION_MESSAGE: &str = "exception.message";
pub(crate) const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";

// Source code of a `#[traced]` function.
pub(crate) const CODE_FUNCTION_NAME: &str = "code.function.name";
pub(crate) const CODE_FILE_PATH: &str = "code.file.path";
pub(crate) const CODE_LINE_NUMBER: &str = "code.line.number";

// traced's own.
/// `true` on the span of a future dropped before it completed.
pub const CANCELLED: &str = "traced.cancelled";
/// The `Debug` of a traced function's returned value (option `ret`).
pub const RETURN_VALUE: &str = "return.value";

// Resource.
pub(crate) const SERVICE_NAME: &str = "service.name";
pub(crate) const SERVICE_VERSION: &str = "service.version";
pub(crate) const SERVICE_INSTANCE_ID: &str = "service.instance.id";
pub(crate) const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";
pub(crate) const HOST_NAME: &str = "host.name";
pub(crate) const HOST_ARCH: &str = "host.arch";
pub(crate) const OS_TYPE: &str = "os.type";
pub(crate) const PROCESS_PID: &str = "process.pid";
pub(crate) const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
pub(crate) const PROCESS_EXECUTABLE_PATH: &str = "process.executable.path";
pub(crate) const PROCESS_RUNTIME_NAME: &str = "process.runtime.name";

// Network peers (HTTP, databases, Redis, brokers).
pub(crate) const SERVER_ADDRESS: &str = "server.address";
pub(crate) const SERVER_PORT: &str = "server.port";
pub(crate) const CLIENT_ADDRESS: &str = "client.address";
pub(crate) const CLIENT_PORT: &str = "client.port";
pub(crate) const NETWORK_PEER_ADDRESS: &str = "network.peer.address";
pub(crate) const NETWORK_PEER_PORT: &str = "network.peer.port";
pub(crate) const NETWORK_PROTOCOL_VERSION: &str = "network.protocol.version";

// HTTP.
pub(crate) const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
pub(crate) const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub(crate) const HTTP_ROUTE: &str = "http.route";
pub(crate) const URL_FULL: &str = "url.full";
pub(crate) const URL_PATH: &str = "url.path";
pub(crate) const URL_QUERY: &str = "url.query";
pub(crate) const URL_SCHEME: &str = "url.scheme";
pub(crate) const USER_AGENT_ORIGINAL: &str = "user_agent.original";

// Databases (SQL and Redis).
pub(crate) const DB_SYSTEM_NAME: &str = "db.system.name";
pub(crate) const DB_NAMESPACE: &str = "db.namespace";
pub(crate) const DB_OPERATION_NAME: &str = "db.operation.name";
pub(crate) const DB_OPERATION_BATCH_SIZE: &str = "db.operation.batch.size";
pub(crate) const DB_COLLECTION_NAME: &str = "db.collection.name";
pub(crate) const DB_QUERY_TEXT: &str = "db.query.text";
pub(crate) const DB_QUERY_SUMMARY: &str = "db.query.summary";
pub(crate) const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";
pub(crate) const DB_RESPONSE_RETURNED_ROWS: &str = "db.response.returned_rows";
pub(crate) const DB_STORED_PROCEDURE_NAME: &str = "db.stored_procedure.name";

// Messaging.
pub(crate) const MESSAGING_SYSTEM: &str = "messaging.system";
pub(crate) const MESSAGING_OPERATION_TYPE: &str = "messaging.operation.type";
pub(crate) const MESSAGING_OPERATION_NAME: &str = "messaging.operation.name";
pub(crate) const MESSAGING_DESTINATION_NAME: &str = "messaging.destination.name";
pub(crate) const MESSAGING_DESTINATION_TEMPORARY: &str = "messaging.destination.temporary";
pub(crate) const MESSAGING_CONSUMER_GROUP_NAME: &str = "messaging.consumer.group.name";
pub(crate) const MESSAGING_MESSAGE_ID: &str = "messaging.message.id";
pub(crate) const MESSAGING_MESSAGE_CONVERSATION_ID: &str = "messaging.message.conversation_id";
pub(crate) const MESSAGING_MESSAGE_BODY_SIZE: &str = "messaging.message.body.size";
pub(crate) const MESSAGING_BATCH_MESSAGE_COUNT: &str = "messaging.batch.message_count";
pub(crate) const MESSAGING_CLIENT_ID: &str = "messaging.client.id";
pub(crate) const MESSAGING_RABBITMQ_ROUTING_KEY: &str =
    "messaging.rabbitmq.destination.routing_key";
pub(crate) const MESSAGING_RABBITMQ_DELIVERY_TAG: &str = "messaging.rabbitmq.message.delivery_tag";
/// The event a consumer span records its message's settlement (ack, nack, reject) with.
pub(crate) const MESSAGING_SETTLE_EVENT: &str = "settle";
/// On a `settle` event: whether the broker was asked to deliver the message again.
pub(crate) const MESSAGING_REQUEUE: &str = "traced.messaging.requeue";
