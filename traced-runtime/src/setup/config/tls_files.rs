//! The TLS files of an https endpoint (`OTEL_EXPORTER_OTLP_{,TRACES_,LOGS_}CERTIFICATE`,
//! `…CLIENT_KEY`, `…CLIENT_CERTIFICATE`): which ones, decided with the rest of the
//! configuration ([`resolve`]), and read once by [`load`], the one step of the configuration
//! that touches the file system.
//!
//! A file named by a variable never stops the application: when it is missing, unreadable or
//! holds no usable PEM, one warning names the variable and what is used instead (the
//! system's root certificates; no client authentication), as the specification asks of an
//! invalid value. A file named by the builder is a mistake in code: an [`Error`].

use std::path::{Path, PathBuf};

use super::otlp::Signal;
use super::reader::Reader;
use super::*;

/// The CA file and the client identity of one endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tls {
    /// Trusted instead of the system's roots.
    pub(crate) certificate: Option<PemFile>,
    /// The client certificate chain and its key, for mutual TLS: both or neither.
    pub(crate) identity: Option<(PemFile, PemFile)>,
}

// Without TLS the exporters never ask (an https endpoint is refused).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
impl Tls {
    /// The CA file's PEM, once loaded.
    pub(crate) fn ca_pem(&self) -> Option<&[u8]> {
        self.certificate.as_ref()?.pem.as_deref()
    }

    /// The client certificate chain's and key's PEM, once loaded.
    pub(crate) fn identity_pem(&self) -> Option<(&[u8], &[u8])> {
        let (certificate, key) = self.identity.as_ref()?;
        Some((certificate.pem.as_deref()?, key.pem.as_deref()?))
    }
}

/// A PEM file, and who named it.
#[derive(Clone, PartialEq)]
pub(crate) struct PemFile {
    pub(crate) path: PathBuf,
    /// The variable or the builder method that named it.
    pub(crate) named_by: &'static str,
    pub(crate) from_builder: bool,
    /// The contents, once [`load`] has read them.
    pub(crate) pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for PemFile {
    /// Not the contents: a key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemFile")
            .field("path", &self.path)
            .field("named_by", &self.named_by)
            .field("loaded", &self.pem.is_some())
            .finish()
    }
}

const SYSTEM_ROOTS: &str = "the system's root certificates";
const NO_CLIENT_AUTH: &str = "no client authentication";

/// The variables of one file, the signal's own first.
fn variables(signal: Signal) -> [[&'static str; 2]; 3] {
    let [certificate, client_key, client_certificate] = match signal {
        Signal::Traces => [
            OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
        ],
        Signal::Logs => [
            OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
            OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
            OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
        ],
    };
    [
        [certificate, OTEL_EXPORTER_OTLP_CERTIFICATE],
        [client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY],
        [client_certificate, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE],
    ]
}

/// Which files `signal` uses: the builder's, else the signal's variable, else the generic
/// one. A client key without its certificate (or the reverse) is reported and left out.
pub(super) fn resolve(settings: &OtlpSettings, signal: Signal, r: &mut Reader<'_>) -> Tls {
    let [ca_names, key_names, certificate_names] = variables(signal);
    let mut file = |builder: &Option<PathBuf>,
                    method: &'static str,
                    names: [&'static str; 2],
                    fallback: &str| {
        if let Some(path) = builder {
            return Some(PemFile {
                path: path.clone(),
                named_by: method,
                from_builder: true,
                pem: None,
            });
        }
        names.into_iter().find_map(|name| {
            r.raw(name, fallback).map(|path| PemFile {
                path: PathBuf::from(path),
                named_by: name,
                from_builder: false,
                pem: None,
            })
        })
    };
    let certificate = file(
        &settings.certificate,
        "otlp_ca_certificate",
        ca_names,
        SYSTEM_ROOTS,
    );
    let client_certificate = file(
        &settings.client_certificate,
        "otlp_client_identity",
        certificate_names,
        NO_CLIENT_AUTH,
    );
    let client_key = file(
        &settings.client_key,
        "otlp_client_identity",
        key_names,
        NO_CLIENT_AUTH,
    );
    let identity = match (client_certificate, client_key) {
        (Some(certificate), Some(key)) => Some((certificate, key)),
        (Some(alone), None) | (None, Some(alone)) => {
            let (missing, needs) = if certificate_names.contains(&alone.named_by) {
                (key_names[1], "a client certificate needs its key")
            } else {
                (certificate_names[1], "a client key needs its certificate")
            };
            r.warn(
                alone.named_by,
                format!(
                    "{}={:?} is set without {missing} ({needs}); using {NO_CLIENT_AUTH} instead",
                    alone.named_by, alone.path
                ),
            );
            None
        }
        (None, None) => None,
    };
    Tls {
        certificate,
        identity,
    }
}

/// Reads the TLS files of each https endpoint of `otlp`; those of an http endpoint are not
/// used, so not read.
pub(super) fn load(otlp: &mut OtlpConfig, r: &mut Reader<'_>) -> Result<(), Error> {
    load_tls(&mut otlp.tls, is_https(&otlp.endpoint), r)?;
    #[cfg(feature = "otlp-logs")]
    {
        let https = otlp.logs_endpoint.as_deref().is_some_and(is_https);
        load_tls(&mut otlp.logs_tls, https, r)?;
    }
    Ok(())
}

fn is_https(endpoint: &str) -> bool {
    endpoint
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

fn load_tls(tls: &mut Tls, https: bool, r: &mut Reader<'_>) -> Result<(), Error> {
    if !https {
        *tls = Tls::default();
        return Ok(());
    }
    if let Some(file) = &mut tls.certificate {
        match read(&file.path, "CA certificate").and_then(|pem| check_ca(&pem).map(|()| pem)) {
            Ok(pem) => file.pem = Some(pem),
            Err(problem) => {
                give_up(file, problem, SYSTEM_ROOTS, r)?;
                tls.certificate = None;
            }
        }
    }
    if let Some((certificate, key)) = &tls.identity {
        let outcome = read_identity(certificate, key);
        match outcome {
            Ok((cert_pem, key_pem)) => {
                if let Some((certificate, key)) = &mut tls.identity {
                    certificate.pem = Some(cert_pem);
                    key.pem = Some(key_pem);
                }
            }
            Err((file, problem)) => {
                let file = file.clone();
                give_up(&file, problem, NO_CLIENT_AUTH, r)?;
                tls.identity = None;
            }
        }
    }
    Ok(())
}

/// The PEM of a client certificate chain and of its key.
type IdentityPem = (Vec<u8>, Vec<u8>);

/// Reads and checks the client certificate and key; else which file is at fault, and why.
fn read_identity<'a>(
    certificate: &'a PemFile,
    key: &'a PemFile,
) -> Result<IdentityPem, (&'a PemFile, Problem)> {
    let cert_pem = read(&certificate.path, "client certificate")
        .and_then(|pem| check_chain(&pem).map(|()| pem))
        .map_err(|problem| (certificate, problem))?;
    let key_pem = read(&key.path, "client key")
        .and_then(|pem| check_key(&pem).map(|()| pem))
        .map_err(|problem| (key, problem))?;
    check_pair(&cert_pem, &key_pem).map_err(|problem| (certificate, problem))?;
    Ok((cert_pem, key_pem))
}

/// Why a file cannot be used.
enum Problem {
    Read {
        what: &'static str,
        source: std::io::Error,
    },
    /// Only checked with TLS.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Content(String),
}

/// A builder's file: the error. A variable's: one warning, and `instead` is used.
fn give_up(
    file: &PemFile,
    problem: Problem,
    instead: &str,
    r: &mut Reader<'_>,
) -> Result<(), Error> {
    if file.from_builder {
        return Err(match problem {
            Problem::Read { what, source } => Error::ReadFile {
                what,
                path: file.path.clone(),
                source,
            },
            Problem::Content(reason) => Error::Tls(format!("{reason} ({:?})", file.path)),
        });
    }
    let why = match problem {
        Problem::Read { what, source } => format!("the {what} file cannot be read: {source}"),
        Problem::Content(reason) => reason,
    };
    r.warn(
        file.named_by,
        format!(
            "{}={:?} is unusable: {why}; using {instead} instead",
            file.named_by, file.path
        ),
    );
    Ok(())
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, Problem> {
    std::fs::read(path).map_err(|source| Problem::Read { what, source })
}

/// At least one certificate, each one a trust anchor rustls accepts.
#[cfg(feature = "tls")]
fn check_ca(pem: &[u8]) -> Result<(), Problem> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let bad = |error: &dyn std::fmt::Display| {
        Problem::Content(format!("the CA certificate file is not valid PEM: {error}"))
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(Problem::Content(
            "the CA certificate file holds no PEM certificate".into(),
        ));
    }
    Ok(())
}

/// At least one certificate.
#[cfg(feature = "tls")]
fn check_chain(pem: &[u8]) -> Result<(), Problem> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            Problem::Content(format!(
                "the client certificate file is not valid PEM: {error}"
            ))
        })?;
    if chain.is_empty() {
        return Err(Problem::Content(
            "the client certificate file holds no PEM certificate".into(),
        ));
    }
    Ok(())
}

/// A private key.
#[cfg(feature = "tls")]
fn check_key(pem: &[u8]) -> Result<(), Problem> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::PrivateKeyDer;

    PrivateKeyDer::from_pem_slice(pem)
        .map(drop)
        .map_err(|error| {
            Problem::Content(format!(
                "the client key file holds no PEM private key: {error}"
            ))
        })
}

/// A certificate chain and a private key that rustls accepts together.
#[cfg(feature = "tls")]
fn check_pair(certificate: &[u8], key: &[u8]) -> Result<(), Problem> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    let unusable = |error: &dyn std::fmt::Display| {
        Problem::Content(format!(
            "the client certificate and key cannot be used together: {error}"
        ))
    };
    let chain = CertificateDer::pem_slice_iter(certificate)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| unusable(&e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unusable(&e))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(chain, key)
        .map(drop)
        .map_err(|e| unusable(&e))
}

// Without TLS an https endpoint is refused anyway (`Error::FeatureDisabled`): the files are
// read, not checked.
#[cfg(not(feature = "tls"))]
fn check_ca(_pem: &[u8]) -> Result<(), Problem> {
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn check_chain(_pem: &[u8]) -> Result<(), Problem> {
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn check_key(_pem: &[u8]) -> Result<(), Problem> {
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn check_pair(_certificate: &[u8], _key: &[u8]) -> Result<(), Problem> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::table::*;
    use super::*;

    /// The test PKI of the integration tests.
    fn pki(name: &str) -> String {
        format!(
            "{}/../tests/it/support/tls/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    /// A file holding `contents`, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("traced-tls-files-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const HTTPS: (&str, &str) = (OTEL_EXPORTER_OTLP_ENDPOINT, "https://collector:4318");

    fn load_env(vars: &[(&str, &str)]) -> Resolved {
        super::super::load(&Settings::default(), &env(vars))
            .expect("an environment alone never fails")
    }

    #[test]
    fn unusable_files_of_variables_are_reported_once_and_left_out() {
        let not_pem = TempFile::new("not-pem", "not a certificate");
        let ca = pki("ca.pem");
        let cert = pki("client.pem");
        let key = pki("client.key");
        const CA: &str = OTEL_EXPORTER_OTLP_CERTIFICATE;
        const KEY: &str = OTEL_EXPORTER_OTLP_CLIENT_KEY;
        const CERT: &str = OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE;
        const TRACES_CA: &str = OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE;
        // (variables, CA kept, identity kept, the one warning's parts)
        type Row<'a> = (Vec<(&'a str, &'a str)>, bool, bool, &'a [&'a str]);
        let table: Vec<Row<'_>> = vec![
            (vec![(CA, &ca), (CERT, &cert), (KEY, &key)], true, true, &[]),
            (
                vec![(CA, "/nonexistent/ca.pem")],
                false,
                false,
                &[
                    CA,
                    "\"/nonexistent/ca.pem\"",
                    "cannot be read",
                    "the system's root certificates",
                ],
            ),
            (
                vec![(TRACES_CA, "/nonexistent/ca.pem"), (CA, &ca)],
                false,
                false,
                &[
                    TRACES_CA,
                    "cannot be read",
                    "the system's root certificates",
                ],
            ),
            (
                vec![(CA, not_pem.path())],
                false,
                false,
                &[CA, "no PEM certificate", "the system's root certificates"],
            ),
            (
                vec![(CA, &ca), (KEY, &key)],
                true,
                false,
                &[
                    KEY,
                    "without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    "no client authentication",
                ],
            ),
            (
                vec![(CERT, &cert)],
                false,
                false,
                &[
                    CERT,
                    "without OTEL_EXPORTER_OTLP_CLIENT_KEY",
                    "no client authentication",
                ],
            ),
            (
                vec![(CERT, &cert), (KEY, "/nonexistent/key.pem")],
                false,
                false,
                &[
                    KEY,
                    "client key file cannot be read",
                    "no client authentication",
                ],
            ),
            (
                vec![(CERT, &cert), (KEY, not_pem.path())],
                false,
                false,
                &[KEY, "no PEM private key", "no client authentication"],
            ),
            (
                vec![(CERT, &ca), (KEY, &key)],
                false,
                false,
                &[CERT, "cannot be used together", "no client authentication"],
            ),
        ];
        for (vars, ca_kept, identity_kept, parts) in table {
            let mut vars = vars;
            vars.push(HTTPS);
            let Resolved { config, warnings } = load_env(&vars);
            let tls = config.otlp.unwrap().tls;
            assert_eq!(tls.ca_pem().is_some(), ca_kept, "{vars:?}");
            assert_eq!(tls.identity_pem().is_some(), identity_kept, "{vars:?}");
            assert_eq!(
                warnings.len(),
                usize::from(!parts.is_empty()),
                "{vars:?}: {warnings:?}"
            );
            if !parts.is_empty() {
                assert_warned(&warnings, parts);
            }
        }
    }

    #[test]
    fn files_of_an_http_endpoint_are_not_read() {
        let Resolved { config, warnings } = load_env(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/nonexistent/ca.pem"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.otlp.unwrap().tls, Tls::default());
    }

    #[test]
    #[cfg(feature = "otlp-logs")]
    fn a_file_both_signals_use_is_reported_once() {
        let Resolved { config, warnings } = load_env(&[
            HTTPS,
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/nonexistent/ca.pem"),
        ]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let otlp = config.otlp.unwrap();
        assert_eq!(otlp.tls.certificate, None);
        assert_eq!(otlp.logs_tls.certificate, None);
        // The logs have variables of their own.
        let ca = pki("ca.pem");
        let Resolved { config, warnings } = load_env(&[
            HTTPS,
            (OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, &ca),
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/nonexistent/ca.pem"),
        ]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let otlp = config.otlp.unwrap();
        assert!(otlp.logs_tls.ca_pem().is_some());
        assert_eq!(otlp.tls.certificate, None);
    }

    #[test]
    fn unusable_files_of_the_builder_are_errors() {
        let not_pem = TempFile::new("builder-not-pem", "not a certificate");
        let with = |ca: Option<&str>, identity: Option<(&str, &str)>| {
            let settings = Settings {
                otlp: OtlpSettings {
                    endpoint: Some("https://collector:4318".into()),
                    certificate: ca.map(PathBuf::from),
                    client_certificate: identity.map(|(cert, _)| PathBuf::from(cert)),
                    client_key: identity.map(|(_, key)| PathBuf::from(key)),
                    ..OtlpSettings::default()
                },
                ..Settings::default()
            };
            super::super::load(&settings, &Env::default())
        };
        match with(Some("/nonexistent/ca.pem"), None) {
            Err(Error::ReadFile { what, path, .. }) => {
                assert_eq!(what, "CA certificate");
                assert_eq!(path, PathBuf::from("/nonexistent/ca.pem"));
            }
            other => panic!("{other:?}"),
        }
        match with(Some(not_pem.path()), None) {
            Err(error @ Error::Tls(_)) => {
                assert!(error.to_string().contains("no PEM certificate"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        let cert = pki("client.pem");
        match with(None, Some((&cert, "/nonexistent/key.pem"))) {
            Err(Error::ReadFile { what, .. }) => assert_eq!(what, "client key"),
            other => panic!("{other:?}"),
        }
        let resolved = with(Some(&pki("ca.pem")), Some((&cert, &pki("client.key")))).unwrap();
        let tls = resolved.config.otlp.unwrap().tls;
        assert!(tls.ca_pem().is_some() && tls.identity_pem().is_some());
        assert!(resolved.warnings.is_empty());
    }

    #[test]
    fn debug_shows_paths_not_contents() {
        let resolved = load_env(&[
            HTTPS,
            (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, &pki("client.pem")),
            (OTEL_EXPORTER_OTLP_CLIENT_KEY, &pki("client.key")),
        ]);
        let debug = format!("{:?}", resolved.config.otlp.unwrap());
        assert!(debug.contains("client.key"), "{debug}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    }
}
