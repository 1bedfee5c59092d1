//! The resource: who produces the spans.
//!
//! Detected first (`telemetry.sdk.*`, `host.*`, `os.type`, `process.*`, a fresh
//! `service.instance.id`), then what the configuration says (`OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_SERVICE_NAME`, the builder), later values winning. Without a service name anywhere,
//! `service.name` is the specification's `unknown_service:<executable name>`.

use opentelemetry::KeyValue;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use opentelemetry_sdk::Resource;

use crate::semconv::{
    HOST_ARCH, HOST_NAME, OS_TYPE, PROCESS_EXECUTABLE_NAME, PROCESS_EXECUTABLE_PATH, PROCESS_PID,
    PROCESS_RUNTIME_NAME, SERVICE_INSTANCE_ID,
};
use crate::setup::config::SERVICE_NAME;
use crate::setup::env::OTEL_SERVICE_NAME_DEFAULT_PREFIX;

/// The resource of every span: detected attributes overridden by `configured` ones.
pub(crate) fn build(configured: &[KeyValue]) -> Resource {
    let exe = std::env::current_exe().ok();
    let exe_name = exe
        .as_deref()
        .and_then(|path| path.file_stem())
        .map(|name| name.to_string_lossy().into_owned());

    let mut detected = vec![
        KeyValue::new(SERVICE_INSTANCE_ID, instance_id()),
        KeyValue::new(HOST_ARCH, host_arch()),
        KeyValue::new(OS_TYPE, os_type()),
        KeyValue::new(PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(PROCESS_RUNTIME_NAME, "rust"),
    ];
    if let Some(host) = host_name() {
        detected.push(KeyValue::new(HOST_NAME, host));
    }
    if let Some(path) = &exe {
        detected.push(KeyValue::new(
            PROCESS_EXECUTABLE_PATH,
            path.to_string_lossy().into_owned(),
        ));
    }
    if let Some(name) = &exe_name {
        detected.push(KeyValue::new(PROCESS_EXECUTABLE_NAME, name.clone()));
    }
    if !configured.iter().any(|kv| kv.key.as_str() == SERVICE_NAME) {
        let name = match &exe_name {
            Some(name) => format!("{OTEL_SERVICE_NAME_DEFAULT_PREFIX}:{name}"),
            None => OTEL_SERVICE_NAME_DEFAULT_PREFIX.to_owned(),
        };
        detected.push(KeyValue::new(SERVICE_NAME, name));
    }
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(detected)
        .with_attributes(configured.iter().cloned())
        .build()
}

/// A random UUID (version 4), as the semantic conventions recommend for `service.instance.id`.
fn instance_id() -> String {
    let random = u128::from_be_bytes(RandomIdGenerator::default().new_trace_id().to_bytes());
    let uuid = (random & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{uuid:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `host.arch` in the semantic conventions' words.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// `os.type` in the semantic conventions' words.
fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" | "ios" => "darwin",
        other => other,
    }
}

#[cfg(unix)]
fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let len = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..len]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
fn host_name() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_id_is_a_version_4_uuid() {
        let id = instance_id();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, instance_id());
    }

    #[test]
    fn configured_attributes_beat_detected_ones_and_name_the_service() {
        let resource = build(&[
            KeyValue::new("service.instance.id", "fixed"),
            KeyValue::new("host.name", "configured"),
        ]);
        let get = |key: &'static str| resource.get(&opentelemetry::Key::from_static_str(key));
        assert_eq!(get("service.instance.id"), Some("fixed".into()));
        assert_eq!(get("host.name"), Some("configured".into()));
        assert_eq!(get("telemetry.sdk.language"), Some("rust".into()));
        let name = get("service.name")
            .expect("a default service name")
            .to_string();
        assert!(name.starts_with("unknown_service:"), "{name}");
    }
}
