//! NTRIP client (v1 and v2): the request, the caster's answer, and HTTP chunked transfer
//! decoding for v2 streams.

use std::time::Duration;

use crate::config::NtripSettings;

/// The request for a mountpoint. `gga` is the v2 `Ntrip-GGA` header (v1 sends GGA in-band).
pub fn request(s: &NtripSettings, gga: Option<&str>) -> String {
    let mut r = if s.version == 1 {
        format!(
            "GET /{} HTTP/1.0\r\nUser-Agent: NTRIP corsd/{}\r\nAccept: */*\r\n",
            s.mountpoint,
            env!("CARGO_PKG_VERSION")
        )
    } else {
        let host = if s.host.contains(':') {
            format!("[{}]", s.host)
        } else {
            s.host.clone()
        };
        format!(
            "GET /{} HTTP/1.1\r\nHost: {}:{}\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP corsd/{}\r\nConnection: close\r\n",
            s.mountpoint,
            host,
            s.port,
            env!("CARGO_PKG_VERSION")
        )
    };
    if let (Some(u), Some(p)) = (&s.user, &s.password) {
        r.push_str("Authorization: Basic ");
        r.push_str(&base64(format!("{u}:{}", p.expose()).as_bytes()));
        r.push_str("\r\n");
    }
    if let (2, Some(g)) = (s.version, gga) {
        r.push_str("Ntrip-GGA: ");
        r.push_str(g.trim_end());
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                o.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// What the caster said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The stream follows (`chunked` for v2 with chunked transfer); `consumed` bytes of the
    /// input were the header.
    Stream { chunked: bool, consumed: usize },
    /// More header bytes needed.
    Incomplete,
    /// Refused, with the reason for the log.
    Refused(String),
}

/// Parse the start of the caster's answer.
pub fn parse_answer(buf: &[u8], mountpoint: &str) -> Answer {
    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() > 8192 {
            return Answer::Refused("answer header longer than 8 KiB".into());
        }
        return Answer::Incomplete;
    };
    let first = String::from_utf8_lossy(&buf[..eol]).to_string();
    if first.starts_with("ICY 200") {
        // v1: the stream follows the status line; some casters add an empty line.
        let mut consumed = eol + 2;
        if buf[consumed..].starts_with(b"\r\n") {
            consumed += 2;
        }
        return Answer::Stream {
            chunked: false,
            consumed,
        };
    }
    if first.starts_with("SOURCETABLE") {
        return Answer::Refused(format!(
            "the caster answered with its sourcetable: mountpoint {mountpoint:?} does not exist there"
        ));
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 8192 {
            return Answer::Refused("answer header longer than 8 KiB".into());
        }
        return Answer::Incomplete;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let code: u16 = first
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    match code {
        200 if head.contains("content-type: gnss/sourcetable") => Answer::Refused(format!(
            "the caster answered with its sourcetable: mountpoint {mountpoint:?} does not exist there"
        )),
        200 => Answer::Stream {
            chunked: head.contains("transfer-encoding: chunked"),
            consumed: end + 4,
        },
        401 => Answer::Refused(format!(
            "{first}: the caster refused the credentials for {mountpoint:?} (check user and password_file)"
        )),
        404 => Answer::Refused(format!("{first}: mountpoint {mountpoint:?} not found")),
        _ => Answer::Refused(format!("unexpected answer {first:?}")),
    }
}

/// HTTP/1.1 chunked transfer decoding, fed in arbitrary pieces.
#[derive(Debug, Default)]
pub struct Dechunker {
    /// Bytes left in the current chunk; `None` while reading a size line.
    left: Option<usize>,
    line: Vec<u8>,
    /// After a chunk's data: its CRLF still to skip.
    crlf: u8,
    pub finished: bool,
}

impl Dechunker {
    /// Append the payload bytes in `input` to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        while !input.is_empty() && !self.finished {
            if self.crlf > 0 {
                input = &input[1..];
                self.crlf -= 1;
                continue;
            }
            match self.left {
                Some(n) => {
                    let k = n.min(input.len());
                    out.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    if n == k {
                        self.left = None;
                        self.crlf = 2;
                    } else {
                        self.left = Some(n - k);
                    }
                }
                None => {
                    let b = input[0];
                    input = &input[1..];
                    if b == b'\n' {
                        let text = String::from_utf8_lossy(&self.line);
                        let size = text.trim().split(';').next().unwrap_or("").trim();
                        let n = usize::from_str_radix(size, 16)
                            .map_err(|_| format!("bad chunk size line {text:?}"))?;
                        self.line.clear();
                        if n == 0 {
                            self.finished = true;
                        } else {
                            self.left = Some(n);
                        }
                    } else {
                        if self.line.len() > 100 {
                            return Err("chunk size line longer than 100 bytes".into());
                        }
                        self.line.push(b);
                    }
                }
            }
        }
        Ok(())
    }
}

/// A GGA sentence for the station position at a UTC time of day, as NTRIP casters want it.
pub fn gga(lat_deg: f64, lon_deg: f64, h: f64, utc_secs_of_day: f64) -> String {
    let t = utc_secs_of_day.rem_euclid(86_400.0);
    let (hh, mm, ss) = ((t / 3600.0) as u32, ((t % 3600.0) / 60.0) as u32, t % 60.0);
    let ns = if lat_deg >= 0.0 { 'N' } else { 'S' };
    let ew = if lon_deg >= 0.0 { 'E' } else { 'W' };
    let (la, lo) = (lat_deg.abs(), lon_deg.abs());
    let body = format!(
        "GPGGA,{hh:02}{mm:02}{ss:05.2},{:02}{:08.5},{ns},{:03}{:08.5},{ew},1,12,1.0,{h:.3},M,0.000,M,,",
        la.trunc() as u32,
        la.fract() * 60.0,
        lo.trunc() as u32,
        lo.fract() * 60.0
    );
    format!(
        "${body}*{:02X}\r\n",
        crate::framing::nmea_checksum(body.as_bytes())
    )
}

/// How long to wait for the caster's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings(version: u8) -> NtripSettings {
        NtripSettings {
            host: "127.0.0.1".into(),
            port: 2101,
            mountpoint: "VTE1".into(),
            tls: false,
            version,
            user: Some("crew".into()),
            password: Some(Secret::new("pass")),
            gga: None,
        }
    }

    #[test]
    fn requests() {
        let r = request(&settings(1), None);
        assert!(r.starts_with("GET /VTE1 HTTP/1.0\r\nUser-Agent: NTRIP corsd/"));
        assert!(r.contains("Authorization: Basic Y3JldzpwYXNz\r\n"));
        let r = request(&settings(2), Some("$GPGGA,x*00\r\n"));
        assert!(r.contains("Ntrip-Version: Ntrip/2.0\r\n"));
        assert!(r.contains("Host: 127.0.0.1:2101\r\n"));
        assert!(r.contains("Ntrip-GGA: $GPGGA,x*00\r\n"));
        assert!(r.ends_with("\r\n\r\n"));
    }

    #[test]
    fn base64_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn answers() {
        assert_eq!(
            parse_answer(b"ICY 200 OK\r\n\xd3\x00", "M"),
            Answer::Stream {
                chunked: false,
                consumed: 12
            }
        );
        assert_eq!(
            parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Enc", "M"),
            Answer::Incomplete
        );
        assert_eq!(
            parse_answer(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nab",
                "M"
            ),
            Answer::Stream {
                chunked: true,
                consumed: 47
            }
        );
        assert!(matches!(
            parse_answer(b"SOURCETABLE 200 OK\r\n", "M"),
            Answer::Refused(_)
        ));
        assert!(matches!(
            parse_answer(b"HTTP/1.1 401 Unauthorized\r\n\r\n", "M"),
            Answer::Refused(m) if m.contains("credentials")
        ));
    }

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
            assert!(d.finished);
        }
        assert!(
            Dechunker::default()
                .feed(b"zz\r\n", &mut Vec::new())
                .is_err()
        );
    }

    #[test]
    fn gga_sentence() {
        let g = gga(17.9757, 102.6331, 180.0, 3723.5);
        assert!(
            g.starts_with("$GPGGA,010203.50,1758.54200,N,10237.98600,E,1,12,1.0,180.000,M"),
            "{g}"
        );
        let parsed = crate::messages::nmea::parse(g.trim_end().as_bytes());
        assert!(parsed.is_ok(), "{g}");
    }
}
