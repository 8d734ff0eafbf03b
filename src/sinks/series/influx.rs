//! The InfluxDB sink: points are batched (by count, bytes and time) into the durable spool, and
//! a shipper sends the spool's records in order — v2 `/api/v2/write` through the `influxdb2`
//! crate (InfluxDB 2/3, VictoriaMetrics), v1 `/write` for InfluxDB 1.x.
//!
//! What each answer means is decided by [`classify`]: 2xx acknowledges; 429/503 wait (honouring
//! `Retry-After` where the client exposes it) and 408/5xx/connection errors retry with jittered
//! backoff; 413 splits the batch; 401/403/404 keep the data and say clearly what to fix; any
//! other 4xx sets the batch aside in `rejected/` with the server's message, so one bad point
//! never blocks the good data behind it.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use crate::backoff::Backoff;
use crate::spool::{RealFs, Record, Spool};
use crate::telemetry::Point;

use super::resend::{self, Resend};
use super::{Delivery, SeriesError, SinkStatus};
use crate::secret::Secret;

/// The write API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfluxApi {
    V1,
    V2,
}

/// Where and how the time series are written.
#[derive(Clone, Debug, PartialEq)]
pub struct InfluxSettings {
    pub url: String,
    pub api: InfluxApi,
    pub org: String,
    pub bucket: String,
    pub token: Option<Secret>,
    pub db: String,
    pub rp: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub spool_dir: PathBuf,
    pub spool_max_bytes: u64,
    pub spool_max_age: Duration,
    pub batch_points: usize,
    pub batch_bytes: usize,
    pub batch_interval: Duration,
}

/// What to do with a batch after the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Done,
    /// Try again later (after the server's delay when it gave one).
    Retry(Option<Duration>),
    /// Send the two halves separately.
    Split,
    /// Keep the data, retry slowly: the configuration (token, database, URL) must be fixed.
    Hold(String),
    /// Set aside in `rejected/` and go on.
    Reject(String),
}

/// The answer to one write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Status {
        code: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// No HTTP answer (refused, reset, timeout).
    Connection(String),
}

/// The decision for an answer.
pub fn classify(o: &Outcome) -> Action {
    match o {
        Outcome::Connection(_) => Action::Retry(None),
        Outcome::Status {
            code,
            body,
            retry_after,
        } => match *code {
            200..=299 => Action::Done,
            429 | 503 => Action::Retry(*retry_after),
            408 | 500..=599 => Action::Retry(None),
            413 => Action::Split,
            401 | 403 => Action::Hold(format!(
                "HTTP {code}: the database refused the credentials; check token_file (v2) or user/password_file (v1): {body}"
            )),
            404 => Action::Hold(format!(
                "HTTP 404: no such database, bucket or endpoint; check url, api, db/bucket (InfluxDB 1.x needs api = \"v1\" and CREATE DATABASE): {body}"
            )),
            _ => Action::Reject(format!("HTTP {code}: {body}")),
        },
    }
}

/// A writer of line protocol to one database.
pub enum Writer {
    V2 {
        client: influxdb2::Client,
        org: String,
        bucket: String,
    },
    V1 {
        client: reqwest::Client,
        url: String,
        user: Option<(String, String)>,
    },
}

impl Writer {
    pub fn new(s: &InfluxSettings) -> Result<Writer, SeriesError> {
        let client_error = |e: Box<dyn std::error::Error + Send + Sync>| SeriesError::Client {
            url: s.url.clone(),
            source: e,
        };
        Ok(match s.api {
            InfluxApi::V2 => {
                let token = s.token.as_ref().map(|t| t.expose()).unwrap_or("");
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .connect_timeout(Duration::from_secs(10));
                let client = influxdb2::ClientBuilder::with_builder(http, &s.url, &s.org, token)
                    .build()
                    .map_err(|e| client_error(Box::new(e)))?;
                Writer::V2 {
                    client,
                    org: s.org.clone(),
                    bucket: s.bucket.clone(),
                }
            }
            InfluxApi::V1 => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .connect_timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| client_error(Box::new(e)))?;
                let mut url = format!("{}/write?db={}&precision=ns", s.url, urlencode(&s.db));
                if let Some(rp) = &s.rp {
                    url.push_str("&rp=");
                    url.push_str(&urlencode(rp));
                }
                Writer::V1 {
                    client,
                    url,
                    user: s
                        .user
                        .clone()
                        .zip(s.password.as_ref().map(|p| p.expose().to_string())),
                }
            }
        })
    }

    /// Send one batch.
    pub async fn write(&self, body: Vec<u8>) -> Outcome {
        match self {
            Writer::V2 {
                client,
                org,
                bucket,
            } => match client.write_line_protocol(org, bucket, body).await {
                Ok(()) => Outcome::Status {
                    code: 204,
                    body: String::new(),
                    retry_after: None,
                },
                Err(influxdb2::RequestError::Http { status, text }) => Outcome::Status {
                    code: status.as_u16(),
                    body: text,
                    // The crate does not pass the headers on: backoff stands in for Retry-After.
                    retry_after: None,
                },
                Err(e) => Outcome::Connection(e.to_string()),
            },
            Writer::V1 { client, url, user } => {
                let mut req = client.post(url).body(body);
                if let Some((u, p)) = user {
                    req = req.basic_auth(u, Some(p));
                }
                match req.send().await {
                    Ok(resp) => {
                        let code = resp.status().as_u16();
                        let retry_after = resp
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs);
                        let body = resp.text().await.unwrap_or_default();
                        Outcome::Status {
                            code,
                            body: body.trim().to_string(),
                            retry_after,
                        }
                    }
                    Err(e) => Outcome::Connection(e.to_string()),
                }
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Split a batch into two halves at a line boundary.
fn split_lines(payload: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let lines: Vec<&[u8]> = payload.split_inclusive(|&b| b == b'\n').collect();
    if lines.len() < 2 {
        return None;
    }
    let half = lines.len() / 2;
    Some((lines[..half].concat(), lines[half..].concat()))
}

fn lines_in(payload: &[u8]) -> u64 {
    payload.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Batching limits.
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    pub points: usize,
    pub bytes: usize,
    pub interval: Duration,
}

/// Largest request body assembled from several spool records.
pub const SEND_BYTES: usize = 16 << 20;

/// Consecutive failed writes after which a draining sink (replay) gives up and leaves the rest in
/// the spool for the next run.
pub const DRAIN_ATTEMPTS: u32 = 8;

/// Run the sink until `points` closes (every sender dropped) and the spool is synced. The daemon
/// (`drain = false`) stops shipping at `shutdown`: what is not sent stays in the spool for the
/// next start. A replay (`drain = true`) ships until the spool is empty, or gives up after
/// [`DRAIN_ATTEMPTS`] failed writes in a row.
pub async fn run(
    settings: InfluxSettings,
    mut points: mpsc::Receiver<Vec<Point>>,
    status: Arc<SinkStatus>,
    shutdown: watch::Receiver<bool>,
    drain: bool,
) -> Result<(), SeriesError> {
    let (closing_tx, closing) = watch::channel(false);
    let (spool, report) = Spool::open(
        &settings.spool_dir,
        settings.spool_max_bytes,
        settings.spool_max_age,
        Box::new(RealFs),
    )?;
    if report.torn_bytes > 0 {
        tracing::warn!(
            bytes = report.torn_bytes,
            dir = %settings.spool_dir.display(),
            "spool: a write torn by a crash or power cut was cut off (the points in it were never acknowledged to the pipeline)"
        );
    }
    status
        .points_evicted
        .fetch_add(report.evicted_points, Ordering::Relaxed);
    status
        .spool_max_bytes
        .store(settings.spool_max_bytes, Ordering::Relaxed);
    let spool = Arc::new(Mutex::new(spool));
    let notify = Arc::new(Notify::new());
    let writer = Writer::new(&settings)?;
    let rejected = settings.spool_dir.join("rejected");
    let shipper = tokio::spawn(ship(
        writer,
        spool.clone(),
        notify.clone(),
        status.clone(),
        rejected,
        shutdown.clone(),
        closing,
    ));
    let batching = Batching {
        points: settings.batch_points.max(1),
        bytes: settings.batch_bytes.max(1024),
        interval: settings.batch_interval,
    };
    let mut buf = String::new();
    let mut count = 0usize;
    let mut tick = tokio::time::interval(batching.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A spool that cannot take a batch (disk full, a failing disk) does not stop the sink: the
    // batch is kept in memory up to SEND_BYTES and tried again at the next flush; beyond that
    // the oldest points are lost, said at ERROR and counted with the evicted ones.
    let flush = |buf: &mut String, count: &mut usize| {
        if buf.is_empty() {
            return;
        }
        let mut sp = spool.lock().unwrap_or_else(|p| p.into_inner());
        let rep = match sp.append(buf.as_bytes()) {
            Ok(rep) => {
                if status.spool_error().is_some() {
                    tracing::info!(dir = %settings.spool_dir.display(), "spool: writing again");
                    status.spool_failing(None);
                }
                rep
            }
            Err(e) => {
                if status.spool_error().is_none() {
                    tracing::error!(error = %e, "spool: cannot write the time series to disk; holding them in memory");
                }
                status.spool_failing(Some(e.to_string()));
                if buf.len() > SEND_BYTES {
                    tracing::error!(points = *count, error = %e, "spool: points lost, the disk took none of them");
                    status
                        .points_evicted
                        .fetch_add(*count as u64, Ordering::Relaxed);
                    buf.clear();
                    *count = 0;
                }
                return;
            }
        };
        status
            .points_accepted
            .fetch_add(*count as u64, Ordering::Relaxed);
        status
            .points_evicted
            .fetch_add(rep.evicted_points, Ordering::Relaxed);
        status
            .spool_bytes
            .store(sp.backlog_bytes(), Ordering::Relaxed);
        buf.clear();
        *count = 0;
        notify.notify_one();
    };
    loop {
        tokio::select! {
            batch = points.recv() => match batch {
                Some(b) => {
                    for p in &b {
                        let before = buf.len();
                        p.write_line(&mut buf);
                        if buf.len() > before {
                            count += 1;
                        }
                    }
                    if count >= batching.points || buf.len() >= batching.bytes {
                        flush(&mut buf, &mut count);
                    }
                }
                None => break,
            },
            _ = tick.tick() => flush(&mut buf, &mut count),
        }
    }
    flush(&mut buf, &mut count);
    spool.lock().unwrap_or_else(|p| p.into_inner()).sync()?;
    if drain {
        let _ = closing_tx.send(true);
    }
    notify.notify_one();
    let _ = shipper.await;
    let sp = spool.lock().unwrap_or_else(|p| p.into_inner());
    status
        .spool_bytes
        .store(sp.backlog_bytes(), Ordering::Relaxed);
    Ok(())
}

/// Send the spool's records in order until shutdown.
async fn ship(
    writer: Writer,
    spool: Arc<Mutex<Spool>>,
    notify: Arc<Notify>,
    status: Arc<SinkStatus>,
    rejected: PathBuf,
    mut shutdown: watch::Receiver<bool>,
    closing: watch::Receiver<bool>,
) {
    // A database is local infrastructure, not a public caster: retry at least every minute so
    // that the backlog starts moving soon after it is back.
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    let mut last_error_kind: Option<String> = None;
    let mut resend = Resend::default();
    loop {
        if *closing.borrow() && backoff.attempts >= DRAIN_ATTEMPTS {
            return;
        }
        if *shutdown.borrow() {
            // Drain what is pending quickly if the server is there; the rest waits on disk.
            let pending = spool
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pending(1)
                .unwrap_or_default();
            if pending.is_empty() || backoff.attempts > 0 {
                return;
            }
        }
        let step = if let Some(again) = resend.next() {
            // Already acknowledged once: whatever the server says now other than "later" is
            // about the server, not about these points.
            let outcome = writer.write(again.to_vec()).await;
            match classify(&outcome) {
                Action::Retry(_) => Step::Failed(outcome_message(outcome), false),
                _ => {
                    resend.sent();
                    if resend.pending() == 0 {
                        tracing::info!(
                            "the points acknowledged just before the outage were sent again"
                        );
                    }
                    Step::Sent(None)
                }
            }
        } else {
            ship_next(
                &writer,
                &spool,
                &notify,
                &status,
                &rejected,
                &mut shutdown,
                &closing,
            )
            .await
        };
        match step {
            Step::Sent(payload) => {
                if let Some(p) = payload {
                    resend.acked(p, std::time::Instant::now());
                }
                if last_error_kind.take().is_some() {
                    tracing::info!("database writes succeed again; the spool is being sent");
                }
                backoff.reset();
            }
            Step::Idle => {}
            Step::Drained => return,
            Step::Failed(msg, hold) => {
                status.write_errors.fetch_add(1, Ordering::Relaxed);
                if hold && *closing.borrow() {
                    // A replay cannot fix its URL or token by waiting: stop, keep the spool.
                    tracing::error!(error = %msg, "database write refused; the time series stay in the spool");
                    status.failed(Delivery::Held, msg);
                    return;
                }
                let kind: String = msg.chars().take(40).collect();
                if last_error_kind.as_deref() != Some(kind.as_str()) {
                    tracing::error!(error = %msg, "database write failed; the data stays in the spool and is retried");
                    last_error_kind = Some(kind);
                }
                if !hold {
                    let n = resend.outage(std::time::Instant::now());
                    if n > 0 {
                        tracing::info!(
                            batches = n,
                            "the batches acknowledged in the last {} s go again when the database is back (it may have lost them with its memory)",
                            resend::WINDOW.as_secs()
                        );
                    }
                }
                status.failed(
                    if hold {
                        Delivery::Held
                    } else {
                        Delivery::Retrying
                    },
                    msg,
                );
                let delay = backoff.next_delay();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// What one round of the shipper did.
enum Step {
    /// A batch went out (or was set aside); the spool's payload, to keep for a while.
    Sent(Option<Vec<u8>>),
    /// Nothing to send yet (after waiting a little for more), or the spool was unreadable.
    Idle,
    /// Nothing left to send, and the sink is stopping.
    Drained,
    /// The write failed: the message, and whether it is a configuration problem.
    Failed(String, bool),
}

/// Send the next spool records: several in one request (fewer round trips), the last one
/// acknowledged for all.
async fn ship_next(
    writer: &Writer,
    spool: &Mutex<Spool>,
    notify: &Notify,
    status: &SinkStatus,
    rejected: &Path,
    shutdown: &mut watch::Receiver<bool>,
    closing: &watch::Receiver<bool>,
) -> Step {
    let next = spool.lock().unwrap_or_else(|p| p.into_inner()).pending(16);
    let records = match next {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            if *shutdown.borrow() || *closing.borrow() {
                return Step::Drained;
            }
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
            return Step::Idle;
        }
        Err(e) => {
            tracing::error!(error = %e, "spool unreadable; retrying");
            tokio::time::sleep(Duration::from_secs(5)).await;
            return Step::Idle;
        }
    };
    let mut payload = Vec::new();
    let mut last = None;
    for r in records {
        if !payload.is_empty() && payload.len() + r.payload.len() > SEND_BYTES {
            break;
        }
        payload.extend_from_slice(&r.payload);
        last = Some(r);
    }
    let Some(rec) = last else {
        return Step::Idle;
    };
    if let Err((msg, hold)) = send_record(writer, &payload, rejected, &rec, status).await {
        return Step::Failed(msg, hold);
    }
    let mut sp = spool.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(e) = sp.ack(&rec) {
        tracing::error!(error = %e, "spool: cannot record the acknowledgement");
    }
    status
        .spool_bytes
        .store(sp.backlog_bytes(), Ordering::Relaxed);
    drop(sp);
    status.batches_written.fetch_add(1, Ordering::Relaxed);
    status.delivered();
    Step::Sent(Some(payload))
}

/// Send one record (splitting on 413). `Ok` when every part is written or set aside; `Err` with
/// a message (and whether it is a configuration problem) when the record must be retried.
async fn send_record(
    writer: &Writer,
    payload: &[u8],
    rejected: &Path,
    rec: &Record,
    status: &SinkStatus,
) -> Result<(), (String, bool)> {
    let mut stack = vec![payload.to_vec()];
    let mut written_parts = Vec::new();
    while let Some(part) = stack.pop() {
        let outcome = writer.write(part.clone()).await;
        match classify(&outcome) {
            Action::Done => {
                status
                    .points_written
                    .fetch_add(lines_in(&part), Ordering::Relaxed);
                written_parts.push(part.len());
            }
            Action::Split => match split_lines(&part) {
                Some((a, b)) => {
                    stack.push(b);
                    stack.push(a);
                }
                None => set_aside(
                    rejected,
                    rec,
                    &part,
                    "HTTP 413: one line larger than the server accepts",
                    status,
                ),
            },
            Action::Reject(msg) => set_aside(rejected, rec, &part, &msg, status),
            Action::Retry(after) => {
                if let Some(d) = after {
                    tokio::time::sleep(d.min(Duration::from_secs(300))).await;
                }
                // Parts already written are written again on retry: same points, same
                // timestamps, stored once.
                return Err((outcome_message(outcome), false));
            }
            Action::Hold(msg) => return Err((msg, true)),
        }
    }
    Ok(())
}

fn outcome_message(outcome: Outcome) -> String {
    match outcome {
        Outcome::Connection(e) => format!("connection: {e}"),
        Outcome::Status { code, body, .. } => format!("HTTP {code}: {body}"),
    }
}

fn set_aside(dir: &Path, rec: &Record, part: &[u8], msg: &str, status: &SinkStatus) {
    let n = lines_in(part);
    status.points_rejected.fetch_add(n, Ordering::Relaxed);
    let name = format!("{:016x}-{:012}", rec.seq, rec.offset);
    let result = std::fs::create_dir_all(dir).and_then(|_| {
        let mut k = 0;
        let mut path = dir.join(format!("{name}.lp"));
        while path.exists() {
            k += 1;
            path = dir.join(format!("{name}-{k}.lp"));
        }
        std::fs::write(&path, part)?;
        std::fs::write(path.with_extension("txt"), format!("{msg}\n"))?;
        Ok(path)
    });
    match result {
        Ok(path) => tracing::error!(
            points = n,
            file = %path.display(),
            server = %msg,
            "the database rejected a batch; it is set aside with the server's answer and the following data goes on"
        ),
        Err(e) => {
            tracing::error!(points = n, error = %e, server = %msg, "the database rejected a batch and it could not be set aside: lost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(code: u16) -> Outcome {
        Outcome::Status {
            code,
            body: "x".into(),
            retry_after: None,
        }
    }

    #[test]
    fn status_classes() {
        assert_eq!(classify(&st(204)), Action::Done);
        assert_eq!(classify(&st(500)), Action::Retry(None));
        assert_eq!(classify(&st(408)), Action::Retry(None));
        assert_eq!(
            classify(&Outcome::Status {
                code: 429,
                body: String::new(),
                retry_after: Some(Duration::from_secs(7))
            }),
            Action::Retry(Some(Duration::from_secs(7)))
        );
        assert_eq!(classify(&st(413)), Action::Split);
        assert!(matches!(classify(&st(401)), Action::Hold(_)));
        assert!(matches!(classify(&st(404)), Action::Hold(_)));
        assert!(matches!(classify(&st(400)), Action::Reject(_)));
        assert!(matches!(classify(&st(422)), Action::Reject(_)));
        assert_eq!(
            classify(&Outcome::Connection("refused".into())),
            Action::Retry(None)
        );
    }

    #[test]
    fn split_at_lines() {
        let (a, b) = split_lines(b"a 1\nb 2\nc 3\n").unwrap();
        assert_eq!(
            (a.as_slice(), b.as_slice()),
            (&b"a 1\n"[..], &b"b 2\nc 3\n"[..])
        );
        assert!(split_lines(b"a 1\n").is_none());
    }
}
