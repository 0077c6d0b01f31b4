//! A payment end to end against the in-process sandbox: a JSAPI order, the front end's
//! signed parameters, the user paying (a sandbox control) and the `TRANSACTION.SUCCESS`
//! notification received and verified, the query, a refund of half, the refund's query, the
//! day's trade bill downloaded (gzip) and checked, and an image upload. Then the same as a
//! service provider for its sub-merchant: a Native order, paid and notified, queried and
//! refunded with `sp_mchid`/`sub_mchid`. Prints each typed result; exits non-zero on any
//! failure.
//!
//! ```text
//! cargo run --example payment_flow
//! ```

use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wxpay::apis::bill::GetTradeBill;
use wxpay::apis::merchant::media::{UploadImage, UploadImageRequired};
use wxpay::apis::pay::transactions::{
    Amount, CreateJsapiOrder, CreateJsapiOrderPayer, CreateJsapiOrderRequired,
    QueryOrderByOutTradeNo, QueryOrderByOutTradeNoRequired, TradeState, partner,
};
use wxpay::apis::refund::domestic::{
    Amount as RefundAmount, CreateRefund, CreateRefundRequired, QueryRefund, QueryRefundRequired,
    RefundStatus,
};
use wxpay::notification::{Event, Reply};
use wxpay::time::{OffsetDateTime, UtcOffset};
use wxpay::{Client, ClientBuilder, UploadFile};
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, SANDBOX_SUB_MCHID, Sandbox};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    println!("sandbox at {}", sandbox.base_url());
    let client = sandbox_client(&sandbox)?;
    let mut events = receive_notifications(&sandbox, client.clone()).await?;
    let out_trade_no = format!("flow{}", std::process::id());

    let prepay = client
        .send(CreateJsapiOrder::new(CreateJsapiOrderRequired {
            amount: Amount::cny(100),
            appid: SANDBOX_APPID.into(),
            description: "Image形象店-深圳腾大-QQ公仔".into(),
            mchid: client.mchid().into(),
            notify_url: "https://merchant.example.com/wxpay/notify".into(),
            out_trade_no: out_trade_no.clone(),
            payer: CreateJsapiOrderPayer::openid(SANDBOX_OPENID),
        }))
        .await?;
    println!("1. JSAPI order placed: {prepay:?}");

    let params = prepay.pay_params(SANDBOX_APPID, client.merchant_key()?)?;
    println!(
        "2. front-end parameters for wx.requestPayment: {}",
        serde_json::to_string(&params)?
    );

    let transaction_id = sandbox.pay_order(&out_trade_no)?;
    println!("3. the user paid (sandbox control): transaction_id = {transaction_id}");
    match next_event(&mut events).await? {
        Event::TransactionSuccess(paid)
            if paid.transaction_id.as_ref() == Some(&transaction_id) =>
        {
            println!("   notified and verified: TRANSACTION.SUCCESS {paid:?}");
        }
        other => return Err(format!("expected TRANSACTION.SUCCESS, got {other:?}").into()),
    }

    let order = client
        .send(QueryOrderByOutTradeNo::new(
            QueryOrderByOutTradeNoRequired {
                out_trade_no: out_trade_no.clone(),
                mchid: client.mchid().into(),
            },
        ))
        .await?;
    println!("4. queried: {order:?}");
    if order.trade_state != TradeState::Success {
        return Err(format!("expected a paid order, got {:?}", order.trade_state).into());
    }

    let refund = client
        .send(
            CreateRefund::new(CreateRefundRequired {
                amount: RefundAmount::cny(50, 100),
                out_refund_no: format!("{out_trade_no}r1"),
            })
            .out_trade_no(&out_trade_no),
        )
        .await?;
    println!("5. refunded half: {refund:?}");

    let refund = client
        .send(QueryRefund::new(QueryRefundRequired {
            out_refund_no: refund.out_refund_no,
        }))
        .await?;
    println!("6. refund queried: {refund:?}");
    if refund.status != RefundStatus::Success {
        return Err(format!("expected a finished refund, got {:?}", refund.status).into());
    }
    match next_event(&mut events).await? {
        Event::RefundSuccess(done) if done.refund_id == refund.refund_id => {
            println!("   notified and verified: REFUND.SUCCESS {done:?}");
        }
        other => return Err(format!("expected REFUND.SUCCESS, got {other:?}").into()),
    }

    let today = OffsetDateTime::now_utc()
        .to_offset(UtcOffset::from_hms(8, 0, 0)?)
        .date();
    let request = GetTradeBill::all(today).gzip();
    let bill = client.send(request.clone()).await?;
    println!("7. today's trade bill: {bill:?}");
    let mut csv = Vec::new();
    let done = client
        .download(&bill.download(request.tar_type.as_ref()), &mut csv)
        .await?;
    println!(
        "8. downloaded and checked (gzip, SHA1 {}): {} bytes, {} lines",
        done.digest,
        done.bytes,
        csv.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count()
    );
    if !String::from_utf8_lossy(&csv).contains(&out_trade_no) {
        return Err("the bill does not list the order".into());
    }

    // A 1×1 PNG.
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";
    let uploaded = client
        .send(UploadImage::new(UploadImageRequired {
            file: UploadFile::image("logo.png", png)?,
        }))
        .await?;
    println!("9. image uploaded: {uploaded:?}");

    partner_flow(&sandbox, &client, &mut events).await?;
    sandbox.shutdown().await;
    Ok(())
}

/// The same merchant as a service provider (服务商): a Native order for its sub-merchant,
/// paid, notified, queried and half refunded, each naming `sp_mchid` and `sub_mchid`.
async fn partner_flow(
    sandbox: &Sandbox,
    client: &Client,
    events: &mut mpsc::Receiver<Event>,
) -> Result<(), Box<dyn std::error::Error>> {
    let out_trade_no = format!("sub{}", std::process::id());
    let order = client
        .send(partner::CreateNativeOrder::new(
            partner::CreateNativeOrderRequired {
                amount: partner::Amount::cny(300),
                description: "Image形象店-深圳腾大-QQ公仔".into(),
                notify_url: "https://provider.example.com/wxpay/notify".into(),
                out_trade_no: out_trade_no.clone(),
                sp_appid: SANDBOX_APPID.into(),
                sp_mchid: client.mchid().into(),
                sub_mchid: SANDBOX_SUB_MCHID.into(),
            },
        ))
        .await?;
    println!("10. partner Native order for sub-merchant {SANDBOX_SUB_MCHID}: {order:?}");

    let transaction_id = sandbox.pay_order(&out_trade_no)?;
    match next_event(events).await? {
        Event::PartnerTransactionSuccess(paid)
            if paid.transaction_id.as_ref() == Some(&transaction_id) =>
        {
            println!("11. paid, notified and verified: TRANSACTION.SUCCESS {paid:?}");
        }
        other => {
            return Err(format!("expected a partner TRANSACTION.SUCCESS, got {other:?}").into());
        }
    }

    let order = client
        .send(partner::QueryOrderByOutTradeNo::new(
            partner::QueryOrderByOutTradeNoRequired {
                out_trade_no: out_trade_no.clone(),
                sp_mchid: client.mchid().into(),
                sub_mchid: SANDBOX_SUB_MCHID.into(),
            },
        ))
        .await?;
    println!("12. queried: {order:?}");
    if order.trade_state != partner::TradeState::Success {
        return Err(format!("expected a paid order, got {:?}", order.trade_state).into());
    }

    let refund = client
        .send(
            CreateRefund::new(CreateRefundRequired {
                amount: RefundAmount::cny(150, 300),
                out_refund_no: format!("{out_trade_no}r1"),
            })
            .out_trade_no(&out_trade_no)
            .sub_mchid(SANDBOX_SUB_MCHID),
        )
        .await?;
    let refund = client
        .send(
            QueryRefund::new(QueryRefundRequired {
                out_refund_no: refund.out_refund_no,
            })
            .sub_mchid(SANDBOX_SUB_MCHID),
        )
        .await?;
    println!("13. refunded half and queried: {refund:?}");
    match next_event(events).await? {
        Event::RefundSuccess(done) if done.refund_id == refund.refund_id => {
            println!("14. notified and verified: REFUND.SUCCESS {done:?}");
        }
        other => return Err(format!("expected REFUND.SUCCESS, got {other:?}").into()),
    }
    Ok(())
}

/// The merchant's notification endpoint on 127.0.0.1: each notification verified and
/// decrypted by the client, then handed over; the sandbox is told to deliver there.
async fn receive_notifications(
    sandbox: &Sandbox,
    client: Client,
) -> Result<mpsc::Receiver<Event>, Box<dyn std::error::Error>> {
    async fn notify(
        State((client, events)): State<(Client, mpsc::Sender<Event>)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let event = client
            .read_notification(&headers, &body)
            .await
            .and_then(|notification| Ok(Event::of(&notification)?));
        let reply = match event {
            Ok(event) => {
                let _ = events.send(event).await;
                Reply::success()
            }
            Err(error) => {
                eprintln!("notification refused: {error}");
                Reply::rejecting(&error)
            }
        };
        reply.into_http_response().map(Body::from)
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wxpay/notify", listener.local_addr()?);
    let (sender, events) = mpsc::channel(16);
    let app = Router::new()
        .route("/wxpay/notify", post(notify))
        .with_state((client, sender));
    tokio::spawn(async move { axum::serve(listener, app).await });
    sandbox.set_notify_url(Some(&url))?;
    Ok(events)
}

/// The next verified notification, or an error after 10 s.
async fn next_event(
    events: &mut mpsc::Receiver<Event>,
) -> Result<Event, Box<dyn std::error::Error>> {
    match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err("the notification receiver stopped".into()),
        Err(_) => Err("no notification arrived within 10 s".into()),
    }
}

/// A client for the sandbox's generated merchant, configured as a real one would be.
fn sandbox_client(sandbox: &Sandbox) -> Result<Client, Box<dyn std::error::Error>> {
    // The sandbox hands out the WXPAY_* settings a real merchant would have.
    Ok(ClientBuilder::from_settings(sandbox.settings())?.build()?)
}
