//! OTLP over gRPC: a tonic channel, TLS and gzip from the configuration.

use std::time::Duration;

use tokio::runtime::Handle;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::Channel;

use super::*;

pub(crate) struct Grpc {
    channel: Channel,
    metadata: MetadataMap,
    gzip: bool,
}

impl Grpc {
    pub(super) fn new(
        config: &OtlpConfig,
        runtime: &Handle,
        source_name: &'static str,
    ) -> Result<Grpc, Error> {
        let invalid = |reason: String| Error::InvalidEndpoint {
            endpoint: crate::redact::url(&config.endpoint),
            source_name,
            reason,
        };
        let endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.clone())
            .map_err(|error| invalid(error.to_string()))?
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(USER_AGENT)
            .map_err(|error| invalid(error.to_string()))?;
        #[cfg(feature = "tls")]
        let endpoint = if config.endpoint.to_ascii_lowercase().starts_with("https://") {
            use tonic::transport::{Certificate, ClientTlsConfig, Identity};
            // The files were read and checked with the configuration (`setup::config`).
            let mut tls = ClientTlsConfig::new();
            tls = match config.tls.ca_pem() {
                Some(ca) => tls.ca_certificate(Certificate::from_pem(ca)),
                None => tls.with_native_roots(),
            };
            if let Some((cert, key)) = config.tls.identity_pem() {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            endpoint
                .tls_config(tls)
                .map_err(|error| Error::Tls(error.to_string()))?
        } else {
            endpoint
        };
        // `connect_lazy` spawns the connection's worker: on the export runtime.
        let channel = {
            let _runtime = runtime.enter();
            endpoint.connect_lazy()
        };
        let mut metadata = MetadataMap::new();
        for (name, value) in &config.headers {
            let header = || Error::InvalidHeader {
                name: name.clone(),
                reason: "not valid as gRPC metadata",
            };
            let key = MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| header())?;
            let value = MetadataValue::try_from(value.as_str()).map_err(|_| header())?;
            metadata.insert(key, value);
        }
        Ok(Grpc {
            channel,
            metadata,
            gzip: config.compression == Compression::Gzip,
        })
    }

    pub(super) async fn export<R: OtlpRequest>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<(), Failure> {
        use tonic::Code;
        let mut request = tonic::Request::new(request.clone());
        *request.metadata_mut() = self.metadata.clone();
        request.set_timeout(timeout);
        match R::grpc_export(self.channel.clone(), self.gzip, request).await {
            // A partial success (some spans rejected by the collector) is still a
            // delivered request: retrying would not change the verdict.
            Ok(_) => Ok(()),
            // The status message is not shown: a server may echo credentials in it.
            Err(status) => {
                let reason = crate::error::render_chain(
                    &format_args!("gRPC status {:?}", status.code()),
                    std::error::Error::source(&status),
                    ": ",
                );
                // The wait the server asks for (`google.rpc.RetryInfo`).
                let retry_after = super::retry::retry_info_delay(status.details());
                // The codes the OTLP specification calls retryable (a refused connection is
                // UNAVAILABLE); RESOURCE_EXHAUSTED only when the server says when to retry. A
                // status the client made from a transport error (it has a source: a connection
                // reset or broken in the middle of the export comes as UNKNOWN) is no verdict
                // of the collector: retried like UNAVAILABLE.
                let from_transport = std::error::Error::source(&status).is_some();
                let retryable = from_transport
                    || matches!(
                        status.code(),
                        Code::Cancelled
                            | Code::DeadlineExceeded
                            | Code::Aborted
                            | Code::OutOfRange
                            | Code::Unavailable
                            | Code::DataLoss
                    )
                    || (status.code() == Code::ResourceExhausted && retry_after.is_some());
                Err(Failure {
                    reason,
                    retryable,
                    retry_after,
                })
            }
        }
    }
}

/// The codec of requests encoded beforehand: their bytes are the message; the response's
/// contents are not read (a partial success is a delivered request, see `export`).
pub(super) struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = bytes::Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = bytes::Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: bytes::Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put(dst, item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        let remaining = bytes::Buf::remaining(src);
        bytes::Buf::advance(src, remaining);
        Ok(Some(()))
    }
}
