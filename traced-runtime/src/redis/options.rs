//! `RedisTracing`: the server a connection talks to and how its commands are recorded, shared
//! (one `Arc`) by every connection it wraps.

use std::fmt;
use std::sync::Arc;

use opentelemetry::{KeyValue, StringValue};
use redis::{ConnectionAddr, ConnectionInfo};

use super::command::Operation;
use super::TracedConnection;
use crate::semconv::{SERVER_ADDRESS, SERVER_PORT};

/// The hook of [`RedisTracing::with_attributes`].
type AttributesHook = dyn Fn(&Operation<'_>, &mut Vec<KeyValue>) + Send + Sync;

/// How the commands of the connections it wraps are traced: the server they go to (the
/// `server.*` attributes), whether values are kept in `db.query.text`, and a hook for your own
/// attributes. Cheap to clone; wrap each connection of a pool with the same one.
///
/// ```no_run
/// use traced_runtime::redis::RedisTracing;
///
/// # async fn run() -> redis::RedisResult<()> {
/// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
/// let tracing = RedisTracing::new(client.get_connection_info())
///     .with_attributes(|operation, attributes| {
///         if operation.name() == "GET" {
///             attributes.push(traced_runtime::KeyValue::new("cache.lookup", true));
///         }
///     });
/// let mut con = tracing.wrap(client.get_multiplexed_async_connection().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTracing {
    pub(crate) config: Arc<Config>,
}

#[derive(Clone)]
pub(crate) struct Config {
    /// `server.address` and `server.port`, made once.
    pub(crate) peer: Vec<KeyValue>,
    pub(crate) keep_values: bool,
    pub(crate) hook: Option<Arc<AttributesHook>>,
}

impl RedisTracing {
    /// Tracing of the connections made from `info` (`Client::get_connection_info`, or
    /// `redis::IntoConnectionInfo::into_connection_info` of the URL a pool was given).
    pub fn new(info: &ConnectionInfo) -> Self {
        RedisTracing {
            config: Arc::new(Config {
                peer: peer_attributes(info.addr()),
                keep_values: false,
                hook: None,
            }),
        }
    }

    /// Keep the arguments in `db.query.text` (`SET user:1 "Ada"`) instead of `?` (`SET ? ?`).
    ///
    /// A privacy choice: arguments are your users' data (keys, values, tokens), exported to
    /// your tracing backend. Off by default. Even with it, the arguments of `AUTH`, `HELLO`,
    /// `MIGRATE`, `ACL` and `CONFIG` are never written, and values longer than 256 bytes are cut.
    pub fn with_query_values(mut self, keep: bool) -> Self {
        self.config_mut().keep_values = keep;
        self
    }

    /// Calls `hook` for each sampled command or pipeline, before it is sent, to add attributes
    /// to its span. It is not called for a span that is not recording.
    pub fn with_attributes(
        mut self,
        hook: impl Fn(&Operation<'_>, &mut Vec<KeyValue>) + Send + Sync + 'static,
    ) -> Self {
        self.config_mut().hook = Some(Arc::new(hook));
        self
    }

    /// Wraps `connection`: each command and pipeline sent through it is a span.
    pub fn wrap<C>(&self, connection: C) -> TracedConnection<C> {
        TracedConnection {
            inner: connection,
            tracing: self.clone(),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        // Options are set before the first `wrap`: the `Arc` is not shared yet, or it is copied.
        Arc::make_mut(&mut self.config)
    }
}

impl fmt::Debug for RedisTracing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTracing")
            .field("peer", &self.config.peer)
            .field("keep_values", &self.config.keep_values)
            .field("hook", &self.config.hook.is_some())
            .finish()
    }
}

/// `server.address` and `server.port` of a connection address (a Unix socket has its path as
/// the address and no port).
fn peer_attributes(addr: &ConnectionAddr) -> Vec<KeyValue> {
    let (host, port) = match addr {
        ConnectionAddr::Tcp(host, port) => (host.as_str(), Some(*port)),
        ConnectionAddr::TcpTls { host, port, .. } => (host.as_str(), Some(*port)),
        ConnectionAddr::Unix(path) => return vec![unix_address(path)],
        // `ConnectionAddr` is `#[non_exhaustive]`: a future kind of address has no attributes.
        #[allow(unreachable_patterns)]
        _ => return Vec::new(),
    };
    // An `Arc<str>` value: each span clones a reference, not the string.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut peer = vec![KeyValue::new(
        SERVER_ADDRESS,
        StringValue::from(Arc::<str>::from(host)),
    )];
    if let Some(port) = port {
        peer.push(KeyValue::new(SERVER_PORT, i64::from(port)));
    }
    peer
}

fn unix_address(path: &std::path::Path) -> KeyValue {
    KeyValue::new(
        SERVER_ADDRESS,
        StringValue::from(Arc::<str>::from(path.to_string_lossy().as_ref())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::IntoConnectionInfo as _;

    fn peer(url: &str) -> Vec<String> {
        let info = url.into_connection_info().unwrap();
        peer_attributes(info.addr())
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect()
    }

    #[test]
    fn the_server_attributes_come_from_the_address() {
        assert_eq!(
            peer("redis://:secret@cache.internal:6380/2"),
            ["server.address=cache.internal", "server.port=6380"]
        );
        assert_eq!(
            peer("redis://[::1]:6379"),
            ["server.address=::1", "server.port=6379"]
        );
        assert_eq!(
            peer("redis+unix:///run/redis.sock"),
            ["server.address=/run/redis.sock"]
        );
    }

    #[test]
    fn options_set_on_a_shared_tracing_do_not_change_the_other_copy() {
        let info = "redis://127.0.0.1".into_connection_info().unwrap();
        let first = RedisTracing::new(&info);
        let second = first.clone().with_query_values(true);
        assert!(!first.config.keep_values);
        assert!(second.config.keep_values);
    }
}
