//! Unix `compress` (`.Z`, LZW) expansion: IGS archives still serve orbits, clocks and RINEX
//! files packed this way.
//!
//! The stream is a three-byte header (`1f 9d`, then the largest code width in the low five bits
//! and block mode in the top bit) and codes of 9 bits growing to that width, packed least
//! significant bit first. In block mode code 256 clears the table. The compressor writes codes
//! in groups of eight: when the width grows or the table is cleared, the rest of the current
//! group is padding and the next code starts at the next group of the new width (what
//! ncompress's and gzip's decoders do). A stream cut short expands to the prefix it holds, which
//! is how a file's head is read without the rest. Any input gives output or an error, never a
//! panic; the output is bounded by the caller's limit.

/// The two bytes a `.Z` stream starts with.
pub const MAGIC: [u8; 2] = [0x1f, 0x9d];

/// Largest expansion [`decompress`] returns: more is an error, not an allocation.
pub const MAX_OUTPUT: usize = 1 << 30;

const CLEAR: u32 = 256;
const INIT_BITS: u32 = 9;

/// Why a `.Z` stream cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LzwError {
    #[error("not a Unix compress (.Z) stream: it does not start with 1f 9d")]
    NotCompress,
    #[error("Unix compress (.Z) header: a largest code width of {0} bits (9 to 16 are valid)")]
    Width(u8),
    #[error(
        "Unix compress (.Z) data corrupt at byte {byte}: code {code} where at most {next} can follow"
    )]
    Corrupt { byte: usize, code: u32, next: u32 },
    #[error("Unix compress (.Z) data expands beyond {0} bytes")]
    TooLarge(usize),
}

/// Whether `data` starts as a `.Z` stream.
pub fn is_compress(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// The whole expansion of a `.Z` stream (at most [`MAX_OUTPUT`] bytes).
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, LzwError> {
    expand(data, MAX_OUTPUT, false)
}

/// The first `limit` bytes of a `.Z` stream's expansion (fewer when the stream is shorter):
/// `data` may be the file's first bytes only.
pub fn decompress_head(data: &[u8], limit: usize) -> Result<Vec<u8>, LzwError> {
    expand(data, limit, true)
}

fn expand(data: &[u8], limit: usize, truncate: bool) -> Result<Vec<u8>, LzwError> {
    if !is_compress(data) {
        return Err(LzwError::NotCompress);
    }
    let Some(&flags) = data.get(2) else {
        return Ok(Vec::new());
    };
    let max_bits = u32::from(flags & 0x1f);
    if !(INIT_BITS..=16).contains(&max_bits) {
        return Err(LzwError::Width(flags & 0x1f));
    }
    let block = flags & 0x80 != 0;
    let body = &data[3..];
    let total_bits = body.len() * 8;
    let max_max_code = 1u32 << max_bits;
    // Index max_max_code is written once the table is full (never read): one spare entry.
    let size = max_max_code as usize + 1;
    let mut prefix = vec![0u16; size];
    let mut suffix = vec![0u8; size];
    for (i, s) in suffix.iter_mut().enumerate().take(256) {
        *s = i as u8;
    }
    let mut n_bits = INIT_BITS;
    let mut max_code = (1u32 << n_bits) - 1;
    let mut free = if block { 257 } else { 256 };
    let mut pos = 0usize;
    let mut base = 0usize;
    let mut old: Option<u32> = None;
    let mut fin = 0u8;
    let mut out = Vec::with_capacity(body.len().saturating_mul(3).min(limit));
    let mut stack: Vec<u8> = Vec::new();
    // Skips to the next group of eight codes of the width in use.
    let align = |pos: usize, base: usize, n_bits: u32| {
        let group = n_bits as usize * 8;
        base + (pos - base).div_ceil(group) * group
    };
    loop {
        if free > max_code {
            pos = align(pos, base, n_bits);
            base = pos;
            n_bits += 1;
            max_code = if n_bits == max_bits {
                max_max_code
            } else {
                (1u32 << n_bits) - 1
            };
            continue;
        }
        if pos + n_bits as usize > total_bits {
            break;
        }
        let code = read_code(body, pos, n_bits);
        let byte = 3 + pos / 8;
        pos += n_bits as usize;
        let Some(prev) = old else {
            if code >= 256 {
                return Err(LzwError::Corrupt {
                    byte,
                    code,
                    next: 255,
                });
            }
            fin = code as u8;
            out.push(fin);
            old = Some(code);
            continue;
        };
        if block && code == CLEAR {
            pos = align(pos, base, n_bits);
            base = pos;
            n_bits = INIT_BITS;
            max_code = (1u32 << n_bits) - 1;
            free = 256;
            continue;
        }
        stack.clear();
        let mut c = code;
        if c >= free {
            if c > free {
                return Err(LzwError::Corrupt {
                    byte,
                    code,
                    next: free,
                });
            }
            // The string being defined by this very code: the previous one plus its own first
            // byte.
            stack.push(fin);
            c = prev;
        }
        while c >= 256 {
            let (Some(&s), Some(&p)) = (suffix.get(c as usize), prefix.get(c as usize)) else {
                return Err(LzwError::Corrupt {
                    byte,
                    code,
                    next: free,
                });
            };
            stack.push(s);
            c = u32::from(p);
            if stack.len() > size {
                return Err(LzwError::Corrupt {
                    byte,
                    code,
                    next: free,
                });
            }
        }
        fin = c as u8;
        stack.push(fin);
        if out.len() + stack.len() > limit {
            if truncate {
                let room = limit - out.len();
                out.extend(stack.iter().rev().take(room));
                return Ok(out);
            }
            return Err(LzwError::TooLarge(limit));
        }
        out.extend(stack.iter().rev());
        if free < max_max_code {
            if let (Some(p), Some(s)) =
                (prefix.get_mut(free as usize), suffix.get_mut(free as usize))
            {
                *p = prev as u16;
                *s = fin;
            }
            free += 1;
        }
        old = Some(code);
    }
    Ok(out)
}

/// `n_bits` bits at bit `pos` of `body`, least significant first (the caller checked that
/// they are there).
fn read_code(body: &[u8], pos: usize, n_bits: u32) -> u32 {
    let mut v = 0u32;
    for k in 0..3 {
        if let Some(&b) = body.get(pos / 8 + k) {
            v |= u32::from(b) << (8 * k);
        }
    }
    (v >> (pos % 8)) & ((1u32 << n_bits) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.Z` stream written code by code, the way compress packs it (no group padding needed
    /// while the width stays 9 bits and no clear is sent).
    fn pack(codes: &[u32]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x9d, 0x90];
        let (mut acc, mut bits) = (0u64, 0u32);
        for &c in codes {
            acc |= u64::from(c) << bits;
            bits += 9;
            while bits >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                bits -= 8;
            }
        }
        if bits > 0 {
            out.push(acc as u8);
        }
        out
    }

    #[test]
    fn codes_expand_including_the_string_being_defined() {
        // "abababab": a, b, 257 = ab, 259 = aba (used in the step that defines it), b.
        let z = pack(&[97, 98, 257, 259, 98]);
        assert_eq!(decompress(&z).unwrap(), b"abababab");
        assert_eq!(decompress_head(&z, 3).unwrap(), b"aba");
    }

    #[test]
    fn bad_streams_are_errors_not_panics() {
        assert_eq!(decompress(b"\x1f\x8b\x08"), Err(LzwError::NotCompress));
        assert_eq!(decompress(&[0x1f, 0x9d, 0x88]), Err(LzwError::Width(8)));
        assert_eq!(decompress(&[0x1f, 0x9d, 0x91]), Err(LzwError::Width(17)));
        assert!(matches!(
            decompress(&pack(&[97, 300])),
            Err(LzwError::Corrupt { code: 300, .. })
        ));
        assert!(matches!(
            decompress(&pack(&[256])),
            Err(LzwError::Corrupt { .. })
        ));
        assert_eq!(decompress(&[0x1f, 0x9d]).unwrap(), b"");
        // Every short input and a pseudo-random walk over widths and flags.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..400 {
            let mut d = vec![0x1f, 0x9d];
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                d.push(x as u8);
            }
            let _ = decompress(&d);
            let _ = decompress_head(&d, 10);
        }
    }
}
