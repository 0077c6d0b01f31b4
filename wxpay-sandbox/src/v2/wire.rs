//! APIv2 on the wire: flat `<xml>` documents and their `sign` (MD5 or HMAC-SHA256 over the
//! sorted `k=v&…&key=<APIv2 key>`), and `req_info` (AES-256-ECB under the key's MD5).

use std::borrow::Cow;

use aws_lc_rs::cipher::{AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use quick_xml::Reader;
use quick_xml::events::Event;

/// An XML request body larger than this is refused before it is parsed.
pub(crate) const MAX_XML_BYTES: usize = 64 * 1024;
/// A flat document has at most this many fields.
const MAX_FIELDS: usize = 256;

/// The fields of a document, in their order.
pub(crate) type Fields = Vec<(String, String)>;

/// The two ways a v2 document is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignType {
    Md5,
    HmacSha256,
}

impl SignType {
    /// The sign type a request asks for: `sign_type=HMAC-SHA256`, else MD5 (the default).
    pub(crate) fn of(fields: &Fields) -> Result<SignType, String> {
        match get(fields, "sign_type") {
            None | Some("") | Some("MD5") => Ok(SignType::Md5),
            Some("HMAC-SHA256") => Ok(SignType::HmacSha256),
            Some(other) => Err(format!("sign_type {other} 不支持")),
        }
    }
}

/// The value of field `name`, if present.
pub(crate) fn get<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `k=v&…&key=<key>`: keys sorted, `sign` and empty values left out.
pub(crate) fn string_to_sign(fields: &Fields, key: &str) -> String {
    let mut pairs: Vec<&(String, String)> = fields
        .iter()
        .filter(|(k, v)| k != "sign" && !v.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push('&');
    }
    out.push_str("key=");
    out.push_str(key);
    out
}

/// The uppercase hex `sign` of `fields`.
pub(crate) fn sign(fields: &Fields, key: &str, sign_type: SignType) -> String {
    let message = zeroize::Zeroizing::new(string_to_sign(fields, key));
    match sign_type {
        SignType::Md5 => upper_hex(&Md5::digest(message.as_bytes())),
        SignType::HmacSha256 => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
            upper_hex(hmac::sign(&key, message.as_bytes()).as_ref())
        }
    }
}

/// Whether `fields` carry a `sign` that matches, compared in constant time.
pub(crate) fn verify(fields: &Fields, key: &str, sign_type: SignType) -> bool {
    let Some(given) = get(fields, "sign") else {
        return false;
    };
    let expected = sign(fields, key, sign_type);
    constant_time::verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_ok()
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Lowercase hex MD5, the `req_info` key.
fn lower_hex_md5(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `req_info`: `plaintext` under AES-256-ECB (PKCS#7) keyed by the lowercase hex MD5 of the
/// APIv2 key, base64.
pub(crate) fn seal_req_info(apiv2_key: &str, plaintext: &str) -> Result<String, ()> {
    let key = zeroize::Zeroizing::new(lower_hex_md5(apiv2_key));
    let key = UnboundCipherKey::new(&AES_256, key.as_bytes()).map_err(|_| ())?;
    let key = PaddedBlockEncryptingKey::ecb_pkcs7(key).map_err(|_| ())?;
    let mut data = plaintext.as_bytes().to_vec();
    key.encrypt(&mut data).map_err(|_| ())?;
    Ok(STANDARD.encode(data))
}

/// Why a document was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum XmlError {
    TooLarge,
    /// A DTD, an entity other than the five predefined ones, nesting, or malformed XML.
    Refused(String),
}

/// Parses a flat document `<root><k>v</k>…</root>`: text or CDATA values, no attributes that
/// matter, no DTD, no entities but the predefined and character references, no nesting.
pub(crate) fn parse(bytes: &[u8]) -> Result<Fields, XmlError> {
    if bytes.len() > MAX_XML_BYTES {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| refused("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut fields = Fields::new();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut current: Option<(String, String)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| refused(&format!("malformed XML: {e}")))?;
        match event {
            Event::DocType(_) => return Err(refused("a DTD is not accepted")),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(refused("processing instructions are not accepted")),
            Event::Start(start) => {
                depth += 1;
                match depth {
                    1 if !root_seen => root_seen = true,
                    1 => return Err(refused("more than one root element")),
                    2 => {
                        let name = String::from_utf8(start.name().as_ref().to_vec())
                            .map_err(|_| refused("a field name is not UTF-8"))?;
                        current = Some((name, String::new()));
                    }
                    _ => return Err(refused("nested elements: APIv2 documents are flat")),
                }
            }
            Event::Empty(start) => match depth {
                0 if !root_seen => root_seen = true,
                1 => {
                    let name = String::from_utf8(start.name().as_ref().to_vec())
                        .map_err(|_| refused("a field name is not UTF-8"))?;
                    push(&mut fields, name, String::new())?;
                }
                _ => return Err(refused("nested elements: APIv2 documents are flat")),
            },
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = current.take()
                {
                    push(&mut fields, name, value)?;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|_| refused("text is not UTF-8"))?;
                append(&mut current, depth, &decoded)?;
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|_| refused("CDATA is not UTF-8"))?;
                append(&mut current, depth, &decoded)?;
            }
            Event::GeneralRef(reference) => {
                let resolved: Cow<'_, str> = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|_| refused("an entity name is not UTF-8"))?;
                        match name.as_ref() {
                            "lt" => Cow::Borrowed("<"),
                            "gt" => Cow::Borrowed(">"),
                            "amp" => Cow::Borrowed("&"),
                            "apos" => Cow::Borrowed("'"),
                            "quot" => Cow::Borrowed("\""),
                            other => {
                                return Err(refused(&format!("entity &{other}; is not accepted")));
                            }
                        }
                    }
                    Err(_) => return Err(refused("a bad character reference")),
                };
                append(&mut current, depth, &resolved)?;
            }
            Event::Eof => break,
        }
    }
    if !root_seen || depth != 0 {
        return Err(refused("not a complete XML document"));
    }
    Ok(fields)
}

fn refused(why: &str) -> XmlError {
    XmlError::Refused(why.to_owned())
}

fn push(fields: &mut Fields, name: String, value: String) -> Result<(), XmlError> {
    if fields.len() >= MAX_FIELDS {
        return Err(refused("too many fields"));
    }
    fields.push((name, value));
    Ok(())
}

/// Text inside a field belongs to it; text between fields must be blank.
fn append(
    current: &mut Option<(String, String)>,
    depth: usize,
    text: &str,
) -> Result<(), XmlError> {
    match current {
        Some((_, value)) if depth == 2 => {
            value.push_str(text);
            Ok(())
        }
        _ if text.trim().is_empty() => Ok(()),
        _ => Err(refused("text outside a field")),
    }
}

/// `<xml><k><![CDATA[v]]></k>…</xml>`, as the platform writes its answers.
pub(crate) fn write(fields: &Fields) -> String {
    write_root("xml", fields)
}

/// Elements whose value is XML this sandbox wrote with [`write_list`] (the red-packet query's
/// `hblist`, the protocol's one nested element), written as they are.
const LISTS: &[&str] = &["hblist"];

/// A list element's content as the platform writes it: each item an `<item>` of CDATA fields.
pub(crate) fn write_list(item: &str, items: &[Fields]) -> String {
    items
        .iter()
        .map(|fields| write_root(item, fields))
        .collect()
}

/// The same under another root element (`req_info`'s plaintext is a `<root>`).
pub(crate) fn write_root(root: &str, fields: &Fields) -> String {
    let mut out = format!("<{root}>");
    for (k, v) in fields {
        if LISTS.contains(&k.as_str()) {
            out.push_str(&format!("<{k}>{v}</{k}>"));
            continue;
        }
        // `]]>` cannot stand inside CDATA: it is split across two sections.
        let v = v.replace("]]>", "]]]]><![CDATA[>");
        out.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    out.push_str(&format!("</{root}>"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_documents_parse_with_cdata_entities_and_empty_fields() {
        let fields = parse(
            b"<?xml version=\"1.0\"?><xml>\n <a><![CDATA[x<y]]></a><b>1 &amp; 2 &#x41;</b><c/></xml>",
        )
        .unwrap();
        assert_eq!(
            fields,
            [
                ("a".to_owned(), "x<y".to_owned()),
                ("b".to_owned(), "1 & 2 A".to_owned()),
                ("c".to_owned(), String::new()),
            ]
        );
        assert_eq!(parse(write(&fields).as_bytes()).unwrap(), fields);
    }

    #[test]
    fn hostile_documents_are_refused() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml><a>&lol2;</a></xml>";
        assert!(matches!(parse(bomb), Err(XmlError::Refused(_))));
        let xxe = b"<xml><a>&xxe;</a></xml>";
        assert!(matches!(parse(xxe), Err(XmlError::Refused(_))));
        assert!(matches!(
            parse(b"<xml><a><b>1</b></a></xml>"),
            Err(XmlError::Refused(_))
        ));
        assert!(matches!(parse(b"<xml><a>1</a>"), Err(XmlError::Refused(_))));
        assert_eq!(
            parse(&vec![b' '; MAX_XML_BYTES + 1]),
            Err(XmlError::TooLarge)
        );
    }

    #[test]
    fn cdata_end_inside_a_value_round_trips() {
        let fields = vec![("a".to_owned(), "x]]>y".to_owned())];
        assert_eq!(parse(write(&fields).as_bytes()).unwrap(), fields);
    }
}
