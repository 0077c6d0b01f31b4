//! Faults on demand: dropped connections, 5xx and 429 answers, slow, truncated, tampered,
//! oversized and HTML answers — so a client's behaviour on a bad day can be tested.
//!
//! The faults live in an axum middleware wrapped around the whole platform (outside the
//! authentication gate), so they happen whatever the route. They are configured with
//! [`Sandbox::inject_faults`](crate::Sandbox::inject_faults) or, for clients in other
//! languages, `POST /sandbox/faults` (see [`FaultPlan`] for the JSON); that control
//! endpoint needs no signature and is never faulted itself.
//!
//! A dropped connection is a response whose body fails: hyper then closes the connection
//! without finishing the answer (and, when the failure comes before the first byte, without
//! sending anything at all).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock;
use crate::signing::{REQUEST_ID, new_request_id, sign_response};
use crate::state::Platform;

/// Paths under this prefix are the sandbox's own controls, never faulted.
const CONTROL_PREFIX: &str = "/sandbox/";

/// The size of the body served by [`Fault::Oversized`]: 8 MiB.
pub const OVERSIZED_BODY_BYTES: usize = 8 << 20;

/// One thing that goes wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is closed before the platform looks at the request: it never acts,
    /// and the client gets no answer at all.
    DropBeforeProcessing,
    /// The platform processes the request (a coupon is issued, a stock paused), then the
    /// connection is closed before the answer is sent.
    DropAfterProcessing,
    /// `500 SYSTEM_ERROR`, signed; the platform did not act.
    ServerError,
    /// `503 SYSTEM_ERROR`, signed; the platform did not act.
    Unavailable,
    /// `429 FREQUENCY_LIMITED` with `Retry-After: 1`, signed; the platform did not act.
    RateLimited,
    /// The platform processes the request, then holds its answer this long before sending
    /// it (choose more than the client's timeout).
    Delay(Duration),
    /// The platform processes the request; its answer announces the full `Content-Length`
    /// but only half the body is sent before the connection is closed.
    Truncate,
    /// The platform processes the request and signs its answer, then one character of the
    /// JSON body is changed: the signature no longer matches.
    Tamper,
    /// The platform processes the request, then answers `200` with a body of
    /// [`OVERSIZED_BODY_BYTES`] (the real answer padded with spaces), unsigned.
    Oversized,
    /// `502` with `<html>502 Bad Gateway</html>`, unsigned and without `Request-ID`, as a
    /// gateway in front of the platform answers; the platform never saw the request.
    Html,
}

/// A [`Fault`] without its parameters, for counting and matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// [`Fault::DropBeforeProcessing`].
    DropBeforeProcessing,
    /// [`Fault::DropAfterProcessing`].
    DropAfterProcessing,
    /// [`Fault::ServerError`].
    ServerError,
    /// [`Fault::Unavailable`].
    Unavailable,
    /// [`Fault::RateLimited`].
    RateLimited,
    /// [`Fault::Delay`].
    Delay,
    /// [`Fault::Truncate`].
    Truncate,
    /// [`Fault::Tamper`].
    Tamper,
    /// [`Fault::Oversized`].
    Oversized,
    /// [`Fault::Html`].
    Html,
}

impl FaultKind {
    /// Every kind, in declaration order.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::DropBeforeProcessing,
        FaultKind::DropAfterProcessing,
        FaultKind::ServerError,
        FaultKind::Unavailable,
        FaultKind::RateLimited,
        FaultKind::Delay,
        FaultKind::Truncate,
        FaultKind::Tamper,
        FaultKind::Oversized,
        FaultKind::Html,
    ];

    /// Whether the platform acted on a request that got this fault (state may have changed).
    pub fn platform_acted(self) -> bool {
        matches!(
            self,
            FaultKind::DropAfterProcessing
                | FaultKind::Delay
                | FaultKind::Truncate
                | FaultKind::Tamper
                | FaultKind::Oversized
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FaultKind::DropBeforeProcessing => "drop_before_processing",
            FaultKind::DropAfterProcessing => "drop_after_processing",
            FaultKind::ServerError => "server_error",
            FaultKind::Unavailable => "unavailable",
            FaultKind::RateLimited => "rate_limited",
            FaultKind::Delay => "delay",
            FaultKind::Truncate => "truncate",
            FaultKind::Tamper => "tamper",
            FaultKind::Oversized => "oversized",
            FaultKind::Html => "html",
        };
        f.write_str(name)
    }
}

impl Fault {
    /// Its kind.
    pub fn kind(self) -> FaultKind {
        match self {
            Fault::DropBeforeProcessing => FaultKind::DropBeforeProcessing,
            Fault::DropAfterProcessing => FaultKind::DropAfterProcessing,
            Fault::ServerError => FaultKind::ServerError,
            Fault::Unavailable => FaultKind::Unavailable,
            Fault::RateLimited => FaultKind::RateLimited,
            Fault::Delay(_) => FaultKind::Delay,
            Fault::Truncate => FaultKind::Truncate,
            Fault::Tamper => FaultKind::Tamper,
            Fault::Oversized => FaultKind::Oversized,
            Fault::Html => FaultKind::Html,
        }
    }

    /// Every kind once, with `delay` for [`Fault::Delay`].
    pub fn every_kind(delay: Duration) -> Vec<Fault> {
        vec![
            Fault::DropBeforeProcessing,
            Fault::DropAfterProcessing,
            Fault::ServerError,
            Fault::Unavailable,
            Fault::RateLimited,
            Fault::Delay(delay),
            Fault::Truncate,
            Fault::Tamper,
            Fault::Oversized,
            Fault::Html,
        ]
    }
}

/// Which requests get which faults.
///
/// ```
/// use std::time::Duration;
/// use wxpay_sandbox::{Fault, FaultPlan};
///
/// // The next two requests for favor coupons are dropped after the coupon is issued.
/// let next = FaultPlan::next(2, Fault::DropAfterProcessing).path_prefix("/v3/marketing/favor/users/");
/// // 2 % of all requests get one of every kind, reproducibly.
/// let random = FaultPlan::random(0.02, Fault::every_kind(Duration::from_secs(2)), 7);
/// # let _ = (next, random);
/// ```
///
/// As JSON for `POST /sandbox/faults` (`delay_ms` only for `delay`; `path_prefix` optional):
///
/// ```text
/// {"next": 2, "fault": "drop_after_processing", "path_prefix": "/v3/marketing/favor/users/"}
/// {"probability": 0.02, "faults": ["tamper", "html", "delay"], "seed": 7, "delay_ms": 2000}
/// {"clear": true}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    mode: Mode,
    path_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Next {
        count: u64,
        fault: Fault,
    },
    Random {
        probability: f64,
        faults: Vec<Fault>,
        seed: u64,
    },
}

impl FaultPlan {
    /// The next `count` requests get `fault`; later ones pass untouched.
    pub fn next(count: u64, fault: Fault) -> FaultPlan {
        FaultPlan {
            mode: Mode::Next { count, fault },
            path_prefix: None,
        }
    }

    /// Each request gets a fault with `probability` (clamped to `[0, 1]`), drawn uniformly
    /// from `faults`, by a generator seeded with `seed`: the same requests in the same order
    /// get the same faults.
    pub fn random(probability: f64, faults: Vec<Fault>, seed: u64) -> FaultPlan {
        let probability = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        FaultPlan {
            mode: Mode::Random {
                probability,
                faults,
                seed,
            },
            path_prefix: None,
        }
    }

    /// Only requests whose path starts with `prefix` are considered (and counted by
    /// [`FaultPlan::next`]).
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> FaultPlan {
        self.path_prefix = Some(prefix.into());
        self
    }
}

/// How many faults of each kind were injected, and how many requests passed through the
/// fault layer (every request to the platform API, faulted or not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Requests to the platform API seen since the sandbox started (not the control endpoint).
    pub requests: u64,
    injected: [u64; FaultKind::ALL.len()],
}

impl FaultCounts {
    /// Faults of `kind` injected since the sandbox started.
    pub fn of(&self, kind: FaultKind) -> u64 {
        self.injected[kind.index()]
    }

    /// Faults of every kind injected since the sandbox started.
    pub fn total(&self) -> u64 {
        self.injected.iter().sum()
    }
}

/// One injected fault, as the sandbox recorded it (for matching a client's errors to the
/// faults that caused them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InjectedFault {
    /// What was done.
    pub kind: FaultKind,
    /// The request's method.
    pub method: String,
    /// The request's path and query.
    pub path: String,
    /// The `out_request_no` of the request's JSON body, if it had one.
    pub out_request_no: Option<String>,
    /// The `Request-ID` of the answer, if the answer carried one.
    pub request_id: Option<String>,
}

/// The fault state shared by the middleware and the [`Sandbox`](crate::Sandbox) handle.
#[derive(Default)]
pub(crate) struct Faults {
    inner: Mutex<FaultState>,
}

#[derive(Default)]
struct FaultState {
    plan: Option<ActivePlan>,
    counts: FaultCounts,
    log: Vec<InjectedFault>,
    /// `out_request_no` → requests that carried it (faulted or not).
    arrivals: HashMap<String, u64>,
}

struct ActivePlan {
    plan: FaultPlan,
    rng: SplitMix64,
}

impl Faults {
    fn state(&self) -> MutexGuard<'_, FaultState> {
        // The state stays consistent at every await-free step, so poisoning is ignored.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn inject(&self, plan: FaultPlan) {
        let seed = match &plan.mode {
            Mode::Random { seed, .. } => *seed,
            Mode::Next { .. } => 0,
        };
        self.state().plan = Some(ActivePlan {
            plan,
            rng: SplitMix64(seed),
        });
    }

    pub(crate) fn clear(&self) {
        self.state().plan = None;
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        self.state().counts.clone()
    }

    pub(crate) fn log(&self) -> Vec<InjectedFault> {
        self.state().log.clone()
    }

    pub(crate) fn arrivals(&self) -> HashMap<String, u64> {
        self.state().arrivals.clone()
    }

    /// Counts the request and decides its fault.
    fn draw(&self, path: &str, out_request_no: Option<&str>) -> Option<Fault> {
        let mut state = self.state();
        state.counts.requests += 1;
        if let Some(no) = out_request_no {
            *state.arrivals.entry(no.to_owned()).or_default() += 1;
        }
        let active = state.plan.as_mut()?;
        if let Some(prefix) = &active.plan.path_prefix
            && !path.starts_with(prefix.as_str())
        {
            return None;
        }
        match &mut active.plan.mode {
            Mode::Next { count, fault } => {
                if *count == 0 {
                    return None;
                }
                *count -= 1;
                Some(*fault)
            }
            Mode::Random {
                probability,
                faults,
                ..
            } => {
                let roll = active.rng.unit();
                let pick = active.rng.next_u64();
                if faults.is_empty() || roll >= *probability {
                    return None;
                }
                let index = usize::try_from(pick % faults.len() as u64).unwrap_or(0);
                faults.get(index).copied()
            }
        }
    }

    fn record(&self, fault: InjectedFault) {
        let mut state = self.state();
        state.counts.injected[fault.kind.index()] += 1;
        state.log.push(fault);
    }
}

/// A small seedable generator (SplitMix64): reproducible, not for secrets.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone)]
struct LayerState {
    platform: Arc<Platform>,
    faults: Arc<Faults>,
}

/// The platform wrapped in the fault layer, beside the control endpoint.
pub(crate) fn wrap(platform_api: Router, platform: Arc<Platform>, faults: Arc<Faults>) -> Router {
    let state = LayerState { platform, faults };
    let control = Router::new()
        .route("/sandbox/faults", post(control))
        .with_state(state.faults.clone());
    platform_api
        .merge(control)
        .layer(middleware::from_fn_with_state(state, inject))
}

/// The JSON of `POST /sandbox/faults`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    #[serde(default)]
    clear: bool,
    next: Option<u64>,
    fault: Option<FaultKind>,
    probability: Option<f64>,
    faults: Option<Vec<FaultKind>>,
    seed: Option<u64>,
    delay_ms: Option<u64>,
    path_prefix: Option<String>,
}

fn fault_of(kind: FaultKind, delay: Duration) -> Fault {
    match kind {
        FaultKind::DropBeforeProcessing => Fault::DropBeforeProcessing,
        FaultKind::DropAfterProcessing => Fault::DropAfterProcessing,
        FaultKind::ServerError => Fault::ServerError,
        FaultKind::Unavailable => Fault::Unavailable,
        FaultKind::RateLimited => Fault::RateLimited,
        FaultKind::Delay => Fault::Delay(delay),
        FaultKind::Truncate => Fault::Truncate,
        FaultKind::Tamper => Fault::Tamper,
        FaultKind::Oversized => Fault::Oversized,
        FaultKind::Html => Fault::Html,
    }
}

impl ControlBody {
    fn plan(self) -> Result<Option<FaultPlan>, String> {
        let delay = Duration::from_millis(self.delay_ms.unwrap_or(2_000));
        let plan = match (
            self.clear,
            self.next,
            self.fault,
            self.probability,
            self.faults,
        ) {
            (true, None, None, None, None) => return Ok(None),
            (false, Some(next), Some(fault), None, None) => {
                FaultPlan::next(next, fault_of(fault, delay))
            }
            (false, None, None, Some(probability), Some(faults)) => FaultPlan::random(
                probability,
                faults.into_iter().map(|k| fault_of(k, delay)).collect(),
                self.seed.unwrap_or(0),
            ),
            _ => {
                return Err(
                    "give either {\"clear\": true}, {\"next\", \"fault\"} or {\"probability\", \"faults\"}"
                        .to_owned(),
                );
            }
        };
        Ok(Some(match self.path_prefix {
            Some(prefix) => plan.path_prefix(prefix),
            None => plan,
        }))
    }
}

fn counts_json(counts: &FaultCounts) -> serde_json::Value {
    let injected: serde_json::Map<String, serde_json::Value> = FaultKind::ALL
        .iter()
        .map(|kind| (kind.to_string(), json!(counts.of(*kind))))
        .collect();
    json!({ "requests": counts.requests, "injected": injected })
}

/// `POST /sandbox/faults`: installs or clears a plan; answers the counts so far.
async fn control(State(faults): State<Arc<Faults>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<ControlBody>(&body)
        .map_err(|e| e.to_string())
        .and_then(ControlBody::plan);
    match parsed {
        Ok(Some(plan)) => faults.inject(plan),
        Ok(None) => faults.clear(),
        Err(message) => {
            let body = json!({ "code": "PARAM_ERROR", "message": message }).to_string();
            return (
                StatusCode::BAD_REQUEST,
                [(CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
        }
    }
    let body = counts_json(&faults.counts()).to_string();
    (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// The `out_request_no` of a JSON body, if it has one.
fn out_request_no(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        out_request_no: Option<String>,
    }
    serde_json::from_slice::<Probe>(body)
        .ok()
        .and_then(|p| p.out_request_no)
}

/// A body that fails at once, or after `prefix`: hyper closes the connection.
fn failing_body(prefix: Option<Bytes>) -> Body {
    let pending_prefix = prefix.filter(|p| !p.is_empty());
    let stream =
        futures_util::stream::unfold((pending_prefix, false), |(prefix, paused)| async move {
            match (prefix, paused) {
                (Some(bytes), _) => Some((Ok::<Bytes, std::io::Error>(bytes), (None, true))),
                (None, true) => {
                    // Let hyper flush what was sent before the connection is cut.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Err(std::io::Error::other("fault: connection cut")),
                        (None, false),
                    ))
                }
                (None, false) => Some((
                    Err(std::io::Error::other("fault: connection dropped")),
                    (None, false),
                )),
            }
        });
    Body::from_stream(stream)
}

fn request_id_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A signed platform error, as the platform itself sends for overload.
fn signed_error(platform: &Platform, status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "code": code, "message": message }).to_string();
    let mut response = (status, [(CONTENT_TYPE, "application/json")], body.clone()).into_response();
    let now = clock::unix_seconds(clock::now());
    if sign_response(platform, response.headers_mut(), body.as_bytes(), now).is_err() {
        tracing::error!("signing a fault answer failed");
    }
    response.headers_mut().insert(REQUEST_ID, new_request_id());
    response
}

/// Changes one character of a JSON body (the first letter or digit inside a string value,
/// else appends a space), keeping it JSON.
fn tamper(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    let start = body
        .windows(2)
        .position(|w| w == b":\"")
        .map_or(0, |i| i + 2);
    let target = out[start..]
        .iter()
        .position(u8::is_ascii_alphanumeric)
        .map(|i| i + start);
    match target {
        Some(i) => {
            out[i] = match out[i] {
                b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => out[i] + 1,
                b'9' => b'0',
                b'z' => b'a',
                _ => b'A',
            };
        }
        None => out.push(b' '),
    }
    out
}

/// The fault middleware: decides the request's fault, then acts it out around the platform.
async fn inject(State(state): State<LayerState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let (parts, body) = request.into_parts();
    // The gate's own limit, so an upload the gate takes passes this layer whole.
    let body = match axum::body::to_bytes(body, crate::routes::MAX_BODY_BYTES).await {
        Ok(body) => body,
        // Let the gate answer an unreadable body as the platform does.
        Err(_) => Bytes::new(),
    };
    let out_request_no = out_request_no(&body);
    let Some(fault) = state.faults.draw(&path, out_request_no.as_deref()) else {
        return next.run(Request::from_parts(parts, Body::from(body))).await;
    };
    let kind = fault.kind();
    let request = Request::from_parts(parts, Body::from(body));
    let platform = &state.platform;
    let response = match fault {
        Fault::DropBeforeProcessing => Response::new(failing_body(None)),
        Fault::ServerError => signed_error(
            platform,
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误 (sandbox fault: 500)",
        ),
        Fault::Unavailable => signed_error(
            platform,
            StatusCode::SERVICE_UNAVAILABLE,
            "SYSTEM_ERROR",
            "系统繁忙 (sandbox fault: 503)",
        ),
        Fault::RateLimited => {
            let mut response = signed_error(
                platform,
                StatusCode::TOO_MANY_REQUESTS,
                "FREQUENCY_LIMITED",
                "频率超限 (sandbox fault: 429)",
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Fault::Html => (
            StatusCode::BAD_GATEWAY,
            [(CONTENT_TYPE, "text/html")],
            "<html>502 Bad Gateway</html>",
        )
            .into_response(),
        Fault::DropAfterProcessing => {
            let answered = next.run(request).await;
            let (parts, _) = answered.into_parts();
            Response::from_parts(parts, failing_body(None))
        }
        Fault::Delay(delay) => {
            let answered = next.run(request).await;
            // Counted before the wait, so the count shows while the answer is held.
            state.faults.record(InjectedFault {
                kind,
                method,
                path: path_and_query,
                out_request_no,
                request_id: request_id_of(&answered),
            });
            tokio::time::sleep(delay).await;
            return answered;
        }
        Fault::Truncate | Fault::Tamper | Fault::Oversized => {
            let answered = next.run(request).await;
            let (mut parts, body) = answered.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            parts.headers.remove(CONTENT_LENGTH);
            match fault {
                Fault::Truncate => {
                    let full = body.len().max(2);
                    parts
                        .headers
                        .insert(CONTENT_LENGTH, HeaderValue::from(full));
                    let half = body.slice(..body.len() / 2);
                    Response::from_parts(parts, failing_body(Some(half)))
                }
                Fault::Tamper => Response::from_parts(parts, Body::from(tamper(&body))),
                _ => {
                    for name in [
                        crate::signing::WECHATPAY_SIGNATURE,
                        crate::signing::WECHATPAY_NONCE,
                        crate::signing::WECHATPAY_TIMESTAMP,
                        crate::signing::WECHATPAY_SERIAL,
                        crate::signing::WECHATPAY_SIGNATURE_TYPE,
                    ] {
                        parts.headers.remove(name);
                    }
                    parts.status = StatusCode::OK;
                    let mut padded = body.to_vec();
                    padded.resize(OVERSIZED_BODY_BYTES.max(body.len()), b' ');
                    Response::from_parts(parts, Body::from(padded))
                }
            }
        }
    };
    tracing::debug!(%method, path = %path_and_query, fault = %kind, "fault injected");
    state.faults.record(InjectedFault {
        kind,
        method,
        path: path_and_query,
        out_request_no,
        request_id: request_id_of(&response),
    });
    response
}

impl crate::Sandbox {
    /// Injects faults from now on by `plan`, replacing any plan before it.
    pub fn inject_faults(&self, plan: FaultPlan) {
        self.faults.inject(plan);
    }

    /// Stops injecting faults (the counts and the log are kept).
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// How many faults of each kind were injected, and how many platform requests arrived.
    pub fn fault_counts(&self) -> FaultCounts {
        self.faults.counts()
    }

    /// Every fault injected so far, in order.
    pub fn fault_log(&self) -> Vec<InjectedFault> {
        self.faults.log()
    }

    /// `out_request_no` → how many requests carrying it arrived (faulted or not).
    pub fn requests_per_out_request_no(&self) -> HashMap<String, u64> {
        self.faults.arrivals()
    }

    /// `out_request_no` → the coupon ids the platform issued for it (favor and multiuse).
    /// More than one id for one number would be a coupon issued twice.
    pub fn coupons_issued_per_request_no(&self) -> HashMap<String, Vec<String>> {
        self.platform.store().coupons_per_out_request_no()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_changes_one_character_and_keeps_json() {
        let body = br#"{"coupon_id":"12345"}"#;
        let tampered = tamper(body);
        assert_eq!(tampered.len(), body.len());
        assert_eq!(tampered.iter().zip(body).filter(|(a, b)| a != b).count(), 1);
        assert!(serde_json::from_slice::<serde_json::Value>(&tampered).is_ok());
        assert_eq!(tamper(b"{}"), b"{} ");
    }

    #[test]
    fn the_random_plan_is_reproducible_and_near_its_probability() {
        let draw_all = || {
            let faults = Faults::default();
            faults.inject(FaultPlan::random(
                0.1,
                Fault::every_kind(Duration::from_secs(1)),
                42,
            ));
            (0..10_000)
                .map(|_| faults.draw("/v3/x", None))
                .collect::<Vec<_>>()
        };
        let first = draw_all();
        assert_eq!(first, draw_all());
        let hits = first.iter().filter(|f| f.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }

    #[test]
    fn next_counts_down_only_on_matching_paths() {
        let faults = Faults::default();
        faults.inject(FaultPlan::next(2, Fault::Html).path_prefix("/v3/a"));
        assert_eq!(faults.draw("/v3/b", None), None);
        assert_eq!(faults.draw("/v3/a/1", Some("n1")), Some(Fault::Html));
        assert_eq!(faults.draw("/v3/a/2", Some("n1")), Some(Fault::Html));
        assert_eq!(faults.draw("/v3/a/3", None), None);
        assert_eq!(faults.counts().requests, 4);
        assert_eq!(faults.arrivals().get("n1"), Some(&2));
    }

    #[test]
    fn control_json_makes_plans() {
        let parse = |text: &str| {
            serde_json::from_str::<ControlBody>(text)
                .map_err(|e| e.to_string())
                .and_then(ControlBody::plan)
        };
        assert_eq!(
            parse(r#"{"next": 1, "fault": "delay", "delay_ms": 5, "path_prefix": "/v3/"}"#),
            Ok(Some(
                FaultPlan::next(1, Fault::Delay(Duration::from_millis(5))).path_prefix("/v3/")
            ))
        );
        assert_eq!(parse(r#"{"clear": true}"#), Ok(None));
        assert!(parse(r#"{"next": 1}"#).is_err());
        assert!(parse(r#"{"next": 1, "fault": "nope"}"#).is_err());
    }
}
