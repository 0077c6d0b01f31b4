//! The path template: `"/v3/marketing/favor/stocks/<stock_id>/pause"` split into literal text
//! and `<name>` placeholders, with every mistake reported at its byte range in the template.
//!
//! Pure string work, so it is unit-tested without a compiler; `lib.rs` maps the byte ranges
//! onto sub-spans of the string literal.

use std::ops::Range;

/// One piece of a template, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text written as it is, slashes included (`/v3/marketing/favor/stocks/`).
    Literal(String),
    /// A whole segment filled from the field `name`; `range` covers `<name>`.
    Placeholder { name: String, range: Range<usize> },
}

/// A mistake in the template: what is wrong and where (bytes of the template's value).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub range: Range<usize>,
    pub message: String,
}

/// Characters a literal segment may contain besides ASCII letters and digits: RFC 3986
/// `pchar` (`%` only as the start of a `%XX` escape). The runtime's path-segment encoder
/// keeps the same ones: it reads them through `__path_segment_chars!`.
pub(crate) const LITERAL_CHARS: &str = "-._~!$&'()*+,;=:@";

/// Splits `text` into pieces. Every mistake is reported, not only the first; the pieces are
/// meaningful only when there are no errors.
pub(crate) fn parse(text: &str) -> (Vec<Piece>, Vec<TemplateError>) {
    let mut pieces = Vec::new();
    let mut errors = Vec::new();
    let mut error =
        |range: Range<usize>, message: String| errors.push(TemplateError { range, message });

    if text.is_empty() {
        error(
            0..0,
            "the path template is empty; write the path as documented, e.g. `\"/v3/certificates\"`"
                .into(),
        );
        return (pieces, errors);
    }

    // A query or fragment is never part of the template: report it and look at the path only.
    let mut path = text;
    if let Some(at) = text.find(['?', '#']) {
        let what = if text[at..].starts_with('?') {
            "query"
        } else {
            "fragment"
        };
        error(
            at..text.len(),
            format!(
                "the path template cannot contain a {what} (`{}`); query parameters come from \
                 fields: GET and DELETE fields go to the query string by default, other methods \
                 mark them `#[wxpay(query)]`",
                &text[at..]
            ),
        );
        path = &text[..at];
    }

    let mut start = 0;
    if path.starts_with('/') {
        start = 1;
    } else {
        let first = path.chars().next().map_or(0, char::len_utf8);
        error(
            0..first,
            format!("the path template must start with `/`; write `\"/{text}\"`"),
        );
    }

    let mut literal = String::from(&path[..start]);
    let mut seen: Vec<&str> = Vec::new();
    let mut offset = start;
    let mut segments = path[start..].split('/').peekable();
    while let Some(segment) = segments.next() {
        let range = offset..offset + segment.len();
        let last = segments.peek().is_none();
        if segment.is_empty() {
            // A trailing `/` is part of some of the platform's paths
            // (`POST /v3/applyment4sub/applyment/`); `//` and a bare `/` never are.
            let trailing = last && offset > start;
            if last && !trailing {
                error(
                    offset.saturating_sub(1)..offset.max(1),
                    "the path template is `/` alone; write the operation's path, such as \
                     `/v3/certificates`"
                        .to_owned(),
                );
            } else if !trailing {
                error(
                    offset.saturating_sub(1)..offset + 1,
                    "empty path segment (`//`); remove the extra `/`".to_owned(),
                );
            }
        } else if segment.contains(['<', '>']) {
            match placeholder(segment, range.clone()) {
                Ok(name) => {
                    if seen.contains(&name) {
                        error(
                            range.clone(),
                            format!(
                                "placeholder `<{name}>` appears twice; each field fills one \
                                 segment, so use another field for the second one"
                            ),
                        );
                    } else {
                        seen.push(name);
                    }
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    pieces.push(Piece::Placeholder {
                        name: name.to_owned(),
                        range: range.clone(),
                    });
                }
                Err(e) => error(e.range, e.message),
            }
        } else {
            literal_segment(segment, range.start, &mut error);
            literal.push_str(segment);
        }
        if !last {
            literal.push('/');
        }
        offset = range.end + 1;
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces.retain(|piece| !matches!(piece, Piece::Literal(text) if text.is_empty()));
    (pieces, errors)
}

/// A segment with `<` or `>` in it must be exactly `<name>`.
fn placeholder(segment: &str, range: Range<usize>) -> Result<&str, TemplateError> {
    let at = |from: usize, to: usize| range.start + from..range.start + to;
    let Some(open) = segment.find('<') else {
        let close = segment.find('>').unwrap_or(0);
        return Err(TemplateError {
            range: at(close, close + 1),
            message: format!(
                "`>` without an opening `<` in the path segment `{segment}`; a placeholder is \
                 written `<field_name>`"
            ),
        });
    };
    let Some(close) = segment[open..].find('>').map(|i| open + i) else {
        return Err(TemplateError {
            range: at(open, segment.len()),
            message: format!(
                "unclosed `<` in the path segment `{segment}`; close the placeholder: `{}>`",
                &segment[open..]
            ),
        });
    };
    let name = &segment[open + 1..close];
    if open != 0 || close != segment.len() - 1 || name.contains(['<', '>']) {
        return Err(TemplateError {
            range: at(0, segment.len()),
            message: format!(
                "placeholder `<{name}>` must be a whole path segment, but the segment is \
                 `{segment}`; put it between two `/` (the field's value fills the segment)"
            ),
        });
    }
    if !is_identifier(name) {
        let message = if name.is_empty() {
            "empty placeholder `<>`; name the field that fills this segment: `<field_name>`"
                .to_owned()
        } else {
            format!("placeholder `<{name}>` is not a field name; write `<field_name>`")
        };
        return Err(TemplateError {
            range: at(0, segment.len()),
            message,
        });
    }
    Ok(name)
}

/// Checks the characters of a literal segment that starts at byte `start` of the template.
fn literal_segment(segment: &str, start: usize, error: &mut impl FnMut(Range<usize>, String)) {
    let bytes = segment.as_bytes();
    let mut chars = segment.char_indices();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_alphanumeric() || LITERAL_CHARS.contains(c) {
            continue;
        }
        if c == '%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            continue;
        }
        if c == '{'
            && let Some(len) = segment[i..].find('}')
        {
            let inner = &segment[i + 1..i + len];
            error(
                start + i..start + i + len + 1,
                format!("placeholders are written `<{inner}>`, not `{{{inner}}}`"),
            );
            // Skip to the closing brace: one message for the whole `{name}`.
            for _ in 0..segment[i + 1..i + len + 1].chars().count() {
                chars.next();
            }
            continue;
        }
        let what = match c {
            ' ' => "a space".to_owned(),
            '%' => "`%` that does not start a `%XX` escape".to_owned(),
            c if c.is_ascii_graphic() => format!("`{c}`"),
            c => format!("`{}`", c.escape_default()),
        };
        error(
            start + i..start + i + c.len_utf8(),
            format!(
                "{what} cannot appear in the path template; write the path as sent, or fill \
                 the segment from a field with `<field_name>` (field values are percent-encoded)"
            ),
        );
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    name != "_" && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The documented form of a template, `{name}` for each placeholder.
pub(crate) fn documented(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Placeholder { name, .. } => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Piece {
        Piece::Literal(text.into())
    }

    fn ph(name: &str, range: Range<usize>) -> Piece {
        Piece::Placeholder {
            name: name.into(),
            range,
        }
    }

    /// The errors as (range, first words of the message).
    fn errors(text: &str) -> Vec<(Range<usize>, String)> {
        let (_, errors) = parse(text);
        errors.into_iter().map(|e| (e.range, e.message)).collect()
    }

    fn only_error(text: &str) -> (Range<usize>, String) {
        let mut all = errors(text);
        assert_eq!(all.len(), 1, "{text}: {all:?}");
        all.remove(0)
    }

    #[test]
    fn splits_literals_and_placeholders() {
        let (pieces, errors) = parse("/v3/marketing/favor/stocks/<stock_id>/pause");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            pieces,
            [
                lit("/v3/marketing/favor/stocks/"),
                ph("stock_id", 27..37),
                lit("/pause"),
            ]
        );
        assert_eq!(
            documented(&pieces),
            "/v3/marketing/favor/stocks/{stock_id}/pause"
        );
    }

    #[test]
    fn placeholders_at_the_end_and_side_by_side() {
        let (pieces, errors) = parse("/v3/a/<x>/<y>");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            pieces,
            [lit("/v3/a/"), ph("x", 6..9), lit("/"), ph("y", 10..13)]
        );
        assert_eq!(documented(&pieces), "/v3/a/{x}/{y}");
    }

    #[test]
    fn plain_paths_are_one_literal() {
        let (pieces, errors) = parse("/v3/certificates");
        assert!(errors.is_empty());
        assert_eq!(pieces, [lit("/v3/certificates")]);
        let (pieces, errors) = parse("/v3/a-b_c.d~e:f@g");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(pieces, [lit("/v3/a-b_c.d~e:f@g")]);
    }

    #[test]
    fn a_trailing_slash_is_kept() {
        let (pieces, errors) = parse("/v3/applyment4sub/applyment/");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(pieces, [lit("/v3/applyment4sub/applyment/")]);
        let (pieces, errors) = parse("/v3/a/<x>/");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(pieces, [lit("/v3/a/"), ph("x", 6..9), lit("/")]);
    }

    #[test]
    fn leading_slash_is_required() {
        let (range, message) = only_error("v3/certificates");
        assert_eq!(range, 0..1);
        assert!(message.contains("must start with `/`"), "{message}");
        assert!(message.contains("\"/v3/certificates\""), "{message}");
    }

    #[test]
    fn empty_template() {
        let (range, message) = only_error("");
        assert_eq!(range, 0..0);
        assert!(message.contains("empty"), "{message}");
    }

    #[test]
    fn empty_segments() {
        let (range, message) = only_error("/v3//certificates");
        assert_eq!(range, 3..5);
        assert!(message.contains("`//`"), "{message}");
        let (range, message) = only_error("/");
        assert_eq!(range, 0..1);
        assert!(message.contains("`/` alone"), "{message}");
    }

    #[test]
    fn unclosed_placeholder() {
        let (range, message) = only_error("/v3/stocks/<stock_id/pause");
        assert_eq!(range, 11..20);
        assert!(message.starts_with("unclosed `<`"), "{message}");
        assert!(message.contains("`<stock_id>`"), "{message}");
    }

    #[test]
    fn placeholder_must_be_whole_segment() {
        let (range, message) = only_error("/v3/a<b>/c");
        assert_eq!(range, 4..8);
        assert!(
            message.contains("must be a whole path segment"),
            "{message}"
        );
        let (range, _) = only_error("/v3/<b>c");
        assert_eq!(range, 4..8);
        let (range, _) = only_error("/v3/<a><b>");
        assert_eq!(range, 4..10);
    }

    #[test]
    fn stray_closing_bracket() {
        let (range, message) = only_error("/v3/a>");
        assert_eq!(range, 5..6);
        assert!(message.contains("without an opening `<`"), "{message}");
    }

    #[test]
    fn placeholder_names_must_be_identifiers() {
        let (range, message) = only_error("/v3/<>");
        assert_eq!(range, 4..6);
        assert!(message.contains("empty placeholder"), "{message}");
        let (_, message) = only_error("/v3/<stock-id>");
        assert!(message.contains("not a field name"), "{message}");
        let (_, message) = only_error("/v3/<1st>");
        assert!(message.contains("not a field name"), "{message}");
        assert!(errors("/v3/<_x1>").is_empty());
    }

    #[test]
    fn duplicate_placeholder_points_at_the_second() {
        let (range, message) = only_error("/v3/<id>/x/<id>");
        assert_eq!(range, 11..15);
        assert!(message.contains("appears twice"), "{message}");
    }

    #[test]
    fn query_is_rejected_and_the_path_still_checked() {
        let all = errors("/v3/x?limit=<limit>");
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].0, 5..19);
        assert!(all[0].1.contains("cannot contain a query"), "{}", all[0].1);
        let all = errors("v3//x?a");
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(all[0].0, 5..7);
        let (range, message) = only_error("/v3/x#top");
        assert_eq!(range, 5..9);
        assert!(message.contains("fragment"), "{message}");
    }

    #[test]
    fn braces_get_a_hint() {
        let (range, message) = only_error("/v3/stocks/{stock_id}/pause");
        assert_eq!(range, 11..21);
        assert_eq!(
            message,
            "placeholders are written `<stock_id>`, not `{stock_id}`"
        );
    }

    #[test]
    fn characters_outside_pchar_are_rejected() {
        let (range, message) = only_error("/v3/a b");
        assert_eq!(range, 5..6);
        assert!(message.starts_with("a space"), "{message}");
        let (range, _) = only_error("/v3/券");
        assert_eq!(range, 4..7);
        let (range, message) = only_error("/v3/100%");
        assert_eq!(range, 7..8);
        assert!(message.contains("`%XX`"), "{message}");
        assert!(errors("/v3/a%2Fb").is_empty());
    }

    #[test]
    fn every_mistake_is_reported() {
        // The trailing `/` is allowed (the platform has such paths); the rest is not.
        let all = errors("/v3//<a/<b>c/<>/");
        let ranges: Vec<_> = all.iter().map(|(range, _)| range.clone()).collect();
        assert_eq!(ranges, [3..5, 5..7, 8..12, 13..15], "{all:?}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Valid templates: segments of literal text or whole `<name>` placeholders, names unique.
    fn valid_template() -> impl Strategy<Value = (String, Vec<String>)> {
        proptest::collection::vec(("[a-z0-9][a-z0-9._~-]{0,8}", any::<bool>()), 1..6).prop_map(
            |segments| {
                let mut text = String::new();
                let mut names = Vec::new();
                for (i, (word, placeholder)) in segments.into_iter().enumerate() {
                    text.push('/');
                    if placeholder {
                        let name = format!("p{i}");
                        text.push_str(&format!("<{name}>"));
                        names.push(name);
                    } else {
                        text.push_str(&word);
                    }
                }
                (text, names)
            },
        )
    }

    proptest! {
        #[test]
        fn any_text_is_parsed_without_panic(text in "\\PC{0,64}") {
            let (_, errors) = parse(&text);
            for error in errors {
                prop_assert!(error.range.end <= text.len());
                prop_assert!(text.is_char_boundary(error.range.start) && text.is_char_boundary(error.range.end));
            }
        }

        #[test]
        fn valid_templates_parse_cleanly_and_document_with_braces((text, names) in valid_template()) {
            let (pieces, errors) = parse(&text);
            prop_assert!(errors.is_empty(), "{text}: {errors:?}");
            let placeholders: Vec<_> = pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Placeholder { name, .. } => Some(name.clone()),
                    Piece::Literal(_) => None,
                })
                .collect();
            prop_assert_eq!(placeholders, names);
            prop_assert_eq!(documented(&pieces), text.replace('<', "{").replace('>', "}"));
        }
    }
}
