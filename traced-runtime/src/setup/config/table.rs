//! What the table tests of every file share. The environment is a map given to `resolve`:
//! the process environment is never read or changed, so the tests run in parallel.

use super::*;

/// Variables of a table row.
pub(super) type Vars = &'static [(&'static str, &'static str)];

pub(super) fn env(vars: &[(&str, &str)]) -> Env {
    Env::from_vars(vars.iter().copied())
}

pub(super) fn resolve_env(vars: &[(&str, &str)]) -> Resolved {
    resolve(&Settings::default(), &env(vars)).expect("an environment alone never fails")
}

pub(super) fn otlp_env(vars: &[(&str, &str)]) -> (OtlpConfig, Vec<String>) {
    let resolved = resolve_env(vars);
    (
        resolved.config.otlp.expect("otlp is the default exporter"),
        resolved.warnings,
    )
}

/// The value a resource attribute ends with (later entries win).
pub(super) fn attribute(resource: &[KeyValue], key: &str) -> Option<String> {
    resource
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

pub(super) fn assert_warned(warnings: &[String], parts: &[&str]) {
    assert!(
        warnings
            .iter()
            .any(|w| parts.iter().all(|part| w.contains(part))),
        "no warning containing {parts:?} in {warnings:#?}"
    );
}

/// The path of the CA file of `tls`.
pub(super) fn ca_path(tls: &Tls) -> Option<&str> {
    tls.certificate.as_ref()?.path.to_str()
}

/// The paths of the client certificate and key of `tls`.
pub(super) fn identity_paths(tls: &Tls) -> Option<(&str, &str)> {
    let (certificate, key) = tls.identity.as_ref()?;
    Some((certificate.path.to_str()?, key.path.to_str()?))
}
