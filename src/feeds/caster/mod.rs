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
use crate::ntrip::auth::constant_time_eq;
use crate::ntrip::chunked::Dechunker;
use crate::ntrip::request::{self, Request};
use crate::ntrip::response;
use crate::ntrip::sourcetable::{Stream, detail, systems_of, table};
use crate::secret::Secret;

pub mod fanout;

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
}

/// The `rover` point of a GGA sentence a client sent (DESIGN §4): where the crew is and how
/// good its fix is. `None` for anything that is not a GGA with a position.
pub fn rover_point(
    line: &[u8],
    mount: &str,
    client: &str,
    station: Option<&nalgebra::Vector3<f64>>,
    now_ns: i64,
) -> Option<crate::telemetry::Point> {
    let s = crate::messages::nmea::parse(line).ok()?;
    let crate::messages::nmea::Data::Gga(g) = s.data else {
        return None;
    };
    let (lat, lon) = (g.lat?, g.lon?);
    let h = g.altitude.unwrap_or(0.0) + g.geoid_separation.unwrap_or(0.0);
    let baseline_km = station.map(|st| {
        let p = crate::gnss::geodesy::Geodetic::from_degrees(lat, lon, h).to_ecef();
        (p - st).norm() / 1000.0
    });
    Some(
        crate::telemetry::Point::new("rover", now_ns)
            .tag("mountpoint", mount)
            .tag("client", client)
            .field("lat", lat)
            .field("lon", lon)
            .field_opt("alt", g.altitude)
            .field_opt("fix", g.quality.map(|q| q as i64))
            .field_opt("nsat", g.satellites.map(|n| n as i64))
            .field_opt("hdop", g.hdop)
            .field_opt("age_s", g.age_s)
            .field_opt("baseline_km", baseline_km),
    )
}

/// Take the complete lines out of `buf`; the `rover` points of the GGAs among them. What is
/// left is a partial line, bounded.
fn drain_gga(
    buf: &mut Vec<u8>,
    rover: &dyn Fn(&[u8]) -> Option<crate::telemetry::Point>,
) -> Vec<crate::telemetry::Point> {
    let mut out = Vec::new();
    while let Some(eol) = buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = buf.drain(..=eol).collect();
        out.extend(rover(&line));
    }
    if buf.len() > 1024 {
        buf.clear();
    }
    out
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
                (Format::Rtcm3(set), _) => {
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

pub async fn run(
    settings: Arc<CasterSettings>,
    listener: TcpListener,
    station: feed::Streams,
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
    // One stream per mountpoint, made once and shared by its clients.
    let streams = settings
        .mounts
        .iter()
        .map(|m| {
            let tx = if m.relay_user.is_some() {
                broadcast::channel(feed::FEED_QUEUE).0
            } else {
                feed::spawn(m.format.clone(), &station, shutdown.clone()).tx
            };
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
            r = listener.accept() => {
                let Ok((sock, peer)) = r else { continue };
                let _ = sock.set_nodelay(true);
                tokio::spawn(connection(sock, peer, shared.clone(), shutdown.clone()));
            }
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

async fn read_head(sock: &mut TcpStream) -> Result<(String, Vec<u8>), &'static str> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 1024];
    loop {
        let n = sock.read(&mut tmp).await.map_err(|_| "read error")?;
        if n == 0 {
            return Err("closed before the end of the request");
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).map_err(|_| "request is not text")?;
            return Ok((head.to_string(), buf[end + 4..].to_vec()));
        }
        if buf.len() > MAX_HEADER {
            return Err("request header too long");
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
            tracing::debug!(%peer, why, "caster: bad request");
            let answer: &[u8] = match why {
                "request header too long" => response::HEADER_TOO_LARGE,
                "request is not text" => response::BAD_REQUEST,
                _ => b"",
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
        "GET" => client(sock, peer, req, early, &shared, shutdown).await,
        "SOURCE" | "POST" => source(sock, peer, req, early, &shared, shutdown).await,
        _ => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            let _ = sock.write_all(response::NOT_IMPLEMENTED).await;
        }
    }
}

fn password_ok(settings: &CasterSettings, user: &str, password: &str) -> bool {
    settings
        .credentials
        .get(user)
        .is_some_and(|s| constant_time_eq(s.expose().as_bytes(), password.as_bytes()))
}

async fn client(
    mut sock: TcpStream,
    peer: SocketAddr,
    req: Request,
    early: Vec<u8>,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let (settings, status) = (&shared.settings, &shared.status);
    let Some((mi, mount)) = settings
        .mounts
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == req.mount)
    else {
        let table = sourcetable(
            settings,
            &shared.seen.lock().unwrap_or_else(|p| p.into_inner()),
        );
        if !req.mount.is_empty() {
            status.unknown_mounts.fetch_add(1, Ordering::Relaxed);
        }
        let answer = response::sourcetable(req.v2, &table);
        let _ = sock.write_all(answer.as_bytes()).await;
        return;
    };
    if !mount.users.is_empty() {
        let ok = req.auth.as_ref().is_some_and(|(u, p)| {
            mount.users.iter().any(|x| x == u) && password_ok(settings, u, p)
        });
        if !ok {
            status.refused.fetch_add(1, Ordering::Relaxed);
            let user = req.auth.as_ref().map(|a| a.0.as_str()).unwrap_or("-");
            tracing::info!(%peer, mount = %mount.name, user, "caster: credentials refused");
            let _ = sock
                .write_all(response::unauthorized(req.v2, &mount.name).as_bytes())
                .await;
            return;
        }
    }
    let answer = response::stream(req.v2);
    if sock.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    status.clients.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%peer, mount = %mount.name, v2 = req.v2, "caster: client connected");
    let v2 = req.v2;
    // The rover is named by its user, or by its address when the mount is open.
    let client_name = req
        .auth
        .as_ref()
        .filter(|_| !mount.users.is_empty())
        .map(|a| a.0.clone())
        .unwrap_or_else(|| peer.ip().to_string());
    let now_ns = || chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let rover = |bytes: &[u8]| {
        rover_point(
            bytes,
            &mount.name,
            &client_name,
            settings.station_xyz.as_ref(),
            now_ns(),
        )
    };
    if let Some(p) = req.gga.as_ref().and_then(|g| rover(g.as_bytes())) {
        let _ = shared.points.try_send(vec![p]);
    }
    // Bytes that came with the request (a v1 rover's first GGA) are the start of the in-band data.
    let mut inband: Vec<u8> = early;
    for p in drain_gga(&mut inband, &rover) {
        let _ = shared.points.try_send(vec![p]);
    }
    let (mut rd, wr) = sock.into_split();
    let (gone_tx, mut gone) = tokio::sync::oneshot::channel();
    if !shared.streams[mi].fanout.add(fanout::Client {
        wr,
        chunked: v2,
        gone: gone_tx,
    }) {
        status.clients.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let mut scratch = [0u8; 512];
    let why = loop {
        tokio::select! {
            w = &mut gone => break w.unwrap_or("shutdown"),
            r = rd.read(&mut scratch) => match r {
                Ok(0) | Err(_) => break "client closed",
                Ok(n) => {
                    // In-band GGA (v1 and v2): one line at a time, bounded.
                    inband.extend_from_slice(&scratch[..n]);
                    for p in drain_gga(&mut inband, &rover) {
                        let _ = shared.points.try_send(vec![p]);
                    }
                }
            },
            _ = shutdown.changed() => break "shutdown",
        }
    };
    status.clients.fetch_sub(1, Ordering::Relaxed);
    tracing::debug!(%peer, mount = %mount.name, why, "caster: client gone");
}

/// An NTRIP server pushing into a relay mountpoint: v1 `SOURCE password /MOUNT` (raw data after
/// `ICY 200 OK`) or v2 `POST /MOUNT` (Basic auth, chunked data). Its bytes go to the mount's
/// clients unchanged.
async fn source(
    mut sock: TcpStream,
    peer: SocketAddr,
    req: Request,
    early: Vec<u8>,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let (settings, status) = (&shared.settings, &shared.status);
    let v2 = req.method == "POST";
    let found = settings
        .mounts
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == req.mount && m.relay_user.is_some());
    let Some((mi, mount)) = found else {
        status.unknown_mounts.fetch_add(1, Ordering::Relaxed);
        let _ = sock.write_all(response::source_no_mount(v2)).await;
        return;
    };
    let user = mount.relay_user.as_deref().unwrap_or_default();
    let ok = if v2 {
        req.auth
            .as_ref()
            .is_some_and(|(u, p)| u == user && password_ok(settings, u, p))
    } else {
        req.source_password
            .as_deref()
            .is_some_and(|p| password_ok(settings, user, p))
    };
    if !ok {
        status.refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, mount = %mount.name, "caster: source credentials refused");
        let _ = sock
            .write_all(response::source_refused(v2, &mount.name).as_bytes())
            .await;
        return;
    }
    let stream = &shared.streams[mi];
    if stream
        .source_taken
        .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        let _ = sock.write_all(response::source_taken(v2)).await;
        return;
    }
    let answer = response::source_accepted(v2);
    tracing::info!(%peer, mount = %mount.name, v2, "caster: source connected");
    let why = if sock.write_all(answer.as_bytes()).await.is_err() {
        "closed"
    } else {
        let mut dechunk = v2.then(Dechunker::default);
        let publish = |bytes: &[u8], dechunk: &mut Option<Dechunker>| -> bool {
            let data = match dechunk.as_mut() {
                Some(d) => {
                    let mut v = Vec::with_capacity(bytes.len());
                    if d.feed(bytes, &mut v).is_err() {
                        return false;
                    }
                    v
                }
                None => bytes.to_vec(),
            };
            if !data.is_empty() {
                let _ = stream.tx.send(Arc::from(data));
            }
            true
        };
        let mut buf = vec![0u8; 16 * 1024];
        if !publish(&early, &mut dechunk) {
            "bad chunked encoding"
        } else {
            loop {
                tokio::select! {
                    r = tokio::time::timeout(SOURCE_IDLE, sock.read(&mut buf)) => match r {
                        Ok(Ok(0)) | Ok(Err(_)) => break "closed",
                        Ok(Ok(n)) => {
                            if !publish(&buf[..n], &mut dechunk) {
                                break "bad chunked encoding";
                            }
                        }
                        Err(_) => break "no data for 60 s",
                    },
                    _ = shutdown.changed() => break "shutdown",
                }
            }
        }
    };
    stream
        .source_taken
        .store(false, std::sync::atomic::Ordering::Release);
    tracing::info!(%peer, mount = %mount.name, why, "caster: source gone");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rover_from_gga() {
        let st = crate::gnss::geodesy::Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let g = crate::ntrip::gga::gga(18.0657, 102.6331, 150.0, 3600.0);
        let p = rover_point(g.trim_end().as_bytes(), "VTE1", "crew1", Some(&st), 7).unwrap();
        let line = p.to_line();
        assert!(
            line.starts_with("rover,client=crew1,mountpoint=VTE1 lat=18.0657"),
            "{line}"
        );
        let km = p.fields.iter().find(|(k, _)| *k == "baseline_km").unwrap();
        let crate::telemetry::Field::Float(km) = km.1 else {
            panic!()
        };
        assert!((km - 9.97).abs() < 0.05, "{km}");
        assert!(rover_point(b"$GPRMC,,V,,,,,,,,,,N*53", "M", "c", None, 0).is_none());
    }
}
