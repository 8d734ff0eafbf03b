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

use crate::config::Secret;
use crate::framing::FrameKind;
use crate::pipeline::RawFrame;

/// Longest request header accepted.
pub const MAX_HEADER: usize = 8192;
/// Time a client has to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued per client before it counts as stalled and is disconnected.
pub const CLIENT_QUEUE: usize = 512;

/// One message of a mountpoint's set: the type and its minimum interval in data time (s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MessageRate {
    pub number: u16,
    pub interval_s: f64,
}

/// Parse str2str's syntax: `1006(10),1074(1),1230` (no interval: every one).
pub fn parse_messages(s: &str) -> Result<Vec<MessageRate>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (num, rate) = match part.split_once('(') {
            Some((n, r)) => {
                let r = r
                    .strip_suffix(')')
                    .ok_or_else(|| format!("{part:?}: missing ')'"))?;
                let v: f64 = r
                    .trim()
                    .parse()
                    .map_err(|_| format!("{part:?}: interval {r:?} is not a number of seconds"))?;
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(format!("{part:?}: interval must be 0 or more seconds"));
                }
                (n, v)
            }
            None => (part, 0.0),
        };
        let number: u16 = num
            .trim()
            .parse()
            .ok()
            .filter(|n| (1001..=4095).contains(n))
            .ok_or_else(|| format!("{part:?}: {num:?} is not an RTCM3 message number"))?;
        out.push(MessageRate {
            number,
            interval_s: rate,
        });
    }
    Ok(out)
}

/// A mountpoint.
#[derive(Clone, Debug)]
pub struct Mount {
    pub name: String,
    /// Empty: every RTCM3 frame.
    pub messages: Vec<MessageRate>,
    /// Users allowed (empty: open).
    pub users: Vec<String>,
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
}

/// Counters for `/metrics` and the `caster` measurement.
#[derive(Debug, Default)]
pub struct CasterStatus {
    pub clients: AtomicU64,
    pub bytes_out: AtomicU64,
    pub dropped_clients: AtomicU64,
    pub refused: AtomicU64,
    pub bad_requests: AtomicU64,
}

/// Compare without an early exit, so the time taken does not tell how much of a password was
/// right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xFF);
    }
    diff == 0
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// A parsed client request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub mount: String,
    pub v2: bool,
    pub auth: Option<(String, String)>,
    pub gga: Option<String>,
}

/// Parse the request header (up to the blank line).
pub fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let first = lines.next()?;
    let mut parts = first.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?;
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
                if let Some(b) = v
                    .strip_prefix("Basic ")
                    .or_else(|| v.strip_prefix("basic "))
                {
                    let d = base64_decode(b)?;
                    let d = String::from_utf8(d).ok()?;
                    let (u, p) = d.split_once(':')?;
                    auth = Some((u.to_string(), p.to_string()));
                }
            }
            "ntrip-gga" => gga = Some(v.to_string()),
            _ => {}
        }
    }
    Some(Request {
        method,
        mount,
        v2,
        auth,
        gga,
    })
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
    mount: &str,
    client: &str,
    station: Option<&nalgebra::Vector3<f64>>,
    now_ns: i64,
) -> Vec<crate::telemetry::Point> {
    let mut out = Vec::new();
    while let Some(eol) = buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = buf.drain(..=eol).collect();
        out.extend(rover_point(&line, mount, client, station, now_ns));
    }
    if buf.len() > 1024 {
        buf.clear();
    }
    out
}

fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// The sourcetable (STR records of every mountpoint and the station; CAS for the caster).
pub fn sourcetable(s: &CasterSettings, seen: &BTreeMap<u16, f64>) -> String {
    let mut t = String::new();
    let systems_of = |numbers: &[u16]| -> String {
        let v: Vec<&str> = [
            (1001..=1004, "GPS"),
            (1009..=1012, "GLO"),
            (1071..=1077, "GPS"),
            (1081..=1087, "GLO"),
            (1091..=1097, "GAL"),
            (1111..=1117, "QZS"),
            (1121..=1127, "BDS"),
        ]
        .iter()
        .filter(|(r, _)| numbers.iter().any(|n| r.contains(n)))
        .map(|(_, n)| *n)
        .collect();
        let mut v2: Vec<&str> = Vec::new();
        for x in v {
            if !v2.contains(&x) {
                v2.push(x);
            }
        }
        if v2.is_empty() {
            "GPS".into()
        } else {
            v2.join("+")
        }
    };
    for m in &s.mounts {
        let numbers: Vec<u16> = if m.messages.is_empty() {
            seen.keys().copied().collect()
        } else {
            m.messages.iter().map(|x| x.number).collect()
        };
        let systems = systems_of(&numbers);
        let details: Vec<String> = if m.messages.is_empty() {
            seen.iter()
                .map(|(n, r)| format!("{n}({})", rate_text(*r)))
                .collect()
        } else {
            m.messages
                .iter()
                .map(|x| format!("{}({})", x.number, rate_text(x.interval_s)))
                .collect()
        };
        let auth = if m.users.is_empty() { "N" } else { "B" };
        let _ = std::fmt::Write::write_fmt(
            &mut t,
            format_args!(
                "STR;{};{};RTCM 3.3;{};2;{};CORS;{};{:.2};{:.2};0;0;corsd;none;{};N;0;\r\n",
                m.name,
                s.identifier,
                details.join(","),
                systems,
                s.country,
                s.lat_deg,
                s.lon_deg,
                auth
            ),
        );
    }
    t.push_str("ENDSOURCETABLE\r\n");
    t
}

fn rate_text(interval_s: f64) -> String {
    if interval_s <= 0.0 {
        "1".into()
    } else if interval_s.fract() == 0.0 {
        format!("{}", interval_s as u64)
    } else {
        format!("{interval_s}")
    }
}

/// The caster: accepts clients until shutdown, feeding each its mountpoint's frames.
pub async fn run(
    settings: Arc<CasterSettings>,
    listener: TcpListener,
    frames: broadcast::Sender<RawFrame>,
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
        frames.subscribe(),
        seen.clone(),
        shutdown.clone(),
    ));
    loop {
        tokio::select! {
            r = listener.accept() => {
                let Ok((sock, peer)) = r else { continue };
                let _ = sock.set_nodelay(true);
                tokio::spawn(client(sock, peer, settings.clone(), frames.subscribe(), status.clone(), seen.clone(), points.clone(), shutdown.clone()));
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
                    let (Some(n), Some(t)) = (f.number, f.data_time) else { continue };
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

#[allow(clippy::too_many_arguments)]
async fn client(
    mut sock: TcpStream,
    peer: SocketAddr,
    settings: Arc<CasterSettings>,
    mut frames: broadcast::Receiver<RawFrame>,
    status: Arc<CasterStatus>,
    seen: Arc<Mutex<BTreeMap<u16, f64>>>,
    points: mpsc::Sender<Vec<crate::telemetry::Point>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (head, early) = match tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut sock)).await {
        Ok(Ok(x)) => x,
        Ok(Err(why)) => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, why, "caster: bad request");
            if why == "request header too long" {
                let _ = sock
                    .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n")
                    .await;
            }
            return;
        }
        Err(_) => {
            status.bad_requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "caster: no complete request in time");
            return;
        }
    };
    let Some(req) = parse_request(&head) else {
        status.bad_requests.fetch_add(1, Ordering::Relaxed);
        let _ = sock
            .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            .await;
        return;
    };
    if req.method != "GET" {
        status.bad_requests.fetch_add(1, Ordering::Relaxed);
        let _ = sock
            .write_all(b"HTTP/1.1 501 Not Implemented\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    let Some(mount) = settings.mounts.iter().find(|m| m.name == req.mount) else {
        let table = sourcetable(&settings, &seen.lock().unwrap_or_else(|p| p.into_inner()));
        let answer = if req.v2 {
            format!(
                "HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nServer: NTRIP corsd/{}\r\nDate: {}\r\nConnection: close\r\nContent-Type: gnss/sourcetable\r\nContent-Length: {}\r\n\r\n{table}",
                env!("CARGO_PKG_VERSION"),
                http_date(),
                table.len()
            )
        } else {
            format!(
                "SOURCETABLE 200 OK\r\nServer: NTRIP corsd/{}\r\nDate: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{table}",
                env!("CARGO_PKG_VERSION"),
                http_date(),
                table.len()
            )
        };
        let _ = sock.write_all(answer.as_bytes()).await;
        return;
    };
    if !mount.users.is_empty() {
        let ok = req.auth.as_ref().is_some_and(|(u, p)| {
            mount.users.iter().any(|x| x == u)
                && settings
                    .credentials
                    .get(u)
                    .is_some_and(|s| constant_time_eq(s.expose().as_bytes(), p.as_bytes()))
        });
        if !ok {
            status.refused.fetch_add(1, Ordering::Relaxed);
            let user = req.auth.as_ref().map(|a| a.0.as_str()).unwrap_or("-");
            tracing::info!(%peer, mount = %mount.name, user, "caster: credentials refused");
            let answer = if req.v2 {
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nNtrip-Version: Ntrip/2.0\r\nWWW-Authenticate: Basic realm=\"/{}\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    mount.name
                )
            } else {
                format!(
                    "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"/{}\"\r\n\r\n",
                    mount.name
                )
            };
            let _ = sock.write_all(answer.as_bytes()).await;
            return;
        }
    }
    let answer = if req.v2 {
        format!(
            "HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nServer: NTRIP corsd/{}\r\nDate: {}\r\nCache-Control: no-store, no-cache, max-age=0\r\nPragma: no-cache\r\nConnection: close\r\nContent-Type: gnss/data\r\nTransfer-Encoding: chunked\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            http_date()
        )
    } else {
        "ICY 200 OK\r\n".to_string()
    };
    if sock.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    status.clients.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%peer, mount = %mount.name, v2 = req.v2, "caster: client connected");
    let (mut rd, mut wr) = sock.into_split();
    // The writer owns a bounded queue; the reader side only watches for the client leaving.
    let (tx, mut rx) = mpsc::channel::<Arc<[u8]>>(CLIENT_QUEUE);
    let v2 = req.v2;
    // The rover is named by its user, or by its address when the mount is open.
    let client_name = req
        .auth
        .as_ref()
        .filter(|_| !mount.users.is_empty())
        .map(|a| a.0.clone())
        .unwrap_or_else(|| peer.ip().to_string());
    let now_ns = || chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    if let Some(g) = &req.gga
        && let Some(p) = rover_point(
            g.as_bytes(),
            &mount.name,
            &client_name,
            settings.station_xyz.as_ref(),
            now_ns(),
        )
    {
        let _ = points.try_send(vec![p]);
    }
    // Bytes that came with the request (a v1 rover's first GGA) are the start of the in-band data.
    let mut inband: Vec<u8> = early;
    for p in drain_gga(
        &mut inband,
        &mount.name,
        &client_name,
        settings.station_xyz.as_ref(),
        now_ns(),
    ) {
        let _ = points.try_send(vec![p]);
    }
    let writer_status = status.clone();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            let r = if v2 {
                let mut chunk = format!("{:X}\r\n", bytes.len()).into_bytes();
                chunk.extend_from_slice(&bytes);
                chunk.extend_from_slice(b"\r\n");
                wr.write_all(&chunk).await
            } else {
                wr.write_all(&bytes).await
            };
            if r.is_err() {
                return;
            }
            writer_status
                .bytes_out
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        if v2 {
            let _ = wr.write_all(b"0\r\n\r\n").await;
        }
    });
    // The mount's message set, by data time, with MSM4 and 1004/1012 made from the receiver's
    // MSM7 when the set asks for them and the stream lacks them. No set: every frame as is.
    let mut transcoder =
        (!mount.messages.is_empty()).then(|| crate::convert::Transcoder::new(&mount.messages));
    let mut scratch = [0u8; 1024];
    let why = loop {
        tokio::select! {
            f = frames.recv() => match f {
                Ok(f) => {
                    if f.kind != FrameKind::Rtcm3 {
                        continue;
                    }
                    let queued = match transcoder.as_mut() {
                        None => tx.try_send(f.bytes.clone()).is_ok(),
                        Some(t) => t
                            .feed(&f)
                            .into_iter()
                            .all(|b| tx.try_send(Arc::from(b)).is_ok()),
                    };
                    if !queued {
                        status.dropped_clients.fetch_add(1, Ordering::Relaxed);
                        break "fell behind (queue full)";
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    status.dropped_clients.fetch_add(1, Ordering::Relaxed);
                    break "fell behind the stream";
                }
                Err(_) => break "stream ended",
            },
            r = rd.read(&mut scratch) => match r {
                Ok(0) | Err(_) => break "client closed",
                Ok(n) => {
                    // In-band GGA (v1 and v2): one line at a time, bounded.
                    inband.extend_from_slice(&scratch[..n]);
                    for p in drain_gga(&mut inband, &mount.name, &client_name, settings.station_xyz.as_ref(), now_ns()) {
                        let _ = points.try_send(vec![p]);
                    }
                }
            },
            _ = shutdown.changed() => break "shutdown",
        }
    };
    drop(tx);
    let _ = writer.await;
    status.clients.fetch_sub(1, Ordering::Relaxed);
    tracing::info!(%peer, mount = %mount.name, why, "caster: client gone");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_sets() {
        let m = parse_messages("1006(10),1074(1), 1230").unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            MessageRate {
                number: 1006,
                interval_s: 10.0
            }
        );
        assert_eq!(m[2].interval_s, 0.0);
        assert!(parse_messages("1006(ten)").is_err());
        assert!(parse_messages("99(1)").is_err());
        assert!(parse_messages("1006(1").is_err());
    }

    #[test]
    fn requests_and_versions() {
        let r = parse_request(
            "GET /VTE1 HTTP/1.1\r\nUser-Agent: NTRIP x\r\nAuthorization: Basic Y3JldzpzZWNyZXQ=",
        )
        .unwrap();
        assert_eq!(r.mount, "VTE1");
        assert!(!r.v2, "HTTP/1.1 alone does not make v2");
        assert_eq!(r.auth, Some(("crew".into(), "secret".into())));
        let r =
            parse_request("GET / HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nNtrip-GGA: $GPGGA,1*00")
                .unwrap();
        assert!(r.v2);
        assert_eq!(r.mount, "");
        assert_eq!(r.gga.as_deref(), Some("$GPGGA,1*00"));
        assert!(parse_request("GET /M HTTP/1.0\r\nAuthorization: Basic !!!").is_none());
    }

    #[test]
    fn rover_from_gga() {
        let st = crate::gnss::geodesy::Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let g = crate::sources::ntrip::gga(18.0657, 102.6331, 150.0, 3600.0);
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

    #[test]
    fn equal_in_constant_time() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
