//! Notifications from the platform to the merchant's URL: built, encrypted and signed the way
//! the platform does, delivered with retries, and on request deliberately wrong.
//!
//! Each notification is `{id, create_time, event_type, resource_type, summary, resource}` with
//! `resource` sealed by AES-256-GCM under the APIv3 key (a random 12-character nonce, the
//! object type as associated data), POSTed with the same `Wechatpay-*` headers as responses.
//! A delivery that is not answered with a 2xx is repeated after 0.1 s, 0.2 s, 0.4 s … up to
//! [`NOTIFY_ATTEMPTS`] attempts: the platform's day of retries, compressed.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::SandboxError;
use crate::clock::{self, rfc3339_beijing};
use crate::crypto::{aes_256_gcm_seal, random_alphanumeric, random_digits};
use crate::routes::control;
use crate::sandbox::Sandbox;
use crate::signing::response_sign_message;
use crate::state::Platform;

/// How many times one delivery is attempted before the sandbox gives up on it.
pub const NOTIFY_ATTEMPTS: u32 = 4;
/// The wait before the first retry; it doubles with each further one.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// How long one attempt may take, connecting and answering together.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// A stale timestamp is this far in the past: twice the 300 s a receiver allows.
const STALE_BY_SECONDS: i64 = 600;
/// Of a receiver's answer only the status line matters; reading stops here.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// How the sandbox delivers a notification: genuinely, or wrong in one deliberate way that a
/// receiver must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DeliveryMode {
    /// Signed and encrypted as the platform does.
    #[default]
    Genuine,
    /// Genuine, and delivered a second time once the first delivery is over, as the platform
    /// does when an acknowledgement is lost.
    Duplicate,
    /// `Wechatpay-Signature` is a `WECHATPAY/SIGNTEST/` probe.
    Probe,
    /// Signed correctly, with a `Wechatpay-Timestamp` 600 s in the past.
    StaleTimestamp,
    /// Signed, then the body changed (the `summary`).
    TamperedBody,
}

impl DeliveryMode {
    /// The name the control API uses: `genuine`, `duplicate`, `probe`, `stale_timestamp`,
    /// `tampered_body`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Genuine => "genuine",
            DeliveryMode::Duplicate => "duplicate",
            DeliveryMode::Probe => "probe",
            DeliveryMode::StaleTimestamp => "stale_timestamp",
            DeliveryMode::TamperedBody => "tampered_body",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(name: &str) -> Option<DeliveryMode> {
        [
            DeliveryMode::Genuine,
            DeliveryMode::Duplicate,
            DeliveryMode::Probe,
            DeliveryMode::StaleTimestamp,
            DeliveryMode::TamperedBody,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == name)
    }

    /// Whether a correct receiver accepts deliveries in this mode.
    pub fn is_genuine(self) -> bool {
        matches!(self, DeliveryMode::Genuine | DeliveryMode::Duplicate)
    }
}

/// One delivery of a notification and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The notification's `id` (the same for both deliveries of a [`DeliveryMode::Duplicate`]).
    pub notification_id: String,
    /// Its `event_type`.
    pub event_type: String,
    /// How it was delivered.
    pub mode: DeliveryMode,
    /// The HTTP status of each attempt, in order; `None` where no answer came.
    pub attempts: Vec<Option<u16>>,
    /// Whether the last attempt was answered with a 2xx.
    pub acknowledged: bool,
    /// Whether the sandbox is done with this delivery (acknowledged or out of attempts).
    pub finished: bool,
}

impl Delivery {
    /// As the control API lists it.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "notification_id": self.notification_id,
            "event_type": self.event_type,
            "mode": self.mode.as_str(),
            "attempts": self.attempts,
            "acknowledged": self.acknowledged,
            "finished": self.finished,
        })
    }
}

/// A notification to send: what happened and the object it is about (still plaintext).
pub(crate) struct NewNotification {
    pub(crate) event_type: &'static str,
    pub(crate) summary: &'static str,
    /// `original_type` and the associated data: `transaction`, `refund`, `coupon`.
    pub(crate) original_type: &'static str,
    pub(crate) resource: Value,
}

/// The platform's outbox: the merchant's URL, the modes queued for the next notifications,
/// and every delivery made.
pub(crate) struct Notifier {
    url: Mutex<Option<String>>,
    next_modes: Mutex<VecDeque<DeliveryMode>>,
    deliveries: Mutex<Vec<Delivery>>,
    /// Notifications whose deliveries are not finished.
    in_flight: watch::Sender<usize>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            url: Mutex::default(),
            next_modes: Mutex::default(),
            deliveries: Mutex::default(),
            in_flight: watch::Sender::new(0),
        }
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("url", &*lock(&self.url))
            .finish_non_exhaustive()
    }
}

/// The sandbox's locks guard plain data that is consistent at every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks a notify URL: `http://host[:port]/path`. The sandbox speaks plain HTTP only; it is
/// meant for receivers on the same machine.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    parse_url(url).map(|_| ())
}

struct Target<'a> {
    authority: String,
    host: &'a str,
    path: &'a str,
}

fn parse_url(url: &str) -> Result<Target<'_>, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("notify URL {url:?} does not start with http://"))?;
    let (host, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let bad = |why: &str| format!("notify URL {url:?}: {why}");
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    {
        return Err(bad("the host has characters a host cannot have"));
    }
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad("the path has spaces or control characters"));
    }
    // `[::1]:8080`, `127.0.0.1:8080`, `localhost`: a port after the last `:` outside brackets.
    let has_port = host
        .rfind(':')
        .is_some_and(|colon| !host[colon..].contains(']'));
    let authority = if has_port {
        let port = host.rsplit(':').next().unwrap_or_default();
        if port.parse::<u16>().is_err() {
            return Err(bad("the port is not a number up to 65535"));
        }
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    Ok(Target {
        authority,
        host,
        path,
    })
}

impl Notifier {
    pub(crate) fn set_url(&self, url: Option<String>) {
        *lock(&self.url) = url;
    }

    pub(crate) fn url(&self) -> Option<String> {
        lock(&self.url).clone()
    }

    /// Queues modes for the next notifications, one each; later ones are genuine.
    pub(crate) fn queue_modes(&self, modes: impl IntoIterator<Item = DeliveryMode>) {
        lock(&self.next_modes).extend(modes);
    }

    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }

    /// Waits until every notification sent so far is delivered or given up on.
    pub(crate) async fn settled(&self) -> Vec<Delivery> {
        let mut in_flight = self.in_flight.subscribe();
        // The sender lives in `self`, so waiting cannot fail; were it dropped there would be
        // nothing left to wait for either.
        let _ = in_flight.wait_for(|n| *n == 0).await;
        self.deliveries()
    }
}

/// Sends a notification in the background, in the next queued mode. Returns its id, or `None`
/// when no notify URL is set (the platform sends nothing then either).
pub(crate) fn send(platform: &Arc<Platform>, notification: NewNotification) -> Option<String> {
    let notifier = &platform.notifier;
    let url = notifier.url()?;
    let mode = lock(&notifier.next_modes).pop_front().unwrap_or_default();
    let id = format!("EV-{}", random_digits(19));
    let envelope = match seal(platform, &id, &notification) {
        Ok(envelope) => envelope,
        Err(()) => {
            tracing::error!(
                event_type = notification.event_type,
                "sealing a notification failed"
            );
            return None;
        }
    };
    notifier.in_flight.send_modify(|n| *n += 1);
    let platform = Arc::clone(platform);
    let event_type = notification.event_type;
    let notification_id = id.clone();
    tokio::spawn(async move {
        let rounds = if mode == DeliveryMode::Duplicate {
            2
        } else {
            1
        };
        for _ in 0..rounds {
            deliver(
                &platform,
                &url,
                &notification_id,
                event_type,
                &envelope,
                mode,
            )
            .await;
        }
        platform.notifier.in_flight.send_modify(|n| *n -= 1);
    });
    Some(id)
}

/// Sends an APIv2 notification (an `<xml>` body, already signed or sealed) to the `notify_url`
/// the request named, in the background, with the same retries as APIv3's; recorded among the
/// deliveries. A URL the sandbox cannot deliver to is skipped, as the platform would fail it.
pub(crate) fn send_xml(platform: &Arc<Platform>, url: String, event_type: &str, body: String) {
    if let Err(why) = check_url(&url) {
        tracing::info!(%why, "APIv2 notification not sent");
        return;
    }
    let id = format!("EV2-{}", random_digits(19));
    platform.notifier.in_flight.send_modify(|n| *n += 1);
    let platform = Arc::clone(platform);
    let event_type = event_type.to_owned();
    tokio::spawn(async move {
        let index = {
            let mut deliveries = lock(&platform.notifier.deliveries);
            deliveries.push(Delivery {
                notification_id: id,
                event_type,
                mode: DeliveryMode::Genuine,
                attempts: Vec::new(),
                acknowledged: false,
                finished: false,
            });
            deliveries.len() - 1
        };
        let mut wait = FIRST_RETRY;
        for attempt in 1..=NOTIFY_ATTEMPTS {
            let status = post_xml(&url, &body).await;
            let acknowledged = status.is_some_and(|s| (200..300).contains(&s));
            let last = acknowledged || attempt == NOTIFY_ATTEMPTS;
            if let Some(delivery) = lock(&platform.notifier.deliveries).get_mut(index) {
                delivery.attempts.push(status);
                delivery.acknowledged = acknowledged;
                delivery.finished = last;
            }
            if last {
                break;
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        platform.notifier.in_flight.send_modify(|n| *n -= 1);
    });
}

/// POSTs an XML body over plain HTTP/1.1, as [`post`] does a JSON one.
async fn post_xml(url: &str, body: &str) -> Option<u16> {
    let target = parse_url(url).ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: wxpay-sandbox\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        path = target.path,
        host = target.host,
        length = body.len(),
    );
    let exchange = async {
        let mut stream = TcpStream::connect(&target.authority).await.ok()?;
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(body.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < MAX_ANSWER_BYTES {
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..read]);
        }
        status_of(&answer)
    };
    tokio::time::timeout(ATTEMPT_TIMEOUT, exchange)
        .await
        .ok()
        .flatten()
}

/// Notifies `TRANSACTION.SUCCESS` for an order just paid; `order` is the order as a query
/// answers it (the platform's notified transaction has the same shape).
pub(crate) fn transaction_succeeded(platform: &Arc<Platform>, order: Value) -> Option<String> {
    send(
        platform,
        NewNotification {
            event_type: "TRANSACTION.SUCCESS",
            summary: "支付成功",
            original_type: "transaction",
            resource: order,
        },
    )
}

/// Notifies `REFUND.SUCCESS` or `REFUND.ABNORMAL` for `finished`, a refund that just finished;
/// `refund` is the refund as a query answers it, given the notified shape (`refund_status`,
/// and `mchid` or, for a sub-merchant's refund, `sp_mchid` and `sub_mchid`).
pub(crate) fn refund_finished(
    platform: &Arc<Platform>,
    finished: &crate::payments::Refund,
    mut refund: Value,
) -> Option<String> {
    let abnormal = refund["status"] == "ABNORMAL";
    match &finished.sub_mchid {
        None => refund["mchid"] = json!(platform.mchid),
        Some(sub_mchid) => {
            refund["sp_mchid"] = json!(platform.mchid);
            refund["sub_mchid"] = json!(sub_mchid);
        }
    }
    refund["refund_status"] = refund["status"].take();
    if let Some(object) = refund.as_object_mut() {
        object.remove("status");
    }
    let (event_type, summary) = if abnormal {
        ("REFUND.ABNORMAL", "退款异常")
    } else {
        ("REFUND.SUCCESS", "退款成功")
    };
    send(
        platform,
        NewNotification {
            event_type,
            summary,
            original_type: "refund",
            resource: refund,
        },
    )
}

/// Notifies `COUPON.SEND` for a multiuse coupon just issued. The resource is the sandbox's:
/// the stock, the coupon, the user and the request that issued it.
pub(crate) fn multiuse_coupon_sent(
    platform: &Arc<Platform>,
    stock_id: &str,
    coupon_id: &str,
    openid: &str,
    out_request_no: &str,
) -> Option<String> {
    send(
        platform,
        NewNotification {
            event_type: "COUPON.SEND",
            summary: "消费金发放",
            original_type: "coupon",
            resource: json!({
                "stock_id": stock_id,
                "coupon_id": coupon_id,
                "openid": openid,
                "out_request_no": out_request_no,
                "send_time": rfc3339_beijing(clock::now()),
                "send_merchant": platform.mchid,
            }),
        },
    )
}

/// The resource of a notification sent on demand ([`Sandbox::notify`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventResource {
    /// The catalog example of the event type's resource (a direct merchant's where the
    /// catalog types one, else a service provider's).
    Example,
    /// The catalog example of a service provider's resource, where the catalog has a type of
    /// its own for it (`sp_mchid` or the key `xtask/events.tsv` names).
    PartnerExample,
    /// This resource, as given.
    Json(Value),
}

/// Sends `event_type` (one of the spec's) with `resource`: the control API's and
/// [`Sandbox::notify`]'s way to test a handler for any event type.
pub(crate) fn send_event(
    platform: &Arc<Platform>,
    event_type: &str,
    resource: EventResource,
) -> Result<Option<String>, String> {
    let event = crate::spec::event(event_type).ok_or_else(|| {
        format!("{event_type:?} is not an event type of the spec (openapi/v3/webhooks.yaml)")
    })?;
    let example = |text: Option<&str>, shape: &str| {
        let text = text.ok_or_else(|| {
            format!("{event_type} has no {shape}catalog type, so no example: pass its resource")
        })?;
        serde_json::from_str(text).map_err(|e| format!("the example of {event_type}: {e}"))
    };
    let resource = match resource {
        EventResource::Example => example(event.direct.or(event.partner), "")?,
        EventResource::PartnerExample => example(event.partner, "partner ")?,
        EventResource::Json(value) if value.is_object() => value,
        EventResource::Json(_) => return Err("a resource is a JSON object".into()),
    };
    Ok(send(
        platform,
        NewNotification {
            event_type: event.event_type,
            summary: event.summary,
            original_type: event.original_type,
            resource,
        },
    ))
}

/// The envelope with its resource encrypted.
fn seal(platform: &Platform, id: &str, notification: &NewNotification) -> Result<Value, ()> {
    let nonce = random_alphanumeric(12);
    let plaintext = zeroize::Zeroizing::new(notification.resource.to_string().into_bytes());
    let sealed = aes_256_gcm_seal(
        platform.apiv3_key.expose().as_bytes(),
        nonce.as_bytes(),
        notification.original_type.as_bytes(),
        &plaintext,
    )
    .map_err(|_| ())?;
    Ok(json!({
        "id": id,
        "create_time": rfc3339_beijing(clock::now()),
        "resource_type": "encrypt-resource",
        "event_type": notification.event_type,
        "summary": notification.summary,
        "resource": {
            "original_type": notification.original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": STANDARD.encode(sealed),
            "associated_data": notification.original_type,
            "nonce": nonce,
        },
    }))
}

/// One delivery: attempts until a 2xx or [`NOTIFY_ATTEMPTS`], each signed afresh.
async fn deliver(
    platform: &Platform,
    url: &str,
    id: &str,
    event_type: &str,
    envelope: &Value,
    mode: DeliveryMode,
) {
    let index = {
        let mut deliveries = lock(&platform.notifier.deliveries);
        deliveries.push(Delivery {
            notification_id: id.to_owned(),
            event_type: event_type.to_owned(),
            mode,
            attempts: Vec::new(),
            acknowledged: false,
            finished: false,
        });
        deliveries.len() - 1
    };
    let mut wait = FIRST_RETRY;
    for attempt in 1..=NOTIFY_ATTEMPTS {
        let status = match request(platform, envelope, mode) {
            Ok(request) => post(url, &request).await,
            Err(()) => None,
        };
        let acknowledged = status.is_some_and(|s| (200..300).contains(&s));
        let last = acknowledged || attempt == NOTIFY_ATTEMPTS;
        {
            let mut deliveries = lock(&platform.notifier.deliveries);
            if let Some(delivery) = deliveries.get_mut(index) {
                delivery.attempts.push(status);
                delivery.acknowledged = acknowledged;
                delivery.finished = last;
            }
        }
        tracing::debug!(
            id,
            event_type,
            mode = mode.as_str(),
            attempt,
            ?status,
            "notification delivered"
        );
        if last {
            return;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

/// The HTTP request bytes of one attempt: headers signed now, in the given mode.
fn request(platform: &Platform, envelope: &Value, mode: DeliveryMode) -> Result<Request, ()> {
    let body = envelope.to_string();
    let now = clock::unix_seconds(clock::now());
    let timestamp = match mode {
        DeliveryMode::StaleTimestamp => now - STALE_BY_SECONDS,
        _ => now,
    }
    .to_string();
    let nonce = random_alphanumeric(32);
    // Notifications are signed like responses: with the key responses are signed with now.
    let signer = platform.keys.response_signer(clock::monotonic());
    let signature = match mode {
        DeliveryMode::Probe => format!(
            "WECHATPAY/SIGNTEST/{}",
            STANDARD.encode(random_alphanumeric(48))
        ),
        _ => STANDARD.encode(
            signer
                .sign(&response_sign_message(&timestamp, &nonce, body.as_bytes()))
                .map_err(|_| ())?,
        ),
    };
    let body = match mode {
        DeliveryMode::TamperedBody => {
            let mut tampered = envelope.clone();
            tampered["summary"] = json!("支付成功 (altered in transit)");
            tampered.to_string()
        }
        _ => body,
    };
    Ok(Request {
        timestamp,
        nonce,
        signature,
        serial: signer.serial().to_owned(),
        body,
    })
}

struct Request {
    timestamp: String,
    nonce: String,
    signature: String,
    serial: String,
    body: String,
}

/// POSTs over plain HTTP/1.1 and returns the status, or `None` when there was no usable
/// answer in time. Written out by hand: the sandbox needs nothing more than this.
async fn post(url: &str, request: &Request) -> Option<u16> {
    let target = parse_url(url).ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: wxpay-sandbox\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nWechatpay-Timestamp: {timestamp}\r\nWechatpay-Nonce: {nonce}\r\nWechatpay-Signature: {signature}\r\nWechatpay-Serial: {serial}\r\nWechatpay-Signature-Type: {signature_type}\r\nConnection: close\r\n\r\n",
        path = target.path,
        host = target.host,
        length = request.body.len(),
        timestamp = request.timestamp,
        nonce = request.nonce,
        signature = request.signature,
        serial = request.serial,
        signature_type = crate::signing::SIGNATURE_TYPE,
    );
    let exchange = async {
        let mut stream = TcpStream::connect(&target.authority).await.ok()?;
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(request.body.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < MAX_ANSWER_BYTES {
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..read]);
        }
        status_of(&answer)
    };
    tokio::time::timeout(ATTEMPT_TIMEOUT, exchange)
        .await
        .ok()
        .flatten()
}

/// The status code of `HTTP/1.x NNN …`.
fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split(' ');
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = words.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// Notifications, from Rust. The same controls are served over HTTP under `/sandbox/…` for
/// clients in other languages.
impl Sandbox {
    /// Sets where notifications are delivered (`http://host[:port]/path`); `None` stops them.
    ///
    /// # Errors
    /// [`SandboxError::Config`] for a URL the sandbox cannot deliver to.
    pub fn set_notify_url(&self, url: Option<&str>) -> Result<(), SandboxError> {
        if let Some(url) = url {
            check_url(url).map_err(SandboxError::Config)?;
        }
        self.platform.notifier.set_url(url.map(str::to_owned));
        Ok(())
    }

    /// Queues delivery modes for the next notifications, one each; notifications after the
    /// queue is used up are genuine.
    pub fn queue_delivery_modes(&self, modes: impl IntoIterator<Item = DeliveryMode>) {
        self.platform.notifier.queue_modes(modes);
    }

    /// Uses a favor coupon (as a user at a till would) and notifies `COUPON.USE`. Returns the
    /// notification id, or `None` when no notify URL is set.
    ///
    /// # Errors
    /// [`SandboxError::Config`] for a coupon the sandbox did not issue, or one already used.
    pub async fn use_favor_coupon(&self, coupon_id: &str) -> Result<Option<String>, SandboxError> {
        control::use_favor_coupon(&self.platform, coupon_id)
            .map_err(|e| SandboxError::Config(e.message))
    }

    /// Sends a notification of any of the spec's event types, signed and encrypted like the
    /// platform, to the notify URL: with a resource of yours, or the catalog example of the
    /// event type's resource. Returns the notification id, or `None` when no notify URL is
    /// set.
    ///
    /// # Errors
    /// [`SandboxError::Config`] for an event type the spec does not list, or an example asked
    /// of one the catalog has no type for (give its resource).
    ///
    /// ```no_run
    /// # async fn run(sandbox: wxpay_sandbox::Sandbox) -> Result<(), wxpay_sandbox::SandboxError> {
    /// use wxpay_sandbox::EventResource;
    /// sandbox.notify("RECHARGE.SUCCESS", EventResource::Example).await?;
    /// let complaint = serde_json::json!({
    ///     "complaint_id": "200201820200101080076610000",
    ///     "action_type": "CREATE_COMPLAINT",
    /// });
    /// sandbox.notify("COMPLAINT.CREATE", EventResource::Json(complaint)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn notify(
        &self,
        event_type: &str,
        resource: EventResource,
    ) -> Result<Option<String>, SandboxError> {
        send_event(&self.platform, event_type, resource).map_err(SandboxError::Config)
    }

    /// Every delivery so far, finished or not.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.platform.notifier.deliveries()
    }

    /// Waits until every notification sent so far has been acknowledged or given up on (at
    /// most [`NOTIFY_ATTEMPTS`] attempts each, a second or two), then lists the deliveries.
    pub async fn settled_deliveries(&self) -> Vec<Delivery> {
        self.platform.notifier.settled().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_urls() {
        for good in [
            "http://127.0.0.1:8080/wxpay/notify",
            "http://localhost/notify",
            "http://[::1]:9000/",
            "http://example.com",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "https://127.0.0.1/notify",
            "127.0.0.1:80/notify",
            "http:///notify",
            "http://host:99999/",
            "http://ho st/",
            "http://host/a b",
            "http://host/\r\nX: y",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_url("http://localhost/n").unwrap().authority,
            "localhost:80"
        );
        assert_eq!(parse_url("http://[::1]/n").unwrap().authority, "[::1]:80");
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n\r\n"), Some(204));
        assert_eq!(status_of(b"HTTP/1.0 500 x\r\n"), Some(500));
        assert_eq!(status_of(b"garbage"), None);
        assert_eq!(status_of(b"HTTP/1.1 2040 x\r\n"), None);
        assert_eq!(status_of(b""), None);
    }

    #[test]
    fn mode_names_round_trip() {
        for name in [
            "genuine",
            "duplicate",
            "probe",
            "stale_timestamp",
            "tampered_body",
        ] {
            assert_eq!(
                DeliveryMode::parse(name).map(DeliveryMode::as_str),
                Some(name)
            );
        }
        assert_eq!(DeliveryMode::parse("other"), None);
    }
}
