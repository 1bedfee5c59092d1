//! The CA, client certificate and client key files of an https endpoint.

use crate::error::Error;
use crate::setup::config::OtlpConfig;

fn read(what: &'static str, path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })
}

/// The PEM contents of the CA, client certificate and client key files.
pub(super) struct TlsFiles {
    pub(super) ca: Option<Vec<u8>>,
    pub(super) identity: Option<(Vec<u8>, Vec<u8>)>,
}

pub(super) fn tls_files(config: &OtlpConfig) -> Result<TlsFiles, Error> {
    let ca = config
        .certificate
        .as_deref()
        .map(|path| read("CA certificate", path))
        .transpose()?;
    let identity = match (&config.client_certificate, &config.client_key) {
        (Some(cert), Some(key)) => {
            Some((read("client certificate", cert)?, read("client key", key)?))
        }
        _ => None,
    };
    Ok(TlsFiles { ca, identity })
}
