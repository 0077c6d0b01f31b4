//! Percent-encoding for path segments and query components.
//!
//! The signature covers the path and query exactly as sent, so the encoding only has to be
//! valid and deterministic; it matches what the platform's own SDKs send.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment encodes: everything but ASCII letters, digits and the rest of RFC 3986
/// `pchar`, so `/`, `%`, `?`, `#`, space, controls and non-ASCII. The kept characters are
/// defined once, in the macro crate, which checks template literals against them.
pub(crate) const PATH_SEGMENT: &AsciiSet = &keeping(wxpay_macros::__path_segment_chars!());

/// What a query name or value encodes: everything but the unreserved set, as
/// `encodeURIComponent` minus `!'()*` (so `:` and `+` in times become `%3A` and `%2B`).
pub(crate) const QUERY_COMPONENT: &AsciiSet = &keeping(b"-._~");

/// What an already-encoded query may not contain as it is: its separators stay. A literal `'`
/// is encoded too: URL layers encode it in `http(s)` queries.
const QUERY: &AsciiSet = &keeping(b"-._~!$&()*+,;=:@/?");

/// The set encoding every byte but ASCII letters, digits and `kept`.
const fn keeping(kept: &[u8]) -> AsciiSet {
    let mut set = NON_ALPHANUMERIC.union(AsciiSet::EMPTY);
    let mut index = 0;
    while index < kept.len() {
        set = set.remove(kept[index]);
        index += 1;
    }
    set
}

/// Whether `set` encodes `byte` (the crate does not say directly: adding it changes nothing).
fn encodes(set: &AsciiSet, byte: u8) -> bool {
    !byte.is_ascii() || set.add(byte) == *set
}

/// Appends `text` to `out`, percent-encoding what `set` encodes. Hex digits are upper-case.
pub(crate) fn percent_encode_into(out: &mut String, text: &str, set: &'static AsciiSet) {
    out.extend(utf8_percent_encode(text, set));
}

/// Why a path segment value cannot be sent: `.` and `..` are dot segments, which every URL
/// layer collapses, so the platform would see another path than the one signed. Other values
/// are safe once encoded with [`PATH_SEGMENT`] (their `%` becomes `%25`, so no encoded dot
/// can appear).
pub(crate) fn check_segment_value(text: &str) -> Result<(), String> {
    if text == "." || text == ".." {
        return Err(format!(
            "{text:?} is a dot segment, which the URL layer would remove; it cannot be sent"
        ));
    }
    Ok(())
}

/// Path prefixes of APIv3 operations: `/v3/…`, and the Hong Kong and cross-border families
/// (`/hk/v3/…`, `/global/v3/…`).
pub(crate) const PATH_PREFIXES: &[&str] = &["/v3/", "/hk/", "/global/"];

/// Checks a path that arrives already encoded (a dynamic template, a `download_url`): an
/// APIv3 path under [`PATH_PREFIXES`], segments of `pchar`s and valid `%XX` escapes only, no
/// empty segment but a trailing one, no dot segment (encoded or not). With `placeholders`,
/// a segment may be one `{name}` placeholder, filled later. Anything a URL layer would
/// rewrite after signing (`\`, `#`, `?`, spaces, non-ASCII, `%` not followed by two hex
/// digits) is refused, and so is anything that is not a path (`@host:port/…`, `//host/…`).
pub(crate) fn check_encoded_path(path: &str, placeholders: bool) -> Result<(), String> {
    if !PATH_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return Err("an APIv3 path starts with /v3/, /hk/ or /global/".into());
    }
    check_encoded_segments(path, placeholders)
}

/// The segment rules of [`check_encoded_path`], for an absolute path of any prefix (a file
/// host's).
pub(crate) fn check_encoded_segments(path: &str, placeholders: bool) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("not an absolute path".into());
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (index, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            if index + 1 == segments.len() {
                continue;
            }
            return Err("the path has an empty segment (`//`)".into());
        }
        if placeholders && segment.starts_with('{') {
            let name = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .filter(|name| {
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                });
            if name.is_none() {
                return Err(
                    "a placeholder is a whole segment `{name}` of letters, digits and `_`".into(),
                );
            }
            continue;
        }
        if is_dot_segment(segment) {
            return Err("the path has a dot segment (`.`, `..` or an encoded one)".into());
        }
        check_encoded(segment, PATH_SEGMENT, "path")?;
    }
    Ok(())
}

/// Checks an already-encoded query (a `download_url`'s): what [`QUERY`] keeps and valid `%XX`
/// escapes only.
pub(crate) fn check_encoded_query(query: &str) -> Result<(), String> {
    check_encoded(query, QUERY, "query")
}

/// `%2e` and `%2E` count as `.`: the URL standard decodes them when it looks for dot
/// segments.
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    let dots = lower.replace("%2e", ".");
    dots == "." || dots == ".."
}

fn check_encoded(text: &str, set: &AsciiSet, part: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let escape = bytes.get(index + 1..index + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return Err(format!("the {part} has a `%` that is not a `%XX` escape"));
            }
            index += 3;
        } else if !encodes(set, byte) {
            index += 1;
        } else {
            return Err(format!(
                "the {part} has a character that must be percent-encoded first (byte 0x{byte:02X})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused_as_values_and_in_encoded_paths() {
        assert!(check_segment_value(".").is_err());
        assert!(check_segment_value("..").is_err());
        assert!(check_segment_value("...").is_ok());
        assert!(check_segment_value("%2E%2E").is_ok(), "its % is encoded");
        for path in [
            "/v3/a/../b",
            "/v3/./b",
            "/v3/%2E%2e/b",
            "/v3/a/.%2E",
            "/v3/%2e",
        ] {
            assert!(check_encoded_path(path, false).is_err(), "{path}");
        }
        assert!(check_encoded_path("/v3/a/.../b/", false).is_ok());
    }

    #[test]
    fn encoded_paths_take_pchars_escapes_and_whole_placeholders() {
        assert!(check_encoded_path("/v3/a/{id}/b", true).is_ok());
        assert!(check_encoded_path("/v3/a/{id}/b", false).is_err());
        assert!(check_encoded_path("/v3/a/{id}x", true).is_err());
        assert!(check_encoded_path("/v3/a%20b:c@d", false).is_ok());
        for path in [
            "/v3/a%2", "/v3/a%G0", "/v3/a b", "/v3/a\\b", "/v3/é", "/v3/a#b",
        ] {
            assert!(check_encoded_path(path, false).is_err(), "{path}");
        }
        assert!(check_encoded_query("token=a%2Fb&x=1").is_ok());
        assert!(check_encoded_query("token='a'").is_err());
        assert!(check_encoded_query("a#b").is_err());
    }

    fn encode(text: &str, set: &'static AsciiSet) -> String {
        let mut out = String::new();
        percent_encode_into(&mut out, text, set);
        out
    }

    #[test]
    fn path_segments_encode_separators_percent_space_and_non_ascii() {
        assert_eq!(encode("a/b", PATH_SEGMENT), "a%2Fb");
        assert_eq!(encode("100%", PATH_SEGMENT), "100%25");
        assert_eq!(encode("a?b#c", PATH_SEGMENT), "a%3Fb%23c");
        assert_eq!(encode("a b", PATH_SEGMENT), "a%20b");
        assert_eq!(encode("券", PATH_SEGMENT), "%E5%88%B8");
        assert_eq!(
            encode("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", PATH_SEGMENT),
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
        );
        assert_eq!(encode("a:b@c", PATH_SEGMENT), "a:b@c");
    }

    #[test]
    fn query_components_keep_only_unreserved() {
        assert_eq!(
            encode("2015-05-20T13:29:35+08:00", QUERY_COMPONENT),
            "2015-05-20T13%3A29%3A35%2B08%3A00"
        );
        assert_eq!(encode("a&b=c d", QUERY_COMPONENT), "a%26b%3Dc%20d");
        assert_eq!(encode("中", QUERY_COMPONENT), "%E4%B8%AD");
    }
}
