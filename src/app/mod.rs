//! The daemon: the only place that wires the parts. [`run`] builds the time-series sink, the
//! archive, the casters, pushes and outputs (each on its feed of what the stations publish),
//! then one station runner per source (with its hourly RINEX writer), and the [`health`]
//! endpoints; it runs them until the `shutdown` future completes. Shutdown is a broadcast (a
//! `watch` flag): sources stop reading, the point channel closes when the last runner drops its
//! sender, and the sink flushes its batch into the spool and syncs it before `run` returns.

pub mod coordinates;
mod daily;
pub mod health;
pub mod history;
mod metrics;
mod monitors;
pub mod parts;
pub mod preflight;
mod reflection;
mod status;
mod systemd;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::feeds::caster::{CasterSettings, CasterStatus};
use crate::feeds::feed::{self, Streams};
use crate::feeds::message_set::Format;
use crate::feeds::output::{OutputKind, OutputStatus};
use crate::feeds::push::PushStatus;
use crate::gnss::geodesy::ecef_to_geodetic;
use crate::rinex::write::StationInfo;
use crate::sinks::archive::{Archive, ArchiveStatus};
use crate::sinks::rinex_obs::{EPOCH_QUEUE, HourlyRinex};
use crate::sinks::series::{Delivery, SeriesError, SinkStatus};
use crate::station::monitor::MonitorStatus;
use crate::station::runner::{Ctx, Runner};
use crate::station::snapshot::{SharedSnapshot, new_snapshot};
use crate::telemetry::Point;

/// Frames a consumer of the raw stream may fall behind.
const FRAME_QUEUE: usize = 4096;
/// Epochs of corrections an RTCM 2.3 feed may fall behind.
const CORRECTION_QUEUE: usize = 256;

/// Addresses the daemon ended up on (port 0 in tests becomes a real port).
#[derive(Clone, Debug, Default)]
pub struct Bound {
    pub health: Option<SocketAddr>,
    pub casters: Vec<SocketAddr>,
    /// TCP server outputs, in configuration order.
    pub outputs: Vec<SocketAddr>,
}

/// What the health endpoints read.
#[derive(Clone)]
pub struct Health {
    pub station: String,
    pub sources: Vec<SharedSnapshot>,
    pub sink: Arc<SinkStatus>,
    pub sink_kind: &'static str,
    pub archive: Option<Arc<ArchiveStatus>>,
    pub caster: Option<Arc<CasterStatus>>,
    pub pushes: Vec<(String, Arc<PushStatus>)>,
    pub outputs: Vec<(String, Arc<OutputStatus>)>,
    pub monitors: Vec<(String, Arc<MonitorStatus>)>,
    pub started: std::time::Instant,
    pub names: PartNames,
    /// The last hour and day, for the status page.
    pub history: Arc<history::History>,
    /// The daily coordinate survey's series, for the status page.
    pub coordinates: Arc<coordinates::Coordinates>,
}

/// What the parts that have no configured name are called in `/healthz`: where they write or
/// listen.
#[derive(Clone, Debug, Default)]
pub struct PartNames {
    /// The database URL, or the directory of the line-protocol files.
    pub sink: String,
    pub spool: Option<String>,
    pub archive: Option<String>,
    pub casters: Vec<String>,
    /// The outputs that are serial ports (open or closed; the others listen).
    pub serial_outputs: Vec<String>,
}

impl PartNames {
    fn new(settings: &Settings, bound: &Bound) -> PartNames {
        PartNames {
            sink: match &settings.influx {
                Some(i) => i.url.clone(),
                None => settings.series_dir.display().to_string(),
            },
            spool: settings
                .influx
                .as_ref()
                .map(|i| i.spool_dir.display().to_string()),
            archive: settings
                .archive
                .as_ref()
                .map(|a| a.dir.display().to_string()),
            casters: bound.casters.iter().map(|a| a.to_string()).collect(),
            serial_outputs: settings
                .outputs
                .iter()
                .filter(|o| matches!(o.kind, OutputKind::Serial { .. }))
                .map(|o| o.name.clone())
                .collect(),
        }
    }
}

/// The parts started so far: their tasks (joined at shutdown in this order), their status for
/// the health endpoints, their addresses.
#[derive(Default)]
struct Parts {
    sources: Vec<JoinHandle<()>>,
    /// Hourly RINEX writers: done once their runner stopped publishing.
    rinex: Vec<JoinHandle<()>>,
    outputs: Vec<JoinHandle<()>>,
    /// Closed before `run` returns, so that a reload can bind the same ports.
    casters: Vec<JoinHandle<()>>,
    archive: Option<JoinHandle<()>>,
    snapshots: Vec<SharedSnapshot>,
    archive_status: Option<Arc<ArchiveStatus>>,
    caster_status: Option<Arc<CasterStatus>>,
    push_status: Vec<(String, Arc<PushStatus>)>,
    output_status: Vec<(String, Arc<OutputStatus>)>,
    /// Each mount's stream by name, as the caster serves it.
    mount_feeds: std::collections::BTreeMap<String, broadcast::Sender<Arc<[u8]>>>,
    monitor_status: Vec<(String, Arc<MonitorStatus>)>,
    bound: Bound,
}

/// Run the daemon until `shutdown` completes. `bound` receives the listening addresses once
/// every part started. Nothing starts unless every part can ([`preflight`]); `patience` is how
/// long a port in use is waited for (after a reload the previous run's sockets may take a moment
/// to close).
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()>,
    bound: Option<tokio::sync::oneshot::Sender<Bound>>,
    patience: std::time::Duration,
) -> Result<()> {
    let mut listeners = preflight::check(&settings, patience).await?;
    let atx = monitors::antex(&settings)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (points_tx, points_rx) = mpsc::channel(1024);
    let streams = Streams::new(FRAME_QUEUE, CORRECTION_QUEUE);
    let sink_status = Arc::new(SinkStatus::default());
    // The status page's history sees every point on its way to the sink.
    let history = Arc::new(history::History::new(settings.station.position));
    let (sink_tx, sink_rx) = mpsc::channel(1024);
    let tee = tokio::spawn(history::tee(points_rx, sink_tx, history.clone()));
    let sink = spawn_series(&settings, sink_rx, sink_status.clone(), &stop_rx);
    let mut parts = Parts::default();
    parts.archive(&settings, &streams, &stop_rx);
    parts.casters(
        &settings,
        std::mem::take(&mut listeners.casters),
        &streams,
        &points_tx,
        &stop_rx,
    )?;
    parts.pushes(&settings, &streams, &stop_rx);
    parts.outputs(
        &settings,
        std::mem::take(&mut listeners.outputs),
        &streams,
        &stop_rx,
    )?;
    parts.sources(&settings, &streams, &points_tx, &stop_rx);
    parts.monitors(&settings, atx, &points_tx, &stop_rx);
    let coordinates = Arc::new(coordinates::Coordinates::default());
    let survey = daily::spawn(&settings, &points_tx, &stop_rx, coordinates.clone());
    drop(points_tx);

    let health = Health {
        station: settings.station.name.clone(),
        sources: parts.snapshots.clone(),
        sink: sink_status,
        archive: parts.archive_status.clone(),
        caster: parts.caster_status.clone(),
        pushes: parts.push_status.clone(),
        outputs: parts.output_status.clone(),
        monitors: parts.monitor_status.clone(),
        sink_kind: if settings.influx.is_some() {
            "influx"
        } else {
            "files"
        },
        started: std::time::Instant::now(),
        names: PartNames::new(&settings, &parts.bound),
        history: history.clone(),
        coordinates,
    };
    let sampler = tokio::spawn(history::sampler(
        history,
        parts.snapshots.clone(),
        stop_rx.clone(),
    ));
    let health_task = match listeners.health.take() {
        Some(l) => {
            let local = l.local_addr()?;
            parts.bound.health = Some(local);
            tracing::info!(addr = %local, "health: http://{local}/healthz and /metrics");
            Some(tokio::spawn(health::serve(l, health, stop_rx.clone())))
        }
        None => None,
    };
    if let Some(tx) = bound {
        let _ = tx.send(parts.bound.clone());
    }
    systemd::notify("READY=1");
    let watchdog = tokio::spawn(systemd::watchdog(stop_rx.clone()));

    shutdown.await;
    tracing::info!("stopping: flushing the time series and closing files");
    systemd::notify("STOPPING=1");
    let _ = stop_tx.send(true);
    watchdog.abort();
    parts.join(health_task).await;
    if let Some(t) = survey {
        // The survey looks at the stop flag between a few hundred epochs.
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    let _ = sampler.await;
    let _ = tee.await;
    match sink.await {
        Ok(r) => r?,
        Err(e) => anyhow::bail!("the time-series sink failed: {e}"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// The time series go to InfluxDB through the spool, or to hourly files without `[influx]`.
fn spawn_series(
    settings: &Settings,
    points: mpsc::Receiver<Vec<Point>>,
    status: Arc<SinkStatus>,
    stop: &watch::Receiver<bool>,
) -> JoinHandle<Result<(), SeriesError>> {
    let watched = status.clone();
    let stop = stop.clone();
    let influx = settings.influx.clone();
    let dir = settings.series_dir.clone();
    tokio::spawn(async move {
        let r = match influx {
            Some(influx) => {
                tracing::info!(url = %influx.url, api = ?influx.api, spool = %influx.spool_dir.display(), "time series to InfluxDB through the spool");
                crate::sinks::series::influx::run(influx, points, status, stop, false).await
            }
            None => {
                tracing::info!(dir = %dir.display(), "time series to hourly line-protocol files (no [influx] configured)");
                crate::sinks::series::files::run(dir, points, status).await
            }
        };
        if let Err(e) = &r {
            // The station goes on (corrections, archive); /healthz names the stopped sink.
            tracing::error!(error = %e, "the time-series sink stopped: no time series are kept until corsd is restarted");
            watched.failed(Delivery::Stopped, e.to_string());
        }
        r
    })
}

/// Whether any output encodes RTCM 2.3: only then do the stations publish corrections.
fn wants_corrections(settings: &Settings) -> bool {
    let rtcm2 = |f: &Format| matches!(f, Format::Rtcm2 { .. });
    settings
        .casters
        .iter()
        .flat_map(|c| &c.mounts)
        .any(|m| m.relay_user.is_none() && rtcm2(&m.format))
        || settings.pushes.iter().any(|p| rtcm2(&p.format))
        || settings.outputs.iter().any(|o| rtcm2(&o.format))
}

impl Parts {
    fn archive(&mut self, settings: &Settings, streams: &Streams, stop: &watch::Receiver<bool>) {
        let Some(a) = settings.archive.clone() else {
            return;
        };
        tracing::info!(dir = %a.dir.display(), retention_days = a.retention_days, "raw archive: hourly files by GNSS time");
        let status = Arc::new(ArchiveStatus::default());
        let archive = Archive::new(a, &settings.station.name, status.clone());
        let frames = streams.frames.subscribe();
        self.archive = Some(tokio::spawn(crate::sinks::archive::run(
            archive,
            frames,
            stop.clone(),
        )));
        self.archive_status = Some(status);
    }

    fn casters(
        &mut self,
        settings: &Settings,
        listeners: Vec<TcpListener>,
        streams: &Streams,
        points: &mpsc::Sender<Vec<Point>>,
        stop: &watch::Receiver<bool>,
    ) -> Result<()> {
        let status = Arc::new(CasterStatus::default());
        let (lat_deg, lon_deg) = settings
            .station
            .position
            .map(|p| {
                let g = ecef_to_geodetic(&p);
                (g.lat.to_degrees(), g.lon.to_degrees())
            })
            .unwrap_or((0.0, 0.0));
        for (c, l) in settings.casters.iter().zip(listeners) {
            let local = l.local_addr()?;
            self.bound.casters.push(local);
            let cs = CasterSettings {
                station_xyz: settings.station.position,
                listen: local,
                mounts: c.mounts.clone(),
                credentials: c.credentials.clone(),
                identifier: settings.station.name.clone(),
                country: settings.station.country.clone(),
                lat_deg,
                lon_deg,
                max_per_ip: c.max_per_ip,
            };
            tracing::info!(addr = %local, mounts = c.mounts.len(), "NTRIP caster (v1 and v2)");
            let feeds = crate::feeds::caster::mount_feeds(&c.mounts, streams, stop);
            for (m, tx) in c.mounts.iter().zip(&feeds) {
                self.mount_feeds.insert(m.name.clone(), tx.clone());
            }
            self.casters.push(tokio::spawn(crate::feeds::caster::run(
                Arc::new(cs),
                l,
                streams.clone(),
                feeds,
                status.clone(),
                points.clone(),
                stop.clone(),
            )));
            self.caster_status = Some(status.clone());
        }
        Ok(())
    }

    fn pushes(&mut self, settings: &Settings, streams: &Streams, stop: &watch::Receiver<bool>) {
        for p in &settings.pushes {
            let feed = feed::spawn(p.format.clone(), streams, stop.clone());
            let st = Arc::new(PushStatus::default());
            self.push_status.push((p.name.clone(), st.clone()));
            tracing::info!(push = %p.name, caster = %p.address, mount = %p.mount, version = p.version, "push to a remote caster");
            self.outputs.push(tokio::spawn(crate::feeds::push::run(
                p.clone(),
                feed,
                st,
                stop.clone(),
            )));
        }
    }

    fn outputs(
        &mut self,
        settings: &Settings,
        listeners: Vec<Option<TcpListener>>,
        streams: &Streams,
        stop: &watch::Receiver<bool>,
    ) -> Result<()> {
        for (o, l) in settings.outputs.iter().zip(listeners) {
            let feed = feed::spawn(o.format.clone(), streams, stop.clone());
            let st = Arc::new(OutputStatus::default());
            self.output_status.push((o.name.clone(), st.clone()));
            let task = match &o.kind {
                OutputKind::TcpServer { listen } => {
                    let l = l.with_context(|| format!("output {}: {listen} not bound", o.name))?;
                    let local = l.local_addr()?;
                    self.bound.outputs.push(local);
                    tracing::info!(output = %o.name, addr = %local, "TCP server output");
                    let name = o.name.clone();
                    tokio::spawn(crate::feeds::output::tcp_server(
                        name,
                        l,
                        feed,
                        st,
                        stop.clone(),
                    ))
                }
                OutputKind::Serial { path, baud } => tokio::spawn(crate::feeds::output::serial(
                    o.name.clone(),
                    path.clone(),
                    *baud,
                    feed,
                    st,
                    stop.clone(),
                )),
            };
            self.outputs.push(task);
        }
        Ok(())
    }

    /// A station runner per source, each with its hourly RINEX writer when the archive keeps
    /// RINEX.
    fn sources(
        &mut self,
        settings: &Settings,
        streams: &Streams,
        points: &mpsc::Sender<Vec<Point>>,
        stop: &watch::Receiver<bool>,
    ) {
        let rinex_dir = settings
            .archive
            .as_ref()
            .filter(|a| a.rinex)
            .map(|a| a.dir.clone());
        let corrections = wants_corrections(settings).then(|| streams.corrections.clone());
        for s in &settings.sources {
            let snap = new_snapshot(s);
            self.snapshots.push(snap.clone());
            let mut ctx = Ctx {
                station: settings.station.clone(),
                points: points.clone(),
                frames: streams.frames.clone(),
                corrections: corrections.clone(),
                epochs: None,
                told: None,
                shutdown: stop.clone(),
                reflection: settings.reflection.clone().map(Arc::new),
            };
            if let Some(dir) = &rinex_dir {
                let (epochs, rx) = broadcast::channel(EPOCH_QUEUE);
                let (told, told_rx) = watch::channel(StationInfo::default());
                let st = &settings.station;
                let info = StationInfo {
                    name: st.name.clone(),
                    country: st.country.clone(),
                    receiver: st.receiver.clone(),
                    receiver_version: String::new(),
                    antenna: st.antenna.clone(),
                    position: st.position,
                    delta_hen: [0.0; 3],
                };
                let files = HourlyRinex::new(dir.clone(), info);
                self.rinex.push(tokio::spawn(crate::sinks::rinex_obs::run(
                    files, rx, told_rx,
                )));
                ctx.epochs = Some(epochs);
                ctx.told = Some(told);
            }
            tracing::info!(source = %s.name, kind = ?s.kind, "source started");
            self.sources
                .push(tokio::spawn(Runner::new(s.clone(), ctx, snap).run()));
        }
    }

    /// Wait for every part to finish, in the order that loses nothing: the sources first (their
    /// last points, epochs and frames), then what consumes them.
    async fn join(self, health: Option<JoinHandle<()>>) {
        let tasks = self
            .sources
            .into_iter()
            .chain(self.rinex)
            .chain(self.outputs)
            .chain(self.casters)
            .chain(self.archive)
            .chain(health);
        for t in tasks {
            let _ = t.await;
        }
    }
}
