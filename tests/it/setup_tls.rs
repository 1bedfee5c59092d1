//! OTLP over TLS: the collector's certificate is verified (against a CA file here, the
//! system's roots by default), and a client certificate is sent for mutual TLS, over gRPC and
//! HTTP, configured by the builder or by the `OTEL_EXPORTER_OTLP_*CERTIFICATE*` variables.
//!
//! Each test installs a global provider: run under `cargo nextest` (one process per test).

use crate::support::otlp_receiver;

use std::time::Duration;

use otlp_receiver::{pki, Receiver, Security};
use traced_runtime::env::Env;
use traced_runtime::{traced, Error, Protocol, Telemetry, TelemetryBuilder};

#[traced]
fn secured() {}

fn builder(receiver: &Receiver, protocol: Protocol) -> TelemetryBuilder {
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .shutdown_timeout(Duration::from_secs(3))
}

fn delivered(receiver: &Receiver, telemetry: traced_runtime::TelemetryGuard) {
    secured();
    telemetry.shutdown().expect("exported over TLS");
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
    assert_eq!(spans.len(), 1);
}

#[test]
fn grpc_over_tls_with_a_ca_file() {
    crate::own_process!(grpc_over_tls_with_a_ca_file);
    let receiver = Receiver::start_with(Security::Tls);
    let telemetry = builder(&receiver, Protocol::Grpc)
        .otlp_ca_certificate(pki::path("ca.pem"))
        .install()
        .unwrap();
    delivered(&receiver, telemetry);
}

#[test]
fn http_over_tls_with_a_ca_file() {
    crate::own_process!(http_over_tls_with_a_ca_file);
    let receiver = Receiver::start_with(Security::Tls);
    let telemetry = builder(&receiver, Protocol::HttpProtobuf)
        .otlp_ca_certificate(pki::path("ca.pem"))
        .install()
        .unwrap();
    delivered(&receiver, telemetry);
}

#[test]
fn grpc_mutual_tls_from_the_environment() {
    crate::own_process!(grpc_mutual_tls_from_the_environment);
    let receiver = Receiver::start_with(Security::MutualTls);
    let path = |name: &str| pki::path(name).to_string_lossy().into_owned();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("ca.pem")),
            (
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                path("client.pem"),
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path("client.key")),
        ]))
        .install()
        .unwrap();
    delivered(&receiver, telemetry);
}

#[test]
fn http_mutual_tls_from_the_builder() {
    crate::own_process!(http_mutual_tls_from_the_builder);
    let receiver = Receiver::start_with(Security::MutualTls);
    let telemetry = builder(&receiver, Protocol::HttpJson)
        .otlp_ca_certificate(pki::path("ca.pem"))
        .otlp_client_identity(pki::path("client.pem"), pki::path("client.key"))
        .install()
        .unwrap();
    delivered(&receiver, telemetry);
}

/// Without the test CA, the system's roots do not trust the collector: nothing is sent, and
/// shutdown says so.
fn untrusted(protocol: Protocol) {
    let receiver = Receiver::start_with(Security::Tls);
    let telemetry = builder(&receiver, protocol).install().unwrap();
    secured();
    let result = telemetry.shutdown();
    assert!(
        matches!(&result, Err(Error::SpansLost { cause: Some(cause), .. }) if matches!(**cause, Error::Export { .. })),
        "{result:?}"
    );
    assert!(receiver.requests().is_empty());
}

#[test]
fn grpc_refuses_an_untrusted_collector() {
    crate::own_process!(grpc_refuses_an_untrusted_collector);
    untrusted(Protocol::Grpc);
}

#[test]
fn http_refuses_an_untrusted_collector() {
    crate::own_process!(http_refuses_an_untrusted_collector);
    untrusted(Protocol::HttpProtobuf);
}

/// Mutual TLS without a client certificate: the collector refuses the connection.
#[test]
fn http_mutual_tls_needs_the_client_certificate() {
    crate::own_process!(http_mutual_tls_needs_the_client_certificate);
    let receiver = Receiver::start_with(Security::MutualTls);
    let telemetry = builder(&receiver, Protocol::HttpProtobuf)
        .otlp_ca_certificate(pki::path("ca.pem"))
        .install()
        .unwrap();
    secured();
    assert!(telemetry.shutdown().is_err());
    assert!(receiver.requests().is_empty());
}

#[test]
#[ignore = "run by a parent test in a child process"]
fn child_init_and_shutdown() {
    if !crate::support::process::is_child() {
        return;
    }
    let telemetry = traced_runtime::init().expect("a variable never makes init() fail");
    assert!(telemetry.is_enabled());
    secured();
    // The collector is not trusted without the test CA: the export fails, and the span it
    // carried is reported lost with that failure.
    let result = telemetry.shutdown();
    assert!(
        matches!(&result, Err(Error::SpansLost { cause: Some(cause), .. }) if matches!(**cause, Error::Export { .. })),
        "{result:?}"
    );
}

/// A missing CA file, a client key without its certificate: one warning each naming the
/// variable and what is used instead, and the application runs.
#[test]
fn unusable_tls_variables_are_reported_once_and_never_stop_the_application() {
    let receiver = Receiver::start_with(Security::Tls);
    let key = pki::path("client.key").to_string_lossy().into_owned();
    for protocol in ["grpc", "http/protobuf"] {
        let endpoint = match protocol {
            "grpc" => receiver.grpc_endpoint(),
            _ => receiver.http_endpoint(),
        };
        let output = crate::setup_env::run_with_only(
            "setup_tls::child_init_and_shutdown",
            &[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                    "/nonexistent/ca.pem",
                ),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
            ],
        );
        let all = crate::setup_env::reports(&output);
        // The variables' lines; the others say the untrusted collector refused the export.
        let reports: Vec<&String> = all
            .iter()
            .filter(|l| l.starts_with("traced: OTEL_"))
            .collect();
        assert_eq!(reports.len(), 2, "{protocol}: {all:#?}");
        assert!(
            all.iter().any(|l| l.contains("invalid peer certificate")),
            "{protocol}: {all:#?}"
        );
        assert!(
            reports[0].starts_with("traced: OTEL_EXPORTER_OTLP_CLIENT_KEY=")
                && reports[0].contains("without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
                && reports[0].contains("using no client authentication instead"),
            "{reports:#?}"
        );
        assert!(
            reports[1].starts_with(
                "traced: OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE=\"/nonexistent/ca.pem\""
            ) && reports[1].contains("cannot be read")
                && reports[1].contains("using the system's root certificates instead"),
            "{reports:#?}"
        );
        assert!(receiver.requests().is_empty());
    }
}
