//! Sources (DESIGN §1 step 1): each is one task with a visible state machine
//! `connecting → streaming → stalled → backoff → connecting …`, a no-data watchdog, and jittered
//! exponential backoff (1 s → 5 min) that is reset only once a connection has delivered valid
//! frames — a caster that accepts and then sends nothing is retried ever more slowly, never in a
//! fast loop. Host names are resolved again on every connection. A serial port that vanished
//! reads `Ok(0)` forever on Linux: end of data is a disconnect like any other.
//!
//! Each source owns its [`Pipeline`](crate::station::pipeline::Pipeline): frames go to the raw fan-out,
//! time-series points to the sink channel, and a snapshot of the counters to the health page.

pub mod ntrip_client;

use ntrip_client as ntrip;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use nalgebra::Vector3;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{broadcast, mpsc, watch};

use crate::backoff::Backoff;
use crate::framing::RawFrame;
use crate::gnss::geodesy::ecef_to_geodetic;
use crate::gnss::time::Gpst;
use crate::ntrip::chunked::Dechunker;
use crate::ntrip::response::{Answer, parse_answer};
use crate::rinex::write::{ObsWriter, StationInfo};
use crate::simulate::{SimConfig, Simulator};
use crate::station::StationSettings;
use crate::station::pipeline::{MESSAGE_EVERY_S, Output, Pipeline, PipelineConfig, STREAM_EVERY_S};
use crate::telemetry::Point;
use ntrip_client::NtripSettings;
use std::path::Path;

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where a source's bytes come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Serial {
        path: PathBuf,
        baud: u32,
    },
    Tcp {
        address: String,
    },
    TcpServer {
        listen: SocketAddr,
    },
    Ntrip(NtripSettings),
    Udp {
        listen: SocketAddr,
    },
    File {
        path: PathBuf,
        speed: f64,
        looped: bool,
        /// Date of the recording (for streams without 1013).
        date: Option<chrono::NaiveDate>,
    },
    Stdin,
    /// The built-in simulator at the live clock (the demo station).
    Simulate {
        seed: u64,
        msm: u8,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceSettings {
    pub name: String,
    pub kind: SourceKind,
    /// No byte for this long: the link is stalled and is reopened.
    pub watchdog: Duration,
}

/// Elevation mask of the live solution (degrees), the same as `corsd replay`'s default.
pub const REPLAY_MASK_DEG: f64 = 5.0;

/// Where a source is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Connecting,
    Streaming,
    Stalled,
    Backoff,
    Finished,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Streaming => "streaming",
            State::Stalled => "stalled",
            State::Backoff => "backoff",
            State::Finished => "finished",
            State::Stopped => "stopped",
        }
    }
}

/// What the health endpoints show of a source.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub name: String,
    pub kind: String,
    pub state: State,
    pub bytes: u64,
    pub frames: u64,
    pub bad_frames: u64,
    pub discarded_bytes: u64,
    pub epochs_received: u64,
    pub epochs_expected: u64,
    pub solutions: u64,
    pub reconnects: u64,
    pub connect_attempts: u64,
    pub latency_ms: Option<f64>,
    pub last_error: Option<String>,
    pub messages: BTreeMap<String, u64>,
    /// Latest offset from the surveyed position (east, north, up; m).
    pub offset_enu: Option<[f64; 3]>,
    /// The satellites of the latest solution, for the sky view.
    pub sky: Vec<SkySat>,
}

/// A satellite in the sky view.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SkySat {
    /// System letter (G R E C J) and number, e.g. `C01`.
    pub sat: String,
    pub el_deg: f64,
    pub az_deg: f64,
    /// Post-fit residual (m).
    pub res_m: f64,
}

pub type SharedSnapshot = Arc<Mutex<Snapshot>>;

/// What every source task gets.
#[derive(Clone)]
pub struct Ctx {
    pub station: StationSettings,
    pub points: mpsc::Sender<Vec<Point>>,
    pub frames: broadcast::Sender<RawFrame>,
    pub shutdown: watch::Receiver<bool>,
    /// Where hourly RINEX files go (the archive's day directories), when enabled.
    pub rinex_dir: Option<std::path::PathBuf>,
}

fn kind_name(k: &SourceKind) -> &'static str {
    match k {
        SourceKind::Serial { .. } => "serial",
        SourceKind::Tcp { .. } => "tcp",
        SourceKind::TcpServer { .. } => "tcp-server",
        SourceKind::Ntrip(_) => "ntrip",
        SourceKind::Udp { .. } => "udp",
        SourceKind::File { .. } => "file",
        SourceKind::Stdin => "stdin",
        SourceKind::Simulate { .. } => "simulate",
    }
}

pub fn new_snapshot(s: &SourceSettings) -> SharedSnapshot {
    Arc::new(Mutex::new(Snapshot {
        name: s.name.clone(),
        kind: kind_name(&s.kind).into(),
        state: State::Connecting,
        bytes: 0,
        frames: 0,
        bad_frames: 0,
        discarded_bytes: 0,
        epochs_received: 0,
        epochs_expected: 0,
        solutions: 0,
        reconnects: 0,
        connect_attempts: 0,
        latency_ms: None,
        last_error: None,
        messages: BTreeMap::new(),
        offset_enu: None,
        sky: Vec::new(),
    }))
}

fn unix_ns_now() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// A connected byte stream.
type Reader = Box<dyn AsyncRead + Unpin + Send>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// Why a session ended.
#[derive(Debug)]
enum End {
    Eof,
    Stalled,
    Error(String),
    Shutdown,
}

/// Runs one source until shutdown.
pub struct Runner {
    settings: SourceSettings,
    ctx: Ctx,
    pipeline: Arc<Mutex<Pipeline>>,
    snapshot: SharedSnapshot,
    out: Output,
    /// Frames seen when the current connection opened (to tell whether it delivered any).
    frames_at_connect: u64,
    logged_error: Option<String>,
    /// The hourly RINEX file being written and its GPS hour.
    rinex: Option<(i64, ObsWriter)>,
    /// Since when (UTC ns) and why the data stopped, while it is stopped.
    outage: Option<(i64, String)>,
}

impl Runner {
    pub fn new(settings: SourceSettings, ctx: Ctx, snapshot: SharedSnapshot) -> Self {
        let live = !matches!(settings.kind, SourceKind::File { .. });
        let truth = ctx.station.position;
        let pipeline = Pipeline::new(PipelineConfig {
            station: ctx.station.name.clone(),
            source: settings.name.clone(),
            truth,
            // Live data is dated from the clock (the receiver's week is this week); a recorded
            // file must carry its own 1013 date.
            reference: match &settings.kind {
                SourceKind::File { date, .. } => date.map(Gpst::from_date),
                _ => Some(Gpst::from_utc(Utc::now())),
            },
            keep_frames: true,
            data_clock: !live,
            points: true,
            // The same solution settings as `corsd replay`, so that a replay backfills exactly
            // what the daemon would have written.
            spp: crate::gnss::spp::SppOptions {
                mask: REPLAY_MASK_DEG.to_radians(),
                ..Default::default()
            },
            ..Default::default()
        });
        Runner {
            settings,
            ctx,
            pipeline: Arc::new(Mutex::new(pipeline)),
            snapshot,
            out: Output::default(),
            frames_at_connect: 0,
            logged_error: None,
            rinex: None,
            outage: None,
        }
    }

    fn set_state(&self, s: State) {
        let mut snap = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if snap.state != s {
            tracing::debug!(source = %self.settings.name, from = snap.state.as_str(), to = s.as_str(), "source state");
        }
        snap.state = s;
        let mut p = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
        p.link.connected = s == State::Streaming;
    }

    /// Log a failure once per kind (the first words), then at debug.
    fn failure(&mut self, what: &str, err: &str) {
        let kind: String = err.chars().take(48).collect();
        if self.logged_error.as_deref() != Some(kind.as_str()) {
            tracing::warn!(source = %self.settings.name, error = %err, "{what}");
            self.logged_error = Some(kind);
        } else {
            tracing::debug!(source = %self.settings.name, error = %err, "{what}");
        }
        self.snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_error = Some(err.to_string());
    }

    /// Bytes in: pipeline, fan-out, points, snapshot.
    async fn deliver(&mut self, bytes: &[u8], live: bool) {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        {
            let mut p = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
            p.push(bytes, &mut out);
            if live && let Some(e) = out.epochs.last() {
                let lat = (unix_ns_now() - crate::telemetry::gpst_to_unix_ns(e.time)) as f64 / 1e6;
                p.link.latency_ms = Some(lat);
            }
            self.update_snapshot(&p, &out);
            if p.state.reference.is_none()
                && p.state.unreferenced > 0
                && self.logged_error.is_none()
            {
                self.logged_error = Some("undated".into());
                tracing::warn!(
                    source = %self.settings.name,
                    "observations cannot be dated: the stream has no 1013 message; give the recording's date = \"YYYY-MM-DD\" in its [[source]]"
                );
            }
        }
        if let Some((since, why)) = self.outage.take_if(|_| !out.frames.is_empty()) {
            let now = unix_ns_now();
            let secs = (now - since) as f64 / 1e9;
            tracing::info!(source = %self.settings.name, outage_s = secs.round(), "data flows again");
            out.points.push(self.event(
                now,
                "recovery",
                &format!("data again after {secs:.0} s without ({why})"),
            ));
        }
        if self.ctx.rinex_dir.is_some() {
            for e in &out.epochs {
                self.rinex_epoch(e);
            }
        }
        for f in out.frames.drain(..) {
            // No receiver is fine: nobody listens yet.
            let _ = self.ctx.frames.send(f);
        }
        self.send_points(&mut out.points).await;
        self.out = out;
    }

    fn event(&self, at_ns: i64, kind: &str, message: &str) -> Point {
        Point::new("event", at_ns)
            .tag("station", &self.ctx.station.name)
            .tag("source", &self.settings.name)
            .tag("kind", kind)
            .field("message", message)
    }

    /// Hourly RINEX: close the file when the epoch starts a new GPS hour.
    fn rinex_epoch(&mut self, e: &crate::gnss::obs::Epoch) {
        let Some(root) = self.ctx.rinex_dir.clone() else {
            return;
        };
        let hour = e.time.secs().div_euclid(3600);
        if self.rinex.as_ref().is_some_and(|(h, _)| *h != hour) {
            self.close_rinex();
        }
        if self.rinex.is_none() {
            let dir = crate::sinks::archive::path_for(&root, &self.ctx.station.name, e.time);
            let dir = dir.parent().map(Path::to_path_buf).unwrap_or(root);
            let info = StationInfo {
                name: self.ctx.station.name.clone(),
                country: self.ctx.station.country.clone(),
                receiver: self.ctx.station.receiver.clone(),
                receiver_version: String::new(),
                antenna: self.ctx.station.antenna.clone(),
                position: self.ctx.station.position,
                delta_hen: [0.0; 3],
            };
            match ObsWriter::create(&dir, info, "01H") {
                Ok(w) => self.rinex = Some((hour, w)),
                Err(e) => self.failure("cannot start the hourly RINEX file", &e.to_string()),
            }
        }
        if let Some((_, w)) = self.rinex.as_mut()
            && let Err(err) = w.write(e)
        {
            self.failure("hourly RINEX write failed", &err.to_string());
        }
    }

    fn close_rinex(&mut self) {
        if let Some((_, mut w)) = self.rinex.take() {
            w.learn(
                &self
                    .pipeline
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .state,
            );
            match w.close() {
                Ok(Some(p)) => tracing::info!(file = %p.display(), "hourly RINEX file written"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "closing the hourly RINEX file failed"),
            }
        }
    }

    async fn send_points(&self, points: &mut Vec<Point>) {
        if points.is_empty() {
            return;
        }
        let batch = std::mem::take(points);
        if let Err(mpsc::error::TrySendError::Full(b)) = self.ctx.points.try_send(batch) {
            // The sink writes to local disk; a full queue means the disk is stuck. Wait rather
            // than drop: this slows the source, which DESIGN allows for source → pipeline.
            let _ = self.ctx.points.send(b).await;
        }
    }

    fn update_snapshot(&self, p: &Pipeline, out: &Output) {
        let mut s = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        let st = p.framer_stats();
        s.bytes = st.bytes;
        s.frames = st.frames();
        s.bad_frames = st.bad_frames();
        s.discarded_bytes = st.discarded_bytes;
        s.epochs_received = p.epochs;
        s.epochs_expected = p.epochs_expected();
        s.solutions = p.solutions;
        s.latency_ms = p.link.latency_ms;
        s.messages.clone_from(&p.message_totals);
        if let (Some(sol), Some(t)) = (out.solutions.last(), p.config().truth) {
            let d = crate::gnss::geodesy::enu(&t, &Vector3::from(sol.position));
            s.offset_enu = Some([d.x, d.y, d.z]);
        }
        if let Some(sol) = out.solutions.last() {
            s.sky = sol
                .used
                .iter()
                .map(|u| SkySat {
                    sat: format!("{}{:02}", u.sys.letter(), u.prn),
                    el_deg: u.elevation_deg,
                    az_deg: u.azimuth_deg,
                    res_m: u.residual_m,
                })
                .collect();
        }
    }

    /// The wall-clock ticker for `stream` and `message` points of live sources.
    fn spawn_ticker(&self) -> tokio::task::JoinHandle<()> {
        let pipeline = self.pipeline.clone();
        let points = self.ctx.points.clone();
        let mut shutdown = self.ctx.shutdown.clone();
        tokio::spawn(async move {
            let mut n: u64 = 0;
            loop {
                // Sleep to the next whole 10 s of UTC, so points from many stations line up.
                let now = Utc::now();
                let into =
                    (now.second() as i64 % STREAM_EVERY_S) as f64 + now.nanosecond() as f64 * 1e-9;
                let wait = Duration::from_secs_f64(STREAM_EVERY_S as f64 - into);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => return,
                }
                n += 1;
                let at = unix_ns_now() / 1_000_000_000 * 1_000_000_000;
                let at = at - at.rem_euclid(STREAM_EVERY_S * 1_000_000_000);
                let window = ((at / 1_000_000_000) % MESSAGE_EVERY_S == 0 && n > 1)
                    .then_some(MESSAGE_EVERY_S as f64);
                let mut out = Output::default();
                pipeline
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .tick(at, window, &mut out);
                if points.send(out.points).await.is_err() {
                    return;
                }
            }
        })
    }

    /// Run until shutdown (or, for a file that is not looped, until its end).
    pub async fn run(mut self) {
        let live = !matches!(self.settings.kind, SourceKind::File { .. });
        let ticker = live.then(|| self.spawn_ticker());
        let mut backoff = Backoff::standard();
        let mut shutdown = self.ctx.shutdown.clone();
        let mut tcp_listener: Option<TcpListener> = None;
        let mut first = true;
        loop {
            if *shutdown.borrow() {
                break;
            }
            self.set_state(State::Connecting);
            {
                let mut s = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
                s.connect_attempts += 1;
                if !first {
                    s.reconnects += 1;
                }
            }
            if !first {
                let mut p = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
                p.link.reconnects += 1;
                p.reset_link();
            }
            first = false;
            self.frames_at_connect = self
                .snapshot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .frames;
            let end = match self.settings.kind.clone() {
                SourceKind::Simulate { seed, msm } => self.simulate(seed, msm).await,
                SourceKind::Udp { listen } => match UdpSocket::bind(listen).await {
                    Ok(sock) => self.udp(sock).await,
                    Err(e) => End::Error(format!("cannot listen on udp {listen}: {e}")),
                },
                SourceKind::File {
                    path,
                    speed,
                    looped,
                    ..
                } => match tokio::fs::File::open(&path).await {
                    Ok(f) => {
                        let end = self.stream(Box::new(f), None, None, speed).await;
                        if matches!(end, End::Eof) {
                            let mut out = Output::default();
                            self.pipeline
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .finish(&mut out);
                            self.send_points(&mut out.points).await;
                            if !looped {
                                self.set_state(State::Finished);
                                tracing::info!(source = %self.settings.name, file = %path.display(), "file replayed to its end");
                                break;
                            }
                            continue;
                        }
                        end
                    }
                    Err(e) => End::Error(format!("cannot open {}: {e}", path.display())),
                },
                other => match self.open(&other, &mut tcp_listener).await {
                    Ok((r, w, gga)) => self.stream(r, w, gga, 0.0).await,
                    Err(e) => End::Error(e),
                },
            };
            let delivered = self
                .snapshot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .frames
                > self.frames_at_connect;
            match end {
                End::Shutdown => break,
                End::Eof => self.failure(
                    "the source closed the connection; reconnecting",
                    "end of data (peer closed, or device gone)",
                ),
                End::Stalled => self.failure(
                    "no data within the watchdog time; reconnecting",
                    &format!("stalled: no byte for {:?}", self.settings.watchdog),
                ),
                End::Error(e) => self.failure("source failed; retrying with backoff", &e),
            }
            if delivered {
                backoff.reset();
            }
            if live && self.outage.is_none() {
                let why = self
                    .snapshot
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .last_error
                    .clone()
                    .unwrap_or_default();
                let now = unix_ns_now();
                let mut points = vec![self.event(now, "outage", &why)];
                self.outage = Some((now, why));
                self.send_points(&mut points).await;
            }
            self.set_state(State::Backoff);
            let delay = backoff.next_delay();
            tracing::debug!(source = %self.settings.name, ?delay, "backoff");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        }
        if !matches!(
            self.snapshot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .state,
            State::Finished
        ) {
            self.set_state(State::Stopped);
        }
        if let Some(t) = ticker {
            t.abort();
        }
        // The hour in progress is written as it stands: a partial hour is better than none.
        self.close_rinex();
    }

    /// Open a connection-like source: reader, optional writer (GGA upload), GGA period.
    async fn open(
        &mut self,
        kind: &SourceKind,
        listener: &mut Option<TcpListener>,
    ) -> Result<(Reader, Option<Writer>, Option<Duration>), String> {
        match kind {
            SourceKind::Serial { path, baud } => {
                use tokio_serial::SerialPortBuilderExt;
                let port = tokio_serial::new(path.to_string_lossy(), *baud)
                    .open_native_async()
                    .map_err(|e| format!("cannot open serial port {}: {e}", path.display()))?;
                Ok((Box::new(port), None, None))
            }
            SourceKind::Tcp { address } => {
                let s = tokio::time::timeout(
                    Duration::from_secs(10),
                    TcpStream::connect(address.as_str()),
                )
                .await
                .map_err(|_| format!("connecting to {address} timed out"))?
                .map_err(|e| format!("cannot connect to {address}: {e}"))?;
                let _ = s.set_nodelay(true);
                Ok((Box::new(s), None, None))
            }
            SourceKind::TcpServer { listen } => {
                if listener.is_none() {
                    *listener = Some(
                        TcpListener::bind(listen)
                            .await
                            .map_err(|e| format!("cannot listen on {listen}: {e}"))?,
                    );
                }
                let Some(l) = listener.as_ref() else {
                    unreachable!("bound above");
                };
                tracing::info!(source = %self.settings.name, %listen, "waiting for the receiver to connect");
                let mut shutdown = self.ctx.shutdown.clone();
                tokio::select! {
                    r = l.accept() => {
                        let (s, peer) = r.map_err(|e| format!("accept on {listen}: {e}"))?;
                        tracing::info!(source = %self.settings.name, %peer, "receiver connected");
                        Ok((Box::new(s), None, None))
                    }
                    _ = shutdown.changed() => Err("shutting down".into()),
                }
            }
            SourceKind::Ntrip(n) => self.ntrip(n).await,
            SourceKind::Stdin => Ok((Box::new(tokio::io::stdin()), None, None)),
            SourceKind::Udp { .. } | SourceKind::File { .. } | SourceKind::Simulate { .. } => {
                Err("not a connection".into())
            }
        }
    }

    fn station_gga(&self) -> Option<String> {
        let p = self.ctx.station.position?;
        let g = ecef_to_geodetic(&p);
        let now = Utc::now();
        let sod = now.num_seconds_from_midnight() as f64;
        Some(crate::ntrip::gga::gga(
            g.lat.to_degrees(),
            g.lon.to_degrees(),
            g.h,
            sod,
        ))
    }

    async fn ntrip(
        &mut self,
        n: &NtripSettings,
    ) -> Result<(Reader, Option<Writer>, Option<Duration>), String> {
        let addr = format!("{}:{}", n.host, n.port);
        let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr.as_str()))
            .await
            .map_err(|_| format!("connecting to caster {addr} timed out"))?
            .map_err(|e| format!("cannot connect to caster {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (mut r, mut w): (Reader, Writer) = if n.tls {
            let s = tls_connect(&n.host, tcp).await?;
            let (r, w) = tokio::io::split(s);
            (Box::new(r), Box::new(w))
        } else {
            let (r, w) = tcp.into_split();
            (Box::new(r), Box::new(w))
        };
        let gga = n.gga.and_then(|_| self.station_gga());
        let req = ntrip::request(n, gga.as_deref());
        w.write_all(req.as_bytes())
            .await
            .map_err(|e| format!("sending the request to {addr}: {e}"))?;
        if n.version == 1
            && let Some(g) = &gga
        {
            w.write_all(g.as_bytes()).await.map_err(|e| e.to_string())?;
        }
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        let answer = loop {
            let k = tokio::time::timeout(ntrip::ANSWER_TIMEOUT, r.read(&mut tmp))
                .await
                .map_err(|_| {
                    format!(
                        "caster {addr} did not answer within {:?}",
                        ntrip::ANSWER_TIMEOUT
                    )
                })?
                .map_err(|e| format!("reading the answer of {addr}: {e}"))?;
            if k == 0 {
                return Err(format!(
                    "caster {addr} closed the connection without an answer"
                ));
            }
            buf.extend_from_slice(&tmp[..k]);
            match parse_answer(&buf, &n.mountpoint) {
                Answer::Incomplete => continue,
                a => break a,
            }
        };
        match answer {
            Answer::Stream { chunked, consumed } => {
                tracing::info!(source = %self.settings.name, caster = %addr, mountpoint = %n.mountpoint, version = n.version, chunked, "NTRIP stream open");
                let rest = buf[consumed..].to_vec();
                let reader: Reader = if chunked {
                    Box::new(ChunkedReader::new(r, rest))
                } else {
                    Box::new(std::io::Cursor::new(rest).chain(r))
                };
                Ok((reader, Some(w), n.gga))
            }
            Answer::Refused(why) => Err(format!("caster {addr}: {why}")),
            Answer::Incomplete => Err("incomplete answer".into()),
        }
    }

    /// Read a byte stream until it ends, stalls or shutdown; GGA upload every `gga` period;
    /// `speed` > 0 paces a file by its data time.
    async fn stream(
        &mut self,
        mut r: Reader,
        mut w: Option<Writer>,
        gga: Option<Duration>,
        speed: f64,
    ) -> End {
        self.set_state(State::Streaming);
        let mut shutdown = self.ctx.shutdown.clone();
        let mut buf = vec![0u8; 16 * 1024];
        let watchdog = self.settings.watchdog;
        let mut gga_tick = tokio::time::interval(gga.unwrap_or(Duration::from_secs(3600)));
        gga_tick.tick().await;
        let paced = speed > 0.0;
        let start = Instant::now();
        let mut first_data: Option<Gpst> = None;
        let live = !paced && !matches!(self.settings.kind, SourceKind::File { .. });
        loop {
            tokio::select! {
                r = tokio::time::timeout(watchdog, r.read(&mut buf)) => match r {
                    Err(_) => {
                        self.set_state(State::Stalled);
                        return End::Stalled;
                    }
                    Ok(Ok(0)) => return End::Eof,
                    Ok(Ok(n)) => {
                        self.deliver(&buf[..n], live).await;
                        if paced {
                            let dt = self.pipeline.lock().unwrap_or_else(|p| p.into_inner()).data_time();
                            if let Some(t) = dt {
                                let t0 = *first_data.get_or_insert(t);
                                let due = Duration::from_secs_f64((t.diff(t0) / speed).max(0.0));
                                let now = start.elapsed();
                                if due > now {
                                    tokio::select! {
                                        _ = tokio::time::sleep(due - now) => {}
                                        _ = shutdown.changed() => return End::Shutdown,
                                    }
                                }
                            }
                        }
                    }
                    Ok(Err(e)) => return End::Error(format!("read: {e}")),
                },
                _ = gga_tick.tick(), if gga.is_some() && w.is_some() => {
                    if let (Some(g), Some(wr)) = (self.station_gga(), w.as_mut())
                        && let Err(e) = wr.write_all(g.as_bytes()).await
                    {
                        return End::Error(format!("sending GGA: {e}"));
                    }
                }
                _ = shutdown.changed() => return End::Shutdown,
            }
        }
    }

    async fn udp(&mut self, sock: UdpSocket) -> End {
        self.set_state(State::Streaming);
        let mut shutdown = self.ctx.shutdown.clone();
        let mut buf = vec![0u8; 65_536];
        loop {
            tokio::select! {
                r = tokio::time::timeout(self.settings.watchdog, sock.recv(&mut buf)) => match r {
                    // A datagram source has nothing to reconnect: stay bound, report the stall.
                    Err(_) => self.set_state(State::Stalled),
                    Ok(Ok(n)) => {
                        self.set_state(State::Streaming);
                        self.deliver(&buf[..n], true).await;
                    }
                    Ok(Err(e)) => return End::Error(format!("udp: {e}")),
                },
                _ = shutdown.changed() => return End::Shutdown,
            }
        }
    }

    /// The built-in simulator at the live clock: one epoch per second, sent at its second.
    async fn simulate(&mut self, seed: u64, msm: u8) -> End {
        self.set_state(State::Streaming);
        let now = Gpst::from_utc(Utc::now());
        let start = Gpst::new(now.secs() + 1, 0.0);
        let position = self
            .ctx
            .station
            .position
            .unwrap_or_else(|| SimConfig::default().position);
        let mut sim = Simulator::new(SimConfig {
            name: self.ctx.station.name.clone(),
            position,
            start,
            epochs: u32::MAX,
            seed,
            msm,
            noise: true,
            multipath: true,
            atmosphere: true,
            ..Default::default()
        });
        let mut shutdown = self.ctx.shutdown.clone();
        loop {
            let t = start.add(sim.epochs_done() as f64);
            let wait = (crate::telemetry::gpst_to_unix_ns(t) - unix_ns_now()).max(0) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_nanos(wait)) => {}
                _ = shutdown.changed() => return End::Shutdown,
            }
            let Some(frames) = sim.next_epoch() else {
                return End::Eof;
            };
            let bytes: Vec<u8> = frames.concat();
            self.deliver(&bytes, true).await;
        }
    }
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
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
    let name = rustls::ServerName::try_from(host).map_err(|e| format!("TLS name {host:?}: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake with {host}: {e}"))
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
