//! A payment end to end against the in-process sandbox: a JSAPI order, the front end's
//! signed parameters, the user paying (a sandbox control), the query, a refund of half,
//! the refund's query, the day's trade bill downloaded (gzip) and checked, and an image
//! upload. Prints each typed result; exits non-zero on any failure.
//!
//! ```text
//! cargo run --example payment_flow
//! ```

use std::process::ExitCode;

use wxpay::apis::bill::GetTradeBill;
use wxpay::apis::merchant::media::UploadImage;
use wxpay::apis::pay::transactions::{
    Amount, CreateJsapiOrder, CreateJsapiOrderPayer, QueryOrderByOutTradeNo, TradeState,
};
use wxpay::apis::refund::domestic::{
    Amount as RefundAmount, CreateRefund, QueryRefund, RefundStatus,
};
use wxpay::time::{OffsetDateTime, UtcOffset};
use wxpay::{Client, ClientBuilder, UploadFile};
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

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
    let out_trade_no = format!("flow{}", std::process::id());

    let prepay = client
        .send(CreateJsapiOrder::new(
            Amount::cny(100),
            SANDBOX_APPID,
            "Image形象店-深圳腾大-QQ公仔",
            client.mchid(),
            "https://merchant.example.com/wxpay/notify",
            out_trade_no.clone(),
            CreateJsapiOrderPayer::openid(SANDBOX_OPENID),
        ))
        .await?;
    println!("1. JSAPI order placed: {prepay:?}");

    let params = prepay.pay_params(SANDBOX_APPID, client.merchant_key())?;
    println!(
        "2. front-end parameters for wx.requestPayment: {}",
        serde_json::to_string(&params)?
    );

    let transaction_id = sandbox.pay_order(&out_trade_no)?;
    println!("3. the user paid (sandbox control): transaction_id = {transaction_id}");

    let order = client
        .send(QueryOrderByOutTradeNo::new(
            out_trade_no.clone(),
            client.mchid(),
        ))
        .await?;
    println!("4. queried: {order:?}");
    if order.trade_state != TradeState::Success {
        return Err(format!("expected a paid order, got {:?}", order.trade_state).into());
    }

    let refund = client
        .send(CreateRefund::by_out_trade_no(
            &out_trade_no,
            format!("{out_trade_no}r1"),
            RefundAmount::cny(50, 100),
        ))
        .await?;
    println!("5. refunded half: {refund:?}");

    let refund = client.send(QueryRefund::new(refund.out_refund_no)).await?;
    println!("6. refund queried: {refund:?}");
    if refund.status != RefundStatus::Success {
        return Err(format!("expected a finished refund, got {:?}", refund.status).into());
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
        .send(UploadImage::new(UploadFile::image("logo.png", png)?))
        .await?;
    println!("9. image uploaded: {uploaded:?}");

    sandbox.shutdown().await;
    Ok(())
}

/// A client for the sandbox's generated merchant, configured as a real one would be.
fn sandbox_client(sandbox: &Sandbox) -> Result<Client, Box<dyn std::error::Error>> {
    // The sandbox hands out the WXPAY_* settings a real merchant would have.
    Ok(ClientBuilder::from_settings(sandbox.settings())?.build()?)
}
