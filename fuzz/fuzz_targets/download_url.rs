//! The check of a bill's `download_url`: any text is refused, or split into an allowed origin
//! and a path-and-query that the URL layer (the `url` crate, which reqwest parses with) sends
//! byte for byte as it was signed. A refusal never repeats the query (the download token).
#![no_main]

const BASE: &str = "http://127.0.0.1:8080";
const CANARY: &str = "wxpayTOKENcanary";
const ALLOWED: [&str; 3] = [BASE, "https://api.mch.weixin.qq.com", "https://api2.wechatpay.cn"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };
    match wxpay_core::__fuzz::split_url(url, BASE) {
        Ok((origin, path_and_query)) => {
            assert!(ALLOWED.iter().any(|a| origin.eq_ignore_ascii_case(a)), "{url:?} left the allowed hosts");
            assert_eq!(format!("{origin}{path_and_query}"), url);
            let parsed = url::Url::parse(url).expect("an accepted URL parses");
            assert_eq!(&parsed[url::Position::BeforePath..], path_and_query, "{url:?} is rewritten");
        }
        Err(_) => {
            // The same URL with a token in its query: a refusal never shows the token.
            let before = url.split(['?', '#']).next().unwrap_or_default();
            if !before.contains(CANARY) {
                let probe = format!("{before}?token={CANARY}");
                if let Err(error) = wxpay_core::__fuzz::split_url(&probe, BASE) {
                    assert!(!error.to_string().contains(CANARY), "{probe:?}: the token is shown");
                }
            }
        }
    }
});
