//! The platform's flat `<xml>` documents, read with quick-xml and written by hand.
//!
//! quick-xml never expands an entity it was not told about and does not read DTDs; on top of
//! that a DOCTYPE is refused outright, and so is any reference other than the five predefined
//! entities and character references. So no external entity is fetched and no entity grows.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, Event};
use zeroize::Zeroizing;

use super::Fields;
use crate::error::XmlError;

/// The only nesting the protocol has: list elements of the document element and the name of
/// their items, each item flat text fields. The red-packet query (`gethbinfo`) answers who
/// received a packet as `<hblist><hbinfo><openid>…</openid><amount>…</amount>
/// <rcv_time>…</rcv_time></hbinfo>…</hblist>` (the spec's only nested answer element).
pub(crate) const LISTS: &[(&str, &str)] = &[("hblist", "hbinfo")];

/// Reads an APIv2 `<xml>` document of flat text fields (plain or CDATA), at most
/// [`MAX_ANSWER_LEN`](super::MAX_ANSWER_LEN) bytes.
///
/// Refused, each with its [`XmlError`]: a DOCTYPE, an entity reference other than the five
/// predefined ones and character references, a processing instruction, an element inside a
/// field, a field given twice, another document element, text outside the fields, a document
/// that is not UTF-8 or too large. Comments and the `<?xml …?>` declaration are allowed;
/// attributes are ignored. The one exception to flatness is the protocol's list element
/// (`hblist`, of flat `hbinfo` items, read with [`Fields::list`]); anything else nested in it,
/// or a list nested deeper, is refused too.
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
    // and text so far, wiped if the document is refused half-way: `req_info` is decrypted
    // data), or after it. `Fields` wipes what was read on its own.
    enum At {
        Before,
        Root,
        Field(String, Zeroizing<String>),
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
                let name = element_name(element.name().as_ref());
                match list_item(&name) {
                    Some(item) => {
                        let items = read_list(&mut reader, &name, item)?;
                        add_list(&mut fields, &mut seen, name, items)?;
                    }
                    None => at = At::Field(name, Zeroizing::default()),
                }
            }
            Event::Empty(element) if matches!(at, At::Root) => {
                let name = element_name(element.name().as_ref());
                match list_item(&name) {
                    Some(_) => add_list(&mut fields, &mut seen, name, Vec::new())?,
                    None => add(&mut fields, &mut seen, name, String::new())?,
                }
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
                let At::Field(name, mut value) = std::mem::replace(&mut at, At::Root) else {
                    return Err(XmlError::Malformed { position });
                };
                add(&mut fields, &mut seen, name, std::mem::take(&mut value))?;
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => match &mut at {
                At::Field(_, value) => push_text(value, &event, position)?,
                _ => outside_field(&event, position)?,
            },
            Event::Decl(_) => return Err(XmlError::Malformed { position }),
        }
    }
}

/// The item element of a list element, `None` for any other name.
fn list_item(name: &str) -> Option<&'static str> {
    LISTS
        .iter()
        .find(|(list, _)| *list == name)
        .map(|(_, item)| *item)
}

/// The items of a list element whose start tag was just read, up to its end tag: each item
/// `<item>` of flat fields (or an empty `<item/>`); between them only white space and
/// comments. Nothing nests further.
fn read_list(reader: &mut Reader<&[u8]>, list: &str, item: &str) -> Result<Vec<Fields>, XmlError> {
    let mut items = Vec::new();
    // The item being read: its fields, the names seen, and the field open in it (its name and
    // text so far).
    type Item = (Fields, HashSet<String>, Option<(String, Zeroizing<String>)>);
    let mut open: Option<Item> = None;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|_| XmlError::Malformed {
            position: reader.error_position(),
        })?;
        match (&mut open, event) {
            (_, Event::DocType(_)) => return Err(XmlError::Doctype { position }),
            (_, Event::PI(_)) => return Err(XmlError::ProcessingInstruction { position }),
            (_, Event::Comment(_)) => {}
            (_, Event::Eof | Event::Decl(_)) => return Err(XmlError::Malformed { position }),
            (None, Event::Start(element)) if element.name().as_ref() == item.as_bytes() => {
                open = Some((Fields::new(), HashSet::new(), None));
            }
            (None, Event::Empty(element)) if element.name().as_ref() == item.as_bytes() => {
                items.push(Fields::new());
            }
            // The list's end (the reader checks that end names match).
            (None, Event::End(_)) => return Ok(items),
            (None, Event::Start(_) | Event::Empty(_)) => {
                return Err(XmlError::Nested {
                    field: shortened(list),
                });
            }
            (None, event) => outside_field(&event, position)?,
            (Some((_, _, field @ None)), Event::Start(element)) => {
                *field = Some((element_name(element.name().as_ref()), Zeroizing::default()));
            }
            (Some((fields, seen, None)), Event::Empty(element)) => {
                let name = element_name(element.name().as_ref());
                add(fields, seen, name, String::new())?;
            }
            (Some((fields, seen, field @ Some(_))), Event::End(_)) => {
                if let Some((name, mut value)) = field.take() {
                    add(fields, seen, name, std::mem::take(&mut value))?;
                }
            }
            (slot @ Some((_, _, None)), Event::End(_)) => {
                if let Some((fields, _, _)) = slot.take() {
                    items.push(fields);
                }
            }
            (Some((_, _, Some((name, _)))), Event::Start(_) | Event::Empty(_)) => {
                return Err(XmlError::Nested {
                    field: shortened(name),
                });
            }
            (Some((_, _, Some((_, value)))), event) => push_text(value, &event, position)?,
            (Some((_, _, None)), event) => outside_field(&event, position)?,
        }
    }
}

/// Appends the text an event holds (text, CDATA or a reference) to a field's value.
fn push_text(value: &mut String, event: &Event<'_>, position: u64) -> Result<(), XmlError> {
    match event {
        Event::Text(text) => {
            value.push_str(&text.xml10_content().map_err(|_| XmlError::NotUtf8)?);
        }
        Event::CData(cdata) => {
            value.push_str(&cdata.xml10_content().map_err(|_| XmlError::NotUtf8)?);
        }
        Event::GeneralRef(reference) => value.push_str(&resolve(reference, position)?),
        _ => return Err(XmlError::Malformed { position }),
    }
    Ok(())
}

/// Outside a field only white space may stand (a reference is refused as an undeclared
/// entity would be, or as malformed).
fn outside_field(event: &Event<'_>, position: u64) -> Result<(), XmlError> {
    match event {
        Event::Text(text) if text.iter().all(u8::is_ascii_whitespace) => Ok(()),
        Event::GeneralRef(reference) => {
            resolve(reference, position)?;
            Err(XmlError::Malformed { position })
        }
        _ => Err(XmlError::Malformed { position }),
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

fn add_list(
    fields: &mut Fields,
    seen: &mut HashSet<String>,
    name: String,
    items: Vec<Fields>,
) -> Result<(), XmlError> {
    if !seen.insert(name.clone()) {
        return Err(XmlError::DuplicateField {
            field: shortened(&name),
        });
    }
    fields.push_new_list(name, items);
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

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVED: &[u8] = b"<xml><return_code>SUCCESS</return_code>\n\
        <hblist>\n <!-- who received it -->\n\
          <hbinfo><openid><![CDATA[oTEST1]]></openid><amount>100</amount>\
            <rcv_time><![CDATA[2015-04-21 20:00:00]]></rcv_time></hbinfo>\n\
          <hbinfo><openid>oTEST2 &amp; co</openid><amount>200</amount><rcv_time/></hbinfo>\n\
          <hbinfo/>\n\
        </hblist><total_num>3</total_num></xml>";

    #[test]
    fn the_declared_list_is_read_item_by_item() {
        let fields = parse(RECEIVED).unwrap();
        assert_eq!(
            fields.names().collect::<Vec<_>>(),
            ["return_code", "total_num"]
        );
        let items = fields.list("hblist").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].get("openid"), Some("oTEST1"));
        assert_eq!(items[0].get("rcv_time"), Some("2015-04-21 20:00:00"));
        assert_eq!(items[1].get("openid"), Some("oTEST2 & co"));
        assert_eq!(items[1].get("rcv_time"), Some(""));
        assert!(items[2].is_empty());
        // An empty list is a list of none; Debug names the list, never a value.
        let empty = parse(b"<xml><hblist/></xml>").unwrap();
        assert_eq!(empty.list("hblist"), Some(&[][..]));
        let debug = format!("{fields:?}");
        assert!(debug.contains(r#"lists: [("hblist", 3)]"#), "{debug}");
        assert!(!debug.contains("oTEST1"), "{debug}");
    }

    #[test]
    fn the_list_decodes_typed_and_no_sign_is_taken_to_cover_it() {
        use crate::apiv2::{SignType, from_fields, sign, verify};
        use crate::crypto::CryptoBackend;
        use crate::error::ApiV2SignError;
        use crate::keys::ApiV2Key;

        #[derive(Debug, serde::Deserialize)]
        struct Received {
            openid: String,
            amount: u64,
            rcv_time: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Answer {
            total_num: u32,
            #[serde(default)]
            hblist: Vec<Received>,
        }
        let fields = parse(RECEIVED).unwrap();
        let error = from_fields::<Answer>(&fields).unwrap_err();
        // The third item has no openid: the error names the item and its field.
        assert_eq!(error.field.as_deref(), Some("hblist[2].openid"));
        let two = parse(
            b"<xml><total_num>2</total_num><hblist><hbinfo><openid>o1</openid>\
              <amount>100</amount><rcv_time/></hbinfo><hbinfo><openid>o2</openid>\
              <amount>200</amount><rcv_time>2015-04-21 20:00:00</rcv_time></hbinfo></hblist></xml>",
        )
        .unwrap();
        let answer: Answer = from_fields(&two).unwrap();
        assert_eq!(answer.total_num, 2);
        assert_eq!(answer.hblist.len(), 2);
        assert_eq!(
            (answer.hblist[0].openid.as_str(), answer.hblist[0].amount),
            ("o1", 100)
        );
        assert_eq!(answer.hblist[0].rcv_time, None);
        assert_eq!(
            answer.hblist[1].rcv_time.as_deref(),
            Some("2015-04-21 20:00:00")
        );
        let bad = parse(b"<xml><total_num>1</total_num><hblist><hbinfo><openid>o</openid><amount>x</amount></hbinfo></hblist></xml>").unwrap();
        assert_eq!(
            from_fields::<Answer>(&bad).unwrap_err().field.as_deref(),
            Some("hblist[0].amount")
        );
        // Without the list: none received yet.
        let none: Answer =
            from_fields(&parse(b"<xml><total_num>1</total_num></xml>").unwrap()).unwrap();
        assert!(none.hblist.is_empty());

        // A sign over the flat fields says nothing of the list: a signed document with one is
        // refused, however right its sign.
        let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
        let backend = CryptoBackend::default();
        let mut signed = two.clone();
        signed.insert("sign", sign(&two, &key, SignType::Md5, backend).unwrap());
        assert_eq!(
            verify(&signed, &key, SignType::Md5, backend),
            Err(ApiV2SignError::UnsignedList {
                element: "hblist".into()
            })
        );
    }

    #[test]
    fn nesting_stays_refused_everywhere_else_in_and_around_the_list() {
        let nested = |field: &str| {
            Err(XmlError::Nested {
                field: field.into(),
            })
        };
        let cases: &[(&[u8], Result<Fields, XmlError>)] = &[
            // Not the list's item.
            (b"<xml><hblist><other/></hblist></xml>", nested("hblist")),
            (b"<xml><hblist><hblist/></hblist></xml>", nested("hblist")),
            // An item's field holds text only: no list inside a list.
            (
                b"<xml><hblist><hbinfo><openid><x/></openid></hbinfo></hblist></xml>",
                nested("openid"),
            ),
            (
                b"<xml><hblist><hbinfo><hblist><hbinfo/></hblist></hbinfo></hblist></xml>",
                nested("hblist"),
            ),
            // The list's name inside a field, and the item outside its list.
            (b"<xml><a><hblist/></a></xml>", nested("a")),
            (b"<xml><hbinfo><amount>1</amount></hbinfo></xml>", nested("hbinfo")),
            // Twice, in a list or in an item.
            (
                b"<xml><hblist/><hblist/></xml>",
                Err(XmlError::DuplicateField {
                    field: "hblist".into(),
                }),
            ),
            (
                b"<xml><hblist><hbinfo><amount>1</amount><amount>9</amount></hbinfo></hblist></xml>",
                Err(XmlError::DuplicateField {
                    field: "amount".into(),
                }),
            ),
            // Text between items, an entity, an unclosed list.
            (
                b"<xml><hblist>loose<hbinfo/></hblist></xml>",
                Err(XmlError::Malformed { position: 13 }),
            ),
            (
                b"<xml><hblist><hbinfo><a>&xxe;</a></hbinfo></hblist></xml>",
                Err(XmlError::Entity { position: 24 }),
            ),
            (
                b"<xml><hblist><hbinfo>",
                Err(XmlError::Malformed { position: 21 }),
            ),
            (
                b"<xml><hblist><hbinfo></hblist></hbinfo></xml>",
                Err(XmlError::Malformed { position: 21 }),
            ),
            (
                b"<xml><hblist><?php x?></hblist></xml>",
                Err(XmlError::ProcessingInstruction { position: 13 }),
            ),
        ];
        for (document, expected) in cases {
            assert_eq!(
                &parse(document),
                expected,
                "{}",
                String::from_utf8_lossy(document)
            );
        }
        // A DTD is refused before any list is read, and the size limit holds for lists too.
        let bomb = b"<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml><hblist><hbinfo><a>&a;</a></hbinfo></hblist></xml>";
        assert_eq!(parse(bomb), Err(XmlError::Doctype { position: 0 }));
        let items = "<hbinfo><amount>1</amount></hbinfo>".repeat(super::super::MAX_ANSWER_LEN / 30);
        let big = format!("<xml><hblist>{items}</hblist></xml>");
        assert!(matches!(
            parse(big.as_bytes()),
            Err(XmlError::TooLarge { .. })
        ));
    }
}
