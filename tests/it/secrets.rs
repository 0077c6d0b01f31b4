//! Secrets never leak: a full sandbox run with every `tracing` level captured, and the `Debug`
//! of every public type the run touches, contain no private key, APIv3 key or personal data.

use std::io::Write;
use std::sync::{Arc, Mutex};

use wxpay::apis::marketing::favor::{PauseStock, PauseStockRequired};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::{Client, CryptoBackend, MerchantKey, PlatformKey};
use wxpay_sandbox::{KeyMode, Sandbox};

const NAME: &str = "王秘密";
const ID_NUMBER: &str = "110101199003079999";

/// Everything written to it, for the assertions at the end.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lines of a PEM body long enough to identify the key.
fn pem_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 32)
        .map(str::to_owned)
        .collect()
}

// Tracing caches, per call site, whether anybody listens. In a binary of many tests, another
// thread can reach the client's call sites first and leave them off for this test's scoped
// subscriber (it caught nothing when it shared the process). So the traced run has a process of
// its own: this test binary again, running only `traced_run`.
const CHILD: &str = "WXPAY_TEST_SECRETS_CHILD";

#[test]
fn no_secret_reaches_logs_or_debug_output() {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "secrets::traced_run",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the traced run failed:\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
#[ignore = "run by no_secret_reaches_logs_or_debug_output in a process of its own"]
async fn traced_run() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let merchant = sandbox.merchant();
    let private_key = merchant
        .merchant_private_key_pem
        .as_ref()
        .expect("generated key")
        .expose()
        .to_owned();
    let apiv3_key = merchant.apiv3_key.expose().to_owned();

    let builder = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(&merchant.merchant_serial, &private_key)
        .apiv3_key(&apiv3_key)
        .base_url(sandbox.base_url());
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{merchant:?}"),
        format!("{sandbox:?}"),
    ];
    let client = builder.build().expect("client");

    let coupon = SendMultiuseCoupon::new(SendMultiuseCouponRequired {
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        appid: "wxd678efh567hg6787".into(),
        card_type: CardType::IdCard,
        id_card_number: ID_NUMBER.into(),
        out_request_no: "secret-test".into(),
        stock_id: sandbox.multiuse_stock_ids()[0].clone(),
        user_name: NAME.into(),
    })
    .amount(1);
    shown.push(format!("{coupon:?}"));
    let sent = client.send_verified(coupon.clone()).await.expect("send");
    shown.push(format!("{sent:?}"));
    let paused = client
        .send(PauseStock::new(PauseStockRequired {
            stock_id: sandbox.favor_stock_ids()[0].clone(),
            stock_creator_mchid: merchant.mchid.clone(),
        }))
        .await
        .expect("pause");
    shown.push(format!("{paused:?}"));
    // Errors too: a paused stock cannot be paused again, and a bad stock does not exist.
    let error = client
        .send(PauseStock::new(PauseStockRequired {
            stock_id: sandbox.favor_stock_ids()[0].clone(),
            stock_creator_mchid: merchant.mchid.clone(),
        }))
        .await
        .expect_err("already paused");
    shown.push(format!("{error:?}"));
    shown.push(error.to_string());
    shown.push(format!("{client:?}"));
    shown.push(format!("{:?}", client.platform_keys()));
    shown.push(format!("{:?}", client.platform_key_status()));
    shown.push(format!("{:?}", client.apiv3_key()));
    for &backend in CryptoBackend::all() {
        let key = MerchantKey::from_pem_with(&merchant.merchant_serial, &private_key, backend)
            .expect("key");
        shown.push(format!("{key:?}"));
        let encrypted = client
            .encryption_key()
            .expect("key")
            .encrypt(ID_NUMBER)
            .expect("encrypt");
        shown.push(encrypted);
        if let Some(pem) = &merchant.platform_certificate_pem {
            shown.push(format!(
                "{:?}",
                PlatformKey::from_certificate_pem_with(pem, backend).expect("cert")
            ));
        }
    }
    sandbox.shutdown().await;

    let logs = String::from_utf8(capture.0.lock().expect("capture").clone()).expect("utf-8 logs");
    assert!(logs.contains("wxpay.call"), "the run was traced: {logs}");
    let everything = format!("{logs}\n{}", shown.join("\n"));
    let mut secrets = pem_lines(&private_key);
    secrets.extend([apiv3_key, NAME.to_owned(), ID_NUMBER.to_owned()]);
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret leaked: {secret:.8}…"
        );
    }
}

/// The catalog's answers keep the personal data the platform sends in plain text out of
/// `Debug` (`#[wxpay(redact)]`, generated from the table in xtask/src/model.rs): the payer of a
/// direct and of a partner order, named by their OpenIDs.
#[test]
fn catalog_answers_redact_plain_text_personal_data() {
    use wxpay::Endpoint;
    use wxpay::apis::pay::transactions::{QueryOrderById, partner};

    let order = QueryOrderById::decode_response(
        r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"121775250120140703",
            "trade_state":"SUCCESS","trade_state_desc":"支付成功",
            "payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#
            .as_bytes(),
    )
    .expect("order");
    let partner_order = partner::QueryOrderById::decode_response(
        r#"{"sp_appid":"wx8888888888888888","sp_mchid":"1230000109","sub_mchid":"1900000109",
            "out_trade_no":"121775250120140703","trade_state":"SUCCESS","trade_state_desc":"支付成功",
            "payer":{"sp_openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","sub_openid":"oSubOpenidOfTheUser00000001"}}"#
            .as_bytes(),
    )
    .expect("partner order");
    for shown in [format!("{order:?}"), format!("{partner_order:?}")] {
        for personal in ["oUpF8uMuAJO", "oSubOpenid"] {
            assert!(!shown.contains(personal), "{personal} in {shown}");
        }
        assert!(shown.contains("openid: Some(<redacted>)") || shown.contains("openid: <redacted>"));
        assert!(
            shown.contains("121775250120140703"),
            "the rest is shown: {shown}"
        );
    }
    // Redaction is for printing only: the value is there for the caller.
    let payer = order.payer.expect("payer");
    assert_eq!(payer.openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
}
