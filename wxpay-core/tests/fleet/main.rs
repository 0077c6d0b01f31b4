//! A fleet of instances sharing one real Redis (feature `redis`): certificates downloaded
//! once per rotation, notifications handled once, planted store entries ignored.
//!
//! Each test starts its own `redis-server` on a Unix socket in a temporary directory and
//! stops it; `.ci/run` installs the Debian package. Run with
//! `cargo test -p wxpay-core --features redis --test fleet`.

mod certificates;
mod notifications;
mod redis_server;
mod runtimes;
