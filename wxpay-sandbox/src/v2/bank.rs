//! Bank-card payouts: `getpublickey` hands out a TEST RSA key whose private half the sandbox
//! keeps, and `pay_bank` pays only when `enc_bank_no` and `enc_true_name` decrypt with it
//! (RSA-OAEP, SHA-1 and MGF1-SHA-1, base64), as the platform does.

use std::sync::{Arc, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use x509_cert::der::Decode as _;
use x509_cert::der::pem::{self, LineEnding};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::SandboxError;
use crate::crypto::{oaep_sha1_decrypt, random_digits};
use crate::keys::RsaKey;
use crate::state::Platform;

use super::{Answer, Call, Outcome, echo};

/// What the sandbox answers for an encrypted field that does not decrypt with its key.
/// The platform's documentation names no code of its own for this; it answers its generic
/// parameter error.
pub(crate) const UNDECRYPTABLE: &str = "PARAM_ERROR";

/// The key, made on first use and kept for the sandbox's lifetime.
fn key(platform: &Platform) -> Result<Arc<RsaKey>, SandboxError> {
    let mut kept = platform
        .v2
        .bank_payout_key
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(key) = kept.as_ref() {
        return Ok(Arc::clone(key));
    }
    let key = Arc::new(RsaKey::generate()?);
    *kept = Some(Arc::clone(&key));
    Ok(key)
}

/// The public half as the platform hands it out: a PKCS#1 `RSA PUBLIC KEY` PEM.
fn pkcs1_pem(key: &RsaKey) -> Result<String, SandboxError> {
    let spki = key.spki_der()?;
    let info = SubjectPublicKeyInfoRef::from_der(&spki)
        .map_err(|e| SandboxError::Crypto(format!("public key export failed: {e}")))?;
    pem::encode_string(
        "RSA PUBLIC KEY",
        LineEnding::LF,
        info.subject_public_key.raw_bytes(),
    )
    .map_err(|e| SandboxError::Crypto(format!("PEM encoding failed: {e}")))
}

/// `POST /risk/getpublickey`.
pub(super) fn public_key(platform: &Platform, call: &Call) -> Outcome {
    match key(platform).and_then(|key| pkcs1_pem(&key)) {
        Ok(pem) => {
            platform
                .v2
                .bank_payout_key_fetches
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Outcome::Success(vec![
                (
                    "mch_id".to_owned(),
                    call.get("mch_id").unwrap_or_default().to_owned(),
                ),
                ("pub_key".to_owned(), pem),
            ])
        }
        Err(error) => Outcome::Failure("SYSTEMERROR", error.to_string()),
    }
}

/// `POST /mmpaysptrans/pay_bank`: the spec's answer once both fields decrypt.
pub(super) fn pay_bank(platform: &Platform, call: &Call) -> Outcome {
    let key = match key(platform) {
        Ok(key) => key,
        Err(error) => return Outcome::Failure("SYSTEMERROR", error.to_string()),
    };
    for name in ["enc_bank_no", "enc_true_name"] {
        if !decrypts(&key, call.get(name).unwrap_or_default()) {
            return Outcome::Failure(
                UNDECRYPTABLE,
                format!("{name} 解密失败，请使用 getpublickey 获取的公钥以 RSA-OAEP 加密"),
            );
        }
    }
    let Answer::Xml(example) = &call.op.answer else {
        return Outcome::Failure("SYSTEMERROR", "pay_bank answers <xml>".to_owned());
    };
    let mut fields = echo(example, call);
    for (name, value) in &mut fields {
        match name.as_str() {
            "payment_no" => *value = random_digits(28),
            // Bank payouts cost the merchant a fee; the sandbox charges none.
            "cmms_amt" => *value = "0".to_owned(),
            _ => {}
        }
    }
    Outcome::Success(fields)
}

/// Whether `text` is base64 of RSA-OAEP-SHA1 ciphertext under `key` holding non-empty UTF-8.
/// The plaintext is looked at here only, and dropped (zeroized) at once.
fn decrypts(key: &RsaKey, text: &str) -> bool {
    let Ok(ciphertext) = STANDARD.decode(text) else {
        return false;
    };
    let Ok(decrypting) = key.decrypting_key() else {
        return false;
    };
    oaep_sha1_decrypt(&decrypting, &ciphertext)
        .is_ok_and(|plaintext| !plaintext.is_empty() && std::str::from_utf8(&plaintext).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_a_pkcs1_pem_of_the_key_it_decrypts_with() {
        let key = RsaKey::generate().unwrap();
        let pem = pkcs1_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"), "{pem}");
        // Encrypt with the PEM's key, as a merchant would, and decrypt with ours.
        let (_, der) = pem::decode_vec(pem.as_bytes()).unwrap();
        let public =
            aws_lc_rs::rsa::PublicEncryptingKey::from_der(&key.spki_der().unwrap()).unwrap();
        let info_spki = key.spki_der().unwrap();
        let info = SubjectPublicKeyInfoRef::from_der(&info_spki).unwrap();
        assert_eq!(der, info.subject_public_key.raw_bytes());
        let oaep = aws_lc_rs::rsa::OaepPublicEncryptingKey::new(public).unwrap();
        let mut out = vec![0; oaep.ciphertext_size()];
        let ciphertext = oaep
            .encrypt(
                &aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1,
                "6222020200000000000".as_bytes(),
                &mut out,
                None,
            )
            .unwrap();
        assert!(decrypts(&key, &STANDARD.encode(ciphertext)));
        assert!(!decrypts(
            &key,
            "8609cb22e1774a50a930e414cc71eca06121bcd266335cda230d24a7886a8d9f"
        ));
        assert!(!decrypts(&key, "not base64!"));
        assert!(!decrypts(&key, ""));
    }
}
