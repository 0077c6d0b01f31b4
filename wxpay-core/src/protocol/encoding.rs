//! Percent-encoding for path segments and query components.
//!
//! The signature covers the path and query exactly as sent, so the encoding only has to be
//! valid and deterministic; it matches what the platform's own SDKs send.

/// Characters kept as they are in a path segment: RFC 3986 `pchar` minus nothing. `/`, `%`,
/// `?`, `#`, space, controls and non-ASCII are encoded; case is kept.
pub(crate) const PATH_SEGMENT: &[u8] = b"-._~!$&'()*+,;=:@";

/// Characters kept in a query name or value besides alphanumerics: the unreserved set, as
/// `encodeURIComponent` minus `!'()*` (so `:` and `+` in times become `%3A` and `%2B`).
pub(crate) const QUERY_COMPONENT: &[u8] = b"-._~";

/// Appends `text` to `out`, percent-encoding every byte that is not alphanumeric ASCII or in
/// `keep`. Hex digits are upper-case.
pub(crate) fn percent_encode_into(out: &mut String, text: &str, keep: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xF)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, keep: &[u8]) -> String {
        let mut out = String::new();
        percent_encode_into(&mut out, text, keep);
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
