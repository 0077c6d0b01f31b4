//! One `RedisFleet` used from tokio runtimes that come and go (one per `#[tokio::test]`, or an
//! application with several): a runtime's commands never ride on a connection another runtime
//! drove, so the first command after that runtime ended succeeds.

use tokio::runtime::Builder;
use wxpay_core::RedisFleet;

use crate::redis_server::RedisServer;

#[test]
fn a_fleet_outlives_the_runtime_that_first_used_it() {
    let redis = RedisServer::start("runtimes");
    let runtime = || {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    let first = runtime();
    let fleet = first.block_on(async {
        let fleet = RedisFleet::open(&redis.url()).expect("fleet");
        fleet.ping().await.expect("runtime A's command");
        fleet
    });
    drop(first);
    for round in 0..3 {
        let next = runtime();
        next.block_on(async {
            fleet
                .ping()
                .await
                .unwrap_or_else(|e| panic!("round {round}: the first command failed: {e}"));
            fleet.ping().await.expect("the second command");
        });
    }
}
