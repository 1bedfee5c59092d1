//! When to try an export again, as the OTLP exporter specification asks: transient failures
//! (HTTP 429, 502, 503, 504; gRPC's retryable codes; refused, reset and timed-out connections)
//! are retried with exponential backoff and jitter until the export deadline
//! (`OTEL_EXPORTER_OTLP_TIMEOUT`), never a fixed count of attempts; the wait the collector asks
//! for (HTTP `Retry-After`, gRPC `RetryInfo`) is honoured, and a wait that would end past the
//! deadline is not started.

use std::time::{Duration, Instant};

/// The first wait.
pub(super) const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait the backoff itself chooses (the collector may ask for longer): short, so
/// that the spans made once the collector answers again are sent soon after.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Each wait is this many times the previous one.
const MULTIPLIER: u32 = 2;

/// The waits between the attempts of one export.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
    deadline: Instant,
}

impl Backoff {
    /// The backoff of an export that must be done by `deadline`.
    pub(super) fn new(deadline: Instant) -> Backoff {
        Backoff {
            next: INITIAL_BACKOFF,
            deadline,
        }
    }

    /// How long to wait before the next attempt, given what the collector asked for; `None`
    /// when the wait would end past the deadline (give up now, with the last failure).
    pub(super) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let wait = wait(self.next, random_fraction(), retry_after);
        self.next = (self.next * MULTIPLIER).min(MAX_BACKOFF);
        (Instant::now() + wait < self.deadline).then_some(wait)
    }
}

/// The pure rule: `base` scaled by a jitter of 0.5 to 1.5 (`random` in `[0, 1)`), so that many
/// processes do not retry in step, and at least what the collector asked for.
fn wait(base: Duration, random: f64, retry_after: Option<Duration>) -> Duration {
    base.mul_f64(0.5 + random.clamp(0.0, 1.0))
        .max(retry_after.unwrap_or_default())
}

fn random_fraction() -> f64 {
    use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
    let random = u64::from_be_bytes(RandomIdGenerator::default().new_span_id().to_bytes());
    (random >> 11) as f64 / (1u64 << 53) as f64
}

/// HTTP `Retry-After` as a number of seconds (the form collectors send; an HTTP date is
/// ignored, and the backoff alone decides).
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(super) fn retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The `retry_delay` of the `google.rpc.RetryInfo` among the details of a gRPC status (the
/// `grpc-status-details-bin` trailer, a `google.rpc.Status`), read field by field: the message
/// is three fields deep, and no generated type for it is at hand.
#[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
pub(super) fn retry_info_delay(status_details: &[u8]) -> Option<Duration> {
    const RETRY_INFO: &[u8] = b"type.googleapis.com/google.rpc.RetryInfo";
    // google.rpc.Status { repeated google.protobuf.Any details = 3; }
    let retry_info = fields(status_details)
        .filter_map(|(number, value)| match (number, value) {
            (3, Field::Bytes(any)) => Some(any),
            _ => None,
        })
        .find_map(|any| {
            // google.protobuf.Any { string type_url = 1; bytes value = 2; }
            let mut type_url = None;
            let mut value = None;
            for field in fields(any) {
                match field {
                    (1, Field::Bytes(url)) => type_url = Some(url),
                    (2, Field::Bytes(bytes)) => value = Some(bytes),
                    _ => {}
                }
            }
            (type_url? == RETRY_INFO).then_some(value.unwrap_or_default())
        })?;
    // google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }
    let delay = fields(retry_info).find_map(|field| match field {
        (1, Field::Bytes(delay)) => Some(delay),
        _ => None,
    })?;
    // google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; }
    let (mut seconds, mut nanos) = (0u64, 0u32);
    for field in fields(delay) {
        match field {
            (1, Field::Varint(value)) => seconds = value,
            (2, Field::Varint(value)) => nanos = u32::try_from(value).unwrap_or(0),
            _ => {}
        }
    }
    // A negative or absurd value is no request to wait.
    (seconds < 3_600).then(|| Duration::new(seconds, nanos.min(999_999_999)))
}

/// One protobuf field's value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of a protobuf message as (number, value); stops at the first malformed byte.
fn fields(mut buf: &[u8]) -> impl Iterator<Item = (u64, Field<'_>)> {
    std::iter::from_fn(move || {
        let key = varint(&mut buf)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut buf)?),
            1 | 5 => {
                let width = if key & 7 == 1 { 8 } else { 4 };
                buf = buf.get(width..)?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                let (bytes, rest) = (buf.get(..len)?, buf.get(len..)?);
                buf = rest;
                Field::Bytes(bytes)
            }
            _ => return None,
        };
        Some((key >> 3, field))
    })
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_jitter_and_honour_the_collector() {
        let base = Duration::from_millis(400);
        for (random, retry_after, expected) in [
            (0.0, None, 200),
            (0.5, None, 400),
            (0.999, None, 599),
            (0.5, Some(Duration::from_secs(1)), 1_000),
            (0.5, Some(Duration::from_millis(10)), 400),
        ] {
            let got = wait(base, random, retry_after).as_millis();
            assert_eq!(got, expected, "{random} {retry_after:?}");
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_stops_at_the_deadline() {
        let mut backoff = Backoff::new(Instant::now() + Duration::from_secs(3600));
        let waits: Vec<_> = (0..8).map(|_| backoff.next_wait(None).unwrap()).collect();
        assert!(waits[0] >= INITIAL_BACKOFF / 2 && waits[0] < INITIAL_BACKOFF * 3 / 2);
        assert!(waits[7] >= MAX_BACKOFF / 2 && waits[7] < MAX_BACKOFF * 3 / 2);
        let mut short = Backoff::new(Instant::now() + Duration::from_millis(20));
        assert_eq!(short.next_wait(None), None, "100 ms does not fit in 20 ms");
        let mut asked = Backoff::new(Instant::now() + Duration::from_secs(5));
        assert_eq!(asked.next_wait(Some(Duration::from_secs(10))), None);
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    /// A `google.rpc.Status` with a `RetryInfo` of 1.5 s, as a server's `tonic-types` writes it.
    #[test]
    fn retry_info_is_read_from_the_status_details() {
        fn message(fields: &[(u8, &[u8])]) -> Vec<u8> {
            let mut out = Vec::new();
            for (number, bytes) in fields {
                out.push(number << 3 | 2);
                out.push(bytes.len() as u8);
                out.extend_from_slice(bytes);
            }
            out
        }
        // Duration { seconds: 1, nanos: 500_000_000 }
        let duration = [0x08, 0x01, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01];
        let retry_info = message(&[(1, &duration)]);
        let any = message(&[
            (1, b"type.googleapis.com/google.rpc.RetryInfo"),
            (2, &retry_info),
        ]);
        let other = message(&[(1, b"type.googleapis.com/google.rpc.DebugInfo")]);
        let mut status = vec![0x08, 0x0e]; // code: UNAVAILABLE
        status.extend(message(&[(3, &other), (3, &any)]));
        assert_eq!(
            retry_info_delay(&status),
            Some(Duration::from_millis(1_500))
        );
        assert_eq!(retry_info_delay(&status[..status.len() - 3]), None);
        assert_eq!(retry_info_delay(&[0xff, 0xff]), None);
        assert_eq!(retry_info_delay(&[]), None);
    }
}
