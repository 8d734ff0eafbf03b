//! HTTP Basic authorization: standard base64 with padding (RFC 4648 §4), and a password
//! comparison that does not tell by its time how much of a guess was right.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why an `Authorization` value could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A byte outside the base64 alphabet.
    #[error("not base64 (byte {byte:#04x})")]
    Base64 { byte: u8 },
    /// The decoded credentials are not text.
    #[error("credentials are not UTF-8")]
    NotText,
    /// No `:` between user and password.
    #[error("credentials without a ':' between user and password")]
    NoColon,
}

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, AuthError> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or(AuthError::Base64 { byte: c })?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// The value of an `Authorization` header for `user` and `password`.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64_encode(format!("{user}:{password}").as_bytes())
    )
}

/// User and password of an `Authorization` value; `Ok(None)` when it is not Basic.
pub fn parse_basic(value: &str) -> Result<Option<(String, String)>, AuthError> {
    let Some(b) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let text = String::from_utf8(base64_decode(b)?).map_err(|_| AuthError::NotText)?;
    let (u, p) = text.split_once(':').ok_or(AuthError::NoColon)?;
    Ok(Some((u.to_string(), p.to_string())))
}

/// Compare without an early exit, so the time taken does not tell how much of a password was
/// right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xFF);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_decode("!!!"), Err(AuthError::Base64 { byte: b'!' }));
    }

    #[test]
    fn basic_round_trip() {
        assert_eq!(basic("crew", "pass"), "Basic Y3JldzpwYXNz");
        assert_eq!(
            parse_basic("Basic Y3JldzpzZWNyZXQ="),
            Ok(Some(("crew".into(), "secret".into())))
        );
        assert_eq!(parse_basic("Bearer x"), Ok(None));
        assert_eq!(parse_basic("Basic Y3Jldw=="), Err(AuthError::NoColon));
    }

    #[test]
    fn equal_in_constant_time() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
