//! The dynamic client's template check and expansion: any template, path value and query value
//! (the fuzzer's bytes split at NUL) is refused before signing, or becomes a path-and-query
//! that the URL layer (the `url` crate, which reqwest parses with) sends byte for byte as
//! signed.
#![no_main]

use std::sync::OnceLock;

use wxpay_core::Client;

fn client() -> Option<&'static Client> {
    static CLIENT: OnceLock<Option<Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            Client::builder()
                .mchid("1230000109")
                .merchant_key(
                    "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81",
                    include_str!("../../tests/fixtures/keys/TEST_merchant_key.pem"),
                )
                .platform_certificate(include_str!("../../tests/fixtures/keys/TEST_platform_cert.pem"))
                .base_url("http://127.0.0.1:9")
                .build()
                .ok()
        })
        .as_ref()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(client) = client() else { return };
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut pieces = text.splitn(3, '\0');
    let template = pieces.next().unwrap_or_default();
    let value = pieces.next().unwrap_or("9856888");
    let query = pieces.next().unwrap_or("x");
    let names: Vec<&str> = template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let path: Vec<(&str, &str)> = names.iter().map(|name| (*name, value)).collect();
    let result = wxpay_core::__fuzz::dynamic_request_parts(
        client,
        http::Method::GET,
        template,
        &path,
        &[("q", query)],
    );
    if let Ok(parts) = result {
        let signed = &parts.path_and_query;
        let parsed = url::Url::parse(&format!("http://127.0.0.1:9{signed}")).expect("parses");
        assert_eq!(&parsed[url::Position::BeforePath..], signed.as_str(), "{template:?} is rewritten");
        let uri = signed.parse::<http::uri::PathAndQuery>().expect("a valid path and query");
        assert_eq!(uri.as_str(), signed.as_str());
    }
});
