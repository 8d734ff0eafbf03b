//! NTRIP answers: the caster's (sourcetable, stream, refusals, in the client's version) and
//! their reading by a client and by a pushing server.

use super::agent;

/// Longest answer header a client reads before giving up.
pub const MAX_ANSWER_HEADER: usize = 8192;

/// Why a caster did not give a client its stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error("answer header longer than 8 KiB")]
    HeaderTooLong,
    #[error("the caster answered with its sourcetable: mountpoint {mount:?} does not exist there")]
    Sourcetable { mount: String },
    #[error(
        "{status}: the caster refused the credentials for {mount:?} (check user and password_file)"
    )]
    Credentials { status: String, mount: String },
    #[error("{status}: mountpoint {mount:?} not found")]
    NotFound { status: String, mount: String },
    #[error("unexpected answer {status:?}")]
    Unexpected { status: String },
}

/// What the caster said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The stream follows (`chunked` for v2 with chunked transfer); `consumed` bytes of the
    /// input were the header.
    Stream { chunked: bool, consumed: usize },
    /// More header bytes needed.
    Incomplete,
    /// Refused.
    Refused(Refusal),
}

/// Read the start of a caster's answer to a client's request for `mount`.
pub fn parse_answer(buf: &[u8], mount: &str) -> Answer {
    let incomplete = || {
        if buf.len() > MAX_ANSWER_HEADER {
            Answer::Refused(Refusal::HeaderTooLong)
        } else {
            Answer::Incomplete
        }
    };
    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
        return incomplete();
    };
    let first = String::from_utf8_lossy(&buf[..eol]).to_string();
    let sourcetable = || {
        Answer::Refused(Refusal::Sourcetable {
            mount: mount.to_string(),
        })
    };
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
        return sourcetable();
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return incomplete();
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let code: u16 = first
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    match code {
        200 if head.contains("content-type: gnss/sourcetable") => sourcetable(),
        200 => Answer::Stream {
            chunked: head.contains("transfer-encoding: chunked"),
            consumed: end + 4,
        },
        401 => Answer::Refused(Refusal::Credentials {
            status: first,
            mount: mount.to_string(),
        }),
        404 => Answer::Refused(Refusal::NotFound {
            status: first,
            mount: mount.to_string(),
        }),
        _ => Answer::Refused(Refusal::Unexpected { status: first }),
    }
}

/// Whether a caster's first answer line accepts a push of `version`.
pub fn push_accepted(version: u8, line: &str) -> bool {
    if version == 2 {
        line.starts_with("HTTP/1.1 200") || line.starts_with("HTTP/1.0 200")
    } else {
        line.contains("200 OK") || line.trim() == "OK"
    }
}

/// The `Date` header's value now.
pub fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// The sourcetable, as a v2 or a v1 client expects it.
pub fn sourcetable(v2: bool, table: &str) -> String {
    if v2 {
        format!(
            "HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nServer: {}\r\nDate: {}\r\nConnection: close\r\nContent-Type: gnss/sourcetable\r\nContent-Length: {}\r\n\r\n{table}",
            agent(),
            http_date(),
            table.len()
        )
    } else {
        format!(
            "SOURCETABLE 200 OK\r\nServer: {}\r\nDate: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{table}",
            agent(),
            http_date(),
            table.len()
        )
    }
}

/// The head of a mountpoint's stream to a client (v2: chunked data follows).
pub fn stream(v2: bool) -> String {
    if v2 {
        format!(
            "HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nServer: {}\r\nDate: {}\r\nCache-Control: no-store, no-cache, max-age=0\r\nPragma: no-cache\r\nConnection: close\r\nContent-Type: gnss/data\r\nTransfer-Encoding: chunked\r\n\r\n",
            agent(),
            http_date()
        )
    } else {
        "ICY 200 OK\r\n".to_string()
    }
}

/// The caster's yes to a pushing server.
pub fn source_accepted(v2: bool) -> String {
    if v2 {
        format!(
            "HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nServer: {}\r\nDate: {}\r\nConnection: close\r\n\r\n",
            agent(),
            http_date()
        )
    } else {
        "ICY 200 OK\r\n".to_string()
    }
}

/// Credentials missing or wrong for `mount`.
pub fn unauthorized(v2: bool, mount: &str) -> String {
    if v2 {
        format!(
            "HTTP/1.1 401 Unauthorized\r\nNtrip-Version: Ntrip/2.0\r\nWWW-Authenticate: Basic realm=\"/{mount}\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    } else {
        format!("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"/{mount}\"\r\n\r\n")
    }
}

/// Answers that end a connection before any data.
pub const BAD_REQUEST: &[u8] = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
pub const HEADER_TOO_LARGE: &[u8] =
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
pub const REQUEST_TIMEOUT: &[u8] = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
pub const NOT_IMPLEMENTED: &[u8] = b"HTTP/1.1 501 Not Implemented\r\nConnection: close\r\n\r\n";
pub const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n";

/// A push to a mountpoint that takes none.
pub fn source_no_mount(v2: bool) -> &'static [u8] {
    if v2 {
        b"HTTP/1.1 404 Not Found\r\nNtrip-Version: Ntrip/2.0\r\nConnection: close\r\n\r\n"
    } else {
        b"ERROR - Bad Mountpoint\r\n"
    }
}

/// A push to a mountpoint another server already feeds.
pub fn source_taken(v2: bool) -> &'static [u8] {
    if v2 {
        b"HTTP/1.1 409 Conflict\r\nNtrip-Version: Ntrip/2.0\r\nConnection: close\r\n\r\n"
    } else {
        b"ERROR - Mount Point Taken or Invalid\r\n"
    }
}

/// A push with the wrong password.
pub fn source_refused(v2: bool, mount: &str) -> String {
    if v2 {
        unauthorized(true, mount)
    } else {
        "ERROR - Bad Password\r\n".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Answer::Refused(Refusal::Sourcetable { .. })
        ));
        assert!(matches!(
            parse_answer(b"HTTP/1.1 401 Unauthorized\r\n\r\n", "M"),
            Answer::Refused(m) if m.to_string().contains("credentials")
        ));
    }

    #[test]
    fn push_answers() {
        assert!(push_accepted(2, "HTTP/1.1 200 OK"));
        assert!(!push_accepted(2, "ICY 200 OK"));
        assert!(push_accepted(1, "ICY 200 OK"));
        assert!(push_accepted(1, "OK"));
        assert!(!push_accepted(1, "ERROR - Bad Password"));
    }
}
