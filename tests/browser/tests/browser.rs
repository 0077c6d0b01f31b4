//! The sandbox's pages and the checkout example in a real browser: headless Chromium driven
//! through chromedriver (WebDriver, with `fantoccini`). Each test starts its own sandbox, the
//! example's shop, chromedriver on a free port and a browser with a fresh profile, and stops
//! them. After each payment the order's state is asserted over the platform API (the SDK's
//! query) and the notification the shop received (or did not).
//!
//! ```text
//! apt-get install chromium chromium-driver fonts-noto-cjk
//! cargo test -p wxpay-browser-tests --features browser -- --test-threads=1
//! ```
//!
//! `CHROMIUM` and `CHROMEDRIVER` name other binaries. A failing test leaves a screenshot in
//! `target/browser-screenshots/`; `WXPAY_DOCS_SCREENSHOTS=1` also refreshes the README's under
//! `docs/`.

#[allow(dead_code)]
#[path = "../../../examples/checkout.rs"]
mod checkout;

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use checkout::Shop;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use wxpay_sandbox::Sandbox;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// How long any one thing may take to show up in the page.
const PATIENCE: Duration = Duration::from_secs(15);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// Where screenshots go: `target/browser-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("browser-screenshots")
}

/// chromedriver and one Chromium session with a profile of its own.
struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Result<Browser> {
        static PROFILES: AtomicU32 = AtomicU32::new(0);
        let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!("cannot start {driver_bin} (apt-get install chromium-driver): {e}")
            })?;
        // Bounded: chromedriver listens within a second or two.
        let mut ready = false;
        for _ in 0..150 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                ready = true;
                break;
            }
            if let Some(status) = driver.try_wait()? {
                // E.g. the port was taken between choosing it and the driver binding it.
                return Err(format!("{driver_bin} exited: {status}").into());
            }
            tokio::time::sleep(POLL).await;
        }
        if !ready {
            return Err(format!("{driver_bin} did not listen on port {port}").into());
        }
        let profile = std::env::temp_dir().join(format!(
            "wxpay-browser-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::Relaxed)
        ));
        let mut args = vec![
            "--headless".to_owned(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if running_as_root() {
            // Chromium's sandbox refuses to run as root.
            args.push("--no-sandbox".into());
        }
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": binary, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            return Err("capabilities are an object".into());
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("no Chromium session: {e}"))?;
        Ok(Browser {
            client,
            driver,
            profile,
        })
    }

    async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A sandbox, the example's shop on it, and a browser.
struct World {
    sandbox: Sandbox,
    shop: Shop,
    browser: Browser,
}

impl World {
    async fn start() -> World {
        let sandbox = Sandbox::start().await.expect("the sandbox starts");
        let shop = Shop::open(&sandbox, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("the shop opens");
        // A free port can be taken before chromedriver binds it: a second try takes another.
        let browser = match Browser::start().await {
            Ok(browser) => browser,
            Err(first) => {
                eprintln!("starting the browser again: {first}");
                Browser::start().await.expect("Chromium starts")
            }
        };
        World {
            sandbox,
            shop,
            browser,
        }
    }

    fn page(&self) -> &Client {
        &self.browser.client
    }

    async fn stop(self) {
        self.browser.stop().await;
        drop(self.shop);
        self.sandbox.shutdown().await;
    }

    /// Buys the shop's item with `checkout` by its button; answers the order's number.
    async fn buy(&self, checkout: &str) -> Result<String> {
        let page = self.page();
        page.goto(&format!("{}/", self.shop.url)).await?;
        check_accessible(page).await?;
        find(page, &format!("#buy-{checkout}"))
            .await?
            .click()
            .await?;
        let order = find(page, "#order-state").await?;
        let _ = order;
        let url = page.current_url().await?;
        let no = url
            .path()
            .strip_prefix("/orders/")
            .ok_or_else(|| format!("not an order page: {url}"))?
            .to_owned();
        Ok(no)
    }

    /// The platform's `trade_state` of the order, over the API.
    async fn trade_state(&self, no: &str) -> Result<String> {
        self.shop.trade_state(no).await
    }

    /// Whether the shop was notified of the payment, once every delivery is over.
    async fn notified(&self, no: &str) -> Option<String> {
        self.sandbox.settled_deliveries().await;
        self.shop.notified(no)
    }
}

/// Runs a scenario in a world of its own; on failure leaves a screenshot of the page and fails
/// the test.
async fn scenario(name: &str, body: impl AsyncFnOnce(&World) -> Result<()>) {
    let world = World::start().await;
    let outcome = body(&world).await;
    if let Err(error) = outcome {
        let shot = save_screenshot(world.page(), &format!("{name}-failure.png")).await;
        let url = world.page().current_url().await.map(|u| u.to_string());
        world.stop().await;
        panic!("{name}: {error}\n  page: {url:?}\n  screenshot: {shot:?}");
    }
    world.stop().await;
}

/// An element, waited for.
async fn find(page: &Client, css: &str) -> Result<Element> {
    Ok(page
        .wait()
        .at_most(PATIENCE)
        .every(POLL)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("no {css}: {e}"))?)
}

/// Waits until the text of `css` satisfies `want`; answers it.
async fn wait_text(
    page: &Client,
    css: &str,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> Result<String> {
    let mut last = String::new();
    for _ in 0..(PATIENCE.as_millis() / POLL.as_millis()) {
        if let Ok(element) = page.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if want(&text) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!("{css} never showed {what}; last text {last:?}").into())
}

/// Waits until the page's URL satisfies `want`.
async fn wait_url(page: &Client, what: &str, want: impl Fn(&str) -> bool) -> Result<String> {
    let mut last = String::new();
    for _ in 0..(PATIENCE.as_millis() / POLL.as_millis()) {
        last = page.current_url().await?.to_string();
        if want(&last) {
            return Ok(last);
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!("never reached {what}; at {last}").into())
}

async fn save_screenshot(page: &Client, name: &str) -> Result<PathBuf> {
    let png = page.screenshot().await?;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, &png)?;
    // The README's pictures.
    const DOCS: [&str; 3] = ["checkout.png", "dashboard.png", "h5-cashier.png"];
    if std::env::var_os("WXPAY_DOCS_SCREENSHOTS").is_some() && DOCS.contains(&name) {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(name);
        std::fs::write(docs, &png)?;
    }
    Ok(path)
}

/// What a person with a screen reader or only a keyboard needs from a page: a language, one
/// `h1`, alt text on images, names on buttons and links, labels on fields, and nothing wider
/// than the window.
async fn check_accessible(page: &Client) -> Result<()> {
    let problems = page
        .execute(
            r#"
            const problems = [];
            if (!document.documentElement.lang) problems.push("no lang on <html>");
            if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
            for (const img of document.querySelectorAll("img")) if (!img.alt) problems.push("img without alt: " + img.src);
            for (const el of document.querySelectorAll("button, a[href]")) {
                const name = (el.getAttribute("aria-label") || el.textContent || "").trim();
                if (!name) problems.push("unnamed " + el.outerHTML.slice(0, 80));
            }
            for (const input of document.querySelectorAll("input:not([type=hidden]), select, textarea"))
                if (!input.labels || input.labels.length === 0) problems.push("unlabelled " + input.outerHTML.slice(0, 80));
            if (document.documentElement.scrollWidth > window.innerWidth + 1)
                problems.push("wider than the window: " + document.documentElement.scrollWidth + " > " + window.innerWidth);
            return problems;
            "#,
            vec![],
        )
        .await?;
    match problems.as_array() {
        Some(list) if list.is_empty() => Ok(()),
        _ => Err(format!("{}: {problems}", page.current_url().await?).into()),
    }
}

/// Moves the focus with Tab until the element with `id` has it (bounded), as a keyboard user.
async fn tab_to(page: &Client, id: &str) -> Result<Element> {
    for _ in 0..30 {
        let active = page.active_element().await?;
        if active.attr("id").await?.as_deref() == Some(id) {
            return Ok(active);
        }
        active.send_keys(&char::from(Key::Tab).to_string()).await?;
    }
    Err(format!("Tab never reached #{id}").into())
}

/// Opens the cashier the bridge put over the shop's page and presses `button` in it; back in
/// the shop's page afterwards.
async fn act_in_bridge_cashier(page: &Client, button: &str, shot: Option<&str>) -> Result<()> {
    let frame = find(page, "#wxpay-sandbox-cashier iframe").await?;
    frame.enter_frame().await?;
    let pressed = async {
        let button = find(page, &format!("#{button}")).await?;
        check_accessible(page).await?;
        if let Some(name) = shot {
            // A screenshot is of the whole window, whichever frame has the focus.
            save_screenshot(page, name).await?;
        }
        button.click().await?;
        find(page, "#result").await?;
        Ok::<(), BoxError>(())
    }
    .await;
    page.enter_parent_frame().await?;
    pressed
}

#[tokio::test]
async fn a_native_order_paid_from_the_dashboard() {
    scenario("native", async |w: &World| {
        let page = w.page();
        let no = w.buy("native").await?;
        let code_url = find(page, "#code-url").await?.text().await?;
        assert!(
            code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
            "{code_url}"
        );

        page.goto(&format!("{}/sandbox/", w.sandbox.base_url()))
            .await?;
        check_accessible(page).await?;
        find(page, &format!("a[href='/sandbox/cashier/{no}']"))
            .await?
            .click()
            .await?;
        check_accessible(page).await?;
        let qr = find(page, "img.qr").await?;
        let drawn = page
            .execute(
                "return arguments[0].complete && arguments[0].naturalWidth > 0",
                vec![serde_json::to_value(&qr)?],
            )
            .await?;
        assert_eq!(drawn, json!(true), "the QR code is drawn");
        assert_eq!(find(page, "#state").await?.text().await?, "NOTPAY 未支付");

        // Paid with the keyboard alone.
        tab_to(page, "pay")
            .await?
            .send_keys(&char::from(Key::Enter).to_string())
            .await?;
        wait_text(page, "#result", "success", |t| t.contains("支付成功")).await?;
        check_accessible(page).await?;

        assert_eq!(w.trade_state(&no).await?, "SUCCESS");
        let transaction_id = w.notified(&no).await.ok_or("the shop was not notified")?;
        assert!(transaction_id.starts_with("4200"), "{transaction_id}");

        // The shop's page shows it paid; the dashboard shows the delivery acknowledged.
        page.goto(&format!("{}/orders/{no}", w.shop.url)).await?;
        wait_text(page, "#order-state", "paid", |t| t.starts_with("Paid")).await?;
        page.goto(&format!("{}/sandbox/", w.sandbox.base_url()))
            .await?;
        wait_text(page, "#notifications-table", "the delivery", |t| {
            t.contains("TRANSACTION.SUCCESS")
                && t.contains("1: HTTP 204")
                && t.contains("acknowledged")
        })
        .await?;
        wait_text(page, &format!("#order-{no}"), "the paid order", |t| {
            t.contains("SUCCESS")
        })
        .await?;
        save_screenshot(page, "dashboard-native.png").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_jsapi_order_paid_through_the_bridge() {
    scenario("jsapi", async |w: &World| {
        let page = w.page();
        let no = w.buy("jsapi").await?;
        find(page, "#pay-jsapi").await?.click().await?;
        act_in_bridge_cashier(page, "pay", Some("checkout.png")).await?;
        wait_text(page, "#pay-result", "ok", |t| {
            t == "get_brand_wcpay_request:ok"
        })
        .await?;
        wait_text(page, "#order-state", "paid", |t| t.starts_with("Paid")).await?;
        assert_eq!(w.trade_state(&no).await?, "SUCCESS");
        assert!(w.notified(&no).await.is_some(), "the shop was notified");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_tampered_pay_sign_is_refused_with_the_reason_shown() {
    scenario("tampered", async |w: &World| {
        let page = w.page();
        let no = w.buy("jsapi").await?;
        // One character of the signature changed, as a careless front end might.
        page.execute(
            "const s = window.payParams.paySign; \
                 window.payParams.paySign = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);",
            vec![],
        )
        .await?;
        find(page, "#pay-jsapi").await?.click().await?;
        let shown = wait_text(page, "#wxpay-sandbox-error", "the refusal", |t| {
            !t.is_empty()
        })
        .await?;
        assert!(shown.contains("paySign does not verify"), "{shown}");
        wait_text(page, "#pay-result", "fail", |t| {
            t.starts_with("get_brand_wcpay_request:fail")
        })
        .await?;
        assert!(
            page.find(Locator::Css("#wxpay-sandbox-cashier"))
                .await
                .is_err(),
            "no cashier opens"
        );
        assert_eq!(w.trade_state(&no).await?, "NOTPAY");
        assert_eq!(w.notified(&no).await, None);

        // The dashboard shows the verdict beside the message that should have been signed.
        page.goto(&format!("{}/sandbox/", w.sandbox.base_url()))
            .await?;
        let requests = wait_text(page, "#requests-table", "the verdict", |t| {
            t.contains("getBrandWCPayRequest")
        })
        .await?;
        assert!(
            requests.contains("SIGN_ERROR") && requests.contains("支付验证签名失败"),
            "{requests}"
        );
        // The pages themselves are not platform requests (no favicon asked of the API).
        assert!(!requests.contains("favicon"), "{requests}");
        let expected = page
            .execute(
                "const d = document.querySelector('#requests-table details'); d.open = true; \
                     return d.querySelector('pre.expected').textContent;",
                vec![],
            )
            .await?;
        let expected = expected.as_str().unwrap_or_default();
        assert!(
            expected.starts_with(&format!("{}\\n\n", wxpay_sandbox::SANDBOX_APPID))
                && expected.contains("prepay_id=wx"),
            "the message that should have been signed: {expected:?}"
        );
        // Tall enough to show every section.
        page.set_window_size(1200, 1600).await?;
        save_screenshot(page, "dashboard.png").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_payment_leaves_the_order_unpaid() {
    scenario("cancelled", async |w: &World| {
        let page = w.page();
        let no = w.buy("jsapi").await?;
        // As a mini program: wx.requestPayment.
        find(page, "#pay-mini").await?.click().await?;
        act_in_bridge_cashier(page, "cancel", None).await?;
        wait_text(page, "#pay-result", "cancel", |t| {
            t == "requestPayment:fail cancel"
        })
        .await?;
        assert_eq!(w.trade_state(&no).await?, "NOTPAY");
        assert_eq!(w.notified(&no).await, None);
        let state = find(page, "#order-state").await?.text().await?;
        assert_eq!(state, "Waiting for payment");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_h5_payment_returns_to_the_redirect_url_at_phone_width() {
    scenario("h5", async |w: &World| {
        let page = w.page();
        page.set_window_size(390, 844).await?;
        let no = w.buy("h5").await?;
        find(page, "#pay-h5").await?.click().await?;
        wait_url(page, "the H5 cashier", |u| {
            u.contains("/sandbox/h5/checkmweb?prepay_id=")
        })
        .await?;
        check_accessible(page).await?;
        save_screenshot(page, "h5-cashier.png").await?;
        find(page, "#pay").await?.click().await?;
        let back = format!("{}/orders/{no}?from=h5", w.shop.url);
        wait_url(page, "the redirect_url", |u| u == back).await?;
        wait_text(page, "#order-state", "paid", |t| t.starts_with("Paid")).await?;
        assert_eq!(w.trade_state(&no).await?, "SUCCESS");
        assert!(w.notified(&no).await.is_some(), "the shop was notified");
        Ok(())
    })
    .await;
}
