//! The daemon: builds sources, sinks and the health endpoint from [`Settings`] and runs them
//! until the `shutdown` future completes. Shutdown is a broadcast (a `watch` flag): sources stop
//! reading, the point channel closes when the last source drops its sender, and the sink
//! flushes its batch into the spool and syncs it before `run` returns.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};

use crate::config::Settings;
use crate::sinks::series::SinkStatus;
use crate::sources::{self, Ctx, SharedSnapshot, State};

/// What the health endpoints read.
#[derive(Clone)]
pub struct Health {
    pub station: String,
    pub sources: Vec<SharedSnapshot>,
    pub sink: Arc<SinkStatus>,
    pub sink_kind: &'static str,
    pub archive: Option<Arc<crate::sinks::archive::ArchiveStatus>>,
    pub caster: Option<Arc<crate::feeds::caster::CasterStatus>>,
    pub pushes: Vec<(String, Arc<crate::feeds::push::PushStatus>)>,
    pub outputs: Vec<(String, Arc<crate::feeds::output::OutputStatus>)>,
    pub started: std::time::Instant,
}

/// Addresses the daemon ended up on (port 0 in tests becomes a real port).
#[derive(Clone, Debug, Default)]
pub struct Bound {
    pub health: Option<SocketAddr>,
    pub casters: Vec<SocketAddr>,
    /// TCP server outputs, in configuration order.
    pub outputs: Vec<SocketAddr>,
}

/// Run the daemon until `shutdown` completes. `bound` receives the listening addresses.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()>,
    bound: Option<tokio::sync::oneshot::Sender<Bound>>,
) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (points_tx, points_rx) = mpsc::channel(1024);
    let (frames_tx, _) = broadcast::channel(4096);
    let sink_status = Arc::new(SinkStatus::default());

    let sink = match settings.influx.clone() {
        Some(influx) => {
            tracing::info!(url = %influx.url, api = ?influx.api, spool = %influx.spool_dir.display(), "time series to InfluxDB through the spool");
            tokio::spawn(crate::sinks::series::influx::run(
                influx,
                points_rx,
                sink_status.clone(),
                stop_rx.clone(),
                false,
            ))
        }
        None => {
            tracing::info!(dir = %settings.series_dir.display(), "time series to hourly line-protocol files (no [influx] configured)");
            tokio::spawn(crate::sinks::series::files::run(
                settings.series_dir.clone(),
                points_rx,
                sink_status.clone(),
            ))
        }
    };

    let archive_status = Arc::new(crate::sinks::archive::ArchiveStatus::default());
    let archive_task = settings.archive.clone().map(|a| {
        tracing::info!(dir = %a.dir.display(), retention_days = a.retention_days, "raw archive: hourly files by GNSS time");
        let archive = crate::sinks::archive::Archive::new(a, &settings.station.name, archive_status.clone());
        tokio::spawn(crate::sinks::archive::run(archive, frames_tx.subscribe(), stop_rx.clone()))
    });
    let mut caster_addrs = Vec::new();
    let mut caster_tasks = Vec::new();
    let caster_status = Arc::new(crate::feeds::caster::CasterStatus::default());
    for c in &settings.casters {
        let l = bind_again(c.listen)
            .await
            .with_context(|| format!("the NTRIP caster cannot listen on {}", c.listen))?;
        let local = l.local_addr()?;
        caster_addrs.push(local);
        let (lat, lon) = settings
            .station
            .position
            .map(|p| {
                let g = crate::gnss::geodesy::ecef_to_geodetic(&p);
                (g.lat.to_degrees(), g.lon.to_degrees())
            })
            .unwrap_or((0.0, 0.0));
        let cs = crate::feeds::caster::CasterSettings {
            station_xyz: settings.station.position,
            listen: local,
            mounts: c
                .mounts
                .iter()
                .map(|m| crate::feeds::caster::Mount {
                    name: m.name.clone(),
                    format: m.format.clone(),
                    users: m.users.clone(),
                    relay_user: m.relay_user.clone(),
                })
                .collect(),
            credentials: c.credentials.clone(),
            identifier: settings.station.name.clone(),
            country: settings.station.country.clone(),
            lat_deg: lat,
            lon_deg: lon,
            max_per_ip: c.max_per_ip,
        };
        tracing::info!(addr = %local, mounts = c.mounts.len(), "NTRIP caster (v1 and v2)");
        caster_tasks.push(tokio::spawn(crate::feeds::caster::run(
            Arc::new(cs),
            l,
            frames_tx.clone(),
            caster_status.clone(),
            points_tx.clone(),
            stop_rx.clone(),
        )));
    }
    // Pushes to remote casters and plain outputs, each on its own feed.
    let mut push_status = Vec::new();
    let mut output_status = Vec::new();
    let mut output_addrs = Vec::new();
    let mut out_tasks = Vec::new();
    for p in &settings.pushes {
        let feed = crate::feeds::feed::spawn(
            p.format.clone(),
            frames_tx.subscribe(),
            settings.station.position,
            stop_rx.clone(),
        );
        let st = Arc::new(crate::feeds::push::PushStatus::default());
        push_status.push((p.name.clone(), st.clone()));
        tracing::info!(push = %p.name, caster = %p.address, mount = %p.mount, version = p.version, "push to a remote caster");
        out_tasks.push(tokio::spawn(crate::feeds::push::run(
            p.clone(),
            feed,
            st,
            stop_rx.clone(),
        )));
    }
    for o in &settings.outputs {
        let feed = crate::feeds::feed::spawn(
            o.format.clone(),
            frames_tx.subscribe(),
            settings.station.position,
            stop_rx.clone(),
        );
        let st = Arc::new(crate::feeds::output::OutputStatus::default());
        output_status.push((o.name.clone(), st.clone()));
        match &o.kind {
            crate::feeds::output::OutputKind::TcpServer { listen } => {
                let l = bind_again(*listen)
                    .await
                    .with_context(|| format!("output {} cannot listen on {listen}", o.name))?;
                let local = l.local_addr()?;
                output_addrs.push(local);
                tracing::info!(output = %o.name, addr = %local, "TCP server output");
                out_tasks.push(tokio::spawn(crate::feeds::output::tcp_server(
                    o.name.clone(),
                    l,
                    feed,
                    st,
                    stop_rx.clone(),
                )));
            }
            crate::feeds::output::OutputKind::Serial { path, baud } => {
                out_tasks.push(tokio::spawn(crate::feeds::output::serial(
                    o.name.clone(),
                    path.clone(),
                    *baud,
                    feed,
                    st,
                    stop_rx.clone(),
                )));
            }
        }
    }
    let mut snapshots = Vec::new();
    let mut tasks = Vec::new();
    for s in &settings.sources {
        let snap = sources::new_snapshot(s);
        snapshots.push(snap.clone());
        let ctx = Ctx {
            station: settings.station.clone(),
            points: points_tx.clone(),
            frames: frames_tx.clone(),
            shutdown: stop_rx.clone(),
            rinex_dir: settings
                .archive
                .as_ref()
                .filter(|a| a.rinex)
                .map(|a| a.dir.clone()),
        };
        tracing::info!(source = %s.name, kind = ?s.kind, "source started");
        tasks.push(tokio::spawn(
            sources::Runner::new(s.clone(), ctx, snap).run(),
        ));
    }
    drop(points_tx);

    let health = Health {
        station: settings.station.name.clone(),
        sources: snapshots,
        sink: sink_status,
        archive: settings.archive.as_ref().map(|_| archive_status.clone()),
        caster: (!settings.casters.is_empty()).then(|| caster_status.clone()),
        pushes: push_status,
        outputs: output_status,
        sink_kind: if settings.influx.is_some() {
            "influx"
        } else {
            "files"
        },
        started: std::time::Instant::now(),
    };
    let mut b = Bound {
        casters: caster_addrs,
        outputs: output_addrs,
        ..Default::default()
    };
    let mut health_task = None;
    if let Some(addr) = settings.health_listen {
        let l = bind_again(addr)
            .await
            .with_context(|| format!("cannot listen for /healthz and /metrics on {addr}"))?;
        let local = l.local_addr()?;
        b.health = Some(local);
        tracing::info!(addr = %local, "health: http://{local}/healthz and /metrics");
        health_task = Some(tokio::spawn(serve_health(
            l,
            health.clone(),
            stop_rx.clone(),
        )));
    }
    if let Some(tx) = bound {
        let _ = tx.send(b);
    }
    notify_systemd("READY=1");
    let watchdog = tokio::spawn(systemd_watchdog(stop_rx.clone()));

    shutdown.await;
    tracing::info!("stopping: flushing the time series and closing files");
    notify_systemd("STOPPING=1");
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    watchdog.abort();
    for t in out_tasks {
        let _ = t.await;
    }
    for c in caster_tasks {
        // The listener closes here, before a reload binds the port again.
        let _ = c.await;
    }
    if let Some(a) = archive_task {
        let _ = a.await;
    }
    if let Some(h) = health_task {
        // Closed before returning so that a reload can bind the same port.
        let _ = h.await;
    }
    match sink.await {
        Ok(r) => r?,
        Err(e) => anyhow::bail!("the time-series sink failed: {e}"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// `sd_notify` without a library: one datagram to `$NOTIFY_SOCKET` (nothing when not under
/// systemd).
fn notify_systemd(msg: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let p = path.to_string_lossy();
    if let Some(abstract_name) = p.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(abstract_name) {
            let _ = sock.send_to_addr(msg.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(msg.as_bytes(), &*p);
    }
}

/// Pet systemd's watchdog at half its period while the runtime is alive.
async fn systemd_watchdog(mut stop: watch::Receiver<bool>) {
    let Some(usec) = std::env::var("WATCHDOG_USEC")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let every = std::time::Duration::from_micros(usec / 2);
    loop {
        notify_systemd("WATCHDOG=1");
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Binds a listener, retrying for a few seconds while the port is still held: after a SIGHUP
/// reload the previous run's sockets may take a moment to close.
pub(crate) async fn bind_again(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            r => return r,
        }
    }
}

async fn serve_health(l: TcpListener, h: Health, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = l.accept() => {
                let Ok((mut s, _)) = r else { continue };
                let h = h.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 2048];
                    let mut n = 0;
                    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                        while n < buf.len() {
                            match s.read(&mut buf[n..]).await {
                                Ok(0) | Err(_) => break,
                                Ok(k) => {
                                    n += k;
                                    if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                                        break;
                                    }
                                }
                            }
                        }
                    })
                    .await;
                    if read.is_err() {
                        return;
                    }
                    let req = String::from_utf8_lossy(&buf[..n]);
                    let path = req.split_whitespace().nth(1).unwrap_or("/");
                    let (code, ctype, body) = respond(path, &h);
                    let head = format!(
                        "HTTP/1.1 {code}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(body.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
            _ = stop.changed() => return,
        }
    }
}

fn respond(path: &str, h: &Health) -> (&'static str, &'static str, String) {
    let snaps: Vec<sources::Snapshot> = h
        .sources
        .iter()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .collect();
    match path.split('?').next().unwrap_or("/") {
        "/healthz" => {
            let ok = snaps
                .iter()
                .all(|s| matches!(s.state, State::Streaming | State::Finished));
            let body = serde_json::json!({
                "status": if ok { "ok" } else { "degraded" },
                "station": h.station,
                "uptime_s": h.started.elapsed().as_secs(),
                "sources": snaps.iter().map(|s| serde_json::json!({
                    "name": s.name, "state": s.state, "last_error": s.last_error,
                })).collect::<Vec<_>>(),
                "spool_bytes": h.sink.spool_bytes.load(Ordering::Relaxed),
                "caster_clients": h.caster.as_ref().map(|c| c.clients.load(Ordering::Relaxed)),
                "pushes": h.pushes.iter().map(|(n, p)| serde_json::json!({
                    "name": n, "state": p.state_name(),
                    "bytes_out": p.bytes_out.load(Ordering::Relaxed),
                    "last_error": p.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                })).collect::<Vec<_>>(),
                "outputs": h.outputs.iter().map(|(n, o)| serde_json::json!({
                    "name": n, "clients": o.clients.load(Ordering::Relaxed),
                    "bytes_out": o.bytes_out.load(Ordering::Relaxed),
                })).collect::<Vec<_>>(),
            });
            (
                if ok {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                },
                "application/json",
                body.to_string() + "\n",
            )
        }
        "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics(&snaps, h)),
        "/" | "/status" => (
            "200 OK",
            "text/html; charset=utf-8",
            STATUS_PAGE.replace("{{STATION}}", &html_escape(&h.station)),
        ),
        "/status.json" => (
            "200 OK",
            "application/json",
            serde_json::to_string(&snaps).unwrap_or_default(),
        ),
        _ => (
            "404 Not Found",
            "text/plain",
            "corsd: / (status page), /healthz, /metrics, /status.json\n".into(),
        ),
    }
}

/// The live status page: one self-contained file (no outside assets) that polls `/status.json`
/// and `/healthz` every 2 s.
const STATUS_PAGE: &str = include_str!("status_page.html");

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One sample per row with its HELP and TYPE lines; names ending in `_total` are counters.
fn rows(o: &mut String, labels: &str, rows: &[(&str, &str, u64)]) {
    use std::fmt::Write as _;
    for (name, help, v) in rows {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(o, "# HELP corsd_{name} {help}\n# TYPE corsd_{name} {kind}");
        let _ = writeln!(o, "corsd_{name}{{{labels}}} {v}");
    }
}

/// Prometheus text exposition.
fn metrics(snaps: &[sources::Snapshot], h: &Health) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let st = esc(&h.station);
    let gauge = |o: &mut String, name: &str, help: &str, kind: &str| {
        let _ = writeln!(o, "# HELP corsd_{name} {help}\n# TYPE corsd_{name} {kind}");
    };
    gauge(
        &mut o,
        "source_up",
        "1 while the source is streaming",
        "gauge",
    );
    for s in snaps {
        let up = matches!(s.state, State::Streaming) as u8;
        let _ = writeln!(
            o,
            "corsd_source_up{{station=\"{st}\",source=\"{}\",state=\"{}\"}} {up}",
            esc(&s.name),
            s.state.as_str()
        );
    }
    type Get = fn(&sources::Snapshot) -> u64;
    let counters: [(&str, &str, Get); 9] = [
        ("source_bytes_total", "bytes received", |s| s.bytes),
        ("source_frames_total", "valid frames", |s| s.frames),
        (
            "source_bad_frames_total",
            "frames with a bad checksum",
            |s| s.bad_frames,
        ),
        (
            "source_discarded_bytes_total",
            "bytes outside any frame",
            |s| s.discarded_bytes,
        ),
        (
            "source_epochs_received_total",
            "observation epochs assembled",
            |s| s.epochs_received,
        ),
        (
            "source_epochs_expected_total",
            "epochs expected from the observed interval",
            |s| s.epochs_expected,
        ),
        ("source_solutions_total", "position solutions", |s| {
            s.solutions
        }),
        ("source_reconnects_total", "reconnections", |s| s.reconnects),
        (
            "source_connect_attempts_total",
            "connection attempts",
            |s| s.connect_attempts,
        ),
    ];
    for (name, help, get) in counters {
        gauge(&mut o, name, help, "counter");
        for s in snaps {
            let _ = writeln!(
                o,
                "corsd_{name}{{station=\"{st}\",source=\"{}\"}} {}",
                esc(&s.name),
                get(s)
            );
        }
    }
    gauge(
        &mut o,
        "source_latency_ms",
        "delay from epoch time to arrival",
        "gauge",
    );
    for s in snaps {
        if let Some(l) = s.latency_ms {
            let _ = writeln!(
                o,
                "corsd_source_latency_ms{{station=\"{st}\",source=\"{}\"}} {l:.1}",
                esc(&s.name)
            );
        }
    }
    gauge(
        &mut o,
        "messages_total",
        "frames per message type",
        "counter",
    );
    for s in snaps {
        for (t, n) in &s.messages {
            let _ = writeln!(
                o,
                "corsd_messages_total{{station=\"{st}\",source=\"{}\",type=\"{}\"}} {n}",
                esc(&s.name),
                esc(t)
            );
        }
    }
    let sk = &h.sink;
    let load = |x: &std::sync::atomic::AtomicU64| x.load(Ordering::Relaxed);
    rows(
        &mut o,
        &format!("station=\"{st}\",sink=\"{}\"", h.sink_kind),
        &[
            (
                "points_accepted_total",
                "points on disk in the spool",
                load(&sk.points_accepted),
            ),
            (
                "points_written_total",
                "points acknowledged by the database (or written to files)",
                load(&sk.points_written),
            ),
            (
                "points_rejected_total",
                "points the database refused (set aside in rejected/)",
                load(&sk.points_rejected),
            ),
            (
                "points_evicted_total",
                "points dropped unsent by the spool caps",
                load(&sk.points_evicted),
            ),
            (
                "write_errors_total",
                "failed database writes (retried)",
                load(&sk.write_errors),
            ),
            (
                "spool_bytes",
                "spool bytes not yet acknowledged",
                load(&sk.spool_bytes),
            ),
        ],
    );
    let station_label = format!("station=\"{st}\"");
    if let Some(c) = &h.caster {
        rows(
            &mut o,
            &station_label,
            &[
                (
                    "caster_clients",
                    "NTRIP clients connected",
                    load(&c.clients),
                ),
                (
                    "caster_bytes_out_total",
                    "bytes sent to NTRIP clients",
                    load(&c.bytes_out),
                ),
                (
                    "caster_dropped_clients_total",
                    "clients disconnected for falling behind",
                    load(&c.dropped_clients),
                ),
                (
                    "caster_refused_total",
                    "requests refused for credentials",
                    load(&c.refused),
                ),
                (
                    "caster_bad_requests_total",
                    "malformed, oversize or slow requests",
                    load(&c.bad_requests),
                ),
            ],
        );
    }
    // One family per metric, one line per push or output.
    let families: [(&str, &str, &str, Vec<(String, u64)>); 6] = [
        (
            "push_streaming",
            "1 while the push to a remote caster streams",
            "gauge",
            h.pushes
                .iter()
                .map(|(n, p)| {
                    (
                        format!("push=\"{}\"", esc(n)),
                        u64::from(p.state_name() == "streaming"),
                    )
                })
                .collect(),
        ),
        (
            "push_bytes_out_total",
            "bytes sent to a remote caster",
            "counter",
            h.pushes
                .iter()
                .map(|(n, p)| (format!("push=\"{}\"", esc(n)), load(&p.bytes_out)))
                .collect(),
        ),
        (
            "push_failures_total",
            "push sessions that ended in an error or a refusal",
            "counter",
            h.pushes
                .iter()
                .map(|(n, p)| (format!("push=\"{}\"", esc(n)), load(&p.failures)))
                .collect(),
        ),
        (
            "output_clients",
            "clients of a TCP output (1 while a serial output is open)",
            "gauge",
            h.outputs
                .iter()
                .map(|(n, x)| (format!("output=\"{}\"", esc(n)), load(&x.clients)))
                .collect(),
        ),
        (
            "output_bytes_out_total",
            "bytes written to an output",
            "counter",
            h.outputs
                .iter()
                .map(|(n, x)| (format!("output=\"{}\"", esc(n)), load(&x.bytes_out)))
                .collect(),
        ),
        (
            "output_faults_total",
            "output clients dropped or serial ports lost",
            "counter",
            h.outputs
                .iter()
                .map(|(n, x)| (format!("output=\"{}\"", esc(n)), load(&x.faults)))
                .collect(),
        ),
    ];
    for (name, help, kind, lines) in families {
        if lines.is_empty() {
            continue;
        }
        gauge(&mut o, name, help, kind);
        for (label, v) in lines {
            let _ = writeln!(o, "corsd_{name}{{{station_label},{label}}} {v}");
        }
    }
    if let Some(a) = &h.archive {
        rows(
            &mut o,
            &station_label,
            &[
                (
                    "archive_frames_total",
                    "frames written to the raw archive",
                    load(&a.frames),
                ),
                (
                    "archive_bytes_total",
                    "bytes written to the raw archive",
                    load(&a.bytes),
                ),
                (
                    "archive_dropped_total",
                    "frames not archived (disk floor, lag or write error)",
                    load(&a.dropped),
                ),
            ],
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text_is_well_formed() {
        let settings = crate::config::demo(std::env::temp_dir());
        let snap = sources::new_snapshot(&settings.sources[0]);
        snap.lock().unwrap().messages.insert("1074".into(), 3);
        let h = Health {
            station: "VTE1".into(),
            sources: vec![snap],
            sink: Arc::new(SinkStatus::default()),
            sink_kind: "files",
            archive: None,
            caster: None,
            pushes: Vec::new(),
            outputs: Vec::new(),
            started: std::time::Instant::now(),
        };
        let (code, _, body) = respond("/metrics", &h);
        assert_eq!(code, "200 OK");
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("corsd_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        assert!(
            body.contains("corsd_messages_total{station=\"VTE1\",source=\"demo\",type=\"1074\"} 3")
        );
        let (code, _, _) = respond("/healthz", &h);
        assert_eq!(code, "503 Service Unavailable");
    }
}
