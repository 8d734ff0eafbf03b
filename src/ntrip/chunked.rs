//! HTTP/1.1 chunked transfer coding, as NTRIP 2 uses it both ways: a client reads a caster's
//! stream, the caster reads what a v2 server POSTs. One decoder, fed in arbitrary pieces; limits
//! keep a garbage or hostile stream from growing memory.

/// Longest chunk-size line (size, extensions) accepted.
pub const MAX_SIZE_LINE: usize = 100;
/// Largest chunk accepted (a correction stream's chunks are a few kB).
pub const MAX_CHUNK: usize = 1 << 20;
/// The last chunk, which ends a stream.
pub const END: &[u8] = b"0\r\n\r\n";

/// Why a chunked stream cannot be read on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// A size line that is not hexadecimal.
    #[error("bad chunk size line {line:?}")]
    BadSize { line: String },
    /// A size line without its line end within [`MAX_SIZE_LINE`] bytes.
    #[error("chunk size line longer than {max} bytes")]
    LineTooLong { max: usize },
    /// A chunk larger than [`MAX_CHUNK`].
    #[error("chunk of {size} bytes above the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    /// Chunk data not followed by its line end.
    #[error("chunk data not followed by CRLF (byte {byte:#04x})")]
    MissingCrlf { byte: u8 },
}

/// The chunk holding `data`.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut c = format!("{:X}\r\n", data.len()).into_bytes();
    c.reserve(data.len() + 2);
    c.extend_from_slice(data);
    c.extend_from_slice(b"\r\n");
    c
}

/// Where the decoder is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum At {
    /// Reading a size line.
    #[default]
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(usize),
    /// After a chunk's data: its CR (optional) and LF.
    Cr,
    Lf,
    /// After the last chunk: nothing more is data.
    Done,
}

/// Incremental decoder.
#[derive(Debug, Default)]
pub struct Dechunker {
    at: At,
    line: Vec<u8>,
}

impl Dechunker {
    /// Append the data bytes in `input` to `out`. After an error the stream is lost: the
    /// caller drops the connection.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), ChunkedError> {
        while let Some((&b, rest)) = input.split_first() {
            match self.at {
                At::Done => return Ok(()),
                At::Data(n) => {
                    let k = n.min(input.len());
                    out.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    self.at = if k == n { At::Cr } else { At::Data(n - k) };
                    continue;
                }
                // A bare LF is taken too: some servers end lines so.
                At::Cr if b == b'\r' => self.at = At::Lf,
                At::Cr | At::Lf if b == b'\n' => self.at = At::Size,
                At::Cr | At::Lf => return Err(ChunkedError::MissingCrlf { byte: b }),
                At::Size if b == b'\n' => {
                    let text = String::from_utf8_lossy(&self.line).into_owned();
                    let size = text.trim().split(';').next().unwrap_or("").trim();
                    let n = usize::from_str_radix(size, 16)
                        .map_err(|_| ChunkedError::BadSize { line: text.clone() })?;
                    self.line.clear();
                    self.at = match n {
                        0 => At::Done,
                        n if n > MAX_CHUNK => {
                            return Err(ChunkedError::TooLarge {
                                size: n,
                                max: MAX_CHUNK,
                            });
                        }
                        n => At::Data(n),
                    };
                }
                At::Size => {
                    if self.line.len() >= MAX_SIZE_LINE {
                        return Err(ChunkedError::LineTooLong { max: MAX_SIZE_LINE });
                    }
                    self.line.push(b);
                }
            }
            input = rest;
        }
        Ok(())
    }

    /// The last (zero-size) chunk has come.
    pub fn finished(&self) -> bool {
        self.at == At::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunk_in_pieces() {
        let wire = b"4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n";
        for step in 1..wire.len() {
            let mut d = Dechunker::default();
            let mut out = Vec::new();
            for c in wire.chunks(step) {
                d.feed(c, &mut out).unwrap();
            }
            assert_eq!(out, b"abcdefg");
            assert!(d.finished());
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let mut wire = encode(b"hello");
        wire.extend(encode(&[0xD3; 300]));
        wire.extend_from_slice(END);
        let (mut d, mut out) = (Dechunker::default(), Vec::new());
        d.feed(&wire, &mut out).unwrap();
        assert_eq!(&out[..5], b"hello");
        assert_eq!(out.len(), 305);
        assert!(d.finished());
    }

    #[test]
    fn broken_streams_are_errors() {
        let feed = |w: &[u8]| Dechunker::default().feed(w, &mut Vec::new());
        assert!(matches!(feed(b"zz\r\n"), Err(ChunkedError::BadSize { .. })));
        assert!(matches!(
            feed(b"2\r\nabX"),
            Err(ChunkedError::MissingCrlf { byte: b'X' })
        ));
        assert!(matches!(
            feed(b"200000\r\n"),
            Err(ChunkedError::TooLarge { .. })
        ));
        assert!(matches!(
            feed(&[b'1'; 200]),
            Err(ChunkedError::LineTooLong { .. })
        ));
        // A bare LF after the data is taken.
        let mut out = Vec::new();
        Dechunker::default().feed(b"2\nab\n0\n", &mut out).unwrap();
        assert_eq!(out, b"ab");
    }
}
