//! The browser tests of the sandbox's pages and the checkout example live in `tests/`; run them
//! with `cargo test -p wxpay-browser-tests --features browser` (they start chromedriver and
//! headless Chromium themselves). This library is empty.
