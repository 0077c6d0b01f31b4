//! The check of a bill's `download_url` against the client's base URL: any text is refused
//! or split into the base URL's own origin and a path-and-query that starts with `/`.
#![no_main]

const BASE: &str = "https://api.mch.weixin.qq.com";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };
    match wxpay_core::__fuzz::split_url(url, BASE) {
        Ok((origin, path_and_query)) => {
            assert!(origin.eq_ignore_ascii_case(BASE), "{url:?} left the base URL");
            assert!(path_and_query.starts_with('/'), "{url:?}");
            assert_eq!(format!("{origin}{path_and_query}"), url);
            // What is accepted must be sendable as it is, or the signed path is not the sent one.
            assert!(path_and_query.parse::<http::uri::PathAndQuery>().is_ok(), "{url:?}");
        }
        Err(error) => {
            // A refusal never repeats the query: it may hold the download token.
            if let Some((_, query)) = url.split_once('?')
                && query.len() >= 8
            {
                assert!(!error.to_string().contains(query), "{url:?}");
            }
        }
    }
});
