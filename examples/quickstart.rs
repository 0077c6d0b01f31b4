//! Sends a multi-use coupon and pauses a favor stock, printing both typed answers.
//!
//! With no `WXPAY_MCHID` in the environment it starts the sandbox in-process and talks to it;
//! with the `WXPAY_*` settings of a real merchant it talks to WeChat Pay:
//!
//! ```text
//! WXPAY_MCHID=… WXPAY_MERCHANT_SERIAL=… WXPAY_MERCHANT_KEY=apiclient_key.pem \
//! WXPAY_PLATFORM_PUBLIC_KEY=pub_key.pem WXPAY_PLATFORM_PUBLIC_KEY_ID=PUB_KEY_ID_… \
//! WXPAY_APPID=wx… WXPAY_OPENID=o… WXPAY_STOCK_ID=… WXPAY_MULTIUSE_STOCK_ID=… \
//! cargo run --example quickstart
//! ```

use std::process::ExitCode;

use wxpay::apis::marketing::favor::{PauseStock, PauseStockRequired};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::time::format_description::well_known::Rfc3339;
use wxpay::{Client, ClientBuilder};
use wxpay_sandbox::Sandbox;

/// What the demo acts on: a user and two stocks.
struct Demo {
    appid: String,
    openid: String,
    stock_id: String,
    multiuse_stock_id: String,
}

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
    // Kept alive until the end of `run`: dropping the sandbox stops it.
    let mut sandbox = None;
    let (client, demo) = if std::env::var_os("WXPAY_MCHID").is_some() {
        println!("using the merchant configured in WXPAY_*");
        (Client::from_env()?, demo_from_env()?)
    } else {
        let started = Sandbox::start().await?;
        println!(
            "no WXPAY_MCHID set: using the sandbox at {}",
            started.base_url()
        );
        let pair = sandbox_client(&started)?;
        sandbox = Some(started);
        pair
    };

    let out_request_no = format!("quickstart-{}", std::process::id());
    let sent = client
        .send(
            SendMultiuseCoupon::new(SendMultiuseCouponRequired {
                openid: demo.openid.clone(),
                appid: demo.appid.clone(),
                card_type: CardType::IdCard,
                id_card_number: "110101199003072316".into(), // encrypted for you
                out_request_no,
                stock_id: demo.multiuse_stock_id.clone(),
                user_name: "张三".into(), // encrypted for you
            })
            .amount(100),
        )
        .await?;
    println!("multiuse coupon sent: coupon_id = {}", sent.coupon_id);

    let paused = client
        .send(PauseStock::new(PauseStockRequired {
            stock_id: demo.stock_id.clone(),
            stock_creator_mchid: client.mchid().to_owned(),
        }))
        .await?;
    println!(
        "favor stock paused: stock_id = {}, pause_time = {}",
        paused.stock_id,
        paused.pause_time.format(&Rfc3339)?
    );

    drop(sandbox);
    Ok(())
}

fn demo_from_env() -> Result<Demo, String> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    Ok(Demo {
        appid: var("WXPAY_APPID")?,
        openid: var("WXPAY_OPENID")?,
        stock_id: var("WXPAY_STOCK_ID")?,
        multiuse_stock_id: var("WXPAY_MULTIUSE_STOCK_ID")?,
    })
}

/// A client for the sandbox's generated merchant, configured as a real one would be.
fn sandbox_client(sandbox: &Sandbox) -> Result<(Client, Demo), Box<dyn std::error::Error>> {
    // The sandbox hands out the WXPAY_* settings a real merchant would have.
    let client = ClientBuilder::from_settings(sandbox.settings())?.build()?;
    let demo = Demo {
        appid: "wxd678efh567hg6787".into(),
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        stock_id: sandbox.favor_stock_ids()[0].clone(),
        multiuse_stock_id: sandbox.multiuse_stock_ids()[0].clone(),
    };
    Ok((client, demo))
}
