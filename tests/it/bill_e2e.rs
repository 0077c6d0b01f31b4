//! Bills end to end against the sandbox, with each crypto backend: the signed bill answer,
//! the unsigned download streamed into a writer with its SHA1 checked, GZIP decompressed on
//! the fly, a digest that does not match refused, and a 100 MB bill moved through bounded
//! pieces (checked by construction: no write is larger than `MAX_WRITE`); the download
//! declared in the DSL (`download`) streamed with `Client::download_file` like a URL.

use crate::common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::client_for;
use time::{Duration, OffsetDateTime, UtcOffset};
use tokio::io::AsyncWrite;
use wxpay::apis::bill::{AccountType, GetFundFlowBill, GetTradeBill, TarType};
use wxpay::apis::pay::transactions::{
    Amount, CreateJsapiOrder, CreateJsapiOrderPayer, CreateJsapiOrderRequired,
};
use wxpay::apis::refund::domestic::{Amount as RefundAmount, CreateRefund, CreateRefundRequired};
use wxpay::{
    Client, CryptoBackend, Download, DownloadError, Error, FileCheck, MAX_WRITE, endpoint,
};
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

fn beijing_today() -> time::Date {
    let beijing = UtcOffset::from_hms(8, 0, 0).expect("offset");
    OffsetDateTime::now_utc().to_offset(beijing).date()
}

/// Counts and discards what it is given, remembering the largest single write.
#[derive(Default)]
struct Meter {
    bytes: u64,
    largest_write: usize,
}

impl AsyncWrite for Meter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.bytes += buf.len() as u64;
        this.largest_write = this.largest_write.max(buf.len());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn pay_and_refund(sandbox: &Sandbox, client: &Client, no: &str) {
    client
        .send(CreateJsapiOrder::new(CreateJsapiOrderRequired {
            amount: Amount::cny(1234),
            appid: SANDBOX_APPID.into(),
            description: "账单测试".into(),
            mchid: client.mchid().into(),
            notify_url: "https://merchant.example.com/notify".into(),
            out_trade_no: no.into(),
            payer: CreateJsapiOrderPayer::openid(SANDBOX_OPENID),
        }))
        .await
        .expect("prepay");
    sandbox.pay_order(no).expect("pay");
    client
        .send(
            CreateRefund::new(CreateRefundRequired {
                amount: RefundAmount::cny(234, 1234),
                out_refund_no: format!("{no}r"),
            })
            .out_trade_no(no),
        )
        .await
        .expect("refund");
}

async fn bills(sandbox: &Sandbox, client: &Client, no: &str) {
    pay_and_refund(sandbox, client, no).await;
    let today = beijing_today();

    let plain_request = GetTradeBill::all(today);
    let plain_bill = client
        .send(plain_request.clone())
        .await
        .expect("trade bill");
    assert_eq!(plain_bill.hash_type, "SHA1");
    let mut plain = Vec::new();
    let done = client
        .download(
            &plain_bill.download(plain_request.tar_type.as_ref()),
            &mut plain,
        )
        .await
        .expect("download");
    assert_eq!(done.bytes, plain.len() as u64);
    assert_eq!(done.digest, plain_bill.hash_value);
    let text = String::from_utf8(plain.clone()).expect("UTF-8 CSV");
    assert!(text.starts_with("交易时间,公众账号ID,商户号"), "{text}");
    assert!(
        text.contains(&format!("`{no}`")) || text.contains(&format!("`{no},")),
        "{text}"
    );
    assert!(
        text.contains("`12.34,") && text.contains("`2.34,"),
        "{text}"
    );
    assert!(text.contains("总交易单数"), "{text}");

    let gzip_request = GetTradeBill::all(today).gzip();
    let gzip_bill = client
        .send(gzip_request.clone())
        .await
        .expect("gzip trade bill");
    let mut unzipped = Vec::new();
    client
        .download(
            &gzip_bill.download(gzip_request.tar_type.as_ref()),
            &mut unzipped,
        )
        .await
        .expect("gzip download");
    assert_eq!(unzipped, plain, "the same bill, decompressed on the fly");

    // A digest that does not match is an error, not data.
    let mut tampered = plain_bill.download(None);
    tampered.check = wxpay::FileCheck::digest("SHA1", "0".repeat(40));
    let mut sink = Vec::new();
    match client.download(&tampered, &mut sink).await {
        Err(Error::Download(DownloadError::DigestMismatch { actual, .. })) => {
            assert_eq!(actual, plain_bill.hash_value);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    // So is a gzipped body read as if it were plain (the digest covers the CSV).
    let mut sink = Vec::new();
    let as_plain = gzip_bill.download(None);
    assert!(matches!(
        client.download(&as_plain, &mut sink).await,
        Err(Error::Download(DownloadError::DigestMismatch { .. }))
    ));

    let fund = client
        .send(GetFundFlowBill::of(today, AccountType::Basic).tar_type(TarType::Gzip))
        .await
        .expect("fund-flow bill");
    let mut fund_csv = Vec::new();
    client
        .download(&fund.download(Some(&TarType::Gzip)), &mut fund_csv)
        .await
        .expect("fund-flow download");
    let text = String::from_utf8(fund_csv).expect("UTF-8 CSV");
    assert!(text.starts_with("记账时间,微信支付业务单号"), "{text}");
    assert!(
        text.contains("`收入,`12.34") && text.contains("`支出,`2.34"),
        "{text}"
    );

    // An expired or unknown token is the platform's signed error.
    let base = sandbox.base_url();
    let unknown = Download::new(
        format!("{base}/v3/billdownload/file?token=unknown"),
        wxpay::FileCheck::digest("SHA1", "0".repeat(40)),
    );
    match client.download(&unknown, &mut Vec::new()).await {
        Err(Error::Api(e)) => {
            assert_eq!(e.code, "RESOURCE_NOT_EXISTS");
            assert!(e.signature_verified);
        }
        other => panic!("expected the platform's error, got {other:?}"),
    }
    // A signed request goes only to the client's host or the platform's.
    let elsewhere = Download::new(
        "http://127.0.0.2:9/v3/billdownload/file?token=x",
        wxpay::FileCheck::digest("SHA1", "0".repeat(40)),
    );
    assert!(matches!(
        client.download(&elsewhere, &mut Vec::new()).await,
        Err(Error::Download(DownloadError::Url(_)))
    ));
}

/// The bill file, declared as the catalog declares it.
#[endpoint(GET "/v3/billdownload/file", download)]
#[derive(Debug, Clone)]
struct BillFile {
    token: String,
    tartype: Option<String>,
}

#[tokio::test]
async fn a_declared_download_streams_what_the_url_download_does() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = client_for(&sandbox, CryptoBackend::default());
    pay_and_refund(&sandbox, &client, "bill9000001").await;
    let bill = client
        .send(GetTradeBill::all(beijing_today()))
        .await
        .expect("trade bill");
    let by_url = bill.download(None);
    let token = by_url
        .url
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("token="))
        .expect("a token in the download URL")
        .to_owned();
    let mut expected = Vec::new();
    client
        .download(&by_url, &mut expected)
        .await
        .expect("download by URL");

    let file = BillFile::new(BillFileRequired { token });
    let mut streamed = Vec::new();
    let done = client
        .download_file(
            &file,
            FileCheck::digest("SHA1", &bill.hash_value),
            &mut streamed,
        )
        .await
        .expect("declared download");
    assert_eq!(streamed, expected);
    assert_eq!(done.digest, bill.hash_value);
    assert_eq!(done.bytes, expected.len() as u64);

    // The digest is still checked; `unsigned` is the caller's explicit choice.
    match client
        .download_file(
            &file,
            FileCheck::digest("SHA1", "0".repeat(40)),
            &mut Vec::new(),
        )
        .await
    {
        Err(Error::Download(DownloadError::DigestMismatch { actual, .. })) => {
            assert_eq!(actual, bill.hash_value);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    let mut unchecked = Vec::new();
    let done = client
        .download_file(&file, FileCheck::unsigned(), &mut unchecked)
        .await
        .expect("unsigned download");
    assert_eq!((unchecked, done.digest), (expected, bill.hash_value));
    assert!(matches!(
        client
            .download_file(&file, FileCheck::digest("MD5", "x"), &mut Vec::new())
            .await,
        Err(Error::Download(DownloadError::UnsupportedHashType(_)))
    ));
    // `send` has no value to give for a file: the unsigned answer is refused.
    assert!(client.send(file).await.is_err());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn trade_and_fund_flow_bills_with_each_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    for (i, &backend) in CryptoBackend::all().iter().enumerate() {
        let client = client_for(&sandbox, backend);
        bills(&sandbox, &client, &format!("bill{i}000001")).await;
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_100_mb_gzip_bill_streams_through_bounded_pieces() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = client_for(&sandbox, CryptoBackend::default());
    let day = beijing_today() - Duration::days(1);
    // About 260 bytes a row: 400,000 rows is over 100 MB of CSV.
    sandbox.add_synthetic_trades(day, 400_000);
    let request = GetTradeBill::all(day).gzip();
    let bill = client.send(request.clone()).await.expect("bill");
    let mut meter = Meter::default();
    let done = client
        .download(&bill.download(request.tar_type.as_ref()), &mut meter)
        .await
        .expect("download");
    assert!(done.bytes >= 100 * 1024 * 1024, "{} bytes", done.bytes);
    assert_eq!(done.bytes, meter.bytes);
    assert!(
        meter.largest_write <= MAX_WRITE,
        "largest write {} > {MAX_WRITE}",
        meter.largest_write
    );
    sandbox.shutdown().await;
}
