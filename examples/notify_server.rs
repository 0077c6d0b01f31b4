//! A complete notification receiver for a real merchant, in axum.
//!
//! ```text
//! WXPAY_MCHID=… WXPAY_MERCHANT_SERIAL=… WXPAY_MERCHANT_KEY=apiclient_key.pem \
//! WXPAY_APIV3_KEY=… WXPAY_PLATFORM_PUBLIC_KEY=pub_key.pem WXPAY_PLATFORM_PUBLIC_KEY_ID=PUB_KEY_ID_… \
//! LISTEN=127.0.0.1:8080 cargo run --example notify_server --features axum
//! ```
//!
//! Put it behind your HTTPS front end and set `https://your.host/wxpay/notify` as the
//! `notify_url` of your orders. It verifies every notification (signature, clock, probes),
//! decrypts it, and acknowledges it only once the event is handled; duplicates are
//! acknowledged without being handled twice.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use wxpay::notification::{Event, Reply, SeenNotifications};
use wxpay::{Client, Notification};

#[derive(Clone)]
struct App {
    client: Client,
    seen: Arc<SeenNotifications>,
}

// The `Notification` extractor verifies with the client found in the state.
impl FromRef<App> for Client {
    fn from_ref(app: &App) -> Client {
        app.client.clone()
    }
}

/// Reached only for verified, decrypted notifications: anything else has already been
/// answered with a 4xx by the extractor, and the platform will retry it.
async fn notify(State(app): State<App>, notification: Notification) -> Reply {
    // A quick in-process guard; the durable one is `id` (or out_trade_no) stored in the same
    // transaction as the effect, so a restart or a second instance cannot apply it twice.
    if !app.seen.first_delivery(&notification.id) {
        return Reply::success();
    }
    let handled = match Event::of(&notification) {
        Ok(Event::TransactionSuccess(paid)) => {
            println!(
                "order {} paid: {:?} fen (transaction {:?})",
                paid.out_trade_no,
                paid.amount.map(|amount| amount.total),
                paid.transaction_id
            );
            Ok(())
        }
        Ok(Event::RefundSuccess(refund)) => {
            println!(
                "refund {} succeeded: {} fen",
                refund.out_refund_no, refund.amount.refund
            );
            Ok(())
        }
        Ok(Event::CouponUse(coupon)) => {
            println!("coupon {:?} used", coupon.coupon_id);
            Ok(())
        }
        // A resource that is not its event type's shape: ask for it again, and look.
        Err(error) => Err(error.to_string()),
        Ok(_) => {
            println!(
                "{} {}: not handled here",
                notification.id,
                notification.event_type.as_str()
            );
            Ok::<(), String>(())
        }
    };
    match handled {
        Ok(()) => Reply::success(),
        Err(reason) => {
            // Let the next delivery through, and ask for it.
            app.seen.forget(&notification.id);
            eprintln!("{}: {reason}", notification.id);
            Reply::failure(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                "try again",
            )
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let app = Router::new()
        .route("/wxpay/notify", post(notify))
        .with_state(App {
            client,
            seen: Arc::new(SeenNotifications::default()),
        });
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("receiving notifications at http://{listen}/wxpay/notify");
    axum::serve(listener, app).await?;
    Ok(())
}
