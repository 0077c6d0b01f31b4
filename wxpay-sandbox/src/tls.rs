//! The HTTPS listener: the same platform over TLS, asking every client for a certificate. APIv2's
//! client-certificate operations succeed only here, with a certificate that chains to the CA
//! the sandbox was given and names the merchant (its CN is the merchant id, as on the
//! platform's `apiclient_cert.pem`). A connection without a certificate is accepted (APIv3 and
//! the other APIv2 operations need none); one with a certificate from another CA fails its
//! handshake, as the platform's does.

use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};
use x509_cert::der::Decode;

use crate::SandboxError;
use crate::settings::Secret;
use crate::v2::ClientCertificate;

/// A handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the HTTPS listener needs: the CA that issues merchants' client certificates, and the
/// sandbox's own server certificate (for `127.0.0.1`/`localhost`) with its key, all PEM.
#[derive(Debug, Clone)]
pub struct HttpsIdentity {
    /// The CA certificate client certificates must chain to.
    pub ca_certificate_pem: String,
    /// The server certificate chain, leaf first.
    pub server_certificate_pem: String,
    /// The server certificate's private key (PKCS#8 or PKCS#1).
    pub server_key_pem: Secret,
}

pub(crate) fn acceptor(identity: &HttpsIdentity) -> Result<TlsAcceptor, SandboxError> {
    let key_error = |what: &str| SandboxError::Key(format!("HTTPS identity: {what}"));
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(identity.ca_certificate_pem.as_bytes()) {
        let cert = cert.map_err(|_| key_error("the CA certificate is not PEM"))?;
        roots
            .add(cert)
            .map_err(|_| key_error("the CA certificate is not usable"))?;
    }
    if roots.is_empty() {
        return Err(key_error("no CA certificate"));
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(identity.server_certificate_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|_| key_error("the server certificate is not PEM"))?;
    let key = PrivateKeyDer::from_pem_slice(identity.server_key_pem.expose().as_bytes())
        .map_err(|_| key_error("the server key is not a PEM private key"))?;
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| SandboxError::Config(format!("client certificate verifier: {e}")))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SandboxError::Config(format!("TLS versions: {e}")))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| SandboxError::Key(format!("HTTPS identity: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` over TLS on `listener` until the task is aborted.
pub(crate) fn serve(listener: TcpListener, acceptor: TlsAcceptor, app: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                let tls = match handshake.await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(error)) => {
                        tracing::info!(%error, "TLS handshake refused");
                        return;
                    }
                    Err(_) => return,
                };
                let common_name = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .and_then(|leaf| common_name(leaf));
                let app = app.layer(Extension(ClientCertificate { common_name }));
                let service = TowerToHyperService::new(app);
                if let Err(error) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await
                {
                    tracing::debug!(%error, "HTTPS connection ended");
                }
            });
        }
    })
}

/// The subject's CN of a certificate (the handshake has verified it chains to the CA).
fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    let cert = x509_cert::Certificate::from_der(der.as_ref()).ok()?;
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|attribute| attribute.oid == const_oid_cn())
        .and_then(|attribute| {
            attribute
                .value
                .decode_as::<x509_cert::der::asn1::Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    attribute
                        .value
                        .decode_as::<x509_cert::der::asn1::PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .ok()
        })
}

/// id-at-commonName, 2.5.4.3.
fn const_oid_cn() -> x509_cert::der::asn1::ObjectIdentifier {
    x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3")
}
