//! The platform's flat `<xml>` documents, read with quick-xml and written by hand.
//!
//! quick-xml never expands an entity it was not told about and does not read DTDs; on top of
//! that a DOCTYPE is refused outright, and so is any reference other than the five predefined
//! entities and character references. So no external entity is fetched and no entity grows.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, Event};

use super::Fields;
use crate::error::XmlError;

/// Reads an APIv2 `<xml>` document of flat text fields (plain or CDATA), at most
/// [`MAX_ANSWER_LEN`](super::MAX_ANSWER_LEN) bytes.
///
/// Refused, each with its [`XmlError`]: a DOCTYPE, an entity reference other than the five
/// predefined ones and character references, a processing instruction, an element inside a
/// field, a field given twice, another document element, text outside the fields, a document
/// that is not UTF-8 or too large. Comments and the `<?xml …?>` declaration are allowed;
/// attributes are ignored.
///
/// ```
/// use wxpay_core::apiv2;
/// use wxpay_core::XmlError;
/// let fields = apiv2::parse(b"<xml><a><![CDATA[x & y]]></a><b>1 &lt; 2</b><c/></xml>").unwrap();
/// assert_eq!(fields.get("a"), Some("x & y"));
/// assert_eq!(fields.get("b"), Some("1 < 2"));
/// assert_eq!(fields.get("c"), Some(""));
/// let bomb = br#"<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><a>&a;</a></xml>"#;
/// assert_eq!(apiv2::parse(bomb), Err(XmlError::Doctype { position: 0 }));
/// ```
pub fn parse(document: &[u8]) -> Result<Fields, XmlError> {
    parse_with(document, "xml", super::MAX_ANSWER_LEN)
}

/// As [`parse`], with the document element's name (`xml`, or `root` for a refund
/// notification's `req_info`) and the size limit.
pub fn parse_with(document: &[u8], root: &'static str, limit: usize) -> Result<Fields, XmlError> {
    if document.len() > limit {
        return Err(XmlError::TooLarge {
            length: document.len(),
            limit,
        });
    }
    let text = std::str::from_utf8(document).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut fields = Fields::new();
    let mut seen = HashSet::new();
    // Where the reader is: before the document element, inside it, inside a field (its name
    // and text so far), or after it.
    enum At {
        Before,
        Root,
        Field(String, String),
        After,
    }
    let mut at = At::Before;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|_| XmlError::Malformed {
            position: reader.error_position(),
        })?;
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype { position }),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction { position }),
            Event::Decl(_) if matches!(at, At::Before) && position == 0 => {}
            Event::Comment(_) => {}
            Event::Eof => {
                return match at {
                    At::After => Ok(fields),
                    At::Before => Err(XmlError::Root { expected: root }),
                    At::Root | At::Field(..) => Err(XmlError::Malformed { position }),
                };
            }
            Event::Start(element) | Event::Empty(element)
                if matches!(at, At::Before) && element.name().as_ref() != root.as_bytes() =>
            {
                return Err(XmlError::Root { expected: root });
            }
            Event::Start(_) if matches!(at, At::Before) => at = At::Root,
            Event::Empty(_) if matches!(at, At::Before) => at = At::After,
            Event::End(_) if matches!(at, At::Root) => at = At::After,
            Event::Start(element) if matches!(at, At::Root) => {
                at = At::Field(element_name(element.name().as_ref()), String::new());
            }
            Event::Empty(element) if matches!(at, At::Root) => {
                let name = element_name(element.name().as_ref());
                add(&mut fields, &mut seen, name, String::new())?;
            }
            Event::Start(_) | Event::Empty(_) => {
                if let At::Field(name, _) = at {
                    return Err(XmlError::Nested {
                        field: shortened(&name),
                    });
                }
                return Err(XmlError::Malformed { position });
            }
            Event::End(_) => {
                let At::Field(name, value) = std::mem::replace(&mut at, At::Root) else {
                    return Err(XmlError::Malformed { position });
                };
                add(&mut fields, &mut seen, name, value)?;
            }
            Event::Text(text) => match &mut at {
                At::Field(_, value) => {
                    value.push_str(&text.xml10_content().map_err(|_| XmlError::NotUtf8)?)
                }
                _ if text.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(XmlError::Malformed { position }),
            },
            Event::CData(cdata) => match &mut at {
                At::Field(_, value) => {
                    value.push_str(&cdata.xml10_content().map_err(|_| XmlError::NotUtf8)?)
                }
                _ => return Err(XmlError::Malformed { position }),
            },
            Event::GeneralRef(reference) => {
                let resolved = resolve(&reference, position)?;
                match &mut at {
                    At::Field(_, value) => value.push_str(&resolved),
                    _ => return Err(XmlError::Malformed { position }),
                }
            }
            Event::Decl(_) => return Err(XmlError::Malformed { position }),
        }
    }
}

/// An element's name as text (the reader works on a `str`, so it is UTF-8).
fn element_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// The text a reference stands for: a character reference or one of the five predefined
/// entities. Anything else would need a DTD, and DTDs are refused.
fn resolve(reference: &BytesRef<'_>, position: u64) -> Result<String, XmlError> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(XmlError::Malformed { position }),
        };
    }
    let name = reference
        .decode()
        .map_err(|_| XmlError::Malformed { position })?;
    resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or(XmlError::Entity { position })
}

fn add(
    fields: &mut Fields,
    seen: &mut HashSet<String>,
    name: String,
    value: String,
) -> Result<(), XmlError> {
    if !seen.insert(name.clone()) {
        return Err(XmlError::DuplicateField {
            field: shortened(&name),
        });
    }
    fields.push_new(name, value);
    Ok(())
}

/// A name from the document as errors show it: at most 64 characters.
fn shortened(name: &str) -> String {
    name.chars().take(64).collect()
}

/// Writes fields as the platform's request `<xml>`, byte for byte as the reference SDK
/// (xml2js) does: no declaration; an empty value as `<name/>`; a value with `<`, `>` or `&`
/// wrapped in CDATA (a `]]>` inside split across two sections); other values as text, with
/// a carriage return as `&#xD;`.
///
/// A name that is not an XML name, or a value with a character XML 1.0 cannot carry (a
/// control character other than tab, line feed and carriage return), is
/// [`XmlError::Unwritable`].
///
/// ```
/// use wxpay_core::apiv2::{self, Fields};
/// let fields: Fields = [("a", "1"), ("b", ""), ("c", "x & <y>")].into_iter().collect();
/// assert_eq!(
///     apiv2::to_xml(&fields).unwrap(),
///     "<xml><a>1</a><b/><c><![CDATA[x & <y>]]></c></xml>"
/// );
/// ```
pub fn to_xml(fields: &Fields) -> Result<String, XmlError> {
    let length: usize = fields
        .iter()
        .map(|(name, value)| 2 * name.len() + value.len() + 17)
        .sum();
    let mut out = String::with_capacity(length + 11);
    out.push_str("<xml>");
    for (name, value) in fields.iter() {
        if !is_xml_name(name) || !value.chars().all(is_xml_char) {
            return Err(XmlError::Unwritable {
                field: shortened(name),
            });
        }
        out.push('<');
        out.push_str(name);
        if value.is_empty() {
            out.push_str("/>");
            continue;
        }
        out.push('>');
        if value.contains(['<', '>', '&']) {
            out.push_str("<![CDATA[");
            out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
            out.push_str("]]>");
        } else {
            out.push_str(&value.replace('\r', "&#xD;"));
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</xml>");
    Ok(out)
}

/// An XML name as field names are: a letter or `_`, then letters, digits, `_`, `-`, `.`.
/// (XML allows more; the platform's names are ASCII.)
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A character XML 1.0 documents may hold.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
