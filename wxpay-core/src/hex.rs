//! Bytes as hexadecimal text: digests in lower case, certificate serials in upper case.

/// Lower-case hex, as digests are compared and printed.
pub(crate) fn lower(bytes: &[u8]) -> String {
    encode(bytes, b"0123456789abcdef")
}

/// Upper-case hex, as the platform writes certificate serials.
pub(crate) fn upper(bytes: &[u8]) -> String {
    encode(bytes, b"0123456789ABCDEF")
}

fn encode(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(digits[usize::from(byte >> 4)]));
        hex.push(char::from(digits[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_cases_keep_leading_zeros() {
        assert_eq!(super::lower(&[0x0a, 0xff, 0x00]), "0aff00");
        assert_eq!(super::upper(&[0x0a, 0xff, 0x00]), "0AFF00");
        assert_eq!(super::lower(&[]), "");
    }
}
