//! The embedded NTRIP caster (v1 and v2 on one port): field receivers get the station's RTCM3
//! frames, byte for byte as framed, on each mountpoint's message set.
//!
//! The version is told by the request, as BKG's caster does: a `Ntrip-Version: Ntrip/2.0`
//! header means v2 (HTTP/1.1 answers, chunked data), anything else v1 (`ICY 200 OK`, raw data),
//! whatever HTTP version the request line names. An unknown mountpoint or `/` gets the
//! sourcetable in the client's version; wrong or missing credentials get 401 in it.
//!
//! Every client has a bounded queue: one that falls behind (a stalled mobile link) is
//! disconnected rather than allowed to delay the others or grow memory. Requests have limits on
//! header size and time, so a slow or garbage client costs nothing but its own socket.
//!
//! Here: the settings, the listener and the dispatch of a connection by its request; a rover's
//! connection is [`client`], a pushing server's [`relay`], the fan-out to thousands of clients
//! [`fanout`], the `rover` points of their GGAs [`rover`].

mod client;
pub mod fanout;
mod relay;
pub mod rover;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch};

use crate::feeds::feed;
use crate::feeds::message_set::Format;
use crate::framing::RawFrame;
use crate::ntrip::request;
use crate::ntrip::response;
use crate::ntrip::sourcetable::{Stream, detail, systems_of, table};
use crate::secret::Secret;
use crate::telemetry::Problem;

/// Longest request header accepted.
pub const MAX_HEADER: usize = 8192;
/// Time a client has to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One `[[caster]]` as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct CasterConfig {
    pub listen: SocketAddr,
    /// Connections allowed from one address at a time.
    pub max_per_ip: usize,
    pub mounts: Vec<Mount>,
    /// user → password, from the credentials file.
    pub credentials: BTreeMap<String, Secret>,
}

/// A mountpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Mount {
    pub name: String,
    /// What the mount carries: RTCM3 on a message set (empty: every frame) or RTCM 2.3.
    pub format: Format,
    /// Users allowed (empty: open).
    pub users: Vec<String>,
    /// A relay mount carries what an NTRIP server pushes into it (SOURCE or POST) with this
    /// user's password, instead of the station's stream.
    pub relay_user: Option<String>,
}

/// The caster's settings.
#[derive(Clone, Debug)]
pub struct CasterSettings {
    /// Station ARP (ECEF, m), for the rovers' baselines.
    pub station_xyz: Option<nalgebra::Vector3<f64>>,
    pub listen: SocketAddr,
    pub mounts: Vec<Mount>,
    /// user → password, from the credentials file.
    pub credentials: BTreeMap<String, Secret>,
    /// Station facts for the sourcetable.
    pub identifier: String,
    pub country: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// Connections allowed from one address at a time.
    pub max_per_ip: usize,
}

/// Counters for `/metrics` and the `caster` measurement.
#[derive(Debug, Default)]
pub struct CasterStatus {
    pub clients: AtomicU64,
    pub bytes_out: AtomicU64,
    pub dropped_clients: AtomicU64,
    pub refused: AtomicU64,
    pub bad_requests: AtomicU64,
    pub unknown_mounts: AtomicU64,
    /// Why it fails now, and the last problem it had.
    pub health: Problem,
}

impl CasterStatus {
    /// `Some` while accepting fails; `true` when this starts or ends a failure.
    fn set_problem(&self, problem: Option<String>) -> bool {
        self.health.set(problem)
    }

    pub fn problem(&self) -> Option<String> {
        self.health.now()
    }

    pub fn last_error(&self) -> Option<String> {
        self.health.last()
    }
}

/// The sourcetable: a record of every mountpoint, its message set (or, for the whole stream,
/// the types and intervals observed so far).
pub fn sourcetable(s: &CasterSettings, seen: &BTreeMap<u16, f64>) -> String {
    let streams: Vec<Stream> = s
        .mounts
        .iter()
        .map(|m| {
            let (systems, details) = match (&m.format, m.relay_user.is_some()) {
                // A relay carries what its source sends: unknown here.
                (_, true) => ("GPS".to_string(), String::new()),
                (Format::Rtcm2 { .. }, _) => {
                    ("GPS+GLO".to_string(), "1(1),3(10),31(1)".to_string())
                }
                (Format::Rtcm3 { messages: set, .. }, _) => {
                    let rates: Vec<(u16, f64)> = if set.is_empty() {
                        seen.iter().map(|(n, r)| (*n, *r)).collect()
                    } else {
                        set.iter().map(|x| (x.number, x.interval_s)).collect()
                    };
                    let numbers: Vec<u16> = rates.iter().map(|r| r.0).collect();
                    let details: Vec<String> = rates.iter().map(|(n, r)| detail(*n, *r)).collect();
                    (systems_of(&numbers), details.join(","))
                }
            };
            Stream {
                mount: m.name.clone(),
                identifier: s.identifier.clone(),
                format: m.format.sourcetable_format(),
                details,
                systems,
                country: s.country.clone(),
                lat_deg: s.lat_deg,
                lon_deg: s.lon_deg,
                auth: !m.users.is_empty(),
            }
        })
        .collect();
    table(&streams)
}

/// A mountpoint's live byte stream, and for a relay mount whether a source is feeding it.
struct MountStream {
    tx: broadcast::Sender<Arc<[u8]>>,
    fanout: fanout::Fanout,
    source_taken: Arc<std::sync::atomic::AtomicBool>,
}

/// What every connection handler shares.
struct Shared {
    settings: Arc<CasterSettings>,
    streams: Vec<MountStream>,
    status: Arc<CasterStatus>,
    seen: Arc<Mutex<BTreeMap<u16, f64>>>,
    points: mpsc::Sender<Vec<crate::telemetry::Point>>,
    per_ip: Mutex<BTreeMap<std::net::IpAddr, usize>>,
}

/// Counts a connection against its address while it lives.
struct IpSlot<'a> {
    shared: &'a Shared,
    ip: std::net::IpAddr,
}

impl Drop for IpSlot<'_> {
    fn drop(&mut self) {
        let mut m = self.shared.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// One stream per mountpoint, in the order of `mounts`, made once and shared by its clients (and
/// by whoever else must see exactly what the mount serves, such as the integrity monitor).
pub fn mount_feeds(
    mounts: &[Mount],
    station: &feed::Streams,
    shutdown: &watch::Receiver<bool>,
) -> Vec<broadcast::Sender<Arc<[u8]>>> {
    mounts
        .iter()
        .map(|m| {
            if m.relay_user.is_some() {
                broadcast::channel(feed::FEED_QUEUE).0
            } else {
                feed::spawn(m.format.clone(), station, shutdown.clone()).tx
            }
        })
        .collect()
}

/// Serve the mounts; `feeds` are their streams from [`mount_feeds`].
pub async fn run(
    settings: Arc<CasterSettings>,
    listener: TcpListener,
    station: feed::Streams,
    feeds: Vec<broadcast::Sender<Arc<[u8]>>>,
    status: Arc<CasterStatus>,
    points: mpsc::Sender<Vec<crate::telemetry::Point>>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::spawn(caster_points(
        settings.clone(),
        status.clone(),
        points.clone(),
        shutdown.clone(),
    ));
    // Message intervals actually observed, for the sourcetable.
    let seen: Arc<Mutex<BTreeMap<u16, f64>>> = Arc::default();
    tokio::spawn(observe_rates(
        station.frames.subscribe(),
        seen.clone(),
        shutdown.clone(),
    ));
    let streams = feeds
        .into_iter()
        .map(|tx| {
            let fanout =
                fanout::Fanout::start(&tx, status.clone(), WRITE_TIMEOUT, shutdown.clone());
            MountStream {
                tx,
                fanout,
                source_taken: Arc::default(),
            }
        })
        .collect();
    let shared = Arc::new(Shared {
        settings,
        streams,
        status,
        seen,
        points,
        per_ip: Mutex::new(BTreeMap::new()),
    });
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((sock, peer)) => {
                    if shared.status.problem().is_some() && shared.status.set_problem(None) {
                        tracing::info!(listen = %shared.settings.listen, "caster: accepting clients again");
                    }
                    let _ = sock.set_nodelay(true);
                    tokio::spawn(connection(sock, peer, shared.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors or memory: say so once, and do not spin on it.
                    let problem = format!("{}: cannot accept clients: {e}", shared.settings.listen);
                    if shared.status.set_problem(Some(problem.clone())) {
                        tracing::error!(error = %problem, "caster: new clients are refused until this clears (raise LimitNOFILE?)");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// The `caster` measurement every 10 s of the wall clock.
async fn caster_points(
    settings: Arc<CasterSettings>,
    status: Arc<CasterStatus>,
    points: mpsc::Sender<Vec<crate::telemetry::Point>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let at = now - now.rem_euclid(10_000_000_000);
        let p = crate::telemetry::Point::new("caster", at)
            .tag("station", &settings.identifier)
            .tag("listen", settings.listen.to_string())
            .field("clients", status.clients.load(Ordering::Relaxed))
            .field("bytes_out", status.bytes_out.load(Ordering::Relaxed))
            .field(
                "dropped_clients",
                status.dropped_clients.load(Ordering::Relaxed),
            );
        if points.send(vec![p]).await.is_err() {
            return;
        }
    }
}

async fn observe_rates(
    mut rx: broadcast::Receiver<RawFrame>,
    seen: Arc<Mutex<BTreeMap<u16, f64>>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last: BTreeMap<u16, crate::gnss::time::Gpst> = BTreeMap::new();
    loop {
        tokio::select! {
            f = rx.recv() => match f {
                Ok(f) => {
                    let (Some(n), Some(t)) = (f.number, f.data_time_ns) else { continue };
                    let t = crate::gnss::time::Gpst::from_gps_ns(t);
                    if let Some(prev) = last.insert(n, t) {
                        let dt = t.diff(prev);
                        if dt > 0.0 {
                            let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
                            let e = s.entry(n).or_insert(dt);
                            *e = e.min(dt);
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// Why no request header was read.
#[derive(Debug, thiserror::Error)]
enum HeadError {
    #[error("read error: {0}")]
    Read(#[source] std::io::Error),
    #[error("closed before the end of the request")]
    Closed,
    #[error("request is not text")]
    NotText,
    #[error("request header too long")]
    TooLong,
}

/// The request header (up to the blank line) and the bytes that came after it.
async fn read_head(sock: &mut TcpStream) -> Result<(String, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 1024];
    loop {
        let n = sock.read(&mut tmp).await.map_err(HeadError::Read)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::NotText)?;
            return Ok((head.to_string(), buf[end + 4..].to_vec()));
        }
        if buf.len() > MAX_HEADER {
            return Err(HeadError::TooLong);
        }
    }
}

/// A client's socket may refuse to take data this long before the client counts as stalled.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
/// A relay source that sends nothing for this long is dropped (casters commonly use 15–60 s).
pub const SOURCE_IDLE: Duration = Duration::from_secs(60);

async fn connection(
    mut sock: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let status = &shared.status;
    let admitted = {
        let mut m = shared.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(peer.ip()).or_default();
        let ok = *n < shared.settings.max_per_ip;
        if ok {
            *n += 1;
        }
        ok
    };
    {
        if !admitted {
            status.refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "caster: too many connections from this address");
            let _ = sock.write_all(response::BUSY).await;
            return;
        }
    }
    let _slot = IpSlot {
        shared: &shared,
        ip: peer.ip(),
    };
    let (head, early) = match tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut sock)).await {
        Ok(Ok(x)) => x,
        Ok(Err(why)) => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, %why, "caster: bad request");
            let answer: &[u8] = match why {
                HeadError::TooLong => response::HEADER_TOO_LARGE,
                HeadError::NotText => response::BAD_REQUEST,
                HeadError::Read(_) | HeadError::Closed => b"",
            };
            let _ = sock.write_all(answer).await;
            return;
        }
        Err(_) => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "caster: no complete request in time");
            let _ = sock.write_all(response::REQUEST_TIMEOUT).await;
            return;
        }
    };
    let Ok(req) = request::parse(&head) else {
        status.bad_requests.fetch_add(1, Ordering::Relaxed);
        let _ = sock.write_all(response::BAD_REQUEST).await;
        return;
    };
    match req.method.as_str() {
        "GET" => client::client(sock, peer, req, early, &shared, shutdown).await,
        "SOURCE" | "POST" => relay::source(sock, peer, req, early, &shared, shutdown).await,
        _ => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            let _ = sock.write_all(response::NOT_IMPLEMENTED).await;
        }
    }
}
