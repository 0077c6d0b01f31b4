//! PEM and the few DER shapes the keys need.
//!
//! - [`decode`] reads the first PEM block: matching labels, no headers, a base64 body (with the
//!   constant-time decoder of `base64ct`: the body may be a private key).
//! - [`private_key_pkcs8`], [`public_key_spki`] and [`certificate_der`] check the label and hand
//!   the backends one format each: a PKCS#1 `RSA PRIVATE KEY` is wrapped into PKCS#8 here.
//! - [`Certificate`] is what the SDK reads from an X.509 certificate: serial, validity, key.
//! - [`rsa_private_key_bits`] and [`rsa_public_key_bits`] check the algorithm and measure the
//!   modulus before any backend sees a key, so both backends refuse the same keys the same way.
//!
//! Nothing here panics on input, and no error carries input bytes.
//!
//! The framing is read here rather than by `pem-rfc7468`, which is stricter than the keys
//! merchants hold: it wants 64-column lines and nothing after the `-----END` line, while keys
//! arrive indented (YAML), wrapped at other widths or followed by text.

use base64ct::{Base64, Encoding as _};
use pkcs1::{ALGORITHM_ID, ALGORITHM_OID as RSA_ENCRYPTION, RsaPrivateKey, RsaPublicKey};
use pkcs8::PrivateKeyInfo;
use x509_cert::der::asn1::BitStringRef;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::hex;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// What [`KeyError::WrongKind`] says each place expects.
const EXPECT_PRIVATE_KEY: &str = "a private key (PRIVATE KEY or RSA PRIVATE KEY)";
const EXPECT_PUBLIC_KEY: &str = "a public key (PUBLIC KEY)";
const EXPECT_CERTIFICATE: &str = "a certificate (CERTIFICATE)";
const EXPECT_RSA_PUBLIC_KEY: &str = "an RSA public key (RSA PUBLIC KEY or PUBLIC KEY)";

/// One PEM block: its label and the DER it carries.
///
/// The DER is zeroized on drop whatever the label: the block may be a private key, and zeroing a
/// public one costs nothing.
pub(crate) struct Pem<'a> {
    pub(crate) label: &'a str,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Reads the first PEM block of `text`.
///
/// Text before the `-----BEGIN` line and after the `-----END` line is ignored (OpenSSL writes
/// `Bag Attributes` there). Inside, the labels must match, the body is base64 that may be broken
/// into lines with LF or CRLF and surrounded by blanks, and RFC 1421 headers (`Proc-Type:`, as
/// in legacy encrypted keys) are refused.
pub(crate) fn decode(text: &str) -> Result<Pem<'_>, KeyError> {
    let start = text
        .find(BEGIN)
        .ok_or(KeyError::NotPem("no -----BEGIN line"))?;
    let (label, after_label) = text[start + BEGIN.len()..]
        .split_once(DASHES)
        .ok_or(KeyError::NotPem("unterminated -----BEGIN line"))?;
    if !is_label(label) {
        return Err(KeyError::NotPem("malformed -----BEGIN line"));
    }
    let (begin_rest, after_begin) = after_label
        .split_once('\n')
        .ok_or(KeyError::NotPem("no -----END line"))?;
    if !begin_rest.trim().is_empty() {
        return Err(KeyError::NotPem("malformed -----BEGIN line"));
    }
    let end = after_begin
        .find(END)
        .ok_or(KeyError::NotPem("no -----END line"))?;
    let (end_label, _) = after_begin[end + END.len()..]
        .split_once(DASHES)
        .ok_or(KeyError::NotPem("unterminated -----END line"))?;
    if end_label != label {
        return Err(KeyError::NotPem("-----BEGIN and -----END labels differ"));
    }

    let body = &after_begin[..end];
    // `-----END` starts a line of its own.
    let last_line = body.rsplit_once('\n').map_or(body, |(_, line)| line);
    if !last_line.trim().is_empty() {
        return Err(KeyError::NotPem("malformed -----END line"));
    }
    if body.contains(':') {
        return Err(KeyError::NotPem(
            "PEM headers are not supported (is the key encrypted?)",
        ));
    }

    let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
    base64.extend(
        body.chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')),
    );
    if base64.is_empty() {
        return Err(KeyError::NotPem("empty PEM block"));
    }
    // Sized up front so the secret is never left behind in a reallocated buffer; a body whose
    // length is not a multiple of 4 does not decode whatever the size.
    let mut der = Zeroizing::new(vec![0; base64.len() / 4 * 3]);
    let len = Base64::decode(base64.as_bytes(), &mut der)
        .map_err(|_| KeyError::NotPem("bad base64 in the PEM body"))?
        .len();
    der.truncate(len);
    Ok(Pem { label, der })
}

/// RFC 7468 labels are printable ASCII; a short bound keeps [`KeyError::WrongKind`] readable.
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && label.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

fn wrong_kind(expected: &'static str, found: &str) -> KeyError {
    KeyError::WrongKind {
        expected,
        found: found.to_owned(),
    }
}

/// A private key from PEM as PKCS#8 DER: `PRIVATE KEY` as it is, `RSA PRIVATE KEY` (PKCS#1, the
/// older OpenSSL output) wrapped.
pub(crate) fn private_key_pkcs8(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let pem = decode(text)?;
    match pem.label {
        "PRIVATE KEY" => Ok(pem.der),
        "RSA PRIVATE KEY" => pkcs1_to_pkcs8(&pem.der),
        found => Err(wrong_kind(EXPECT_PRIVATE_KEY, found)),
    }
}

/// A `PUBLIC KEY` from PEM as SubjectPublicKeyInfo DER.
pub(crate) fn public_key_spki(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let pem = decode(text)?;
    match pem.label {
        "PUBLIC KEY" => Ok(pem.der),
        found => Err(wrong_kind(EXPECT_PUBLIC_KEY, found)),
    }
}

/// An RSA public key from PEM as SubjectPublicKeyInfo DER: `PUBLIC KEY` as it is, `RSA PUBLIC
/// KEY` (PKCS#1, what APIv2's `getpublickey` answers) wrapped.
pub(crate) fn rsa_public_key_spki(text: &str) -> Result<Vec<u8>, KeyError> {
    let pem = decode(text)?;
    match pem.label {
        "PUBLIC KEY" => Ok(pem.der.to_vec()),
        "RSA PUBLIC KEY" => pkcs1_public_to_spki(&pem.der),
        found => Err(wrong_kind(EXPECT_RSA_PUBLIC_KEY, found)),
    }
}

/// Wraps a PKCS#1 `RSAPublicKey` into a SubjectPublicKeyInfo (rsaEncryption with NULL
/// parameters), as OpenSSL does. The content is checked later by [`rsa_public_key_bits`].
pub(crate) fn pkcs1_public_to_spki(pkcs1: &[u8]) -> Result<Vec<u8>, KeyError> {
    let malformed = |_| KeyError::Malformed {
        what: "RSA public key",
    };
    SubjectPublicKeyInfoRef {
        algorithm: ALGORITHM_ID,
        subject_public_key: BitStringRef::from_bytes(pkcs1).map_err(malformed)?,
    }
    .to_der()
    .map_err(malformed)
}

/// A `CERTIFICATE` from PEM as DER.
pub(crate) fn certificate_der(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let pem = decode(text)?;
    match pem.label {
        "CERTIFICATE" => Ok(pem.der),
        found => Err(wrong_kind(EXPECT_CERTIFICATE, found)),
    }
}

/// Wraps a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo` (version 0, rsaEncryption
/// with NULL parameters), as OpenSSL does. The content is not inspected here;
/// [`rsa_private_key_bits`] and the backends parse it.
pub(crate) fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // `der` sizes the buffer once before writing, so the key is never copied by a reallocation.
    let mut pkcs8 = Zeroizing::new(Vec::new());
    PrivateKeyInfo::new(ALGORITHM_ID, pkcs1)
        .encode_to_vec(&mut pkcs8)
        .map_err(|_| KeyError::Malformed {
            what: "RSA private key",
        })?;
    Ok(pkcs8)
}

/// The modulus size in bits of the RSA key in a PKCS#8 `PrivateKeyInfo`; [`KeyError::NotRsa`]
/// for a key of another algorithm.
pub(crate) fn rsa_private_key_bits(pkcs8: &[u8]) -> Result<usize, KeyError> {
    let info = PrivateKeyInfo::from_der(pkcs8).map_err(|_| KeyError::Malformed {
        what: "PKCS#8 private key",
    })?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(KeyError::NotRsa);
    }
    let key = RsaPrivateKey::from_der(info.private_key).map_err(|_| KeyError::Malformed {
        what: "RSA private key",
    })?;
    Ok(bit_len(key.modulus.as_bytes()))
}

/// The modulus size in bits of the RSA key in a SubjectPublicKeyInfo; [`KeyError::NotRsa`] for a
/// key of another algorithm.
pub(crate) fn rsa_public_key_bits(spki: &[u8]) -> Result<usize, KeyError> {
    let info = SubjectPublicKeyInfoRef::from_der(spki).map_err(|_| KeyError::Malformed {
        what: "SubjectPublicKeyInfo",
    })?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(KeyError::NotRsa);
    }
    let malformed = KeyError::Malformed {
        what: "RSA public key",
    };
    let key = info
        .subject_public_key
        .as_bytes()
        .ok_or(malformed.clone())?;
    let key = RsaPublicKey::from_der(key).map_err(|_| malformed)?;
    Ok(bit_len(key.modulus.as_bytes()))
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
fn bit_len(magnitude: &[u8]) -> usize {
    match magnitude.first() {
        Some(&first) => magnitude.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// What the SDK reads from an X.509 certificate. The issuer's signature is not checked: platform
/// certificates arrive authenticated by the APIv3 key (AES-GCM) or are configured by hand.
#[derive(Debug)]
pub(crate) struct Certificate {
    /// The serial as the platform writes it: upper-case hex with leading zeros kept.
    pub(crate) serial: String,
    /// notBefore, unix seconds.
    pub(crate) not_before: i64,
    /// notAfter, unix seconds.
    pub(crate) not_after: i64,
    /// The SubjectPublicKeyInfo, DER.
    pub(crate) public_key_spki: Vec<u8>,
}

impl Certificate {
    /// Parses a DER certificate.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let malformed = |_| KeyError::Malformed {
            what: "X.509 certificate",
        };
        let certificate = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        let tbs = &certificate.tbs_certificate;
        Ok(Certificate {
            serial: serial_hex(tbs.serial_number.as_bytes()),
            not_before: unix_seconds(tbs.validity.not_before)?,
            not_after: unix_seconds(tbs.validity.not_after)?,
            public_key_spki: tbs.subject_public_key_info.to_der().map_err(malformed)?,
        })
    }
}

/// Upper-case hex of a DER INTEGER's content octets. Leading zero nibbles stay (the platform
/// names certificates by all 40 digits, `0A3C…`); only the sign octet DER puts before a first
/// octet with the high bit set goes, since it is not part of the number as the platform prints it.
fn serial_hex(content: &[u8]) -> String {
    let magnitude = match content {
        [0, next, ..] if next & 0x80 != 0 => &content[1..],
        _ => content,
    };
    hex::upper(magnitude)
}

fn unix_seconds(time: x509_cert::time::Time) -> Result<i64, KeyError> {
    // `der` only represents instants from 1970 on, so this is a duration since the epoch.
    i64::try_from(time.to_unix_duration().as_secs()).map_err(|_| KeyError::Malformed {
        what: "certificate validity",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/keys/",
                $name
            ))
        };
    }

    const MERCHANT_KEY: &str = fixture!("TEST_merchant_key.pem");
    const MERCHANT_KEY_PKCS1: &str = fixture!("TEST_merchant_key.pkcs1.pem");
    const PLATFORM_CERT: &str = fixture!("TEST_platform_cert.pem");
    const PLATFORM_PUB: &str = fixture!("TEST_platform_pub.pem");
    const PLATFORM_PUB_PKCS1: &str = fixture!("TEST_platform_pub.pkcs1.pem");
    const EC_KEY: &str = fixture!("TEST_ec_key.pem");
    const RSA1024_KEY: &str = fixture!("TEST_rsa1024_key.pem");

    fn not_pem(text: &str) -> &'static str {
        match decode(text) {
            Err(KeyError::NotPem(reason)) => reason,
            Err(other) => panic!("expected NotPem, got {other:?}"),
            Ok(pem) => panic!("expected NotPem, got a {:?} block", pem.label),
        }
    }

    #[test]
    fn reads_a_block_with_lf_crlf_blanks_and_surrounding_text() {
        let pem = decode(PLATFORM_PUB).unwrap();
        assert_eq!(pem.label, "PUBLIC KEY");
        let expected = pem.der.clone();

        let crlf = PLATFORM_PUB.replace('\n', "\r\n");
        assert_eq!(decode(&crlf).unwrap().der, expected);

        let indented = PLATFORM_PUB.replace('\n', " \t\n  ");
        let wrapped = format!("Bag Attributes\n  localKeyID: 01\n{indented}\ntrailing text");
        let pem = decode(&wrapped).unwrap();
        assert_eq!((pem.label, pem.der), ("PUBLIC KEY", expected));
    }

    #[test]
    fn refuses_what_is_not_one_well_formed_block() {
        assert_eq!(not_pem(""), "no -----BEGIN line");
        assert_eq!(not_pem("hello, world"), "no -----BEGIN line");
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY"),
            "unterminated -----BEGIN line"
        );
        assert_eq!(not_pem("-----BEGIN PUBLIC KEY-----"), "no -----END line");
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n"),
            "no -----END line"
        );
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY"),
            "unterminated -----END line"
        );
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            "-----BEGIN and -----END labels differ"
        );
        assert_eq!(
            not_pem("-----BEGIN -----\nAAAA\n-----END -----\n"),
            "malformed -----BEGIN line"
        );
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY----- AAAA\n-----END PUBLIC KEY-----\n"),
            "malformed -----BEGIN line"
        );
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY-----\nAAAA-----END PUBLIC KEY-----\n"),
            "malformed -----END line"
        );
        assert_eq!(
            not_pem("-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----\n"),
            "empty PEM block"
        );
        assert_eq!(
            not_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n"
            ),
            "PEM headers are not supported (is the key encrypted?)"
        );
    }

    #[test]
    fn refuses_bad_base64() {
        for body in ["AAA", "AA!A", "AAAA=", "A===", "AAAAB==="] {
            let text = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
            assert_eq!(not_pem(&text), "bad base64 in the PEM body", "{body}");
        }
        let mangled = PLATFORM_PUB.replacen("MIIB", "MI*B", 1);
        assert_eq!(not_pem(&mangled), "bad base64 in the PEM body");
    }

    #[test]
    fn each_reader_takes_only_its_labels() {
        assert!(matches!(
            private_key_pkcs8(PLATFORM_CERT),
            Err(KeyError::WrongKind { expected: EXPECT_PRIVATE_KEY, found }) if found == "CERTIFICATE"
        ));
        assert!(matches!(
            private_key_pkcs8(PLATFORM_PUB),
            Err(KeyError::WrongKind { found, .. }) if found == "PUBLIC KEY"
        ));
        assert!(matches!(
            public_key_spki(MERCHANT_KEY),
            Err(KeyError::WrongKind { expected: EXPECT_PUBLIC_KEY, found }) if found == "PRIVATE KEY"
        ));
        assert!(matches!(
            certificate_der(MERCHANT_KEY_PKCS1),
            Err(KeyError::WrongKind { expected: EXPECT_CERTIFICATE, found }) if found == "RSA PRIVATE KEY"
        ));
        assert!(certificate_der(PLATFORM_CERT).is_ok());
        assert!(public_key_spki(PLATFORM_PUB).is_ok());
    }

    #[test]
    fn wraps_pkcs1_exactly_as_openssl_writes_pkcs8() {
        let pkcs1 = decode(MERCHANT_KEY_PKCS1).unwrap();
        assert_eq!(pkcs1.label, "RSA PRIVATE KEY");
        let pkcs8 = decode(MERCHANT_KEY).unwrap();
        assert_eq!(*pkcs1_to_pkcs8(&pkcs1.der).unwrap(), *pkcs8.der);
        assert_eq!(*private_key_pkcs8(MERCHANT_KEY_PKCS1).unwrap(), *pkcs8.der);
    }

    #[test]
    fn wraps_a_pkcs1_public_key_exactly_as_openssl_writes_spki() {
        let spki = public_key_spki(PLATFORM_PUB).unwrap();
        assert_eq!(rsa_public_key_spki(PLATFORM_PUB_PKCS1).unwrap(), *spki);
        assert_eq!(rsa_public_key_spki(PLATFORM_PUB).unwrap(), *spki);
        assert!(matches!(
            rsa_public_key_spki(MERCHANT_KEY),
            Err(KeyError::WrongKind { found, .. }) if found == "PRIVATE KEY"
        ));
    }

    #[test]
    fn measures_rsa_keys_and_names_other_algorithms() {
        let merchant = private_key_pkcs8(MERCHANT_KEY).unwrap();
        assert_eq!(rsa_private_key_bits(&merchant), Ok(2048));
        let small = private_key_pkcs8(RSA1024_KEY).unwrap();
        assert_eq!(rsa_private_key_bits(&small), Ok(1024));
        let ec = private_key_pkcs8(EC_KEY).unwrap();
        assert_eq!(rsa_private_key_bits(&ec), Err(KeyError::NotRsa));

        let platform = public_key_spki(PLATFORM_PUB).unwrap();
        assert_eq!(rsa_public_key_bits(&platform), Ok(2048));
    }

    #[test]
    fn refuses_truncated_and_trailing_der() {
        let merchant = private_key_pkcs8(MERCHANT_KEY).unwrap();
        for len in [0, 1, 2, 10, 26, 100, merchant.len() - 1] {
            assert!(
                matches!(
                    rsa_private_key_bits(&merchant[..len]),
                    Err(KeyError::Malformed { .. })
                ),
                "{len}"
            );
        }
        let mut trailing = merchant.to_vec();
        trailing.push(0);
        assert!(matches!(
            rsa_private_key_bits(&trailing),
            Err(KeyError::Malformed { .. })
        ));

        let platform = public_key_spki(PLATFORM_PUB).unwrap();
        assert!(matches!(
            rsa_public_key_bits(&platform[..platform.len() - 1]),
            Err(KeyError::Malformed { .. })
        ));
        // A PKCS#1 body under a PRIVATE KEY label is not PKCS#8.
        let pkcs1 = decode(MERCHANT_KEY_PKCS1).unwrap();
        assert!(matches!(
            rsa_private_key_bits(&pkcs1.der),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn reads_serial_validity_and_key_of_a_certificate() {
        let der = certificate_der(PLATFORM_CERT).unwrap();
        let certificate = Certificate::from_der(&der).unwrap();
        assert_eq!(
            certificate.serial,
            "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E"
        );
        // `openssl x509 -startdate -enddate`: 2026-11-21 20:52:50Z and 2046-11-16 20:52:50Z.
        assert_eq!(certificate.not_before, 1_795_294_370);
        assert_eq!(certificate.not_after, 2_426_014_370);
        assert_eq!(
            certificate.public_key_spki,
            *public_key_spki(PLATFORM_PUB).unwrap()
        );
    }

    #[test]
    fn refuses_truncated_certificates() {
        let der = certificate_der(PLATFORM_CERT).unwrap();
        for len in [0, 1, 4, 100, der.len() - 1] {
            assert!(
                matches!(
                    Certificate::from_der(&der[..len]),
                    Err(KeyError::Malformed { .. })
                ),
                "{len}"
            );
        }
    }

    #[test]
    fn serial_keeps_leading_zeros_and_drops_only_the_sign_octet() {
        assert_eq!(serial_hex(&[0x0a, 0x3c]), "0A3C");
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8F01");
        assert_eq!(serial_hex(&[0x00, 0x0f]), "000F");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0xff]), "FF");
    }
}
