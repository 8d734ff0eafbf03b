//! An NTRIP client (v1 and v2, optional TLS, GGA upload) for the configured mountpoint: the
//! connection, the request and the caster's answer; a v2 chunked body is read through the one
//! decoder of [`crate::ntrip::chunked`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Timelike;
use nalgebra::Vector3;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tcp::{ConnectError, dial};
use super::{Link, Reader, Writer};
use crate::gnss::geodesy::ecef_to_geodetic;
use crate::ntrip::chunked::Dechunker;
use crate::ntrip::gga::gga;
use crate::ntrip::request::ClientRequest;
use crate::ntrip::response::{Answer, Refusal, parse_answer};
use crate::secret::Secret;

/// Where an NTRIP source connects and how.
#[derive(Clone, Debug, PartialEq)]
pub struct NtripSettings {
    pub host: String,
    pub port: u16,
    pub mountpoint: String,
    pub tls: bool,
    /// 1 or 2.
    pub version: u8,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Send the station position as GGA every this often (VRS-style casters want it).
    pub gga: Option<Duration>,
}

/// The request for a mountpoint. `gga` is the v2 `Ntrip-GGA` header (v1 sends GGA in-band).
pub fn request(s: &NtripSettings, gga: Option<&str>) -> String {
    ClientRequest {
        host: &s.host,
        port: s.port,
        mount: &s.mountpoint,
        version: s.version,
        auth: s
            .user
            .as_deref()
            .zip(s.password.as_ref().map(|p| p.expose())),
        gga,
    }
    .text()
}

/// How long to wait for the caster's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an NTRIP connection did not give a stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NtripError {
    #[error("cannot connect to caster {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: ConnectError,
    },
    #[error("TLS name {host:?}: {reason}")]
    TlsName { host: String, reason: String },
    #[error("TLS handshake with {host}: {source}")]
    Tls {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sending the request to {address}: {source}")]
    Send {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("caster {address} did not answer within {ANSWER_TIMEOUT:?}")]
    AnswerTimeout { address: String },
    #[error("reading the answer of {address}: {source}")]
    ReadAnswer {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("caster {address} closed the connection without an answer")]
    NoAnswer { address: String },
    #[error("caster {address}: {refusal}")]
    Refused { address: String, refusal: Refusal },
}

/// The GGA sentence of the station's position now, as NTRIP casters want it.
pub fn gga_sentence(position: Option<Vector3<f64>>) -> Option<String> {
    let g = ecef_to_geodetic(&position?);
    let sod = chrono::Utc::now().num_seconds_from_midnight() as f64;
    Some(gga(g.lat.to_degrees(), g.lon.to_degrees(), g.h, sod))
}

/// Connect, ask for the mountpoint (with `gga` when the caster wants a position) and read the
/// answer: the stream, with the writer kept for GGA uploads every `n.gga`.
pub async fn connect(
    n: &NtripSettings,
    gga: Option<String>,
    name: &str,
) -> Result<Link, NtripError> {
    let address = format!("{}:{}", n.host, n.port);
    let tcp = dial(&address).await.map_err(|source| NtripError::Connect {
        address: address.clone(),
        source,
    })?;
    let (mut r, mut w): (Reader, Writer) = if n.tls {
        let s = tls_connect(&n.host, tcp).await?;
        let (r, w) = tokio::io::split(s);
        (Box::new(r), Box::new(w))
    } else {
        let (r, w) = tcp.into_split();
        (Box::new(r), Box::new(w))
    };
    let send = |source| NtripError::Send {
        address: address.clone(),
        source,
    };
    w.write_all(request(n, gga.as_deref()).as_bytes())
        .await
        .map_err(send)?;
    if n.version == 1
        && let Some(g) = &gga
    {
        w.write_all(g.as_bytes()).await.map_err(send)?;
    }
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let answer = loop {
        let k = tokio::time::timeout(ANSWER_TIMEOUT, r.read(&mut tmp))
            .await
            .map_err(|_| NtripError::AnswerTimeout {
                address: address.clone(),
            })?
            .map_err(|source| NtripError::ReadAnswer {
                address: address.clone(),
                source,
            })?;
        if k == 0 {
            return Err(NtripError::NoAnswer { address });
        }
        buf.extend_from_slice(&tmp[..k]);
        match parse_answer(&buf, &n.mountpoint) {
            Answer::Incomplete => continue,
            a => break a,
        }
    };
    match answer {
        Answer::Stream { chunked, consumed } => {
            tracing::info!(source = %name, caster = %address, mountpoint = %n.mountpoint, version = n.version, chunked, "NTRIP stream open");
            let rest = buf[consumed..].to_vec();
            let reader: Reader = if chunked {
                Box::new(ChunkedReader::new(r, rest))
            } else {
                Box::new(std::io::Cursor::new(rest).chain(r))
            };
            let every = n.gga.filter(|_| gga.is_some());
            Ok(Link {
                reader,
                writer: Some(w),
                gga: every.map(|p| tokio::time::interval_at(tokio::time::Instant::now() + p, p)),
            })
        }
        Answer::Refused(refusal) => Err(NtripError::Refused { address, refusal }),
        Answer::Incomplete => Err(NtripError::NoAnswer { address }),
    }
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, NtripError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_trust_anchors(webpki_roots::TLS_SERVER_ROOTS.iter().map(|ta| {
        rustls::OwnedTrustAnchor::from_subject_spki_name_constraints(
            ta.subject,
            ta.spki,
            ta.name_constraints,
        )
    }));
    let cfg = rustls::ClientConfig::builder()
        .with_safe_defaults()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::ServerName::try_from(host).map_err(|e| NtripError::TlsName {
        host: host.into(),
        reason: e.to_string(),
    })?;
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .map_err(|source| NtripError::Tls {
            host: host.into(),
            source,
        })
}

/// An `AsyncRead` of the payload of a chunked HTTP body.
struct ChunkedReader {
    inner: Reader,
    pending: Vec<u8>,
    raw: Vec<u8>,
    de: Dechunker,
}

impl ChunkedReader {
    fn new(inner: Reader, already: Vec<u8>) -> Self {
        ChunkedReader {
            inner,
            pending: Vec::new(),
            raw: already,
            de: Dechunker::default(),
        }
    }
}

impl AsyncRead for ChunkedReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            if !this.raw.is_empty() {
                let raw = std::mem::take(&mut this.raw);
                if let Err(e) = this.de.feed(&raw, &mut this.pending) {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        e,
                    )));
                }
            }
            if !this.pending.is_empty() {
                let k = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending[..k]);
                this.pending.drain(..k);
                return Poll::Ready(Ok(()));
            }
            if this.de.finished() {
                return Poll::Ready(Ok(()));
            }
            let mut tmp = [0u8; 8192];
            let mut rb = tokio::io::ReadBuf::new(&mut tmp);
            match std::pin::Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    if rb.filled().is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    this.raw.extend_from_slice(rb.filled());
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
