//! The strict hex decoder of urne-log, the server and the client (spec/02: what urne writes is
//! lowercase, so what it reads is too; the `hex` crate alone would accept uppercase).
//! urne-log's hashes, the server's JSON submissions and the client all read hex here;
//! urne-record (context ids) and urne-crypto keep their own, below this crate.

/// Lowercase hex of even length, or None (uppercase, odd length, anything else).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !is_lowercase_hex(text) {
        return None;
    }
    hex::decode(text).ok()
}

/// Exactly `2 × N` lowercase hex digits, or None.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    if !is_lowercase_hex(text) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn is_lowercase_hex(text: &str) -> bool {
    text.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_hex_of_the_right_length_is_read() {
        assert_eq!(decode("00ff"), Some(vec![0, 255]));
        assert_eq!(decode(""), Some(vec![]));
        for bad in ["00FF", "0f0", "+0", " 00", "0g"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode_array::<2>("ab01"), Some([0xab, 0x01]));
        assert_eq!(decode_array::<2>("AB01"), None);
        assert_eq!(decode_array::<2>("ab"), None);
        assert_eq!(decode_array::<2>("ab0102"), None);
    }
}
