//! Notifications end to end: the sandbox delivers a mix of genuine, duplicated, probe, stale
//! and tampered notifications to an axum receiver on 127.0.0.1, which accepts each genuine one
//! exactly once and rejects every bad one.
//!
//! ```text
//! cargo run --example notifications --features axum
//! ```
//!
//! The last line reads `delivered: N, accepted: A, rejected: R, duplicates: D`; the exit status
//! is non-zero when any notification was handled wrongly.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use tokio::net::TcpListener;
use wxpay::Notification;
use wxpay::apis::marketing::favor::{SendCoupon, SendCouponRequired};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::notification::{Event, NotificationRejection, Reply, SeenNotifications};
use wxpay::{Client, ClientBuilder};
use wxpay_sandbox::{DeliveryMode, Sandbox};

/// What the receiver saw.
#[derive(Default)]
struct Tally {
    accepted: Vec<String>,
    duplicates: usize,
    rejected: usize,
}

#[derive(Clone)]
struct Receiver {
    client: Client,
    seen: Arc<SeenNotifications>,
    tally: Arc<Mutex<Tally>>,
}

impl FromRef<Receiver> for Client {
    fn from_ref(receiver: &Receiver) -> Client {
        receiver.client.clone()
    }
}

/// The merchant's handler: the extractor has verified and decrypted the notification, or
/// refused it (then the rejection is the answer, and the platform retries); `Event::of` types
/// it.
async fn notify(
    State(receiver): State<Receiver>,
    notification: Result<Notification, NotificationRejection>,
) -> Result<Reply, NotificationRejection> {
    let mut tally = receiver.tally.lock().unwrap_or_else(|e| e.into_inner());
    let notification = match notification {
        Ok(notification) => notification,
        Err(rejection) => {
            tally.rejected += 1;
            println!("  rejected: {}", rejection.0);
            return Err(rejection);
        }
    };
    let event = match Event::of(&notification) {
        Ok(event) => event,
        Err(error) => {
            tally.rejected += 1;
            println!("  rejected: {error}");
            return Err(NotificationRejection(error.into()));
        }
    };
    // Duplicates are normal: acknowledge them, or the platform keeps sending.
    if !receiver.seen.first_delivery(&notification.id) {
        tally.duplicates += 1;
        println!("  duplicate {} acknowledged again", notification.id);
        return Ok(Reply::success());
    }
    match &event {
        Event::CouponUse(coupon) => println!(
            "  accepted {}: coupon {} of stock {} used",
            notification.id,
            coupon.coupon_id.as_deref().unwrap_or("?"),
            coupon.stock_id.as_deref().unwrap_or("?")
        ),
        Event::Other(_) => println!(
            "  accepted {}: {} ({})",
            notification.id,
            notification.event_type.as_str(),
            notification.summary
        ),
        other => println!("  accepted {}: {other:?}", notification.id),
    }
    tally.accepted.push(notification.id.clone());
    Ok(Reply::success())
}

#[tokio::main]
async fn main() -> ExitCode {
    match tokio::time::timeout(Duration::from_secs(60), run()).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("error: the deliveries did not settle within 60 s");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    // The merchant's receiver, then a platform that delivers to it.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let notify_url = format!("http://{}/wxpay/notify", listener.local_addr()?);
    let sandbox = Sandbox::builder().notify_url(&notify_url).start().await?;
    let client = sandbox_client(&sandbox)?;
    let receiver = Receiver {
        client: client.clone(),
        seen: Arc::new(SeenNotifications::default()),
        tally: Arc::default(),
    };
    let app = Router::new()
        .route("/wxpay/notify", post(notify))
        .with_state(receiver.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!(
        "sandbox at {}, receiver at {notify_url}",
        sandbox.base_url()
    );

    // One mode per notification, in the order they are caused below.
    let modes = [
        DeliveryMode::Genuine,
        DeliveryMode::Duplicate,
        DeliveryMode::Probe,
        DeliveryMode::StaleTimestamp,
        DeliveryMode::TamperedBody,
        DeliveryMode::Genuine,
        DeliveryMode::Duplicate,
        DeliveryMode::Probe,
    ];
    sandbox.queue_delivery_modes(modes);
    let openid = wxpay_sandbox::SANDBOX_OPENID;
    let appid = wxpay_sandbox::SANDBOX_APPID;
    for (n, mode) in modes.iter().enumerate() {
        // Alternate the two causes: a favor coupon used, a multiuse coupon sent.
        if n % 2 == 0 {
            let coupon = client
                .send(SendCoupon::new(SendCouponRequired {
                    openid: openid.into(),
                    appid: appid.into(),
                    out_request_no: format!("notifications-favor-{n}"),
                    stock_creator_mchid: client.mchid().into(),
                    stock_id: sandbox.favor_stock_ids()[0].clone(),
                }))
                .await?;
            sandbox.use_favor_coupon(&coupon.coupon_id).await?;
            println!("favor coupon {} used ({})", coupon.coupon_id, mode.as_str());
        } else {
            let coupon = client
                .send(
                    SendMultiuseCoupon::new(SendMultiuseCouponRequired {
                        openid: openid.into(),
                        appid: appid.into(),
                        card_type: CardType::IdCard,
                        id_card_number: "110101199003072316".into(),
                        out_request_no: format!("notifications-multiuse-{n}"),
                        stock_id: sandbox.multiuse_stock_ids()[0].clone(),
                        user_name: "张三".into(),
                    })
                    .amount(100),
                )
                .await?;
            println!(
                "multiuse coupon {} sent ({})",
                coupon.coupon_id,
                mode.as_str()
            );
        }
    }

    let deliveries = sandbox.settled_deliveries().await;
    server.abort();
    let tally = receiver.tally.lock().unwrap_or_else(|e| e.into_inner());

    // What a correct receiver must have done, from the sandbox's own record.
    let mut ok = true;
    let mut check = |holds: bool, what: String| {
        if !holds {
            eprintln!("FAILED: {what}");
            ok = false;
        }
    };
    let genuine: BTreeSet<&str> = deliveries
        .iter()
        .filter(|d| d.mode.is_genuine())
        .map(|d| d.notification_id.as_str())
        .collect();
    let accepted: BTreeSet<&str> = tally.accepted.iter().map(String::as_str).collect();
    check(
        accepted.len() == tally.accepted.len(),
        "a notification was accepted twice".into(),
    );
    check(
        accepted == genuine,
        format!("accepted {accepted:?}, genuine {genuine:?}"),
    );
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for delivery in &deliveries {
        *per_id.entry(&delivery.notification_id).or_default() += 1;
        if delivery.mode.is_genuine() {
            check(
                delivery.acknowledged && delivery.attempts.len() == 1,
                format!("genuine delivery not acknowledged at once: {delivery:?}"),
            );
        } else {
            check(
                !delivery.acknowledged
                    && delivery
                        .attempts
                        .iter()
                        .all(|status| status.is_some_and(|s| (400..500).contains(&s))),
                format!("bad delivery not refused: {delivery:?}"),
            );
        }
    }
    let expected_duplicates = per_id.values().map(|n| n - 1).sum::<usize>();
    let expected_rejected: usize = deliveries
        .iter()
        .filter(|d| !d.mode.is_genuine())
        .map(|d| d.attempts.len())
        .sum();
    let delivered: usize = deliveries.iter().map(|d| d.attempts.len()).sum();
    check(
        deliveries.len() == modes.len() + 2,
        format!(
            "{} deliveries for {} notifications and 2 duplicates",
            deliveries.len(),
            modes.len()
        ),
    );
    check(
        tally.duplicates == expected_duplicates,
        format!(
            "{} duplicates seen, {expected_duplicates} sent",
            tally.duplicates
        ),
    );
    check(
        tally.rejected == expected_rejected,
        format!(
            "{} rejected, {expected_rejected} bad attempts",
            tally.rejected
        ),
    );
    check(
        delivered == tally.accepted.len() + tally.rejected + tally.duplicates,
        "deliveries the receiver did not count".into(),
    );
    println!(
        "delivered: {delivered}, accepted: {}, rejected: {}, duplicates: {}",
        tally.accepted.len(),
        tally.rejected,
        tally.duplicates
    );
    Ok(ok)
}

/// A client for the sandbox's merchant, with the APIv3 key notifications are encrypted with.
fn sandbox_client(sandbox: &Sandbox) -> Result<Client, Box<dyn std::error::Error>> {
    // The sandbox's WXPAY_* settings carry the APIv3 key too.
    Ok(ClientBuilder::from_settings(sandbox.settings())?.build()?)
}
