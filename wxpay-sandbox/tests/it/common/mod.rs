//! A tiny, independent merchant-side client for the sandbox tests: aws-lc-rs signing
//! and a raw HTTP/1.1 exchange over `TcpStream`. It shares no code with the sandbox.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wxpay_sandbox::{MerchantSettings, Sandbox};
use x509_cert::der::{Decode, Encode};

pub const USER_AGENT: &str = "wxpay-sandbox-tests/1.0";

/// The DER inside the first PEM block of `text`.
pub fn pem_der(text: &str) -> Vec<u8> {
    let b64: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(b64).expect("PEM base64")
}

pub fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

/// SPKI DER and serial of a certificate PEM.
pub fn certificate_facts(pem: &str) -> (Vec<u8>, String) {
    let cert = x509_cert::Certificate::from_der(&pem_der(pem)).expect("certificate");
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .expect("spki");
    let serial: String = cert
        .tbs_certificate
        .serial_number
        .as_bytes()
        .iter()
        .skip_while(|b| **b == 0)
        .map(|b| format!("{b:02X}"))
        .collect();
    (spki, serial)
}

/// The platform public key (SPKI DER) a client configured from `settings` would use.
pub fn platform_public_key(settings: &MerchantSettings) -> Vec<u8> {
    match (
        &settings.platform_public_key_pem,
        &settings.platform_certificate_pem,
    ) {
        (Some(pem), _) => pem_der(pem),
        (None, Some(cert)) => certificate_facts(cert).0,
        (None, None) => panic!("no platform key in the settings"),
    }
}

/// RSA-OAEP (SHA-1) encryption of a sensitive field with the platform public key.
pub fn encrypt_field(platform_spki: &[u8], plaintext: &str) -> String {
    let key = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(platform_spki).expect("platform public key"),
    )
    .expect("oaep key");
    let mut out = vec![0u8; key.ciphertext_size()];
    let ciphertext = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext.as_bytes(), &mut out, None)
        .expect("encrypt");
    STANDARD.encode(ciphertext)
}

/// AES-256-GCM decryption of an `encrypt_certificate` / `resource` object; `None`
/// when it does not authenticate under that key.
pub fn aead_open(
    apiv3_key: &str,
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes()).ok()?);
    let mut data = STANDARD.decode(ciphertext_b64).ok()?;
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).ok()?;
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut data)
        .ok()?;
    Some(plain.to_vec())
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Checks `Wechatpay-Signature` over `timestamp\nnonce\nbody\n` with `platform_spki`.
    pub fn verify(&self, platform_spki: &[u8]) -> Result<(), String> {
        let get = |name: &str| self.header(name).ok_or(format!("{name} missing"));
        let timestamp = get("Wechatpay-Timestamp")?;
        let nonce = get("Wechatpay-Nonce")?;
        let signature = STANDARD
            .decode(get("Wechatpay-Signature")?)
            .map_err(|e| e.to_string())?;
        let ts: i64 = timestamp.parse().map_err(|_| "timestamp".to_owned())?;
        if (ts - unix_now()).abs() > 300 {
            return Err("stale response timestamp".into());
        }
        if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("nonce {nonce:?} is not 32 alphanumerics"));
        }
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(&self.body);
        message.push(b'\n');
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, platform_spki)
            .verify(&message, &signature)
            .map_err(|_| "signature does not verify".to_owned())
    }

    /// Asserts the answer is unsigned (as 401s are) but carries a Request-ID.
    pub fn assert_unsigned(&self) {
        for name in [
            "Wechatpay-Signature",
            "Wechatpay-Timestamp",
            "Wechatpay-Nonce",
            "Wechatpay-Serial",
        ] {
            assert!(self.header(name).is_none(), "{name} present on {self:?}");
        }
        assert!(self.header("Request-ID").is_some_and(|v| !v.is_empty()));
    }
}

/// One HTTP/1.1 request on a fresh connection, read until the server closes it.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect to the sandbox");
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read reply");
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("content-length"))
        .expect("the sandbox sends Content-Length");
    Reply {
        status,
        headers,
        body: rest[..length].to_vec(),
    }
}

/// The merchant side of the tests: signs requests with its private key.
pub struct Merchant {
    pub addr: SocketAddr,
    pub mchid: String,
    pub serial: String,
    key: KeyPair,
    pub settings: MerchantSettings,
}

impl Merchant {
    pub fn of(sandbox: &Sandbox) -> Self {
        let settings = sandbox.merchant().clone();
        let pem = settings
            .merchant_private_key_pem
            .as_ref()
            .expect("generated merchant key")
            .expose()
            .to_owned();
        Self::with_key(sandbox, &pem)
    }

    pub fn with_key(sandbox: &Sandbox, private_key_pem: &str) -> Self {
        let settings = sandbox.merchant().clone();
        let key = KeyPair::from_pkcs8(&pem_der(private_key_pem)).expect("merchant key");
        Merchant {
            addr: sandbox.local_addr(),
            mchid: settings.mchid.clone(),
            serial: settings.merchant_serial.clone(),
            key,
            settings,
        }
    }

    pub fn platform_key(&self) -> Vec<u8> {
        platform_public_key(&self.settings)
    }

    pub fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("sign");
        STANDARD.encode(signature)
    }

    /// The `Authorization` value for a request signed at `timestamp`.
    pub fn authorization(
        &self,
        method: &str,
        url: &str,
        body: &str,
        timestamp: i64,
        nonce: &str,
    ) -> String {
        let message = format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = self.sign(message.as_bytes());
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial
        )
    }

    /// The headers a well-behaved client sends.
    pub fn headers(&self, method: &str, url: &str, body: &str) -> Vec<(String, String)> {
        vec![
            (
                "Authorization".into(),
                self.authorization(method, url, body, unix_now(), &nonce()),
            ),
            ("Accept".into(), "application/json".into()),
            ("Content-Type".into(), "application/json".into()),
            ("User-Agent".into(), USER_AGENT.into()),
        ]
    }

    /// A correctly signed call.
    pub async fn call(&self, method: &str, url: &str, body: &str) -> Reply {
        self.call_with(method, url, body, &[]).await
    }

    /// A correctly signed call with extra headers (e.g. `Wechatpay-Serial`).
    pub async fn call_with(
        &self,
        method: &str,
        url: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut headers = self.headers(method, url, body);
        headers.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        send(self.addr, method, url, &headers, body.as_bytes()).await
    }

    /// A signed call whose answer must be signed by the platform; returns it.
    pub async fn verified(
        &self,
        method: &str,
        url: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let reply = self.call_with(method, url, body, extra).await;
        reply
            .verify(&self.platform_key())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}: {reply:?}"));
        assert_eq!(
            reply.header("Wechatpay-Serial"),
            Some(self.settings.platform_serial.as_str()),
            "{method} {url}"
        );
        assert!(reply.header("Request-ID").is_some_and(|v| !v.is_empty()));
        reply
    }
}

pub fn nonce() -> String {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).expect("random");
    STANDARD
        .encode(bytes)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect()
}
