//! What the HTTP server and client instrumentation share: the stable HTTP semantic-convention
//! attribute names, how a request's method, URL, host and protocol become attributes, and the
//! span of one request, started through the tracer of `#[traced]` spans and ended exactly once.

// Each of the server and the client uses a part of this module.
#![cfg_attr(
    not(all(feature = "http-server", feature = "http-client")),
    allow(dead_code)
)]

use std::borrow::Cow;
use std::fmt::Write as _;

use opentelemetry::KeyValue;

pub(crate) use crate::semconv::*;
pub(crate) use crate::span::OperationSpan as HttpSpan;
use crate::span::OperationSpan;

/// `http.request.method` of a method the semantic conventions do not know.
pub(crate) const OTHER_METHOD: &str = "_OTHER";
/// What replaces credentials and sensitive query values in URLs.
pub(crate) const REDACTED: &str = "REDACTED";

/// Query parameters whose values are secrets by default (signed URLs of cloud storages), as the
/// semantic conventions list them for `url.query` and `url.full`.
const SENSITIVE_QUERY_PARAMS: [&str; 4] =
    ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// `http.request.method`, and `http.request.method_original` when the method is not one of the
/// known ones (which are case-sensitive).
pub(crate) fn method(method: &http::Method) -> (&'static str, Option<&str>) {
    const KNOWN: [&str; 10] = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE",
    ];
    match KNOWN.iter().find(|known| **known == method.as_str()) {
        Some(known) => (known, None),
        None => (OTHER_METHOD, Some(method.as_str())),
    }
}

/// The span name's `{method}`: `HTTP` for a method that is not known.
pub(crate) fn method_for_name(method: &'static str) -> &'static str {
    if method == OTHER_METHOD {
        "HTTP"
    } else {
        method
    }
}

/// `network.protocol.version`.
pub(crate) fn protocol_version(version: http::Version) -> Option<&'static str> {
    Some(match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The query with the values of sensitive parameters replaced by `REDACTED`.
pub(crate) fn redact_query(query: &str) -> Cow<'_, str> {
    let sensitive = |pair: &str| {
        let name = pair.split('=').next().unwrap_or_default();
        pair.contains('=') && SENSITIVE_QUERY_PARAMS.contains(&name)
    };
    if !query.split('&').any(sensitive) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        if sensitive(pair) {
            let name = pair.split('=').next().unwrap_or_default();
            let _ = write!(out, "{name}={REDACTED}");
        } else {
            out.push_str(pair);
        }
    }
    Cow::Owned(out)
}

/// `host[:port]`, `[v6]:port` or a bare IPv6 address, split into address and port.
pub(crate) fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|port| port.parse().ok());
        return Some((host, port));
    }
    match value.rsplit_once(':') {
        // A bare IPv6 address has more than one colon and no port.
        Some((host, _)) if host.contains(':') => Some((value, None)),
        Some((host, port)) => Some((host, port.parse().ok())),
        None => Some((value, None)),
    }
}

/// The default port of a scheme.
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else {
        None
    }
}

/// `http.response.status_code`; status ERROR with `error.type` the code when `is_error`.
pub(crate) fn record_status_code(span: &OperationSpan, code: u16, is_error: bool) {
    span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
    if is_error {
        span.set_error(code.to_string(), String::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(method(&http::Method::GET), ("GET", None));
        assert_eq!(method(&http::Method::PATCH), ("PATCH", None));
        let custom = http::Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method(&custom), ("_OTHER", Some("PURGE")));
        let lowercase = http::Method::from_bytes(b"get").unwrap();
        assert_eq!(method(&lowercase), ("_OTHER", Some("get")));
        assert_eq!(method_for_name("_OTHER"), "HTTP");
    }

    #[test]
    fn query_redaction() {
        assert_eq!(redact_query("a=1&b=2"), "a=1&b=2");
        assert_eq!(
            redact_query("sig=abc&a=1&X-Goog-Signature=x&Signature"),
            "sig=REDACTED&a=1&X-Goog-Signature=REDACTED&Signature"
        );
        assert_eq!(redact_query(""), "");
    }

    #[test]
    fn host_and_port() {
        assert_eq!(split_host_port("example.com"), Some(("example.com", None)));
        assert_eq!(
            split_host_port("example.com:8080"),
            Some(("example.com", Some(8080)))
        );
        assert_eq!(split_host_port("[::1]:3000"), Some(("::1", Some(3000))));
        assert_eq!(split_host_port("[::1]"), Some(("::1", None)));
        assert_eq!(split_host_port("::1"), Some(("::1", None)));
        assert_eq!(split_host_port("host:notaport"), Some(("host", None)));
        assert_eq!(split_host_port("[::1"), None);
        assert_eq!(split_host_port(""), None);
    }
}
