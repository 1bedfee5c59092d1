//! Builder mistakes are typed errors whose messages say what to fix, and never show secrets.
//! Nothing is installed when `install()` fails.

use std::time::Duration;

use traced_runtime::env::Env;
use traced_runtime::{Error, Protocol, Telemetry, TelemetryBuilder};

fn builder() -> TelemetryBuilder {
    Telemetry::builder().env(Env::default())
}

#[test]
fn errors_are_std_errors_that_cross_threads() {
    crate::own_process!(errors_are_std_errors_that_cross_threads);
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
}

#[test]
fn an_unusable_endpoint_names_itself_and_an_example() {
    crate::own_process!(an_unusable_endpoint_names_itself_and_an_example);
    let error = builder()
        .otlp_endpoint("localhost:4318")
        .install()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidEndpoint { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("\"localhost:4318\""), "{message}");
    assert!(message.contains("otlp_endpoint"), "{message}");
    assert!(message.contains("http://"), "{message}");
}

#[test]
fn a_missing_ca_file_is_named() {
    crate::own_process!(a_missing_ca_file_is_named);
    let error = builder()
        .otlp_endpoint("https://collector.example:4318")
        .otlp_ca_certificate("/nonexistent/ca.pem")
        .install()
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::ReadFile {
                what: "CA certificate",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    crate::own_process!(a_ca_file_without_certificates_is_refused);
    let path = std::env::temp_dir().join(format!("traced-not-a-ca-{}.pem", std::process::id()));
    std::fs::write(&path, "not a certificate").unwrap();
    let error = builder()
        .otlp_endpoint("https://collector.example:4318")
        .otlp_ca_certificate(&path)
        .install()
        .unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(matches!(error, Error::Tls(_)), "{error:?}");
    assert!(error.to_string().contains("no PEM certificate"), "{error}");
}

/// A mistake in a variable is not an error (it is reported on stderr, see
/// `setup_tls::unusable_tls_variables_are_reported_once_and_never_stop_the_application`).
#[test]
fn a_client_certificate_variable_without_its_key_is_not_an_error() {
    crate::own_process!(a_client_certificate_variable_without_its_key_is_not_an_error);
    let telemetry = builder()
        .env(Env::from_vars([
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector.example:4318",
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/some/cert.pem"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
        ]))
        .shutdown_timeout(Duration::from_millis(500))
        .install();
    assert!(telemetry.is_ok(), "{telemetry:?}");
}

#[test]
fn an_invalid_header_is_named_but_its_value_is_not_shown() {
    crate::own_process!(an_invalid_header_is_named_but_its_value_is_not_shown);
    let error = builder()
        .otlp_header("authorization", "Bearer hunter2\r\nInjected: yes")
        .install()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidHeader { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("authorization"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
}

#[test]
fn out_of_range_builder_values_say_what_is_accepted() {
    crate::own_process!(out_of_range_builder_values_say_what_is_accepted);
    let error = builder()
        .batch_max_queue_size(8)
        .batch_max_export_batch_size(64)
        .install()
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidSetting {
                setting: "batch_max_export_batch_size",
                ..
            }
        ),
        "{error:?}"
    );
    let error = builder()
        .shutdown_timeout(Duration::ZERO)
        .install()
        .unwrap_err();
    assert!(error.to_string().contains("shutdown_timeout"), "{error}");
    let error = builder()
        .otlp_protocol(Protocol::Grpc)
        .otlp_timeout(Duration::ZERO)
        .install()
        .unwrap_err();
    assert!(error.to_string().contains("otlp_timeout"), "{error}");
}

#[test]
fn the_builder_debug_output_hides_headers() {
    crate::own_process!(the_builder_debug_output_hides_headers);
    let builder = builder().otlp_header("x-api-key", "hunter2");
    assert!(!format!("{builder:?}").contains("hunter2"));
}
