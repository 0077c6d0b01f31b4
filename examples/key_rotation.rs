//! The platform rotates its certificate twice while 64 tasks send requests: no request fails,
//! and the client downloads certificates only a few times (single flight).
//!
//! ```text
//! cargo run --example key_rotation
//! ```
//!
//! Last line: `requests: N, failures: 0, certificate downloads: K`. Exits non-zero on any failure.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use wxpay::Client;
use wxpay::apis::marketing::favor::{QueryStock, QueryStockRequired};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay_sandbox::{KeyMode, Sandbox};

const TASKS: usize = 64;
const RUN_FOR: Duration = Duration::from_secs(10);
const OVERLAP: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let sandbox = Arc::new(
        Sandbox::builder()
            .key_mode(KeyMode::Certificate)
            .start()
            .await?,
    );
    let merchant = sandbox.merchant();
    let merchant_key = merchant
        .merchant_private_key_pem
        .as_ref()
        .ok_or("no merchant key")?;
    // A certificate merchant: the initial platform certificate and the APIv3 key, with which
    // the client follows the rotation by itself.
    let client = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(&merchant.merchant_serial, merchant_key.expose())
        .platform_certificate(
            merchant
                .platform_certificate_pem
                .as_deref()
                .ok_or("no certificate")?,
        )
        .apiv3_key(merchant.apiv3_key.expose())
        .base_url(sandbox.base_url())
        .unknown_serial_cooldown(Duration::from_millis(500))
        .build()?;

    let requests = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN_FOR;
    let mut tasks = Vec::with_capacity(TASKS);
    for task in 0..TASKS {
        let (client, sandbox) = (client.clone(), sandbox.clone());
        let (requests, failures) = (requests.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // Alternate a verified read with a call whose fields are encrypted with the
                // platform key the client currently trusts.
                let result = if n.is_multiple_of(2) {
                    client
                        .send(QueryStock::new(QueryStockRequired {
                            stock_id: sandbox.favor_stock_ids()[0].clone(),
                            stock_creator_mchid: client.mchid().to_owned(),
                        }))
                        .await
                        .map(drop)
                } else {
                    client
                        .send(
                            SendMultiuseCoupon::new(SendMultiuseCouponRequired {
                                openid: format!("openid-{task}"),
                                appid: "wxd678efh567hg6787".into(),
                                card_type: CardType::IdCard,
                                id_card_number: "110101199003072316".into(),
                                out_request_no: format!("rotation-{task}-{n}"),
                                stock_id: sandbox.multiuse_stock_ids()[0].clone(),
                                user_name: "张三".into(),
                            })
                            .amount(1),
                        )
                        .await
                        .map(drop)
                };
                requests.fetch_add(1, Ordering::Relaxed);
                if let Err(error) = result {
                    failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("task {task}: {error}");
                }
            }
        }));
    }

    for at in [Duration::from_secs(3), Duration::from_millis(6500)] {
        tokio::time::sleep_until(deadline - RUN_FOR + at).await;
        let serial = sandbox.rotate_platform_certificate(OVERLAP)?;
        println!("rotated the platform certificate: new serial {serial}");
    }
    for task in tasks {
        task.await?;
    }

    let status = client.platform_key_status();
    if let Some((_, error)) = &status.last_error {
        eprintln!("last refresh error: {error}");
    }
    let requests = requests.load(Ordering::Relaxed);
    let failures = failures.load(Ordering::Relaxed);
    println!("keys trusted at the end: {}", status.key_ids.join(", "));
    println!(
        "requests: {requests}, failures: {failures}, certificate downloads: {}",
        status.downloads
    );
    Ok(failures == 0 && requests > 0 && status.downloads == sandbox.certificate_downloads())
}
