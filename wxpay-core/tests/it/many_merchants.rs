//! Many merchants in one process: their periodic refreshes share one scheduler task, where
//! each client used to spawn a timer task of its own.

use std::time::Duration;

use common::{config, key, s};
use wxpay_core::{Client, RetryPolicy};

use crate::common;

const CLIENTS: usize = 300;

#[tokio::test]
async fn refreshing_clients_add_no_task_each() {
    let closed = crate::loopback::closed_port();
    let config = config();
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let before = tasks();
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        // Certificate merchants with the APIv3 key: each is due for the periodic refresh.
        let client = Client::builder()
            .mchid(s(&config, "mchid"))
            .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
            .platform_certificate(key("TEST_platform_cert.pem"))
            .apiv3_key(s(&config, "apiv3_key"))
            .base_url(closed.url())
            .retry_policy(RetryPolicy::never())
            .certificate_refresh_interval(Duration::from_secs(3600))
            .build()
            .expect("client");
        // The first call puts the client on the refresh; nothing listens, so it fails.
        let refused = client
            .get("/v3/marketing/favor/stocks/{stock_id}")
            .path("stock_id", "9856000")
            .send::<serde_json::Value>()
            .await;
        assert!(refused.is_err());
        clients.push(client);
    }
    let added = tasks().saturating_sub(before);
    // The scheduler (if it lives in this runtime) and the watch that tells the SDK when this
    // runtime ends (runtimes.rs); where the scheduler lives, the refreshes due for other
    // tests' clients run too, a task each (and their connections) while they last.
    assert!(added < 10, "{added} tasks for {CLIENTS} refreshing clients");
    drop(clients);
}
