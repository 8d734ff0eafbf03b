//! The health endpoints: `/healthz` (200 when every part is ok, 503 naming the degraded ones
//! with their last errors), `/metrics` (Prometheus), `/status.json` and `/history.json` (see
//! [`super::status`]: every source's snapshot under `sources`, every part under `parts`, the
//! last hour and day) and the live status page at `/`.

use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Health;
use super::metrics::metrics;
use super::parts::parts;
use crate::station::snapshot::Snapshot;

pub(super) async fn serve(l: TcpListener, h: Health, mut stop: watch::Receiver<bool>) {
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

pub(super) fn respond(path: &str, h: &Health) -> (&'static str, &'static str, String) {
    let snaps: Vec<Snapshot> = h
        .sources
        .iter()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .collect();
    match path.split('?').next().unwrap_or("/") {
        "/healthz" => {
            let parts = parts(h, &snaps);
            let ok = parts.iter().all(|p| p.ok);
            let body = serde_json::json!({
                "status": if ok { "ok" } else { "degraded" },
                "station": h.station,
                "uptime_s": h.started.elapsed().as_secs(),
                "degraded": parts.iter().filter(|p| !p.ok).map(|p| serde_json::json!({
                    "name": p.name, "kind": p.kind, "state": p.state, "last_error": p.last_error,
                })).collect::<Vec<_>>(),
                "parts": parts,
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
            super::status::status_json(&snaps, h),
        ),
        "/history.json" => (
            "200 OK",
            "application/json",
            super::status::history_json(h, path),
        ),
        _ => (
            "404 Not Found",
            "text/plain",
            "corsd: / (status page), /healthz, /metrics, /status.json, /history.json\n".into(),
        ),
    }
}

/// The live status page: one self-contained file (no outside assets, inline SVG plots) that polls
/// `/status.json` and `/healthz` every 2 s and `/history.json` every 10 s.
const STATUS_PAGE: &str = include_str!("status_page.html");

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::series::SinkStatus;
    use crate::station::snapshot::new_snapshot;
    use std::sync::Arc;

    #[test]
    fn metrics_text_is_well_formed() {
        let settings = crate::config::demo(std::env::temp_dir());
        let snap = new_snapshot(&settings.sources[0]);
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
            monitors: Vec::new(),
            started: std::time::Instant::now(),
            names: Default::default(),
            history: Arc::new(crate::app::history::History::new(None)),
            coordinates: Default::default(),
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
