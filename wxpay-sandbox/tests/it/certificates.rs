//! `GET /v3/certificates`: the platform certificate under the APIv3 key, or 404.

use crate::common;

use common::{Merchant, aead_open, certificate_facts};
use wxpay_sandbox::{KeyMode, Sandbox};

#[tokio::test]
async fn certificates_decrypt_with_the_apiv3_key() {
    for mode in [KeyMode::Certificate, KeyMode::Both] {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("start");
        let merchant = Merchant::of(&sandbox);
        let settings = sandbox.merchant();
        let reply = merchant.verified("GET", "/v3/certificates", "", &[]).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let body = reply.json();
        let data = body["data"].as_array().expect("data");
        assert_eq!(data.len(), 1);
        let entry = &data[0];
        let serial = settings
            .platform_certificate_serial
            .clone()
            .expect("serial");
        assert_eq!(entry["serial_no"], serial.as_str());
        assert_eq!(serial.len(), 40);
        assert!(serial.starts_with('0'));
        for field in ["effective_time", "expire_time"] {
            let text = entry[field].as_str().expect("time");
            assert!(text.ends_with("+08:00"), "{text}");
        }
        let encrypted = &entry["encrypt_certificate"];
        assert_eq!(encrypted["algorithm"], "AEAD_AES_256_GCM");
        assert_eq!(encrypted["associated_data"], "certificate");
        let nonce = encrypted["nonce"].as_str().expect("nonce");
        assert_eq!(nonce.len(), 12);
        let ciphertext = encrypted["ciphertext"].as_str().expect("ciphertext");
        let pem = aead_open(
            settings.apiv3_key.expose(),
            nonce,
            "certificate",
            ciphertext,
        )
        .expect("decrypts with the APIv3 key");
        let pem = String::from_utf8(pem).expect("PEM text");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let (spki, cert_serial) = certificate_facts(&pem);
        assert_eq!(cert_serial, serial);
        // The certificate holds the key that signs the responses.
        reply
            .verify(&spki)
            .expect("response verifies with the served certificate");
        assert_eq!(
            Some(pem.trim()),
            settings.platform_certificate_pem.as_deref().map(str::trim)
        );
        // With the wrong APIv3 key it does not open.
        let wrong_key = "00000000000000000000000000000000";
        assert!(aead_open(wrong_key, nonce, "certificate", ciphertext).is_none());
        assert!(aead_open(settings.apiv3_key.expose(), nonce, "", ciphertext).is_none());
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_public_key_merchant_has_no_certificates() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::PublicKey)
        .start()
        .await
        .expect("start");
    assert!(sandbox.merchant().platform_certificate_pem.is_none());
    let merchant = Merchant::of(&sandbox);
    let reply = merchant.verified("GET", "/v3/certificates", "", &[]).await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.code(), "NOT_FOUND");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(
        reply.header("Wechatpay-Serial"),
        sandbox.merchant().public_key_id.as_deref()
    );
}
