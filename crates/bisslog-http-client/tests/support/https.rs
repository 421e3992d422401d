//! An HTTPS server on 127.0.0.1 for the TLS tests (this crate's and
//! bisslog-http's, which includes this file): a throwaway CA made with
//! rcgen, a certificate for `localhost` and `127.0.0.1` it signed, and an
//! axum router served over tokio-rustls (ring). It counts the handshakes
//! that failed, so a test sees that a refused certificate was refused by
//! the client, not lost elsewhere.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

/// A CA of its own: its certificate (PEM) and what signs with it.
pub(crate) struct TestCa {
    pub(crate) pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl TestCa {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let pem = params.self_signed(&key).unwrap().pem();
        Self { pem, params, key }
    }

    /// A server certificate for `localhost` and `127.0.0.1`, and its key.
    fn server_certificate(&self) -> (CertificateDer<'static>, PrivatePkcs8KeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let certificate = params.signed_by(&key, &issuer).unwrap();
        (
            certificate.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()),
        )
    }
}

/// The server; [`stop`](Self::stop) closes it and its connections.
pub(crate) struct HttpsServer {
    pub(crate) addr: SocketAddr,
    pub(crate) ca: TestCa,
    handshake_failures: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsServer {
    pub(crate) async fn start(router: axum::Router) -> Self {
        let ca = TestCa::new("bisslog test CA");
        let (certificate, key) = ca.server_certificate();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate], key.into())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handshake_failures = Arc::new(AtomicUsize::new(0));
        let failures = Arc::clone(&handshake_failures);
        let task = tokio::spawn(async move {
            // Aborting this task drops the set, which aborts the
            // connections.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let router = router.clone();
                let failures = Arc::clone(&failures);
                connections.spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(tls) => {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(
                                    TokioIo::new(tls),
                                    TowerToHyperService::new(router),
                                )
                                .await;
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        Self {
            addr,
            ca,
            handshake_failures,
            task,
        }
    }

    /// `https://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// How many TLS handshakes failed so far.
    pub(crate) fn handshake_failures(&self) -> usize {
        self.handshake_failures.load(Ordering::SeqCst)
    }

    /// Waits (5 s at most) until a handshake has failed.
    pub(crate) async fn a_handshake_failed(&self) -> bool {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.handshake_failures() == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.handshake_failures() > 0
    }

    pub(crate) async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
