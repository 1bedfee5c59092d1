//! OTLP over HTTP: protobuf or JSON bodies POSTed with hyper, TLS with rustls.

use std::time::Duration;

use ::http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT as UA};
use ::http::{HeaderMap, Request, Uri};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::runtime::Handle;

use super::*;

#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

pub(crate) struct Http {
    client: Client<Connector, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
    pub(super) json: bool,
    gzip: bool,
}

impl Http {
    pub(super) fn new(
        config: &OtlpConfig,
        runtime: &Handle,
        source_name: &'static str,
    ) -> Result<Http, Error> {
        let uri: Uri = config
            .endpoint
            .parse()
            .map_err(|error: ::http::uri::InvalidUri| Error::InvalidEndpoint {
                endpoint: crate::redact::url(&config.endpoint),
                source_name,
                reason: error.to_string(),
            })?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header = || Error::InvalidHeader {
                name: name.clone(),
                reason: "not valid as an HTTP header",
            };
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| header())?,
                HeaderValue::from_str(value).map_err(|_| header())?,
            );
        }
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(config.timeout));
        http.enforce_http(false);
        #[cfg(feature = "tls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(config)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        #[cfg(not(feature = "tls"))]
        let connector = http;
        let _runtime = runtime.enter();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Http {
            client,
            uri,
            headers,
            json: config.protocol == crate::setup::config::Protocol::HttpJson,
            gzip: config.compression == Compression::Gzip,
        })
    }

    pub(super) async fn export<R: OtlpRequest>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<(), Failure> {
        let fatal = |reason: String| Failure::new(reason, false);
        let body = request.http_body(self.json).map_err(fatal)?;
        let body = if self.gzip {
            gzip(body).map_err(fatal)?
        } else {
            body
        };
        let mut builder = Request::post(self.uri.clone())
            .header(
                CONTENT_TYPE,
                if self.json {
                    "application/json"
                } else {
                    "application/x-protobuf"
                },
            )
            .header(UA, super::USER_AGENT);
        if self.gzip {
            builder = builder.header(CONTENT_ENCODING, "gzip");
        }
        if let Some(headers) = builder.headers_mut() {
            headers.extend(self.headers.clone());
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|error| fatal(error.to_string()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                // Whatever the connection did (refused, reset mid-export, closed before the
                // answer) is transient as far as the client can tell: retried like a 503.
                Failure::new(render_chain(&error), true)
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(::http::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(super::retry::retry_after);
            // Read the body so the connection can be reused.
            let _ = response.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(Failure {
                    reason: format!("HTTP status {status}"),
                    // The statuses the OTLP specification calls retryable.
                    retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
                    retry_after,
                })
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::new(
                format!("no response within {timeout:?}"),
                true,
            )),
        }
    }
}

fn render_chain(error: &(dyn std::error::Error + 'static)) -> String {
    crate::error::render_chain(error, error.source(), ": ")
}

#[cfg(feature = "gzip")]
fn gzip(body: Bytes) -> Result<Bytes, String> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&body)
        .map_err(|error| error.to_string())?;
    encoder
        .finish()
        .map(Bytes::from)
        .map_err(|error| error.to_string())
}

#[cfg(not(feature = "gzip"))]
fn gzip(_body: Bytes) -> Result<Bytes, String> {
    Err("gzip needs the `gzip` feature".into())
}

/// rustls with ring: the system's roots (or only the CA file when given), and the
/// client certificate for mutual TLS.
#[cfg(feature = "tls")]
fn tls_config(config: &OtlpConfig) -> Result<rustls::ClientConfig, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    // The files were read and checked with the configuration (`setup::config`).
    let mut roots = rustls::RootCertStore::empty();
    let https = config.endpoint.to_ascii_lowercase().starts_with("https://");
    match config.tls.ca_pem() {
        Some(ca) => {
            for cert in CertificateDer::pem_slice_iter(ca) {
                let cert =
                    cert.map_err(|error| Error::Tls(format!("the CA certificate file: {error}")))?;
                roots
                    .add(cert)
                    .map_err(|error| Error::Tls(format!("the CA certificate file: {error}")))?;
            }
            if roots.is_empty() {
                return Err(Error::Tls(
                    "the CA certificate file holds no PEM certificate".into(),
                ));
            }
        }
        // The system's roots are only loaded when they can be needed.
        None if https => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
        None => {}
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Tls(error.to_string()))?
        .with_root_certificates(roots);
    match config.tls.identity_pem() {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| Error::Tls(format!("the client certificate file: {error}")))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|error| Error::Tls(format!("the client key file: {error}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| Error::Tls(error.to_string()))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}
