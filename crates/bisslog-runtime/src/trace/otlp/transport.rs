//! How export requests travel: HTTP/protobuf through `reqwest`, or gRPC
//! through `tonic` (the `otlp-grpc` feature), each with the configured
//! headers.

/// Where requests go, as configured; the clients are made from it on the
/// export thread.
#[derive(Debug, Clone)]
pub(super) struct Destination {
    pub(super) url: String,
    pub(super) grpc: bool,
    pub(super) headers: Vec<(String, String)>,
    /// The extra CA of `BISSLOG_CA_FILE`, read when export was configured.
    pub(super) ca: crate::tls::CaBundle,
}

pub(super) enum Transport {
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
    },
    #[cfg(feature = "otlp-grpc")]
    Grpc(grpc::Client),
}

impl Transport {
    /// The client for `destination`; call it inside a Tokio runtime.
    pub(super) fn new(destination: &Destination) -> Result<Self, String> {
        if destination.grpc {
            #[cfg(feature = "otlp-grpc")]
            return grpc::Client::new(&destination.url, &destination.headers).map(Transport::Grpc);
            #[cfg(not(feature = "otlp-grpc"))]
            return Err("`grpc` needs the `otlp-grpc` feature".to_owned());
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (key, value) in &destination.headers {
            let name = reqwest::header::HeaderName::from_bytes(key.as_bytes())
                .map_err(|e| format!("the header `{key}`: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| format!("the header `{key}`: {e}"))?;
            headers.append(name, value);
        }
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/x-protobuf"),
        );
        let client =
            crate::tls::client_builder(&destination.ca, destination.url.starts_with("https:"))
                .map_err(|e| e.to_string())?
                .build()
                .map_err(|e| e.to_string())?;
        Ok(Transport::Http {
            client,
            url: destination.url.clone(),
            headers,
        })
    }

    /// Sends one encoded `ExportTraceServiceRequest`.
    pub(super) async fn send(&self, request: Vec<u8>) -> Result<(), String> {
        match self {
            Transport::Http {
                client,
                url,
                headers,
            } => {
                let response = client
                    .post(url)
                    .headers(headers.clone())
                    .body(request)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("the collector answered {status}"))
                }
            }
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(client) => client.export(request).await,
        }
    }
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    //! The OTLP `TraceService/Export` call with the request already
    //! encoded: a codec that passes bytes through, over one lazily
    //! connected channel that reconnects by itself.

    use bytes::{Buf as _, BufMut as _};
    use tonic::Status;
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
    use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
    use tonic::transport::{Channel, Endpoint};

    const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    pub(in super::super) struct Client {
        grpc: tonic::client::Grpc<Channel>,
        metadata: MetadataMap,
    }

    impl Client {
        pub(super) fn new(url: &str, headers: &[(String, String)]) -> Result<Self, String> {
            let channel = Endpoint::from_shared(url.to_owned())
                .map_err(|e| format!("{url}: {e}"))?
                .connect_lazy();
            let mut metadata = MetadataMap::new();
            for (key, value) in headers {
                let name = AsciiMetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
                    .map_err(|e| format!("the header `{key}`: {e}"))?;
                let value = AsciiMetadataValue::try_from(value.as_str())
                    .map_err(|e| format!("the header `{key}`: {e}"))?;
                metadata.append(name, value);
            }
            Ok(Self {
                grpc: tonic::client::Grpc::new(channel),
                metadata,
            })
        }

        pub(super) async fn export(&self, request: Vec<u8>) -> Result<(), String> {
            let answered = |status: Status| {
                format!(
                    "the collector answered {:?}: {}",
                    status.code(),
                    status.message()
                )
            };
            let mut grpc = self.grpc.clone();
            grpc.ready().await.map_err(|e| e.to_string())?;
            let mut request = tonic::Request::new(request);
            *request.metadata_mut() = self.metadata.clone();
            grpc.unary(
                request,
                http::uri::PathAndQuery::from_static(EXPORT),
                Encoded,
            )
            .await
            .map(drop)
            .map_err(answered)
        }
    }

    /// Sends bytes that are already an encoded request; reads the answer
    /// as nothing (its optional partial-success counts are not used).
    #[derive(Debug, Clone, Copy)]
    struct Encoded;

    impl Codec for Encoded {
        type Encode = Vec<u8>;
        type Decode = ();
        type Encoder = Encoded;
        type Decoder = Encoded;

        fn encoder(&mut self) -> Self::Encoder {
            Encoded
        }

        fn decoder(&mut self) -> Self::Decoder {
            Encoded
        }
    }

    impl Encoder for Encoded {
        type Item = Vec<u8>;
        type Error = Status;

        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl Decoder for Encoded {
        type Item = ();
        type Error = Status;

        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, Status> {
            src.advance(src.remaining());
            Ok(Some(()))
        }
    }
}
