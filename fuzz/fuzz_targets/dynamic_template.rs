//! The dynamic client's path template and values: any template is refused before signing or
//! becomes a path-and-query that `http` accepts unchanged (what is signed is what is sent).
//! The fuzzer's bytes are split at NUL into a template, a path value and a query value.
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
        let parsed = parts.path_and_query.parse::<http::uri::PathAndQuery>();
        assert!(parsed.is_ok_and(|p| p.as_str() == parts.path_and_query), "{template:?}");
    }
});
