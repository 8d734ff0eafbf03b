//! NTRIP requests: what a client sends for a mountpoint, what a server sends to push into one
//! (v1 `SOURCE`, v2 `POST`), and the caster's reading of either.

use super::agent;
use super::auth::{AuthError, basic, parse_basic};

/// A client's request for a mountpoint.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    pub host: &'a str,
    pub port: u16,
    pub mount: &'a str,
    /// 1 or 2.
    pub version: u8,
    /// User and password.
    pub auth: Option<(&'a str, &'a str)>,
    /// The v2 `Ntrip-GGA` header (v1 sends GGA in-band, after the request).
    pub gga: Option<&'a str>,
}

impl ClientRequest<'_> {
    /// The request text, up to and including the blank line.
    pub fn text(&self) -> String {
        let mut r = if self.version == 1 {
            format!(
                "GET /{} HTTP/1.0\r\nUser-Agent: {}\r\nAccept: */*\r\n",
                self.mount,
                agent()
            )
        } else {
            let host = if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.to_string()
            };
            format!(
                "GET /{} HTTP/1.1\r\nHost: {}:{}\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: {}\r\nConnection: close\r\n",
                self.mount,
                host,
                self.port,
                agent()
            )
        };
        if let Some((u, p)) = self.auth {
            r.push_str("Authorization: ");
            r.push_str(&basic(u, p));
            r.push_str("\r\n");
        }
        if let (2, Some(g)) = (self.version, self.gga) {
            r.push_str("Ntrip-GGA: ");
            r.push_str(g.trim_end());
            r.push_str("\r\n");
        }
        r.push_str("\r\n");
        r
    }
}

/// The request an NTRIP server opens a push with: v1 `SOURCE <password> /MOUNT` (no user
/// name), v2 `POST /MOUNT` with Basic authorization and chunked data.
pub fn push(version: u8, address: &str, mount: &str, user: &str, password: &str) -> String {
    let agent = agent();
    if version == 2 {
        format!(
            "POST /{mount} HTTP/1.1\r\nHost: {address}\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: {agent}\r\nAuthorization: {}\r\nContent-Type: gnss/data\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            basic(user, password)
        )
    } else {
        format!("SOURCE {password} /{mount}\r\nSource-Agent: {agent}\r\n\r\n")
    }
}

/// A request as the caster reads it.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub mount: String,
    pub v2: bool,
    pub auth: Option<(String, String)>,
    pub gga: Option<String>,
    /// A v1 server's `SOURCE <password> <mount>`.
    pub source_password: Option<String>,
}

/// Why a request header could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No method, or no path after it.
    #[error("no request line")]
    NoRequestLine,
    /// An `Authorization` header that is not readable Basic credentials.
    #[error("authorization: {0}")]
    Authorization(#[from] AuthError),
}

/// Read a request header (up to the blank line). The version is told by the request, as BKG's
/// caster does: a `Ntrip-Version: Ntrip/2.0` header means v2, whatever HTTP version the request
/// line names.
pub fn parse(head: &str) -> Result<Request, RequestError> {
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split_whitespace();
    let method = parts.next().ok_or(RequestError::NoRequestLine)?.to_string();
    let mut path = parts.next().ok_or(RequestError::NoRequestLine)?;
    // `SOURCE password /MOUNT` (RTKLIB sends the mount without its slash).
    let mut source_password = None;
    if method == "SOURCE" {
        source_password = Some(path.to_string());
        path = parts.next().ok_or(RequestError::NoRequestLine)?;
    }
    let mount = path.trim_start_matches('/').to_string();
    let (mut v2, mut auth, mut gga) = (false, None, None);
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "ntrip-version" => v2 = v.contains("2.0"),
            "authorization" => {
                if let Some(a) = parse_basic(v)? {
                    auth = Some(a);
                }
            }
            "ntrip-gga" => gga = Some(v.to_string()),
            _ => {}
        }
    }
    Ok(Request {
        method,
        mount,
        v2,
        auth,
        gga,
        source_password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(version: u8, gga: Option<&str>) -> String {
        ClientRequest {
            host: "127.0.0.1",
            port: 2101,
            mount: "VTE1",
            version,
            auth: Some(("crew", "pass")),
            gga,
        }
        .text()
    }

    #[test]
    fn client_requests() {
        let r = client(1, None);
        assert!(r.starts_with("GET /VTE1 HTTP/1.0\r\nUser-Agent: NTRIP corsd/"));
        assert!(r.contains("Authorization: Basic Y3JldzpwYXNz\r\n"));
        let r = client(2, Some("$GPGGA,x*00\r\n"));
        assert!(r.contains("Ntrip-Version: Ntrip/2.0\r\n"));
        assert!(r.contains("Host: 127.0.0.1:2101\r\n"));
        assert!(r.contains("Ntrip-GGA: $GPGGA,x*00\r\n"));
        assert!(r.ends_with("\r\n\r\n"));
    }

    #[test]
    fn requests_and_versions() {
        let r = parse(
            "GET /VTE1 HTTP/1.1\r\nUser-Agent: NTRIP x\r\nAuthorization: Basic Y3JldzpzZWNyZXQ=",
        )
        .unwrap();
        assert_eq!(r.mount, "VTE1");
        assert!(!r.v2, "HTTP/1.1 alone does not make v2");
        assert_eq!(r.auth, Some(("crew".into(), "secret".into())));
        let r =
            parse("GET / HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nNtrip-GGA: $GPGGA,1*00").unwrap();
        assert!(r.v2);
        assert_eq!(r.mount, "");
        assert_eq!(r.gga.as_deref(), Some("$GPGGA,1*00"));
        assert!(parse("GET /M HTTP/1.0\r\nAuthorization: Basic !!!").is_err());
        let s = parse("SOURCE pw MOUNT\r\nSource-Agent: x").unwrap();
        assert_eq!(
            (s.source_password.as_deref(), s.mount.as_str()),
            (Some("pw"), "MOUNT")
        );
    }

    #[test]
    fn push_requests() {
        assert!(push(1, "h:2101", "M", "", "pw").starts_with("SOURCE pw /M\r\n"));
        let v2 = push(2, "h:2101", "M", "u", "p");
        assert!(v2.starts_with("POST /M HTTP/1.1\r\nHost: h:2101\r\n"));
        assert!(v2.contains("Transfer-Encoding: chunked"));
    }
}
