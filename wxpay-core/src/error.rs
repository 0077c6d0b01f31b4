//! One error type the caller can match, with a kind per thing that can go wrong.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

/// Everything a call can fail with.
///
/// Match on the variant to tell a configuration mistake from a platform answer, a forged or
/// tampered response, a body that is not what the endpoint declares, or a transport failure.
/// No variant ever carries key material or the plaintext of an encrypted field.
///
/// Each message says what went wrong at its own layer and leaves the cause to
/// [`source`](std::error::Error::source), so a reporter prints every cause once: log the whole
/// chain (`{:#}` with `anyhow`, or walk `source()`), not only the top message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client or a key was configured wrongly.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request could not be built from the endpoint's fields.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The request did not reach the platform, or its answer did not come back whole.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The platform answered with an error (`{code, message, detail}` and a non-2xx status).
    #[error(transparent)]
    Api(#[from] Box<ApiError>),
    /// The answer's signature did not verify: treat it as forged.
    #[error("{kind}{}", request_id_suffix(.request_id.as_deref()))]
    Verification {
        /// What exactly failed.
        kind: VerificationError,
        /// The `Request-ID` the answer named, if any.
        request_id: Option<String>,
    },
    /// The answer verified but its body is not what the endpoint declares.
    #[error(transparent)]
    Decode(#[from] Box<DecodeError>),
    /// An APIv2 answer was refused: unreadable, `return_code` FAIL, unsigned or badly signed,
    /// or `result_code` FAIL.
    #[error(transparent)]
    ApiV2(#[from] ApiV2Error),
    /// An APIv2 notification was refused: unreadable, not trusted, or its `req_info` does not
    /// decrypt.
    #[error(transparent)]
    ApiV2Notification(#[from] ApiV2NotificationError),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Platform certificates could not be downloaded, decrypted or trusted.
    #[error(transparent)]
    Certificates(#[from] CertificateError),
    /// A notification verified but could not be read: a malformed envelope, another
    /// algorithm, a resource that does not decrypt or decode.
    #[error(transparent)]
    Notification(#[from] NotificationError),
    /// A download was refused before sending, or its file did not check out.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The answer verified but one of its sensitive fields did not decrypt with the merchant
    /// key.
    #[error(transparent)]
    Decrypt(#[from] Box<DecryptError>),
}

impl Error {
    /// The platform's `Request-ID` for the call, when the platform answered: quote it in
    /// support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Verification { request_id, .. } => request_id.as_deref(),
            Error::Decode(e) => e.request_id.as_deref(),
            Error::Decrypt(e) => e.request_id.as_deref(),
            _ => None,
        }
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Config(ConfigError::Key {
            setting: Cow::Borrowed("key"),
            source: e,
        })
    }
}

fn request_id_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(" (Request-ID {id})"))
        .unwrap_or_default()
}

/// Why a certificate download could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// A resource uses an algorithm other than `AEAD_AES_256_GCM`.
    #[error("unsupported encryption algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// Decryption failed: most often the APIv3 key is wrong.
    #[error("cannot decrypt the certificate (is the APIv3 key right?): {0}")]
    Decrypt(CryptoError),
    /// The decrypted text is not a usable certificate.
    #[error("the decrypted certificate cannot be used: {0}")]
    Key(KeyError),
    /// The certificate's own serial differs from the listed `serial_no`.
    #[error("listed as {listed} but the certificate's serial is {actual}")]
    SerialMismatch {
        /// `serial_no` in the list.
        listed: String,
        /// The serial inside the certificate.
        actual: String,
    },
    /// No listed certificate is valid now.
    #[error("the platform listed no certificate that is valid now")]
    NoneValid,
    /// The download's signature did not verify with the trusted keys.
    #[error("the certificate download failed verification: {0}")]
    Verification(VerificationError),
    /// The download lists the merchant's own API certificate, which verifies nothing the
    /// platform signs: the whole download is refused, as that certificate is at configuration.
    #[error("the download lists the merchant's own certificate {serial} as a platform certificate")]
    MerchantCertificate {
        /// Its serial.
        serial: String,
    },
    /// Certificates need the APIv3 key to decrypt them.
    #[error("downloading platform certificates needs the APIv3 key")]
    NoApiV3Key,
    /// The ring has no platform key yet and the last download was less than the cooldown
    /// ago, so none is tried now (see
    /// [`Client::platform_key_status`](crate::Client::platform_key_status) for why it failed).
    #[error("no platform key yet; the last certificate download was less than {cooldown:?} ago")]
    Cooldown {
        /// The cooldown ([`ClientBuilder::unknown_serial_cooldown`](crate::ClientBuilder::unknown_serial_cooldown)).
        cooldown: Duration,
    },
}

/// Why a download failed once the platform had accepted it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The URL is not an absolute `http(s)` URL on the client's host or a platform host.
    #[error("download URL refused: {0}")]
    Url(String),
    /// The promised digest is of an algorithm this SDK does not know.
    #[error("unsupported hash_type {0:?}: expected SHA1")]
    UnsupportedHashType(String),
    /// The file's digest is not the promised one: it was altered or cut short. What was
    /// already written must be discarded.
    #[error("the downloaded file's {hash_type} is {actual}, not the promised {expected}")]
    DigestMismatch {
        /// The algorithm.
        hash_type: String,
        /// The promised digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// A malformed download: the GZIP stream is corrupt, cut short, or followed by bytes that
    /// are not another GZIP member.
    #[error("malformed download: the GZIP stream is corrupt, cut short or has trailing bytes")]
    Decompress(#[source] io::Error),
    /// The file is larger than the limit
    /// ([`ClientBuilder::download_limits`](crate::ClientBuilder::download_limits)); what was
    /// written must be discarded.
    #[error("the download is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes (after decompression).
        limit: u64,
    },
    /// The file decompresses to more than `limit` times the bytes received: a GZIP bomb, or
    /// a limit too tight for this file
    /// ([`ClientBuilder::download_limits`](crate::ClientBuilder::download_limits)).
    #[error("the download decompresses to more than {limit} times its compressed size")]
    CompressionRatio {
        /// The largest ratio allowed.
        limit: u64,
    },
    /// No byte of the download arrived for `idle`
    /// ([`ClientBuilder::download_timeouts`](crate::ClientBuilder::download_timeouts)).
    #[error("the download stalled: nothing arrived for {idle:?}")]
    Stalled {
        /// The idle limit.
        idle: Duration,
    },
    /// The download took longer than its overall limit
    /// ([`ClientBuilder::download_timeouts`](crate::ClientBuilder::download_timeouts)).
    #[error("the download took longer than {limit:?}")]
    TimedOut {
        /// The overall limit.
        limit: Duration,
    },
    /// Writing to the caller's writer failed.
    #[error("writing the download failed")]
    Write(#[source] io::Error),
}

/// What went wrong on the wire. [`TransportError::request_sent`] tells whether the platform
/// may have acted on the request: only then can a retry of a non-idempotent call duplicate it.
///
/// The message names the kind; what the HTTP client said is the
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// The underlying error (from the HTTP client).
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            source: source.into(),
        }
    }

    /// Whether the request may have reached the platform. `false` only when the connection
    /// was never made (refused, DNS, connect timeout).
    pub fn request_sent(&self) -> bool {
        self.kind != TransportErrorKind::Connect
    }

    /// For a refused redirect ([`TransportErrorKind::Redirect`]): the `Location` the answer
    /// named (as received, cut to 256 characters), if any.
    pub fn redirect_location(&self) -> Option<&str> {
        self.source
            .downcast_ref::<Redirected>()
            .and_then(|r| r.location.as_deref())
    }
}

/// A 3xx answer, refused: APIv3 never redirects, and following one would re-send the signed
/// request (body and `Authorization`) to wherever `Location` points.
#[derive(Debug)]
pub(crate) struct Redirected {
    pub(crate) location: Option<String>,
}

impl Redirected {
    /// The longest `Location` kept: enough to recognise where it pointed.
    const MAX_LOCATION: usize = 256;

    pub(crate) fn new(location: Option<&http::HeaderValue>) -> Self {
        let location = location.map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .chars()
                .take(Self::MAX_LOCATION)
                .collect()
        });
        Redirected { location }
    }
}

impl fmt::Display for Redirected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            // Debug-quoted: the text is the server's, so control characters stay visible.
            Some(location) => write!(f, "the answer points to {location:?}; not followed"),
            None => f.write_str("the answer names no Location; not followed"),
        }
    }
}

impl std::error::Error for Redirected {}

/// The kinds of [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection was made: the request never left.
    #[error("cannot connect")]
    Connect,
    /// The call took longer than the configured timeout.
    #[error("timed out")]
    Timeout,
    /// The connection failed after the request may have been sent.
    #[error("connection failed during the call")]
    Interrupted,
    /// The answer's body is larger than the configured limit.
    #[error("the answer's body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The answer was a redirect (3xx). The platform never redirects, so it is refused, never
    /// followed and never retried: the request did reach a server.
    /// [`TransportError::redirect_location`] tells where it pointed.
    #[error("redirect {status} refused (WeChat Pay never redirects)")]
    Redirect {
        /// The 3xx status; 0 when a caller's own HTTP client had already followed it (see
        /// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client)).
        status: u16,
    },
}

/// A setting of the client, or a key given to it, is missing or wrong.
///
/// Each variant names the setting: the builder method or the `WXPAY_*` variable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting was not given.
    #[error("{setting} is not set")]
    Missing {
        /// The builder method or environment variable.
        setting: Cow<'static, str>,
    },
    /// A setting has a value that cannot be right.
    #[error("{setting}: {reason}")]
    Invalid {
        /// The builder method or environment variable.
        setting: Cow<'static, str>,
        /// Why it was rejected (never the value itself when it is secret).
        reason: String,
    },
    /// A key or certificate could not be used; [`source`](std::error::Error::source) says
    /// why.
    #[error("{setting}: the key or certificate cannot be used")]
    Key {
        /// The builder method or environment variable.
        setting: Cow<'static, str>,
        /// What is wrong with the key.
        source: KeyError,
    },
    /// The client was built for APIv2 only (an APIv2 key without the APIv3 settings), and
    /// this needs APIv3: an APIv3 call, download or notification, or the merchant key. Nothing
    /// was sent. `missing` names the setting APIv3 lacks.
    #[error(
        "this client is configured for APIv2 only: APIv3 needs {missing}, which is not set \
         (nothing was sent)"
    )]
    ApiV3NotConfigured {
        /// The builder method or environment variable APIv3 lacks.
        missing: Cow<'static, str>,
    },
    /// The file a key variable names could not be read. The path is not repeated: a value
    /// taken for a path may be the key itself, pasted without its `-----BEGIN` line.
    #[error("{setting}: cannot read the file it names")]
    Read {
        /// The environment variable.
        setting: Cow<'static, str>,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// State shared by a fleet of instances (Redis, or another [`NotificationLedger`]) could not
/// be used. Never fatal to a call: the key ring in memory keeps working, and a notification
/// receiver answers with a retryable failure (or de-duplicates locally, when configured).
///
/// Messages name the problem, never the connection URL (which may hold a password).
///
/// [`NotificationLedger`]: crate::notification::NotificationLedger
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The shared store could not be reached or refused the command.
    #[error("the shared store is unavailable: {0}")]
    Unavailable(String),
    /// The shared store did not answer in time.
    #[error("the shared store did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// What the shared store holds is not what this SDK writes (planted or damaged).
    #[error("the shared store holds malformed data: {0}")]
    Malformed(&'static str),
    /// A notification id that cannot be a key: empty, or longer than 256 bytes.
    #[error("a notification id must be 1 to 256 bytes")]
    BadId,
}

/// A key, certificate or APIv3 key could not be parsed or is unfit for its role.
///
/// Messages describe the problem, never the key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not PEM (no `-----BEGIN …-----` block, bad base64, unterminated block).
    #[error("not a PEM document: {0}")]
    NotPem(&'static str),
    /// The PEM block is of another kind than the one expected here.
    #[error("expected {expected}, found a PEM block labelled {found:?}")]
    WrongKind {
        /// What this place takes.
        expected: &'static str,
        /// The label that was found.
        found: String,
    },
    /// The DER inside is malformed.
    #[error("malformed {what}")]
    Malformed {
        /// Which structure.
        what: &'static str,
    },
    /// The key is not an RSA key.
    #[error("not an RSA key: WeChat Pay APIv3 uses RSA-2048")]
    NotRsa,
    /// The RSA key is shorter than the 2048 bits the protocol uses.
    #[error("RSA key of {bits} bits; at least 2048 are required")]
    TooSmall {
        /// Modulus size.
        bits: usize,
    },
    /// The APIv3 key is not 32 bytes.
    #[error("the APIv3 key must be 32 bytes, got {0}")]
    ApiV3KeyLength(usize),
    /// The APIv3 key has a character the merchant platform never issues: its keys are 32
    /// printable ASCII characters (letters and digits), so a key of multi-byte or control
    /// characters was copied wrongly.
    #[error("the APIv3 key must be 32 printable ASCII characters (letters and digits)")]
    ApiV3KeyCharacters,
    /// The APIv2 key is not 32 bytes.
    #[error("the APIv2 key must be 32 characters, got {0} bytes")]
    ApiV2KeyLength(usize),
    /// The APIv2 key has a character other than an ASCII letter or digit: the merchant
    /// platform issues 32 of those, so another character means it was copied wrongly.
    #[error("the APIv2 key must be 32 ASCII letters and digits")]
    ApiV2KeyCharacters,
    /// The crypto backend refused the key.
    #[error("the crypto backend rejected the key")]
    Rejected,
}

/// A cryptographic operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// Encryption failed (for RSA-OAEP: the plaintext is too long for the key).
    #[error("encryption failed")]
    Encrypt,
    /// Decryption failed: wrong key, nonce or associated data, or tampered ciphertext.
    #[error("decryption failed (wrong key, nonce or associated data, or tampered ciphertext)")]
    Decrypt,
    /// A value that should be base64 is not.
    #[error("invalid base64")]
    Base64,
    /// A block-cipher plaintext does not end in valid PKCS#7 padding: most often the key is
    /// wrong.
    #[error("bad padding after decryption (most often a wrong key)")]
    Padding,
    /// The random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// An endpoint's fields could not be turned into a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A path, query or header field has a value that cannot be sent there.
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field name.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The body could not be serialized.
    #[error("the body could not be serialized")]
    Body(#[source] serde_json::Error),
    /// An APIv2 request cannot be written as XML.
    #[error("the APIv2 request cannot be written as XML")]
    Xml(#[source] XmlError),
    /// An endpoint went to the other protocol's request writing: an APIv2 operation is signed
    /// into `<xml>` with the APIv2 key, an APIv3 one into `Authorization` with the merchant key.
    #[error("`{operation}` is an {protocol} operation and cannot be sent as {other}")]
    WrongProtocol {
        /// The operation's path.
        operation: &'static str,
        /// Its protocol, `APIv2` or `APIv3`.
        protocol: &'static str,
        /// The protocol it was about to be sent as.
        other: &'static str,
    },
    /// An APIv2 page for the user's browser (`answer = page`, the contract-signing pages) was
    /// sent from the server: nothing was sent. Send the user's browser to its signed URL
    /// (`Client::page_url`).
    #[error(
        "`{operation}` is a page for the user's browser: send the browser to its signed URL \
         (`Client::page_url`) instead"
    )]
    BrowserPage {
        /// The operation's path.
        operation: &'static str,
    },
    /// A signed page URL was asked of an operation that is not a page for the user's browser:
    /// send it instead.
    #[error("`{operation}` is not a page for the user's browser: send it with `Client::send`")]
    NotAPage {
        /// The operation's path.
        operation: &'static str,
    },
    /// A field must be encrypted but no platform key is configured for encryption.
    #[error("the request has encrypted fields but no valid platform key is configured")]
    NoEncryptionKey,
    /// A sensitive field could not be encrypted.
    #[error("field `{field}` cannot be encrypted: {reason}")]
    Encrypt {
        /// Where the field sits, e.g. `receivers[0].name`.
        field: String,
        /// Why (never the value).
        reason: String,
    },
}

/// A sensitive field of a verified answer did not decrypt with the merchant key: the answer
/// is refused rather than handed over with ciphertext where the value should be.
#[derive(Debug, thiserror::Error)]
#[error(
    "the answer's field `{field}` did not decrypt with the merchant key{}",
    request_id_suffix(.request_id.as_deref())
)]
#[non_exhaustive]
pub struct DecryptError {
    /// Where the field sits, e.g. `data[0].payer_phone`.
    pub field: String,
    /// What the crypto backend said.
    pub source: CryptoError,
    /// The `Request-ID` of the answer, if any.
    pub request_id: Option<String>,
}

/// Why an answer from the platform (or a notification) failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// A `Wechatpay-*` header is absent.
    #[error("response verification failed: header {0} is missing")]
    MissingHeader(&'static str),
    /// A `Wechatpay-*` header is present but unusable (not text, not a number, not base64).
    #[error("response verification failed: header {0} is malformed")]
    MalformedHeader(&'static str),
    /// A `Wechatpay-*` header appears more than once: which copy was signed cannot be told,
    /// so the answer is not trusted.
    #[error("response verification failed: header {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// `Wechatpay-Signature-Type` names a scheme other than `WECHATPAY2-SHA256-RSA2048`
    /// (the platform also has SM2/SM3): this SDK cannot check it. Absent is accepted.
    #[error(
        "response verification failed: unsupported signature type {0:?} (expected WECHATPAY2-SHA256-RSA2048)"
    )]
    UnsupportedSignatureType(String),
    /// `Wechatpay-Timestamp` is too far from the local clock.
    #[error(
        "response verification failed: timestamp {timestamp} is {}s away from local time {now} (tolerance {tolerance}s)",
        timestamp.abs_diff(*now)
    )]
    ClockSkew {
        /// The answer's timestamp (unix seconds).
        timestamp: i64,
        /// Local time (unix seconds).
        now: i64,
        /// The configured tolerance in seconds.
        tolerance: u64,
    },
    /// `Wechatpay-Serial` names no key in the platform key ring.
    #[error("response verification failed: no platform key with serial {0}")]
    UnknownSerial(String),
    /// `Wechatpay-Serial` names a certificate that is past its notAfter: the platform never
    /// signs with one, so the answer is forged or replayed, or the configuration is stale.
    #[error(
        "response verification failed: platform certificate {serial} expired at {not_after} (unix seconds)"
    )]
    ExpiredCertificate {
        /// The certificate's serial.
        serial: String,
        /// Its notAfter, unix seconds.
        not_after: i64,
    },
    /// The signature does not match the body, timestamp and nonce.
    #[error("response verification failed: bad signature (serial {serial})")]
    BadSignature {
        /// The serial the answer named.
        serial: String,
    },
    /// The signature is a deliberate `WECHATPAY/SIGNTEST/` probe from the platform: it must fail.
    #[error("response verification failed: WECHATPAY/SIGNTEST/ probe signature")]
    SignatureProbe,
}

/// The platform's error answer: a non-2xx status with `{code, message, detail}`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The platform's error code, e.g. `PARAM_ERROR`, `SIGN_ERROR`, `NOT_ENOUGH`.
    pub code: String,
    /// The platform's message (often Chinese).
    pub message: String,
    /// The optional `detail` object (for `SIGN_ERROR` it holds `sign_information`).
    pub detail: Option<serde_json::Value>,
    /// `Request-ID`, for support tickets.
    pub request_id: Option<String>,
    /// Whether the answer carried a valid platform signature (the platform leaves some, such as
    /// its 401s, unsigned).
    pub signature_verified: bool,
    /// For `SIGN_ERROR`: what this client signed, to set beside the platform's
    /// `detail.sign_information`.
    pub signed_request: Option<SignedRequest>,
}

/// What a request's signature covered, without the body itself (it may hold personal data):
/// enough to see which part differs from the platform's `sign_information`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedRequest {
    /// The method signed.
    pub method: String,
    /// The path and query signed.
    pub url: String,
    /// The timestamp signed.
    pub timestamp: i64,
    /// The nonce signed.
    pub nonce: String,
    /// Length in bytes of the whole signed message.
    pub sign_message_length: usize,
}

impl ApiError {
    /// For `SIGN_ERROR`: the platform's view of what was signed (`detail.sign_information`),
    /// to set beside [`signed_request`](Self::signed_request).
    pub fn sign_information(&self) -> Option<SignInformation> {
        self.detail.as_ref().and_then(SignInformation::from_detail)
    }
}

/// The platform's view of a refused signature: `detail.sign_information` of a `SIGN_ERROR`
/// answer (the sandbox sends the same). Each part is the platform's text as found, `None` when
/// absent or not of its type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignInformation {
    /// The method the platform saw.
    pub method: Option<String>,
    /// The path and query the platform saw.
    pub url: Option<String>,
    /// The message the platform rebuilt, `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, with the
    /// body cut short.
    pub truncated_sign_message: Option<String>,
    /// The whole message's length in bytes.
    pub sign_message_length: Option<usize>,
}

impl SignInformation {
    /// Reads the `detail` object of an error answer; `None` when it has no
    /// `sign_information` object.
    ///
    /// ```
    /// use wxpay_core::SignInformation;
    /// let detail = serde_json::json!({"sign_information": {"method": "POST", "sign_message_length": 97}});
    /// let information = SignInformation::from_detail(&detail).unwrap();
    /// assert_eq!(information.method.as_deref(), Some("POST"));
    /// assert_eq!(information.sign_message_length, Some(97));
    /// assert_eq!(information.url, None);
    /// ```
    pub fn from_detail(detail: &serde_json::Value) -> Option<SignInformation> {
        let information = detail.get("sign_information")?.as_object()?;
        let text = |name: &str| {
            information
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Some(SignInformation {
            method: text("method"),
            url: text("url"),
            truncated_sign_message: text("truncated_sign_message"),
            sign_message_length: information
                .get("sign_message_length")
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| usize::try_from(n).ok()),
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WeChat Pay answered {} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        if let Some(ours) = &self.signed_request {
            let theirs = self.sign_information().unwrap_or_default();
            // Debug-quoted: the text is the platform's, so control characters stay visible.
            let quoted = |text: Option<String>| text.map_or("?".into(), |text| format!("{text:?}"));
            write!(
                f,
                " [platform signed: {} {} ({} bytes); we signed: {} {} ({} bytes), timestamp {}, nonce {}]",
                quoted(theirs.method),
                quoted(theirs.url),
                theirs
                    .sign_message_length
                    .map_or("?".into(), |n| n.to_string()),
                ours.method,
                ours.url,
                ours.sign_message_length,
                ours.timestamp,
                ours.nonce
            )?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A verified answer whose body is not what the endpoint declares.
///
/// It says where (line, column) and what kind of problem it was, never the values: serde's own
/// messages quote them (`invalid type: string "张三"`), and answers carry names and ID
/// numbers. The body is kept for whoever needs it, behind [`DecodeError::raw_body`]; neither
/// `Display` nor `Debug` shows it, and there is no `source()` to print the serde message.
#[non_exhaustive]
pub struct DecodeError {
    /// HTTP status.
    pub status: StatusCode,
    /// `Request-ID`.
    pub request_id: Option<String>,
    /// What kind of problem serde_json found.
    pub category: serde_json::error::Category,
    /// The kind of problem in words (never a value from the answer).
    pub problem: &'static str,
    /// The field of the declared type that is missing or given twice, when that is the
    /// problem (a name from the type, not from the answer).
    pub field: Option<String>,
    /// Line of the problem in the body (1-based; 0 when serde_json does not know).
    pub line: usize,
    /// Column of the problem in the body.
    pub column: usize,
    body: Bytes,
}

impl DecodeError {
    pub(crate) fn new(
        status: StatusCode,
        request_id: Option<String>,
        body: Bytes,
        error: &serde_json::Error,
    ) -> Self {
        DecodeError {
            status,
            request_id,
            category: error.classify(),
            problem: json_problem(error),
            field: schema_field(error),
            line: error.line(),
            column: error.column(),
            body,
        }
    }

    /// The body exactly as received. It may hold personal data: log it only where that is
    /// allowed.
    pub fn raw_body(&self) -> &Bytes {
        &self.body
    }
}

/// What kind of problem serde_json found, in words that quote nothing.
pub(crate) fn json_problem(error: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match error.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "not JSON",
        Category::Data => "a field is missing or has the wrong type",
        Category::Eof => "cut off",
    }
}

/// The field named by a "missing field" or "duplicate field" message: those names come from
/// the declared type's own fields. Every other message may quote the answer and is dropped.
fn schema_field(error: &serde_json::Error) -> Option<String> {
    let message = error.to_string();
    ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field.to_owned())
        .filter(|field| {
            field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode the {} answer: {}",
            self.status.as_u16(),
            self.problem
        )?;
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        write!(f, " at line {} column {}", self.line, self.column)?;
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("category", &self.category)
            .field("problem", &self.problem)
            .field("field", &self.field)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl std::error::Error for DecodeError {}

/// A notification whose signature verified (or was not yet checked) could not be read.
///
/// No variant carries decrypted data: a resource that does not decode is described by the
/// position and kind of the problem only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The request body could not be read, or is larger than a notification can be.
    #[error("the notification body is unreadable or too large")]
    UnreadableBody,
    /// The body is not the envelope `{id, create_time, event_type, resource_type, summary,
    /// resource{algorithm, ciphertext, nonce, associated_data, original_type}}`.
    #[error("malformed notification envelope: {reason}")]
    MalformedEnvelope {
        /// What serde_json said about the (encrypted, so not secret) envelope.
        reason: String,
    },
    /// `resource.algorithm` is not `AEAD_AES_256_GCM`.
    #[error("notification resource algorithm {0:?} is not AEAD_AES_256_GCM")]
    UnsupportedAlgorithm(String),
    /// `resource.nonce` is not the 12 bytes AES-GCM takes.
    #[error("notification resource nonce is {length} bytes, not 12")]
    BadNonce {
        /// Its length.
        length: usize,
    },
    /// `resource.ciphertext` is not base64.
    #[error("notification resource ciphertext is not base64")]
    CiphertextNotBase64,
    /// `resource.ciphertext` is shorter than the 16-byte tag it must end with.
    #[error("notification resource ciphertext is {length} bytes, shorter than the 16-byte tag")]
    TruncatedCiphertext {
        /// Its decoded length.
        length: usize,
    },
    /// The resource does not decrypt: AES-GCM cannot tell a wrong APIv3 key from a wrong
    /// nonce or associated data or a tampered ciphertext. Check the APIv3 key first.
    #[error(
        "notification resource does not decrypt (wrong APIv3 key, nonce or associated data, or tampered ciphertext)"
    )]
    Decrypt,
    /// The decrypted resource is not the JSON its event type declares.
    #[error("decrypted {event_type} resource: {problem} (line {line}, column {column})")]
    MalformedResource {
        /// The notification's event type.
        event_type: String,
        /// The kind of problem (never the value).
        problem: &'static str,
        /// Line in the decrypted JSON.
        line: usize,
        /// Column in the decrypted JSON.
        column: usize,
    },
    /// The decrypted resource names a key twice in one object. A resource is money data:
    /// which of two `out_trade_no`s (or amounts) counts is not for a parser to guess.
    #[error("decrypted {event_type} resource names the key {key} twice in one object")]
    DuplicateKey {
        /// The notification's event type.
        event_type: String,
        /// Where: the repeated key's path, e.g. `amount.total` or `promotion_detail[0].amount`
        /// (keys only, never a value).
        key: String,
    },
}

/// Why an APIv2 `<xml>` document (or a refund notification's decrypted `<root>`) was refused.
///
/// Positions are byte offsets into the document; field names are the document's own, cut to
/// 64 characters; no variant quotes a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The document is larger than the limit.
    #[error("the XML document is {length} bytes, more than the {limit} allowed")]
    TooLarge {
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The document is not UTF-8.
    #[error("the XML document is not UTF-8")]
    NotUtf8,
    /// The document is not well-formed XML.
    #[error("malformed XML at byte {position}")]
    Malformed {
        /// Where the problem was found.
        position: u64,
    },
    /// The document has a `<!DOCTYPE …>`: DTDs (entity declarations, external subsets) are
    /// refused, never read.
    #[error("the XML document has a DOCTYPE at byte {position} (DTDs are refused)")]
    Doctype {
        /// Where it starts.
        position: u64,
    },
    /// The document refers to an entity other than the five predefined ones (`&lt;`, `&gt;`,
    /// `&amp;`, `&apos;`, `&quot;`) or a character reference: without a DTD no other exists,
    /// and none is ever expanded.
    #[error("the XML document refers to an undeclared entity at byte {position}")]
    Entity {
        /// Where the reference is.
        position: u64,
    },
    /// A processing instruction other than the `<?xml …?>` declaration.
    #[error("the XML document has a processing instruction at byte {position}")]
    ProcessingInstruction {
        /// Where it starts.
        position: u64,
    },
    /// The document element is not the one expected (`<xml>`, or `<root>` inside `req_info`).
    #[error("the XML document element is not <{expected}>")]
    Root {
        /// The element expected.
        expected: &'static str,
    },
    /// A field holds elements where the protocol has text.
    #[error("field {field} holds elements where text was expected")]
    Nested {
        /// The field's name.
        field: String,
    },
    /// A field cannot be written as XML: its name is not an XML name, or its value holds a
    /// character XML 1.0 cannot carry (a control character other than tab and line breaks).
    #[error("field {field} cannot be written as XML")]
    Unwritable {
        /// The field's name.
        field: String,
    },
    /// A field appears twice. The documents carry money: which of two `total_fee`s counts is
    /// not for a parser to guess.
    #[error("field {field} appears more than once")]
    DuplicateField {
        /// The field's name.
        field: String,
    },
}

/// Why an APIv2 `sign` did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiV2SignError {
    /// The document has no `sign` (or an empty one) where one is required.
    #[error("APIv2 verification failed: the document has no sign")]
    MissingSign,
    /// The `sign` matches neither the expected sign type nor the other one.
    #[error("APIv2 verification failed: the {sign_type} sign does not match")]
    BadSign {
        /// The sign type expected (`MD5` or `HMAC-SHA256`).
        sign_type: &'static str,
    },
    /// The `sign` is right for the other sign type: the document was signed with a type
    /// other than the one the request asked for, so it is refused all the same.
    #[error("APIv2 verification failed: signed with {found} where {expected} was asked for")]
    OtherSignType {
        /// The sign type the request asked for.
        expected: &'static str,
        /// The sign type the document was signed with.
        found: &'static str,
    },
    /// The document carries a list element (such as `hblist`), which no `sign` covers: the
    /// platform sends lists only in answers it does not sign, so in a signed one it is refused.
    #[error("APIv2 verification failed: the list element {element} is not covered by the sign")]
    UnsignedList {
        /// The list element's name.
        element: String,
    },
}

/// An APIv2 answer that is not data: unreadable, refused by the platform, unsigned or badly
/// signed, or a business failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiV2Error {
    /// The answer is not a flat `<xml>` document.
    #[error("the APIv2 answer cannot be read")]
    Xml(#[source] XmlError),
    /// The answer has no `return_code` of `SUCCESS` or `FAIL`.
    #[error("the APIv2 answer has no return_code SUCCESS or FAIL")]
    MissingReturnCode,
    /// `return_code` is `FAIL`: the platform refused the request itself (signature, parameter
    /// format, certificate), before any business logic. Such answers come unsigned, so
    /// `return_msg` is the platform's word only if the connection is trusted.
    #[error("WeChat Pay refused the APIv2 request (return_code FAIL): {}", .return_msg.as_deref().unwrap_or("no return_msg"))]
    Platform {
        /// The platform's `return_msg`, if any.
        return_msg: Option<String>,
    },
    /// The answer should be signed and is not, or its `sign` does not verify: it is never
    /// data.
    #[error("the APIv2 answer is not trusted")]
    Verification(#[source] ApiV2SignError),
    /// `result_code` is `FAIL` in a verified answer: the business error (`err_code` such as
    /// `ORDERPAID`, `NOTENOUGH`, `USERPAYING`).
    #[error(
        "WeChat Pay answered {}: {}",
        .err_code.as_deref().unwrap_or("result_code FAIL"),
        .err_code_des.as_deref().unwrap_or("no err_code_des")
    )]
    Business {
        /// `err_code`.
        err_code: Option<String>,
        /// `err_code_des`, the platform's description (often Chinese).
        err_code_des: Option<String>,
    },
    /// The answer is not a 2xx and not an APIv2 document either (a gateway's error page, an
    /// overloaded host): the request's fate is unknown.
    #[error("the APIv2 call was answered HTTP {status} without an APIv2 document")]
    Status {
        /// The HTTP status.
        status: u16,
    },
}

/// Verified APIv2 fields that do not decode into the declared type.
///
/// It names the field and the kind of problem, never the value (fields hold names, accounts
/// and decrypted refund data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode the APIv2 fields: {problem}{}", .field.as_ref().map(|field| format!(" (field `{field}`)")).unwrap_or_default())]
#[non_exhaustive]
pub struct ApiV2DecodeError {
    /// The field, when known.
    pub field: Option<String>,
    /// The kind of problem, in words that quote nothing.
    pub problem: &'static str,
}

impl serde::de::Error for ApiV2DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        // serde's own messages may quote a value; only the names it gives are kept.
        let message = message.to_string();
        let field = ["missing field `", "duplicate field `"]
            .iter()
            .find_map(|prefix| message.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field.to_owned());
        let problem = if message.starts_with("missing field") {
            "a required field is missing"
        } else if message.starts_with("duplicate field") {
            "a field is given twice"
        } else {
            "a field does not match the declared type"
        };
        ApiV2DecodeError { field, problem }
    }
}

/// An APIv2 notification (payment or refund result) that cannot be trusted or read.
///
/// No variant carries a decrypted value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiV2NotificationError {
    /// The body is not a flat `<xml>` document.
    #[error("the APIv2 notification cannot be read")]
    Xml(#[source] XmlError),
    /// `return_code` is not `SUCCESS`: the notification carries no result.
    #[error("the APIv2 notification has no return_code SUCCESS")]
    NotSuccess,
    /// A payment notification whose `sign` is missing or wrong.
    #[error("the APIv2 notification is not trusted")]
    Verification(#[source] ApiV2SignError),
    /// A refund notification without `req_info`.
    #[error("the refund notification has no req_info")]
    MissingReqInfo,
    /// `req_info` is not base64.
    #[error("the refund notification's req_info is not base64")]
    ReqInfoNotBase64,
    /// `req_info` is not whole AES blocks, so it cannot be a ciphertext.
    #[error("the refund notification's req_info does not decrypt (not whole AES blocks)")]
    ReqInfoDecrypt,
    /// `req_info` decrypts to a wrong PKCS#7 padding: the APIv2 key is wrong or the
    /// ciphertext was altered.
    #[error(
        "the refund notification's req_info has bad padding (wrong APIv2 key or altered ciphertext)"
    )]
    ReqInfoPadding,
    /// The decrypted `req_info` is not a flat `<root>` document.
    #[error("the refund notification's decrypted req_info cannot be read")]
    ReqInfo(#[source] XmlError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as StdError;

    /// A cause with a cause of its own, as the HTTP client's errors come.
    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] io::Error);

    fn io(message: &str) -> io::Error {
        io::Error::other(message.to_owned())
    }

    fn serde_error() -> serde_json::Error {
        serde_json::from_str::<u8>("x").expect_err("not a number")
    }

    fn decode_error() -> DecodeError {
        DecodeError::new(
            StatusCode::OK,
            Some("REQ-1".into()),
            Bytes::from_static(b"x"),
            &serde_error(),
        )
    }

    /// A representative value of every error kind of this crate: each variant that has a
    /// source, and each type whose variants have none (so a source added later is walked).
    fn every_kind() -> Vec<(&'static str, Box<dyn StdError + Send + Sync>)> {
        let key = || ConfigError::Key {
            setting: "merchant_key".into(),
            source: KeyError::NotPem("no BEGIN line"),
        };
        let transport =
            |kind| TransportError::new(kind, Outer(io("connection refused (os error 111)")));
        let decrypt = || DecryptError {
            field: "payer_phone".into(),
            source: CryptoError::Decrypt,
            request_id: Some("REQ-1".into()),
        };
        vec![
            ("ConfigError::Key", Box::new(key())),
            (
                "ConfigError::Read",
                Box::new(ConfigError::Read {
                    setting: "WXPAY_PRIVATE_KEY".into(),
                    source: io("No such file or directory (os error 2)"),
                }),
            ),
            (
                "ConfigError::Invalid",
                Box::new(ConfigError::Invalid {
                    setting: "mchid".into(),
                    reason: "empty".into(),
                }),
            ),
            ("Error::Config", Box::new(Error::Config(key()))),
            (
                "Error::from(KeyError)",
                Box::new(Error::from(KeyError::NotRsa)),
            ),
            (
                "TransportError (connect)",
                Box::new(transport(TransportErrorKind::Connect)),
            ),
            (
                "TransportError (redirect)",
                Box::new(TransportError::new(
                    TransportErrorKind::Redirect { status: 302 },
                    Redirected {
                        location: Some("https://elsewhere.test/".into()),
                    },
                )),
            ),
            (
                "Error::Transport",
                Box::new(Error::Transport(transport(TransportErrorKind::Timeout))),
            ),
            (
                "DownloadError::Decompress",
                Box::new(DownloadError::Decompress(io("corrupt deflate stream"))),
            ),
            (
                "DownloadError::Write",
                Box::new(DownloadError::Write(io(
                    "No space left on device (os error 28)",
                ))),
            ),
            (
                "Error::Download",
                Box::new(Error::Download(DownloadError::Write(io("broken pipe")))),
            ),
            (
                "RequestError::Body",
                Box::new(RequestError::Body(serde_error())),
            ),
            (
                "Error::Request",
                Box::new(Error::Request(RequestError::Body(serde_error()))),
            ),
            ("DecryptError", Box::new(decrypt())),
            (
                "Error::Decrypt",
                Box::new(Error::Decrypt(Box::new(decrypt()))),
            ),
            ("DecodeError", Box::new(decode_error())),
            (
                "Error::Decode",
                Box::new(Error::Decode(Box::new(decode_error()))),
            ),
            (
                "CertificateError::Decrypt",
                Box::new(CertificateError::Decrypt(CryptoError::Decrypt)),
            ),
            (
                "CertificateError::Key",
                Box::new(CertificateError::Key(KeyError::Rejected)),
            ),
            (
                "Error::Certificates",
                Box::new(Error::Certificates(CertificateError::Verification(
                    VerificationError::SignatureProbe,
                ))),
            ),
            (
                "Error::Verification",
                Box::new(Error::Verification {
                    kind: VerificationError::UnknownSerial("5157F09EFDC096DE".into()),
                    request_id: Some("REQ-1".into()),
                }),
            ),
            (
                "Error::Notification",
                Box::new(Error::Notification(NotificationError::Decrypt)),
            ),
            (
                "Error::Crypto",
                Box::new(Error::Crypto(CryptoError::Random)),
            ),
            (
                "FleetError",
                Box::new(FleetError::Unavailable("connection refused".into())),
            ),
            (
                "RequestError::Xml",
                Box::new(RequestError::Xml(XmlError::Unwritable {
                    field: "bad name".into(),
                })),
            ),
            (
                "ApiV2Error::Xml",
                Box::new(ApiV2Error::Xml(XmlError::Doctype { position: 0 })),
            ),
            (
                "ApiV2Error::Verification",
                Box::new(ApiV2Error::Verification(ApiV2SignError::OtherSignType {
                    expected: "MD5",
                    found: "HMAC-SHA256",
                })),
            ),
            (
                "ApiV2Error::Platform",
                Box::new(ApiV2Error::Platform {
                    return_msg: Some("签名错误".into()),
                }),
            ),
            (
                "ApiV2Error::Business",
                Box::new(ApiV2Error::Business {
                    err_code: Some("ORDERPAID".into()),
                    err_code_des: Some("该订单已支付".into()),
                }),
            ),
            (
                "Error::ApiV2",
                Box::new(Error::ApiV2(ApiV2Error::Xml(XmlError::DuplicateField {
                    field: "total_fee".into(),
                }))),
            ),
            (
                "ApiV2NotificationError::Xml",
                Box::new(ApiV2NotificationError::Xml(XmlError::Entity {
                    position: 9,
                })),
            ),
            (
                "ApiV2NotificationError::Verification",
                Box::new(ApiV2NotificationError::Verification(
                    ApiV2SignError::BadSign { sign_type: "MD5" },
                )),
            ),
            (
                "ApiV2NotificationError::ReqInfo",
                Box::new(ApiV2NotificationError::ReqInfo(XmlError::Nested {
                    field: "refund_fee".into(),
                })),
            ),
            (
                "ApiV2NotificationError::ReqInfoPadding",
                Box::new(ApiV2NotificationError::ReqInfoPadding),
            ),
        ]
    }

    /// The messages of an error and its causes, top first.
    fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
        let mut messages = vec![error.to_string()];
        let mut next = error.source();
        while let Some(cause) = next {
            messages.push(cause.to_string());
            next = cause.source();
        }
        messages
    }

    #[test]
    fn sign_information_takes_each_part_of_its_type_and_nothing_else() {
        let detail = serde_json::json!({"sign_information": {
            "method": "POST",
            "url": 7,
            "truncated_sign_message": "POST\n/v3/x\n1\nN\n{\"a\n",
            "sign_message_length": -1,
        }});
        let information = SignInformation::from_detail(&detail).expect("an object");
        assert_eq!(information.method.as_deref(), Some("POST"));
        assert_eq!(information.url, None, "a number is not a URL");
        assert_eq!(
            information.truncated_sign_message.as_deref(),
            Some("POST\n/v3/x\n1\nN\n{\"a\n")
        );
        assert_eq!(information.sign_message_length, None, "not a length");
        for detail in [
            serde_json::json!({}),
            serde_json::json!({"sign_information": "POST"}),
            serde_json::json!([1]),
        ] {
            assert_eq!(SignInformation::from_detail(&detail), None, "{detail}");
        }
    }

    #[test]
    fn no_message_repeats_a_cause() {
        for (name, error) in every_kind() {
            let messages = chain(error.as_ref());
            for (at, message) in messages.iter().enumerate() {
                assert!(
                    !message.is_empty(),
                    "{name}: an empty message in {messages:?}"
                );
                for cause in &messages[at + 1..] {
                    assert!(
                        !message.contains(cause.as_str()),
                        "{name}: {message:?} repeats its cause {cause:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn wrapping_errors_keep_their_cause_as_source() {
        // The other half of printing each cause once: the cause is not lost either.
        for (name, error) in every_kind() {
            let messages = chain(error.as_ref());
            let wraps = [
                "ConfigError::Key",
                "ConfigError::Read",
                "Error::Config",
                "Error::from(KeyError)",
                "TransportError (connect)",
                "TransportError (redirect)",
                "Error::Transport",
                "DownloadError::Decompress",
                "DownloadError::Write",
                "Error::Download",
                "RequestError::Body",
                "Error::Request",
                "DecryptError",
                "Error::Decrypt",
                "RequestError::Xml",
                "ApiV2Error::Xml",
                "ApiV2Error::Verification",
                "Error::ApiV2",
                "ApiV2NotificationError::Xml",
                "ApiV2NotificationError::Verification",
                "ApiV2NotificationError::ReqInfo",
            ];
            if wraps.contains(&name) {
                assert!(messages.len() >= 2, "{name}: no source in {messages:?}");
            }
        }
        let transport = every_kind()
            .into_iter()
            .find(|(name, _)| *name == "TransportError (connect)")
            .map(|(_, error)| chain(error.as_ref()))
            .unwrap_or_default();
        assert_eq!(
            transport,
            [
                "cannot connect",
                "error sending request",
                "connection refused (os error 111)"
            ]
        );
    }
}
