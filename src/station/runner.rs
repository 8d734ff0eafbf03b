//! One source's task: reads its [`Source`], runs the bytes through the [`Pipeline`] and
//! publishes what comes out — raw frames (caster, pushes, outputs, archive), epochs (hourly
//! RINEX), code corrections (RTCM 2.3 outputs) on broadcasts, time-series points to the sink —
//! and keeps the health snapshot. Link events become `event` points (outage, recovery) and the
//! `stream` point's counters; a recording read at a `speed` is paced by its data time here,
//! where that time is known.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use nalgebra::Vector3;
use tokio::sync::{broadcast, mpsc, watch};

use super::StationSettings;
use super::base::BaseFacts;
use super::pipeline::{MESSAGE_EVERY_S, Output, Pipeline, PipelineConfig, STREAM_EVERY_S};
use super::reflection::{ReflectionSettings, Span};
use super::snapshot::{SharedSnapshot, SkySat};
use crate::framing::RawFrame;
use crate::gnss::corrections::EpochCorrections;
use crate::gnss::geodesy::enu;
use crate::gnss::obs::Epoch;
use crate::gnss::sat_name;
use crate::gnss::spp::SppOptions;
use crate::gnss::time::Gpst;
use crate::rinex::write::StationInfo;
use crate::sources::{End, Event, Source, SourceKind, SourceSettings, State};
use crate::telemetry::{Point, gpst_to_unix_ns};

/// Elevation mask of the live solution (degrees), the same as `corsd replay`'s default.
pub const REPLAY_MASK_DEG: f64 = 5.0;

/// Where a runner publishes.
#[derive(Clone)]
pub struct Ctx {
    pub station: StationSettings,
    pub points: mpsc::Sender<Vec<Point>>,
    pub frames: broadcast::Sender<RawFrame>,
    /// Each epoch's code corrections, when some output encodes them.
    pub corrections: Option<broadcast::Sender<Arc<EpochCorrections>>>,
    /// Each epoch as received, when someone writes them (hourly RINEX).
    pub epochs: Option<broadcast::Sender<Arc<Epoch>>>,
    /// What the stream told about the station (receiver, antenna, ARP), for RINEX headers.
    pub told: Option<watch::Sender<StationInfo>>,
    pub shutdown: watch::Receiver<bool>,
    /// `[reflection]`, when on.
    pub reflection: Option<Arc<ReflectionSettings>>,
}

fn unix_ns_now() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// Runs one source until shutdown.
pub struct Runner {
    name: String,
    kind: SourceKind,
    watchdog: Duration,
    ctx: Ctx,
    source: Source,
    pipeline: Arc<Mutex<Pipeline>>,
    snapshot: SharedSnapshot,
    state: State,
    out: Output,
    logged_error: Option<String>,
    /// Since when (UTC ns) and why the data stopped, while it is stopped.
    outage: Option<(i64, String)>,
}

impl Runner {
    pub fn new(settings: SourceSettings, ctx: Ctx, snapshot: SharedSnapshot) -> Self {
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
            data_clock: matches!(settings.kind, SourceKind::File { .. }),
            points: true,
            // The same solution settings as `corsd replay`, so that a replay backfills exactly
            // what the daemon would have written.
            spp: SppOptions {
                mask: REPLAY_MASK_DEG.to_radians(),
                ..Default::default()
            },
            dgnss: ctx.corrections.is_some(),
            reflection: ctx.reflection.clone(),
            format: settings.format,
            base: BaseFacts {
                station_id: 0,
                position: truth,
                antenna: ctx.station.antenna.clone(),
                receiver: ctx.station.receiver.clone(),
            },
            ..Default::default()
        });
        let source = Source::new(
            settings.clone(),
            &ctx.station.name,
            ctx.station.position,
            ctx.shutdown.clone(),
        );
        Runner {
            name: settings.name,
            kind: settings.kind,
            watchdog: settings.watchdog,
            ctx,
            source,
            pipeline: Arc::new(Mutex::new(pipeline)),
            snapshot,
            state: State::Connecting,
            out: Output::default(),
            logged_error: None,
            outage: None,
        }
    }

    fn live(&self) -> bool {
        !matches!(self.kind, SourceKind::File { .. })
    }

    /// Run until shutdown (or, for a file that is not looped, until its end).
    pub async fn run(mut self) {
        let live = self.live();
        let ticker = live.then(|| self.spawn_ticker());
        let mut pace = Pace::new(match self.kind {
            SourceKind::File { speed, .. } => speed,
            _ => 0.0,
        });
        let mut buf = Vec::new();
        loop {
            match self.source.next(&mut buf).await {
                Event::Connecting { reconnect } => self.connecting(reconnect),
                Event::Streaming => {
                    self.set_state(State::Streaming);
                    pace.restart();
                }
                Event::Data => {
                    if self.state != State::Streaming {
                        self.set_state(State::Streaming);
                    }
                    if pace.speed > 0.0 {
                        if !self.deliver_paced(&buf, &mut pace).await {
                            break;
                        }
                    } else {
                        self.deliver(&buf, live).await;
                    }
                }
                Event::Stalled => self.set_state(State::Stalled),
                Event::Down { end, delay } => self.down(end, delay, live).await,
                Event::FileEnd { looped } => {
                    let mut out = Output::default();
                    self.pipeline().finish(&mut out);
                    self.reflect(&mut out.reflection);
                    self.send_points(&mut out.points).await;
                    if !looped {
                        self.set_state(State::Finished);
                        tracing::info!(source = %self.name, "file replayed to its end");
                        break;
                    }
                    self.pipeline().rewind();
                }
                Event::Stopped => break,
            }
        }
        if self.state != State::Finished {
            self.set_state(State::Stopped);
        }
        if let Some(t) = ticker {
            t.abort();
        }
    }

    fn pipeline(&self) -> std::sync::MutexGuard<'_, Pipeline> {
        self.pipeline.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&mut self, s: State) {
        let mut snap = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if snap.state != s {
            tracing::debug!(source = %self.name, from = snap.state.as_str(), to = s.as_str(), "source state");
        }
        snap.state = s;
        drop(snap);
        self.state = s;
        self.pipeline().link.connected = s == State::Streaming;
    }

    fn connecting(&mut self, reconnect: bool) {
        self.set_state(State::Connecting);
        {
            let mut s = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
            s.connect_attempts += 1;
            if reconnect {
                s.reconnects += 1;
            }
        }
        if reconnect {
            let mut p = self.pipeline();
            p.link.reconnects += 1;
            p.reset_link();
        }
    }

    /// A connection ended: say why (once per kind), mark the outage, back off.
    async fn down(&mut self, end: End, delay: Duration, live: bool) {
        match end {
            End::Eof => self.failure(
                "the source closed the connection; reconnecting",
                "end of data (peer closed, or device gone)",
            ),
            End::Stalled => {
                self.set_state(State::Stalled);
                self.failure(
                    "no data within the watchdog time; reconnecting",
                    &format!("stalled: no byte for {:?}", self.watchdog),
                );
            }
            End::Error(e) => self.failure("source failed; retrying with backoff", &e.to_string()),
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
        tracing::debug!(source = %self.name, ?delay, "backoff");
    }

    /// Log a failure once per kind (the first words), then at debug.
    fn failure(&mut self, what: &str, err: &str) {
        let kind: String = err.chars().take(48).collect();
        if self.logged_error.as_deref() != Some(kind.as_str()) {
            tracing::warn!(source = %self.name, error = %err, "{what}");
            self.logged_error = Some(kind);
        } else {
            tracing::debug!(source = %self.name, error = %err, "{what}");
        }
        self.snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_error = Some(err.to_string());
    }

    /// Bytes in: pipeline, then everything it produced to whoever takes it.
    async fn deliver(&mut self, bytes: &[u8], live: bool) {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        self.pipeline().push(bytes, &mut out);
        self.release(out, live).await;
    }

    /// A recording's bytes in, each epoch's frames released together when the epoch is due at
    /// the recording's `speed`; `false` when shut down meanwhile. A frame that opens an epoch
    /// not due yet is held back, and what came before it goes at once.
    async fn deliver_paced(&mut self, bytes: &[u8], pace: &mut Pace) -> bool {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        self.pipeline().feed(bytes);
        loop {
            // Paced by the time the frames themselves carry (an MSM's epoch, a 1013): not by a
            // configured date, which is that day's midnight.
            let frames_before = out.frames.len();
            let (more, time) = {
                let mut p = self.pipeline();
                let before = p.state.reference;
                let more = p.step(&mut out);
                let after = p.state.reference;
                (more, after.filter(|_| after != before))
            };
            if !more {
                break;
            }
            let Some(wait) = time.and_then(|t| pace.wait(t)) else {
                continue;
            };
            // The frame and what was made from it (the RTCM3 of a raw receiver's epoch).
            let held: Vec<_> = out.frames.drain(frames_before..).collect();
            self.release(out, false).await;
            out = std::mem::take(&mut self.out);
            out.clear();
            out.frames.extend(held);
            let mut shutdown = self.ctx.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return false,
            }
        }
        self.release(out, false).await;
        true
    }

    /// What the pipeline produced, to whoever takes it; the snapshot follows.
    async fn release(&mut self, mut out: Output, live: bool) {
        let told = {
            let mut p = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
            if live && let Some(e) = out.epochs.last() {
                let lat = (unix_ns_now() - gpst_to_unix_ns(e.time)) as f64 / 1e6;
                p.link.latency_ms = Some(lat);
            }
            self.update_snapshot(&p, &out);
            if p.state.reference.is_none()
                && p.state.unreferenced > 0
                && self.logged_error.is_none()
            {
                self.logged_error = Some("undated".into());
                tracing::warn!(
                    source = %self.name,
                    "observations cannot be dated: the stream has no 1013 message; give the recording's date = \"YYYY-MM-DD\" in its [[source]]"
                );
            }
            self.ctx.told.as_ref().map(|_| p.state.told())
        };
        if !out.frames.is_empty() {
            self.source.delivered();
        }
        if let Some((since, why)) = self.outage.take_if(|_| !out.frames.is_empty()) {
            let now = unix_ns_now();
            let secs = (now - since) as f64 / 1e9;
            tracing::info!(source = %self.name, outage_s = secs.round(), "data flows again");
            out.points.push(self.event(
                now,
                "recovery",
                &format!("data again after {secs:.0} s without ({why})"),
            ));
        }
        self.publish(&mut out, told);
        self.reflect(&mut out.reflection);
        self.send_points(&mut out.points).await;
        self.out = out;
    }

    /// Frames, epochs and corrections to their broadcasts (no receiver is fine: nobody listens
    /// yet, or nobody wants them).
    fn publish(&self, out: &mut Output, told: Option<StationInfo>) {
        for f in out.frames.drain(..) {
            let _ = self.ctx.frames.send(f);
        }
        if let (Some(tx), Some(told)) = (&self.ctx.told, told) {
            tx.send_if_modified(|t| {
                let changed = *t != told;
                *t = told;
                changed
            });
        }
        if let Some(tx) = &self.ctx.epochs {
            for e in out.epochs.drain(..) {
                let _ = tx.send(Arc::new(e));
            }
        }
        if let Some(tx) = &self.ctx.corrections {
            for c in out.corrections.drain(..) {
                let _ = tx.send(Arc::new(c));
            }
        }
    }

    /// Analyse closed reflectometry spans on a blocking thread, its points to the sink when
    /// done: the data path never waits for it.
    fn reflect(&self, spans: &mut Vec<Span>) {
        for span in spans.drain(..) {
            let tx = self.ctx.points.clone();
            let station = self.ctx.station.name.clone();
            let source = self.name.clone();
            tokio::spawn(async move {
                let work = tokio::task::spawn_blocking(move || {
                    let t0 = Instant::now();
                    let arcs = span.analyse();
                    let points = super::reflection::span_points(&station, &span, &arcs);
                    let kept = arcs.iter().filter(|a| a.rejected.is_none()).count();
                    tracing::info!(
                        source = %source,
                        from = %span.start.to_utc().format("%Y-%m-%dT%H:%M:%SZ"),
                        samples = span.samples(),
                        kept_mib = format!("{:.1}", span.bytes() as f64 / 1048576.0),
                        arcs_tried = arcs.len(),
                        arcs_kept = kept,
                        seconds = format!("{:.2}", t0.elapsed().as_secs_f64()),
                        "reflector heights analysed"
                    );
                    points
                });
                if let Ok(mut points) = work.await {
                    send_points(&tx, &mut points).await;
                }
            });
        }
    }

    fn event(&self, at_ns: i64, kind: &str, message: &str) -> Point {
        Point::new("event", at_ns)
            .tag("station", &self.ctx.station.name)
            .tag("source", &self.name)
            .tag("kind", kind)
            .field("message", message)
    }

    /// Takes `&mut self`: a `&Runner` held across the wait would have to be `Sync`, and the
    /// source's reader is not.
    async fn send_points(&mut self, points: &mut Vec<Point>) {
        send_points(&self.ctx.points, points).await;
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
            let d = enu(&t, &Vector3::from(sol.position));
            s.offset_enu = Some([d.x, d.y, d.z]);
        }
        if let Some(sol) = out.solutions.last() {
            s.sky = sol
                .used
                .iter()
                .map(|u| SkySat {
                    sat: sat_name(u.sys, u.prn),
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
}

/// Points to the sink.
async fn send_points(sink: &mpsc::Sender<Vec<Point>>, points: &mut Vec<Point>) {
    if points.is_empty() {
        return;
    }
    let batch = std::mem::take(points);
    if let Err(mpsc::error::TrySendError::Full(b)) = sink.try_send(batch) {
        // The sink writes to local disk; a full queue means the disk is stuck. Wait rather than
        // drop: this slows the source, which DESIGN allows for source → pipeline.
        let _ = sink.send(b).await;
    }
}

/// Pacing a recording by its data time: data `t` is due `(t − first) / speed` after the
/// connection opened.
struct Pace {
    speed: f64,
    start: Instant,
    first: Option<Gpst>,
}

impl Pace {
    fn new(speed: f64) -> Self {
        Pace {
            speed,
            start: Instant::now(),
            first: None,
        }
    }

    fn restart(&mut self) {
        self.start = Instant::now();
        self.first = None;
    }

    /// How long to wait before data of time `t` is due, if it is not yet.
    fn wait(&mut self, t: Gpst) -> Option<Duration> {
        let t0 = *self.first.get_or_insert(t);
        let due = Duration::from_secs_f64((t.diff(t0) / self.speed).max(0.0));
        due.checked_sub(self.start.elapsed())
            .filter(|d| !d.is_zero())
    }
}
