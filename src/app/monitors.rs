//! The integrity monitors: per `[[monitor]]`, the check receiver runs as a source of its own
//! (its frames go to the monitor only, its series are tagged with the monitor's name) and the
//! monitor takes the chosen mount's stream as the caster serves it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, watch};

use super::Parts;
use crate::config::Settings;
use crate::framing::{FrameKind, RawFrame};
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::time::Gpst;
use crate::sources::SourceKind;
use crate::station::StationSettings;
use crate::station::monitor::{AntennaModels, Monitor, MonitorSettings};
use crate::station::runner::{Ctx, Runner};
use crate::station::snapshot::new_snapshot;
use crate::telemetry::Point;

/// Check receiver frames the monitor may fall behind: about 50 s of a 1 Hz receiver (the
/// station's own queue is deeper: it feeds every output).
const CHECK_QUEUE: usize = 1024;

/// How often check epochs still waiting for a silent mount are looked at.
const TICK: Duration = Duration::from_secs(1);

/// The ANTEX file of `[station] atx`, read once for every monitor: the satellites and the
/// receiver antennas the configuration names. One a stream names later (1008/1033) is read
/// from the file when first asked for.
pub(super) fn antex(settings: &Settings) -> Result<Option<AntennaModels>> {
    let Some(p) = &settings.station.atx else {
        return Ok(None);
    };
    if settings.monitors.is_empty() {
        return Ok(None);
    }
    let named: Vec<&str> = std::iter::once(settings.station.antenna.as_str())
        .chain(settings.monitors.iter().map(|m| m.antenna.as_str()))
        .filter(|a| !a.trim().is_empty())
        .collect();
    let a = read_antex(p, &named)?;
    let satellites = Arc::new(a);
    let shared = satellites.clone();
    let path = p.clone();
    let receiver = move |descriptor: &str| -> Option<Antenna> {
        if let Ok(a) = shared.receiver_by_descriptor(descriptor) {
            return Some(a.clone());
        }
        match read_antex(&path, &[descriptor]) {
            Ok(a) => {
                let found = a.receiver_by_descriptor(descriptor).ok().cloned();
                if found.is_none() {
                    tracing::warn!(antenna = descriptor, atx = %path.display(), "integrity monitor: the antenna is not in the ANTEX file; solved without its phase-centre model");
                }
                found
            }
            Err(e) => {
                tracing::warn!(antenna = descriptor, "integrity monitor: {e:#}");
                None
            }
        }
    };
    Ok(Some(AntennaModels {
        satellites,
        receiver: Arc::new(receiver),
    }))
}

fn read_antex(p: &std::path::Path, receivers: &[&str]) -> Result<Antex> {
    let text = crate::rinex::read_text(p)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("[station] atx {}", p.display()))?;
    Antex::parse_receivers(&text, receivers)
        .with_context(|| format!("[station] atx {}", p.display()))
}

impl Parts {
    pub(super) fn monitors(
        &mut self,
        settings: &Settings,
        atx: Option<AntennaModels>,
        points: &mpsc::Sender<Vec<Point>>,
        stop: &watch::Receiver<bool>,
    ) {
        for m in &settings.monitors {
            // Validation made sure the mount exists.
            let Some(feed) = self.mount_feeds.get(&m.mount) else {
                continue;
            };
            let mount = feed.subscribe();
            let (frames, check) = broadcast::channel(CHECK_QUEUE);
            let st = &settings.station;
            let ctx = Ctx {
                station: StationSettings {
                    name: m.name.clone(),
                    position: Some(m.position),
                    frame: m.frame.clone(),
                    antenna: m.antenna.clone(),
                    receiver: String::new(),
                    country: st.country.clone(),
                    atx: None,
                },
                points: points.clone(),
                frames,
                corrections: None,
                epochs: None,
                told: None,
                shutdown: stop.clone(),
                reflection: None,
            };
            let snap = new_snapshot(&m.source);
            self.snapshots.push(snap.clone());
            let monitor = Monitor::new(m.clone(), &st.name, &st.antenna, atx.clone(), reference(m));
            self.monitor_status
                .push((m.name.clone(), monitor.status.clone()));
            tracing::info!(monitor = %m.name, mount = %m.mount, source = %m.source.name, "integrity monitor: the check receiver solved against the mount");
            self.sources
                .push(tokio::spawn(Runner::new(m.source.clone(), ctx, snap).run()));
            self.outputs.push(tokio::spawn(run(
                monitor,
                mount,
                check,
                points.clone(),
                stop.clone(),
            )));
        }
    }
}

/// The date streams without a 1013 message are resolved against: a live receiver's is now.
fn reference(m: &MonitorSettings) -> Option<Gpst> {
    match &m.source.kind {
        SourceKind::File { date, .. } => date.map(Gpst::from_date),
        _ => Some(Gpst::from_utc(chrono::Utc::now())),
    }
}

async fn run(
    mut monitor: Monitor,
    mut mount: broadcast::Receiver<Arc<[u8]>>,
    mut check: broadcast::Receiver<RawFrame>,
    points: mpsc::Sender<Vec<Point>>,
    mut stop: watch::Receiver<bool>,
) {
    let name = monitor.settings().name.clone();
    let mut tick = tokio::time::interval(TICK);
    let (mut mount_open, mut check_open) = (true, true);
    loop {
        let out = tokio::select! {
            r = mount.recv(), if mount_open => match r {
                Ok(b) => monitor.mount_bytes(&b, Instant::now()),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(monitor = %name, skipped = n, "the monitor fell behind its mount (the machine is overloaded)");
                    Vec::new()
                }
                Err(RecvError::Closed) => {
                    mount_open = false;
                    Vec::new()
                }
            },
            r = check.recv(), if check_open => match r {
                Ok(f) if f.kind == FrameKind::Rtcm3 => monitor.check_frame(&f.bytes, Instant::now()),
                Ok(_) => Vec::new(),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(monitor = %name, skipped = n, "the monitor fell behind its check receiver (the machine is overloaded)");
                    Vec::new()
                }
                Err(RecvError::Closed) => {
                    check_open = false;
                    Vec::new()
                }
            },
            _ = tick.tick() => monitor.tick(Instant::now()),
            _ = stop.changed() => break,
        };
        if !out.is_empty() && points.send(out).await.is_err() {
            break;
        }
    }
}
